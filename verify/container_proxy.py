"""API Gateway's HTTP proxy integration to the container backend, in process: the proxy event the
gateway emulator (verify/gateway.py) would hand a Lambda function becomes the HTTP request the
load balancer hands the container (functions/container/app.py), and its HTTP answer the proxy
response. So every test that drives the API through the gateway can drive the container instead."""

from __future__ import annotations

import base64
import io
from typing import Any
from urllib.parse import urlencode


def environ_for(event: dict[str, Any]) -> dict[str, Any]:
    """The WSGI environ of the request `event` describes, as the load balancer forwards it."""
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    query = [(k, v) for k, values in (event.get("multiValueQueryStringParameters") or {}).items() for v in values]
    environ = {
        "REQUEST_METHOD": event["httpMethod"],
        "PATH_INFO": event["path"],
        "QUERY_STRING": urlencode(query),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "10.0.0.2",  # the load balancer's address in the VPC
        "HTTP_X_FORWARDED_FOR": event["requestContext"]["identity"]["sourceIp"],
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    for name, values in (event.get("multiValueHeaders") or {}).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = values[-1] if key == "CONTENT_TYPE" else environ[key]
        else:
            environ[f"HTTP_{key}"] = ",".join(values)
    return environ


def forward(event: dict[str, Any]) -> dict[str, Any]:
    """The container's answer to `event`, as a proxy response."""
    from container.app import application

    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answered["status"], answered["headers"] = int(status.split(" ", 1)[0]), headers

    data = b"".join(application(environ_for(event), start_response))
    multi: dict[str, list[str]] = {}
    for name, value in answered["headers"]:
        multi.setdefault(name, []).append(value)
    try:
        body, encoded = data.decode(), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(data).decode(), True
    return {
        "statusCode": answered["status"],
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "body": body,
        "isBase64Encoded": encoded,
    }
