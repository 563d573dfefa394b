"""Blog posts: newest-first listing, reads with the summed view count, versioned writes."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from api.errors import bad_request, conflict, not_found, unprocessable
from boto3.dynamodb.conditions import Key
from shared.items import POSTS_INDEX, POSTS_PARTITION, now_iso, post_key, stamp
from shared.write_intents import WriteIntent

PUBLIC_FIELDS = ("id", "title", "body", "tags", "created_at", "updated_at", "version", "origin_region")
MAX_PAGE = 50


def public(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    if "version" in out:
        out["version"] = int(out["version"])
    return out


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeError):
        raise bad_request("cursor is not one this API issued") from None
    expected = {"pk", "sk", "gsi1pk", "gsi1sk"}
    if not isinstance(data, dict) or set(data) != expected or not all(isinstance(v, str) for v in data.values()):
        raise bad_request("cursor is not one this API issued")
    return data


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return 20
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise bad_request(f"limit must be an integer from 1 to {MAX_PAGE}")
    return int(raw)


def list_posts(table, limit: int, cursor: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {
        "IndexName": POSTS_INDEX,
        "KeyConditionExpression": Key("gsi1pk").eq(POSTS_PARTITION),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        query["ExclusiveStartKey"] = decode_cursor(cursor)
    page = table.query(**query)
    return {"items": [public(i) for i in page.get("Items", [])], "next_cursor": encode_cursor(page.get("LastEvaluatedKey"))}


def view_count(table, post_id: str) -> int:
    """Views are counted per region (no increment is lost to last-writer-wins); read as the sum."""
    total, start = 0, None
    while True:
        query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(f"VIEWS#{post_id}")}
        if start:
            query["ExclusiveStartKey"] = start
        page = table.query(**query)
        total += sum(int(i.get("count", 0)) for i in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def get_post(table, post_id: str) -> dict[str, Any]:
    item = table.get_item(Key=post_key(post_id)).get("Item")
    if not item:
        raise not_found(f"post {post_id}")
    return {**public(item), "views": view_count(table, post_id)}


def create_intent(request_id: str, body: dict[str, Any]) -> WriteIntent:
    post_id = uuid.uuid4().hex
    created = now_iso()
    item = stamp(
        {
            **post_key(post_id),
            "id": post_id,
            "title": body["title"],
            "body": body["body"],
            "tags": body.get("tags", []),
            "created_at": created,
            "gsi1pk": POSTS_PARTITION,
            "gsi1sk": f"{created}#{post_id}",
        },
        version=1,
    )
    return WriteIntent(request_id=request_id, op="create", key=post_key(post_id), item=item)


def update_intent(table, request_id: str, post_id: str, body: dict[str, Any]) -> WriteIntent:
    changes = {k: body[k] for k in ("title", "body", "tags") if k in body}
    if not changes:
        raise unprocessable("at least one of title, body, tags must be given", ["title", "body", "tags"])
    current = table.get_item(Key=post_key(post_id)).get("Item")
    if not current:
        raise not_found(f"post {post_id}")
    expected = body["version"]
    if int(current["version"]) != expected:
        raise conflict(f"post {post_id} is at version {int(current['version'])}, not {expected}")
    item = stamp({**current, **changes}, version=expected + 1)
    return WriteIntent(request_id=request_id, op="update", key=post_key(post_id), item=item, expected_version=expected)


def delete_intent(table, request_id: str, post_id: str, version_raw: str | None) -> WriteIntent:
    if version_raw is None or not version_raw.isdigit() or int(version_raw) < 1:
        raise unprocessable("query parameter version must be a positive integer", ["version"])
    if not table.get_item(Key=post_key(post_id)).get("Item"):
        raise not_found(f"post {post_id}")
    return WriteIntent(request_id=request_id, op="delete", key=post_key(post_id), expected_version=int(version_raw))
