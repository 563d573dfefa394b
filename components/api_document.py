"""The OpenAPI 3 document of the regional REST API, with API Gateway's extensions.

Request models are the JSON schemas the handler validates with (functions/api/schemas), so the
gateway (400 before the function runs) and the handler (422 with fields) check the same contract.
Only methods marked `keyed` require the admin API key. GET routes name their cache keys so the
stage cache never serves one post for another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "functions" / "api" / "schemas"
CORS_HEADERS = "'Content-Type,X-Api-Key,Idempotency-Key'"


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    body: str | None = None  # model name for methods with a body
    keyed: bool = False  # admin API key required
    query: tuple[str, ...] = ()
    required_query: tuple[str, ...] = ()
    cache_keys: tuple[str, ...] = ()  # request parameters the stage cache keys on


ROUTES: tuple[Route, ...] = (
    Route("/health", "get"),
    Route(
        "/posts",
        "get",
        query=("limit", "cursor"),
        cache_keys=("method.request.querystring.limit", "method.request.querystring.cursor"),
    ),
    Route("/posts", "post", body="PostCreate", keyed=True),
    Route("/posts/{id}", "get", cache_keys=("method.request.path.id",)),
    Route("/posts/{id}", "put", body="PostUpdate", keyed=True),
    Route("/posts/{id}", "delete", keyed=True, query=("version",), required_query=("version",)),
    Route("/subscribers", "post", body="Subscriber"),
    Route("/uploads", "post", body="UploadRequest"),
    Route("/events", "post", body="PageView"),
    Route("/thumbnails/{name}", "get"),
)

CACHED_METHOD_PATHS: tuple[str, ...] = tuple(f"{r.path.lstrip('/')}/{r.method.upper()}" for r in ROUTES if r.cache_keys)


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


def _parameters(route: Route) -> list[dict[str, Any]]:
    path_names = [part[1:-1] for part in route.path.split("/") if part.startswith("{")]
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in path_names]
    params += [
        {"name": q, "in": "query", "required": q in route.required_query, "schema": {"type": "string"}} for q in route.query
    ]
    return params


def _operation(route: Route, invoke_arn: str) -> dict[str, Any]:
    integration: dict[str, Any] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": invoke_arn,
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": 10000,
    }
    if route.cache_keys:
        integration["cacheKeyParameters"] = list(route.cache_keys)
        integration["requestParameters"] = {k.replace("method.", "integration.", 1): k for k in route.cache_keys}
    operation: dict[str, Any] = {
        "operationId": f"{route.method}{route.path.replace('/', '_').replace('{', '').replace('}', '')}",
        "parameters": _parameters(route),
        "responses": {"200": {"description": "see the handler for the full set of statuses"}},
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
    return operation


def _cors_preflight(allowed_origin: str) -> dict[str, Any]:
    """OPTIONS answered by the gateway itself (MOCK): no function invocation, no API key."""
    return {
        "responses": {"200": {"description": "CORS preflight"}},
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


def openapi_document(*, title: str, invoke_arn: str, allowed_origin: str | None) -> dict[str, Any]:
    """`allowed_origin` None: no preflight methods and no CORS headers (no browser may call)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route, invoke_arn)
    for path in paths if allowed_origin else ():
        paths[path]["options"] = _cors_preflight(allowed_origin)
        # Preflight answers need these response headers declared on the method.
        paths[path]["options"]["responses"]["200"]["headers"] = {
            h: {"schema": {"type": "string"}}
            for h in (
                "Access-Control-Allow-Origin",
                "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers",
                "Access-Control-Max-Age",
            )
        }
    models = sorted({r.body for r in ROUTES if r.body})
    return {
        "openapi": "3.0.1",
        "info": {"title": title, "version": "1.0"},
        "paths": paths,
        "components": {
            "schemas": {name: load_schema(name) for name in models},
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
