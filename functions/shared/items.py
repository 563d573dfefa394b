"""Keys and the stamp every item carries (origin_region, updated_at, version).

Across regions the global table resolves concurrent writes by last writer wins; within a region
writes are conditional on `version`. `origin_region` is what stream consumers filter on so that
side effects (the welcome email) happen once, in the region that accepted the write.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_default(value: Any) -> Any:
    """`json.dumps` default for what boto3 reads from DynamoDB: numbers come back as Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def local_region() -> str:
    return os.environ["AWS_REGION"]


def stamp(item: dict[str, Any], *, version: int, region: str | None = None) -> dict[str, Any]:
    return {**item, "origin_region": region or local_region(), "updated_at": now_iso(), "version": version}


def post_key(post_id: str) -> dict[str, str]:
    return {"pk": f"POST#{post_id}", "sk": "POST"}


def subscriber_key(email: str) -> dict[str, str]:
    return {"pk": f"SUB#{email.lower()}", "sk": "SUB"}


def suppression_key(email: str) -> dict[str, str]:
    return {"pk": f"SUPPRESS#{email.lower()}", "sk": "SUPPRESS"}


def views_key(post_id: str, region: str) -> dict[str, str]:
    return {"pk": f"VIEWS#{post_id}", "sk": f"REGION#{region}"}


POSTS_INDEX = "gsi1"
POSTS_PARTITION = "POSTS"
