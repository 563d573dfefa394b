"""What the API accepts from a caller, checked strictly before anything reaches AWS.

Bodies: JSON text (no lone surrogates, which DynamoDB and UTF-8 cannot carry) that matches the
route's JSON schema (schemas/, the same files the gateway's models are built from). Each schema
is compiled once per cold start. Numbers in query strings: ASCII digits only, bounded in length
and range, so `²`, `٣` or a 5,000-digit value is the caller's mistake (400/422), never a 500.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import fastjsonschema
from api.errors import bad_request, unprocessable, unsupported_media_type

SCHEMA_DIR = Path(__file__).parent / "schemas"
MAX_BODY_CHARS = 64 * 1024
_ASCII_DIGITS = re.compile(r"[0-9]+")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.json").read_text())


@functools.cache
def validator(name: str):
    """The compiled validator of one schema (compiling costs milliseconds; do it once)."""
    return fastjsonschema.compile(schema(name))


def has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def json_body(headers: dict[str, str] | None, raw: str | None, schema_name: str) -> dict[str, Any]:
    """The parsed, schema-valid body, or an ApiError naming what is wrong with it."""
    content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise unsupported_media_type(f"Content-Type must be application/json, got {content_type or 'none'!r}")
    if not raw:
        raise bad_request("a JSON body is required")
    if len(raw) > MAX_BODY_CHARS:
        raise bad_request(f"the body is longer than {MAX_BODY_CHARS} characters")
    try:
        body = json.loads(raw)
    except ValueError as error:  # malformed JSON, and integers past Python's 4,300-digit limit
        raise bad_request(f"body is not valid JSON: {str(error)[:120]}") from None
    except RecursionError:
        raise bad_request("body is nested too deeply") from None
    if has_lone_surrogate(body) or has_lone_surrogate(raw):
        raise bad_request("body contains a lone UTF-16 surrogate, which is not text")
    try:
        validator(schema_name)(body)
    except fastjsonschema.JsonSchemaValueException as error:
        raise unprocessable(_describe(error), _fields(error, body)) from None
    return body


def _fields(error: fastjsonschema.JsonSchemaValueException, body: Any) -> list[str]:
    path = [str(p) for p in (error.path or [])[1:]]  # fastjsonschema paths start with "data"
    if error.rule == "required" and error.rule_definition:
        missing = [f for f in error.rule_definition if not isinstance(error.value, dict) or f not in error.value]
        return [".".join([*path, f]) for f in missing] or ["body"]
    if error.rule == "minProperties" and isinstance(error.value, dict):
        return _missing_required(error) or _absent(error) or ["body"]
    if error.rule == "additionalProperties" and isinstance(error.value, dict):
        allowed = set((error.definition or {}).get("properties", {}))
        return [".".join([*path, k]) for k in error.value if k not in allowed] or ["body"]
    return [".".join(path) or "body"]


def _absent(error: fastjsonschema.JsonSchemaValueException) -> list[str]:
    """The properties an object could have given and did not (its schema admits no others)."""
    return [k for k in (error.definition or {}).get("properties", {}) if k not in error.value]


def _missing_required(error: fastjsonschema.JsonSchemaValueException) -> list[str]:
    # fastjsonschema checks minProperties before required: a missing required field is the news.
    return [k for k in (error.definition or {}).get("required", []) if k not in error.value]


def _describe(error: fastjsonschema.JsonSchemaValueException) -> str:
    if error.rule == "minProperties" and isinstance(error.value, dict):
        missing, absent = _missing_required(error), _absent(error)
        if missing:
            return f"body must contain {missing} properties"
        if absent:
            return f"at least one of {', '.join(absent)} must be given"
    return str(error.message).replace("data.", "").replace("data ", "body ")


def bounded_int(raw: str | None, name: str, *, low: int, high: int, default: int | None = None, status: int = 400) -> int:
    """An integer query parameter: ASCII digits, at most as many as `high` has, within [low, high]."""
    if raw is None:
        if default is None:
            raise (
                unprocessable(f"query parameter {name} is required", [name])
                if status == 422
                else bad_request(f"query parameter {name} is required")
            )
        return default
    rule = f"query parameter {name} must be an integer from {low} to {high}"
    if len(raw) > len(str(high)) or not _ASCII_DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        if status == 422:
            raise unprocessable(rule, [name])
        raise bad_request(rule)
    return int(raw)


def query_email(params: dict[str, str], name: str) -> str:
    """An email address in a query string, by the same pattern as the bodies' (Subscriber.json), lower-cased."""
    raw = params.get(name)
    rule = schema("Subscriber")["properties"]["email"]
    if raw is None:
        raise bad_request(f"query parameter {name} is required")
    if not rule["minLength"] <= len(raw) <= rule["maxLength"] or not re.fullmatch(rule["pattern"], raw):
        raise bad_request(f"query parameter {name} must be an email address")
    return raw.lower()
