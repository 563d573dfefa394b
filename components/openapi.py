"""The OpenAPI 3 document of a regional REST API with a Lambda proxy, with API Gateway's extensions.

The caller describes its routes (`Route`) and hands the JSON schemas of the request bodies; this
module turns them into the document API Gateway imports: request models and validators (400
before the function runs), the admin API key on `keyed` routes, cache keys on cached GETs, CORS
preflights answered by the gateway, JSON gateway errors. Nothing here knows the application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CORS_HEADERS = "'Content-Type,X-Api-Key,Idempotency-Key,Authorization'"
READER_TOKEN = {"type": "string", "pattern": "^Bearer [A-Za-z0-9_.-]+$", "description": "Bearer <the reader's ID token>"}
METHODS = ("get", "post", "put", "patch", "delete")
ANY_METHOD = "x-amazon-apigateway-any-method"  # catches every method a path item does not declare


@dataclass(frozen=True, kw_only=True)
class Route:
    path: str  # /posts/{id}
    method: str  # get, post, put, patch, delete
    body: str | None = None  # name of the request model (a JSON schema the caller gives)
    keyed: bool = False  # the admin API key is required
    query: tuple[str, ...] = ()
    required_query: tuple[str, ...] = ()
    cached: bool = False  # GET answered from the stage cache (keyed on every parameter)
    # GET kept at the edge (ApiEdge) for its TTL: the same answer for every client that asks.
    edge_cached: bool = False
    # Why a write route needs no API key (anyone may subscribe); written into the document as
    # `x-public-write`, where the policy pack reads it. A write route is keyed or says why not.
    public: str | None = None
    # Why a read needs the API key (who bought what is no one else's business); written into the
    # document as `x-private-read`, so the policy pack finds a keyed read that lost its key.
    private: str | None = None
    # Every status the route answers, with the schema of its body (a name the caller gives;
    # None: no body). Empty: the document says only "200" (a caller that has not described them).
    responses: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    # A write that takes an Idempotency-Key and may be deferred (202 with a Location to poll).
    idempotent: bool = False
    # The JSON schema of a path or query parameter, by name (default: any string).
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    # OpenAPI links by status: which operation a client may call next with what the answer gave
    # it. In the client's document only (client_document); API Gateway has no use for them.
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    # Takes a reader's sign-in token (`Authorization: Bearer`, checked by the function, not the
    # gateway) and answers with cookies: a browser calls it with credentials, so its preflight
    # allows them.
    reader_token: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Route.method: {self.method!r} is not one of {', '.join(METHODS)}")
        if not self.path.startswith("/"):
            raise ValueError(f"Route.path: {self.path!r} must start with /")
        if self.cached and self.method != "get":
            raise ValueError(f"Route.cached: only GET routes are cached, not {self.method.upper()} {self.path}")
        if self.edge_cached and (self.method != "get" or self.keyed):
            raise ValueError(
                f"Route.edge_cached: only unkeyed GET routes are kept at the edge, not {self.method.upper()} {self.path}"
            )
        if set(self.required_query) - set(self.query):
            raise ValueError(f"Route.required_query: {sorted(set(self.required_query) - set(self.query))} not in query")
        if self.method != "get" and not self.keyed and not (self.public or "").strip():
            raise ValueError(f"Route.public: {self.method.upper()} {self.path} is neither keyed nor says why it is public")
        if self.keyed and self.public:
            raise ValueError(f"Route.public: {self.method.upper()} {self.path} is keyed, so it is not public")
        if self.private is not None and (self.method != "get" or not self.keyed or not self.private.strip()):
            raise ValueError(f"Route.private: {self.method.upper()} {self.path}: only a keyed GET says why it is private")
        unknown = set(self.parameters) - {*self.path_parameters, *self.query}
        if unknown:
            raise ValueError(f"Route.parameters: {sorted(unknown)} are neither path nor query parameters of {self.path}")
        bad = [status for status in self.responses if not (status.isdigit() and 200 <= int(status) < 600)]
        if bad:
            raise ValueError(f"Route.responses: {bad} are not HTTP statuses")
        unanswered = sorted(set(self.links) - set(self.responses))
        if unanswered:
            raise ValueError(f"Route.links: {self.method.upper()} {self.path} never answers {unanswered}")

    @property
    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]

    @property
    def cache_keys(self) -> tuple[str, ...]:
        if not self.cached:
            return ()
        return tuple(
            [f"method.request.path.{p}" for p in self.path_parameters] + [f"method.request.querystring.{q}" for q in self.query]
        )

    @property
    def operation_id(self) -> str:
        return f"{self.method}{self.path.replace('/', '_').replace('{', '').replace('}', '')}"

    @property
    def method_path(self) -> str:
        """The stage method-settings path of this route (`posts/{id}/GET`)."""
        return f"{self.path.lstrip('/')}/{self.method.upper()}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Route:
        return cls(
            path=data["path"],
            method=data["method"],
            body=data.get("body"),
            keyed=bool(data.get("keyed", False)),
            query=tuple(data.get("query", ())),
            required_query=tuple(data.get("required_query", ())),
            cached=bool(data.get("cached", False)),
            edge_cached=bool(data.get("edge_cached", False)),
            public=data.get("public"),
            private=data.get("private"),
            responses=dict(data.get("responses", {})),
            idempotent=bool(data.get("idempotent", False)),
            parameters=dict(data.get("parameters", {})),
            links=dict(data.get("links", {})),
            reader_token=bool(data.get("reader_token", False)),
        )

    @property
    def schema_names(self) -> set[str]:
        """The request and response models this route names."""
        return {name for name in (self.body, *self.responses.values()) if name}


def cached_method_paths(routes: Sequence[Route]) -> tuple[str, ...]:
    return tuple(r.method_path for r in routes if r.cached)


# The caller's key for a write (retries keep it), as the handler accepts it.
IDEMPOTENCY_KEY = {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}
DESCRIPTIONS = {
    "200": "OK",
    "201": "created",
    "202": "accepted, not yet applied: poll Location (GET /writes/{token}) for its fate",
    "204": "applied; no body",
    "400": "malformed request (body, parameter or Idempotency-Key)",
    "403": "missing or invalid API key",
    "404": "no such resource",
    "409": "conflict: exists already, or a stale version",
    "413": "too large",
    "405": "method not allowed on this path: the Allow header lists those that are",
    "415": "unsupported media type",
    "422": "well-formed but invalid: the failing fields are named, or an Idempotency-Key reused for another request",
    "429": "throttled: retry later or elsewhere",
    "503": "temporarily unavailable (a dependency, or the write could not be queued): retry after Retry-After",
}


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "path", "required": True, "schema": dict(route.parameters.get(n, {"type": "string"}))}
        for n in route.path_parameters
    ]


def _parameters(route: Route) -> list[dict[str, Any]]:
    params = _path_parameters(route)
    params += [
        {
            "name": q,
            "in": "query",
            "required": q in route.required_query,
            "schema": dict(route.parameters.get(q, {"type": "string"})),
        }
        for q in route.query
    ]
    if route.reader_token:
        params.append({"name": "Authorization", "in": "header", "required": False, "schema": dict(READER_TOKEN)})
    if route.idempotent:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": dict(IDEMPOTENCY_KEY)})
    return params


def _responses(route: Route, schemas: Mapping[str, Any]) -> dict[str, Any]:
    if not route.responses:
        return {"200": {"description": "see the handler for the full set of statuses"}}
    answers = dict(route.responses)
    if "Error" in schemas:
        # What API Gateway itself answers before the function, in the error shape of its gateway
        # responses below: throttling by stage or usage plan, and a keyed route without its key.
        answers.setdefault("429", "Error")
        if route.keyed:
            answers.setdefault("403", "Error")
    out: dict[str, Any] = {}
    for status in sorted(answers):
        response: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "see the API reference")}
        if answers[status]:
            response["content"] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{answers[status]}"}}}
        headers = {}
        if status == "202" and route.idempotent:
            headers["Location"] = {"description": "where the write's fate is read", "schema": {"type": "string"}}
        if status == "503":
            headers["Retry-After"] = {"description": "seconds to wait", "schema": {"type": "integer"}}
        if route.idempotent and status.startswith("2"):
            headers["X-Write-Id"] = {"description": "the write's token (GET /writes/{token})", "schema": {"type": "string"}}
        if headers:
            response["headers"] = headers
        out[status] = response
    return out


@dataclass(frozen=True)
class PrivateIntegration:
    """Routes sent through a VPC link V2 to a load balancer instead of a function (private
    integration, HTTP proxy). The backend gets the route's own path, no stage prefix: the URI
    names it (its host is the Host header and the name the backend's certificate proves)."""

    connection_id: str  # the VPC link V2
    load_balancer_arn: str  # integrationTarget: which balancer the link delivers to
    host: str
    method_paths: frozenset[str]  # posts/GET, ...


def _private_integration(route: Route, backend: PrivateIntegration, timeout_ms: int) -> dict[str, Any]:
    return {
        "type": "http_proxy",
        "httpMethod": route.method.upper(),
        "uri": f"https://{backend.host}{route.path}",
        "connectionType": "VPC_LINK",
        "connectionId": backend.connection_id,
        "integrationTarget": backend.load_balancer_arn,
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": timeout_ms,
        # The backend's path is the URI's: its {parameters} filled from the request's.
        **(
            {"requestParameters": {f"integration.request.path.{p}": f"method.request.path.{p}" for p in route.path_parameters}}
            if route.path_parameters
            else {}
        ),
    }


def _operation(
    route: Route, invoke_arn: str, timeout_ms: int, schemas: Mapping[str, Any], backend: PrivateIntegration | None = None
) -> dict[str, Any]:
    integration: dict[str, Any] = (
        _private_integration(route, backend, timeout_ms)
        if backend is not None and route.method_path in backend.method_paths
        else {
            "type": "aws_proxy",
            "httpMethod": "POST",
            "uri": invoke_arn,
            "passthroughBehavior": "when_no_match",
            "timeoutInMillis": timeout_ms,
        }
    )
    if route.cache_keys:
        integration["cacheKeyParameters"] = list(route.cache_keys)
        integration["requestParameters"] = {
            **integration.get("requestParameters", {}),
            **{k.replace("method.", "integration.", 1): k for k in route.cache_keys},
        }
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "parameters": _parameters(route),
        "responses": _responses(route, schemas),
        "x-amazon-apigateway-integration": integration,
    }
    if route.body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body}"}}},
        }
        operation["x-amazon-apigateway-request-validator"] = "body-and-params"
    elif route.required_query:
        operation["x-amazon-apigateway-request-validator"] = "params"
    if route.keyed:
        operation["security"] = [{"admin_api_key": []}]
    if route.public:
        operation["x-public-write"] = route.public
    if route.private:
        operation["x-private-read"] = route.private
    return operation


def _cors_preflight(allowed_origin: str, route: Route) -> dict[str, Any]:
    """OPTIONS answered by the gateway itself (MOCK): no function invocation, no API key. It
    declares the path's parameters, as every operation on a templated path must."""
    headers = (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Max-Age",
        *(("Access-Control-Allow-Credentials",) if route.reader_token else ()),
    )
    credentials = {"method.response.header.Access-Control-Allow-Credentials": "'true'"} if route.reader_token else {}
    return {
        "parameters": _path_parameters(route),
        "responses": {"200": {"description": "CORS preflight", "headers": {h: {"schema": {"type": "string"}} for h in headers}}},
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseParameters": {
                        "method.response.header.Access-Control-Allow-Origin": f"'{allowed_origin}'",
                        "method.response.header.Access-Control-Allow-Methods": "'GET,POST,PUT,DELETE,OPTIONS'",
                        "method.response.header.Access-Control-Allow-Headers": CORS_HEADERS,
                        "method.response.header.Access-Control-Max-Age": "'600'",
                        **credentials,
                    },
                }
            },
        },
    }


def _method_not_allowed(allowed_methods: Sequence[str]) -> dict[str, Any]:
    """API Gateway's catch-all `ANY` method, answered by the gateway itself (MOCK): any method the
    path does not declare (TRACE, PATCH, HEAD...) gets 405 with the Allow header, where a REST API
    would otherwise answer 403 "Missing Authentication Token". No function runs, no key is asked."""
    allow = ",".join(m.upper() for m in allowed_methods)
    return {
        "responses": {
            "405": {
                "description": DESCRIPTIONS["405"],
                "headers": {"Allow": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        },
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 405}'},
            "responses": {
                "default": {
                    "statusCode": "405",
                    "responseParameters": {"method.response.header.Allow": f"'{allow}'"},
                    "responseTemplates": {
                        "application/json": json.dumps(
                            {"error": "METHOD_NOT_ALLOWED", "message": f"this path answers {allow} only"}
                        )
                    },
                }
            },
        },
    }


def _gateway_response(allowed_origin: str | None, message: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "responseTemplates": {"application/json": '{"error": "$context.error.responseType", "message": ' + message + "}"}
    }
    if allowed_origin:
        response["responseParameters"] = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{allowed_origin}'"}
    return response


def openapi_document(
    *,
    title: str,
    routes: Sequence[Route],
    schemas: Mapping[str, Mapping[str, Any]],
    invoke_arn: str,
    allowed_origin: str | None,
    timeout_ms: int = 10_000,
    route_invoke_arns: Mapping[str, str] | None = None,
    private: PrivateIntegration | None = None,
) -> dict[str, Any]:
    """`allowed_origin` None: no preflight methods and no CORS headers (no browser may call).
    `route_invoke_arns`: another function for some routes, by method path (`health/GET`).
    `private`: some routes to a load balancer through a VPC link instead."""
    named = {name for r in routes for name in r.schema_names}
    missing = sorted(named - set(schemas))
    if missing:
        raise ValueError(f"openapi_document: no schema for model(s) {', '.join(missing)}")
    paths: dict[str, dict[str, Any]] = {}
    first_route: dict[str, Route] = {}
    for route in routes:
        target = (route_invoke_arns or {}).get(route.method_path, invoke_arn)
        paths.setdefault(route.path, {})[route.method] = _operation(route, target, timeout_ms, schemas, private)
        first_route.setdefault(route.path, route)
    for path in paths if allowed_origin else ():
        paths[path]["options"] = _cors_preflight(allowed_origin, first_route[path])
    if "Error" in schemas:
        for item in paths.values():
            item[ANY_METHOD] = _method_not_allowed(list(item))
    models = sorted(named | ({"Error"} & set(schemas)))
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1.0"},
        "paths": paths,
        "components": {
            # OpenAPI 3.0's schema object has no `$schema` (the files keep it for the handler's validator).
            "schemas": {name: {k: v for k, v in schemas[name].items() if k != "$schema"} for name in models},
            "securitySchemes": {"admin_api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
        },
        "x-amazon-apigateway-api-key-source": "HEADER",
        "x-amazon-apigateway-request-validators": {
            "body-and-params": {"validateRequestBody": True, "validateRequestParameters": True},
            "params": {"validateRequestBody": False, "validateRequestParameters": True},
        },
        "x-amazon-apigateway-gateway-responses": {
            "BAD_REQUEST_BODY": _gateway_response(allowed_origin, '"$context.error.validationErrorString"'),
            "DEFAULT_4XX": _gateway_response(allowed_origin, "$context.error.messageString"),
            "DEFAULT_5XX": _gateway_response(allowed_origin, "$context.error.messageString"),
        },
    }


def client_document(document: Mapping[str, Any], server_urls: Sequence[str], routes: Sequence[Route] = ()) -> dict[str, Any]:
    """What a client generator reads: the document without API Gateway's extensions and without
    the preflights the browser alone sends, with `servers` in the order a client should try and
    the routes' links (a stateful client or fuzzer follows them: create, then read, edit...)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items() if not k.startswith("x-amazon-apigateway")}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    out = plain(document)
    out["paths"] = {path: {m: op for m, op in item.items() if m != "options"} for path, item in out["paths"].items()}
    out["servers"] = [{"url": url} for url in server_urls]
    operation_ids = {op["operationId"] for item in out["paths"].values() for op in item.values()}
    for route in routes:
        for status, links in route.links.items():
            unknown = sorted({link["operationId"] for link in links.values()} - operation_ids)
            if unknown:
                raise ValueError(f"client_document: {route.method.upper()} {route.path} links to unknown {unknown}")
            out["paths"][route.path][route.method]["responses"][status]["links"] = {k: dict(v) for k, v in links.items()}
    return out
