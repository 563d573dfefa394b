"""The blog API's contract as the components need it: routes and request schemas from functions/api.

The handler validates with the same schema files (functions/api/schemas), so the gateway (400
before the function runs) and the handler (422 with the failing fields) check one contract.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from components.openapi import Route, client_document, openapi_document
from stack.packaging import FUNCTIONS_DIR

API_DIR = FUNCTIONS_DIR / "api"


@functools.cache
def routes() -> tuple[Route, ...]:
    table = json.loads((API_DIR / "routes.json").read_text())
    return tuple(Route.from_dict(r) for r in table["routes"])


def edge_routes() -> tuple[Route, ...]:
    """What the read edge (components/api_edge.py) may serve: every route but those needing the
    API key (the ledger's reads), which go to a region's API."""
    return tuple(r for r in routes() if not r.keyed)


def load_schema(name: str) -> dict[str, Any]:
    return json.loads((API_DIR / "schemas" / f"{name}.json").read_text())


@functools.cache
def _files() -> dict[str, dict[str, Any]]:
    return {name: load_schema(name) for route in routes() for name in sorted(route.schema_names)}


def schemas(max_upload_bytes: int | None = None) -> dict[str, dict[str, Any]]:
    """Every request and response model the routes name; with the stack's upload limit, an
    upload request larger than it is refused by the gateway too (the handler's 413 stays for
    a caller that reaches the function another way)."""
    models = copy.deepcopy(_files())
    if max_upload_bytes is not None:
        models["UploadRequest"]["properties"]["size"]["maximum"] = max_upload_bytes
    return models


def document(allowed_origin: str | None = None, max_upload_bytes: int | None = None) -> dict[str, Any]:
    """The document a region's API imports, without a function to integrate with (for checks
    and for clients; components/serverless_api.py builds each region's with its own)."""
    return openapi_document(
        title="serverless-dr blog API",
        routes=routes(),
        schemas=schemas(max_upload_bytes),
        invoke_arn="",
        allowed_origin=allowed_origin,
    )


def published_document(server_urls: list[str], max_upload_bytes: int | None) -> dict[str, Any]:
    """The contract as a stack publishes it (the `apiDocument` output): the public URL first,
    then each region's own, for a client that fails over without waiting for DNS (the upload
    limit None: the schema's, for a client not tied to one stack)."""
    return client_document(document(max_upload_bytes=max_upload_bytes), server_urls, routes())
