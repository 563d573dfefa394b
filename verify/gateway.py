"""What a region's REST API does before and after its function, as a WSGI application.

Read from the same OpenAPI document API Gateway imports (stack/api_contract.py), so the routes,
the request validators, the API key, the preflights and the 405 of undeclared methods are the
deployed ones, not a second description:

- a path the document does not have: 403 MISSING_AUTHENTICATION_TOKEN, as a REST API answers;
- a method the path does not declare: the catch-all ANY's 405 with Allow;
- OPTIONS: the preflight's mock answer; no function runs;
- a keyed operation without the stage's key: 403 INVALID_API_KEY;
- a validated operation: required parameters present (400 BAD_REQUEST_PARAMETERS), a JSON body
  valid against its model, draft 4 as API Gateway checks it (400 BAD_REQUEST_BODY);
- then the Lambda proxy event (headers and multi-value headers, query strings, path parameters,
  the resource template, a request id), the function's answer back as HTTP; a function that
  raises is the gateway's 502.

Gateway errors have the shape of the document's gateway responses (`{"error", "message"}`, with
the allowed origin). The local run (verify/local) serves this application per region; the
schema-driven fuzz test (tests/functions/test_api_schema_fuzz.py) calls it in process.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from components.openapi import ANY_METHOD

DOCUMENT_URI = "urn:serverless-dr:gateway"
REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Lambda proxy handlers, by the stage's method path (`health/GET`); "*" for every other route.
Functions = Mapping[str, Callable[[dict, Any], dict]]
# Runs one function on one event (the region's environment, a Lambda context): the caller's.
Invoke = Callable[[Callable[[dict, Any], dict], dict], dict]


class Gateway:
    def __init__(
        self,
        document: Mapping[str, Any],
        functions: Functions,
        *,
        invoke: Invoke,
        api_key: str,
        allowed_origin: str | None = None,
        source_ip: str = "127.0.0.1",
        validate_requests: bool = True,
    ):
        self.document = document
        self.functions = functions
        self.invoke = invoke
        self.api_key = api_key
        self.allowed_origin = allowed_origin
        self.source_ip = source_ip
        # False: requests reach the function as they come (a stage without request validators),
        # to show the function refuses on its own what the gateway would.
        self.validate_requests = validate_requests
        registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(dict(document), default_specification=DRAFT4))
        self._registry = registry
        self._templates = [
            (re.compile(re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", re.escape(path))), path) for path in document["paths"]
        ]

    # --- WSGI ---------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = _headers(environ)
        status, out_headers, body = self.handle(
            environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO") or "/"), environ.get("QUERY_STRING", ""), headers, raw
        )
        start_response(f"{status} {REASONS.get(status, 'Unknown')}", out_headers)
        return [body]

    # --- one request --------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        method = method.upper()
        match = self._route(path)
        if match is None:
            return self._error(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
        template, path_parameters = match
        item = self.document["paths"][template]
        operation = item.get(method.lower())
        if method == "OPTIONS" and operation is not None:
            return self._mock(operation)
        if operation is None:
            catch_all = item.get(ANY_METHOD)
            if catch_all is None:
                return self._error(403, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token")
            return self._mock(catch_all)
        lookup = {name.lower(): value for name, value in headers}
        if operation.get("security") and lookup.get("x-api-key") != self.api_key:
            return self._error(403, "INVALID_API_KEY", "Forbidden")
        pairs = parse_qsl(query, keep_blank_values=True)
        refused = self._validate(operation, lookup, dict(pairs), body) if self.validate_requests else None
        if refused:
            return refused
        event = self._event(method, path, template, path_parameters, pairs, headers, body)
        function = self.functions.get(f"{template.lstrip('/')}/{method}", self.functions["*"])
        try:
            response = self.invoke(function, event)
        except Exception:  # a function that raises: Lambda reports the error, the gateway 502s
            return self._error(502, "INTEGRATION_FAILURE", "Internal server error")
        return _http_response(response)

    def _route(self, path: str) -> tuple[str, dict[str, str]] | None:
        for pattern, template in self._templates:
            found = pattern.fullmatch(path)
            if found:
                return template, found.groupdict()
        return None

    def _validate(
        self, operation: Mapping[str, Any], headers: Mapping[str, str], query: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        validator = operation.get("x-amazon-apigateway-request-validator")
        if not validator:
            return None
        rules = self.document["x-amazon-apigateway-request-validators"][validator]
        if rules.get("validateRequestParameters"):
            present = {"query": query, "header": headers}
            missing = [
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("required") and p["in"] in present and not present[p["in"]].get(_key(p))
            ]
            if missing:
                return self._error(400, "BAD_REQUEST_PARAMETERS", f"Missing required request parameters: [{', '.join(missing)}]")
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        content_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if rules.get("validateRequestBody") and schema and content_type == "application/json":
            try:
                data = json.loads(body or b"")
            except ValueError:
                return self._error(400, "BAD_REQUEST_BODY", "Invalid request body")
            errors = list(Draft4Validator({"$ref": DOCUMENT_URI + schema["$ref"]}, registry=self._registry).iter_errors(data))
            if errors:
                return self._error(400, "BAD_REQUEST_BODY", "[" + ", ".join(e.message for e in errors[:3]) + "]")
        return None

    def _event(
        self,
        method: str,
        path: str,
        template: str,
        path_parameters: dict[str, str],
        query: list[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> dict[str, Any]:
        """The REST API's Lambda proxy event (payload 1.0) for this request: the one the container
        backend builds (functions/container/app.py), with the route this gateway matched."""
        from container.app import proxy_event

        event = proxy_event(method, path, query, headers, body, request_id=str(uuid.uuid4()), source_ip=self.source_ip)
        event["resource"] = event["requestContext"]["resourcePath"] = template
        event["pathParameters"] = path_parameters or None
        return event

    def _mock(self, operation: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """A MOCK integration's default answer: its status, header values and JSON template."""
        answer = operation["x-amazon-apigateway-integration"]["responses"]["default"]
        headers = [
            (name.rsplit(".", 1)[-1], value.strip("'"))
            for name, value in answer.get("responseParameters", {}).items()
            if name.startswith("method.response.header.")
        ]
        body = answer.get("responseTemplates", {}).get("application/json", "").encode()
        if body:
            headers.append(("Content-Type", "application/json"))
        return int(answer["statusCode"]), self._cors(headers), body

    def _error(self, status: int, kind: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
        body = json.dumps({"error": kind, "message": message}).encode()
        return status, self._cors([("Content-Type", "application/json")]), body

    def _cors(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if self.allowed_origin and not any(n.lower() == "access-control-allow-origin" for n, _ in headers):
            headers.append(("Access-Control-Allow-Origin", self.allowed_origin))
        return headers

    def throttled(self) -> tuple[int, list[tuple[str, str]], bytes]:
        """The stage's or usage plan's throttling answer."""
        return self._error(429, "THROTTLED", "Too Many Requests")


def _key(parameter: Mapping[str, Any]) -> str:
    return parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]


def _headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    from container.app import wsgi_headers

    return wsgi_headers(environ)


def _http_response(response: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = list((response.get("headers") or {}).items())
    seen = {name.lower() for name, _ in headers}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if name.lower() not in seen:
            headers += [(name, value) for value in values]
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    return int(response["statusCode"]), [(n, str(v)) for n, v in headers], raw
