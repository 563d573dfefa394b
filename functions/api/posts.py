"""Blog posts: newest-first listing, reads with the summed view count, and the intents of writes.

Reads stay local (this region's replica). Writes are described as intents (shared/writes.py)
and applied by the caller; a post created under an Idempotency-Key gets an id derived from the
key's write id, so no retry can create a second post.
"""

from __future__ import annotations

from typing import Any

from api.errors import bad_request, not_found
from api.validation import bounded_int
from boto3.dynamodb.conditions import Key
from shared import signing
from shared.intent import MAX_VERSION, WriteIntent
from shared.items import POSTS_INDEX, POSTS_PARTITION, is_live, now_iso, post_answer, post_key, public_post, view_count

MAX_PAGE = 50
CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    return signing.seal(last_key) if last_key else None


def decode_cursor(cursor: str) -> dict[str, str]:
    data = signing.unseal(cursor)
    if data is None or set(data) != CURSOR_KEYS or not all(isinstance(v, str) for v in data.values()):
        raise bad_request("cursor is not one this API issued")
    if data["gsi1pk"] != POSTS_PARTITION or not data["pk"].startswith("POST#"):
        raise bad_request("cursor is not one this API issued")
    return data


def parse_limit(raw: str | None) -> int:
    return bounded_int(raw, "limit", low=1, high=MAX_PAGE, default=20)


def parse_version(raw: str | None) -> int:
    return bounded_int(raw, "version", low=1, high=MAX_VERSION, status=422)


def list_posts(table, limit: int, cursor: str | None) -> dict[str, Any]:
    query: dict[str, Any] = {
        "IndexName": POSTS_INDEX,
        "KeyConditionExpression": Key("gsi1pk").eq(POSTS_PARTITION),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor is not None:  # an empty one too: it is not one this API issued
        query["ExclusiveStartKey"] = decode_cursor(cursor)
    page = table.query(**query)
    return {
        # With their view counts: the list shows them, at one counter query per post (<= MAX_PAGE).
        "items": [{**public_post(i), "views": view_count(table, i["id"])} for i in page.get("Items", []) if is_live(i)],
        "next_cursor": encode_cursor(page.get("LastEvaluatedKey")),
    }


def get_post(table, post_id: str) -> dict[str, Any]:
    item = table.get_item(Key=post_key(post_id)).get("Item")
    if not is_live(item):
        raise not_found(f"post {post_id}")
    return post_answer(table, item)


def create_intent(base: dict[str, Any], body: dict[str, Any]) -> WriteIntent:
    post_id = signing.derived_hex(base["write_id"], "post")
    created = now_iso()
    item = {
        **post_key(post_id),
        "id": post_id,
        "title": body["title"],
        "body": body["body"],
        "tags": body.get("tags", []),
        **({"premium": True} if body.get("premium") else {}),
        "created_at": created,
        "gsi1pk": POSTS_PARTITION,
        "gsi1sk": f"{created}#{post_id}",
    }
    return WriteIntent(kind="create", key=post_key(post_id), item=item, **base)


def update_intent(base: dict[str, Any], post_id: str, body: dict[str, Any]) -> WriteIntent:
    changes = {k: body[k] for k in ("title", "body", "tags", "premium") if k in body}
    return WriteIntent(kind="update", key=post_key(post_id), item=changes, expected_version=int(body["version"]), **base)


def delete_intent(base: dict[str, Any], post_id: str, version: int) -> WriteIntent:
    return WriteIntent(kind="delete", key=post_key(post_id), expected_version=version, **base)
