"""Request bodies checked against the JSON schemas the gateway's models are built from (schemas/).

The gateway validates bodies too (400 before the function runs); checking again here keeps the
handler correct when invoked another way and gives the 422 with the failing fields.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from api.errors import bad_request, unprocessable, unsupported_media_type
from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

SCHEMA_DIR = Path(__file__).parent / "schemas"


@functools.cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


def json_body(headers: dict[str, str] | None, raw: str | None, schema_name: str) -> dict[str, Any]:
    """The parsed, schema-valid body, or an ApiError naming what is wrong with it."""
    content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise unsupported_media_type(f"Content-Type must be application/json, got {content_type or 'none'!r}")
    if not raw:
        raise bad_request("a JSON body is required")
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise bad_request(f"body is not valid JSON: {error}") from None
    try:
        validate(event=body, schema=schema(schema_name))
    except SchemaValidationError as error:
        raise unprocessable(_describe(error), _fields(error)) from None
    return body


def _fields(error: SchemaValidationError) -> list[str]:
    path = [str(p) for p in (error.path or [])[1:]]  # fastjsonschema paths start with "data"
    if error.rule == "required" and error.rule_definition:
        missing = [f for f in error.rule_definition if f not in (error.value or {})]
        return [".".join([*path, f]) for f in missing] or ["body"]
    if error.rule == "additionalProperties" and isinstance(error.value, dict):
        allowed = set((error.definition or {}).get("properties", {}))
        return [".".join([*path, k]) for k in error.value if k not in allowed] or ["body"]
    return [".".join(path) or "body"]


def _describe(error: SchemaValidationError) -> str:
    message = error.validation_message or str(error)
    return message.replace("data.", "").replace("data ", "body ")
