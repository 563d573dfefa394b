"""The single-table layout the handlers share: keys, the stamp every item carries, projections.

Items: `POST#<id>`/`POST` (with `gsi1pk=POSTS`, `gsi1sk=<created_at>#<id>` for the newest-first
listing; a deleted post stays as a tombstone without them), `SUB#<email>`/`SUB`,
`SUPPRESS#<email>`/`SUPPRESS`, `VIEWS#<post>`/`REGION#<region>` (page-view counters, one per
region, summed on read), `REQ#<write id>`/`REQ` (the fate of every accepted write) and
`CONTROL#writer`/`CONTROL` (which region is primary, and its epoch).

Every item written for a request carries `origin_region` (the region that accepted it),
`updated_at`, `version`, and the `write_id`/`write_hash` of the request that last wrote it, so a
write whose response was lost is recognised as its own when it is tried again.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

POSTS_INDEX = "gsi1"
POSTS_PARTITION = "POSTS"
POST_FIELDS = ("id", "title", "body", "tags", "premium", "created_at", "updated_at", "version", "origin_region")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_default(value: Any) -> Any:
    """`json.dumps` default for what boto3 reads from DynamoDB: numbers come back as Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def local_region() -> str:
    return os.environ["AWS_REGION"]


def expiry(days: float) -> int | None:
    """An `expires_at` epoch for DynamoDB TTL, or None where the table has no TTL (strong
    consistency: MRSC tables do not support TTL; RECORD_TTL_DAYS=0)."""
    if days <= 0 or os.environ.get("RECORD_TTL_DAYS", "7") == "0":
        return None
    return int(time.time() + days * 86400)


def post_key(post_id: str) -> dict[str, str]:
    return {"pk": f"POST#{post_id}", "sk": "POST"}


def subscriber_key(email: str) -> dict[str, str]:
    return {"pk": f"SUB#{email.lower()}", "sk": "SUB"}


def purchase_key(reader: str, item: str) -> dict[str, str]:
    """A purchase: an item of the table, or the address of the relational ledger's row when that
    store is on (relationalDb)."""
    return {"pk": f"PURCHASE#{reader.lower()}", "sk": f"ITEM#{item}"}  # a reader's purchases: one query


def suppression_key(email: str) -> dict[str, str]:
    return {"pk": f"SUPPRESS#{email.lower()}", "sk": "SUPPRESS"}


def views_partition(post_id: str) -> str:
    return f"VIEWS#{post_id}"


def views_key(post_id: str, region: str) -> dict[str, str]:
    return {"pk": views_partition(post_id), "sk": f"REGION#{region}"}


def request_key(write_id: str, variant: str | None = None) -> dict[str, str]:
    return {"pk": f"REQ#{write_id}" + (f"#{variant}" if variant else ""), "sk": "REQ"}


CONTROL_KEY = {"pk": "CONTROL#writer", "sk": "CONTROL"}


def public_post(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in POST_FIELDS if k in item}
    if "version" in out:
        out["version"] = int(out["version"])
    return out


def is_live(item: dict[str, Any] | None) -> bool:
    """An item that exists and is not a tombstone."""
    return bool(item) and not item.get("deleted")


def view_count(table, post_id: str) -> int:
    """Views are counted per region (no increment is lost to last-writer-wins); read as the sum."""
    from boto3.dynamodb.conditions import Key

    total, start = 0, None
    while True:
        query: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(views_partition(post_id))}
        if start:
            query["ExclusiveStartKey"] = start
        page = table.query(**query)
        total += sum(int(i.get("count", 0)) for i in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def post_answer(table, item: dict[str, Any]) -> dict[str, Any]:
    """GET /posts/{id}'s answer for a live post item: the API's, and the one stored for the edge
    (functions/pages)."""
    return {**public_post(item), "views": view_count(table, item["id"])}
