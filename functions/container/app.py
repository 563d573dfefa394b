"""The blog's API as a container process (containerBackend): the same handlers as the Lambda
functions, behind HTTP instead of a Lambda event.

In the stacks, API Gateway stays in front (API key, usage plans, throttling, WAF, request
validation, the custom domain) and forwards each request through a VPC link to the region's
internal load balancer and this process. So the process does what Lambda's runtime does: it turns
the request into the REST API's proxy event (payload 1.0) and calls the API's handler, or the
health check's for GET /health, with a context whose deadline is the integration's timeout. One
implementation of the API, two ways to run it.

    python -m container.app [--port 8080]      # from functions/, for a local run (wsgiref)
    gunicorn container.app:application         # in the image (functions/container/Dockerfile)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

# API Gateway gives an integration at most 29 s by default: the answer must be back before that.
REQUEST_SECONDS = float(os.environ.get("CONTAINER_REQUEST_SECONDS", "29"))
STAGE = os.environ.get("API_STAGE", "v1")
HEALTH_PATH = "/health"
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 304: "Not Modified"}


class RequestContext:
    """What the handlers read of a Lambda context: the request's id and its time left."""

    function_name = "api-container"
    memory_limit_in_mb = int(os.environ.get("CONTAINER_MEMORY_MB", "512"))
    invoked_function_arn = "container"

    def __init__(self, request_id: str, seconds: float = REQUEST_SECONDS, clock=time.monotonic):
        self.aws_request_id, self._until, self._clock = request_id, clock() + seconds, clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._until - self._clock()) * 1000))


def proxy_event(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    request_id: str,
    source_ip: str,
) -> dict[str, Any]:
    """A REST API's Lambda proxy event (payload 1.0) for one HTTP request."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,  # the custom domain's view: no stage prefix
            "stage": STAGE,
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": dict(headers).get("User-Agent", "")},
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }


def wsgi_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The request's headers from a WSGI environ, named as clients send them."""
    headers = [
        ("-".join(part.capitalize() for part in key[5:].split("_")), value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers.append((name, environ[key]))
    return headers


def _handlers():
    from api.app import handler
    from api.health_app import handler as health

    return handler, health


def _client_ip(environ: Mapping[str, Any]) -> str:
    # The load balancer appends the address it saw; API Gateway's comes first.
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or environ.get("REMOTE_ADDR", "")


def application(environ: dict[str, Any], start_response) -> Iterable[bytes]:
    """The WSGI entry point: one request, one handler call, its answer."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    method, path = environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO") or "/")
    # The load balancer's trace id, when there is one: the same id in both logs.
    request_id = environ.get("HTTP_X_AMZN_TRACE_ID", "").rsplit("=", 1)[-1] or str(uuid.uuid4())
    event = proxy_event(
        method,
        path,
        parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True),
        wsgi_headers(environ),
        body,
        request_id=request_id,
        source_ip=_client_ip(environ),
    )
    api, health = _handlers()
    answer = (health if (method, path) == ("GET", HEALTH_PATH) else api)(event, RequestContext(request_id))
    return _respond(answer, start_response)


def _respond(answer: Mapping[str, Any], start_response) -> Iterable[bytes]:
    status = int(answer.get("statusCode", 500))
    headers = [(k, str(v)) for k, v in (answer.get("headers") or {}).items()]
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        headers = [h for h in headers if h[0].lower() != name.lower()] + [(name, str(v)) for v in values]
    raw = answer.get("body") or ""
    data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
    headers = [h for h in headers if h[0].lower() != "content-length"] + [("Content-Length", str(len(data)))]
    start_response(f"{status} {REASONS.get(status, 'Status')}", headers)
    return [data]


def main(argv: list[str] | None = None) -> int:
    from wsgiref.simple_server import make_server

    parser = argparse.ArgumentParser(prog="python -m container.app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    args = parser.parse_args(argv)
    with make_server("127.0.0.1", args.port, application) as server:
        print(json.dumps({"listening": f"http://127.0.0.1:{server.server_port}"}), flush=True)
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
