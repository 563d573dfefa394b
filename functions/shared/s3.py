"""S3 lookups the functions share."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

MISSING_CODES = ("404", "NoSuchKey", "NotFound")


def head_or_none(s3, bucket: str, key: str) -> dict[str, Any] | None:
    """The object's metadata, or None when it does not exist (other errors propagate).

    Telling "missing" from "forbidden" needs s3:ListBucket on the prefix: without it S3 answers 403.
    """
    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in MISSING_CODES:
            return None
        raise


def notified_objects(body: str, prefix: str, bad: type[ValueError]) -> list[tuple[str, str]]:
    """(bucket, key) pairs of an S3 event notification (a queue message's body) for objects under
    `prefix`; [] for S3's test event. Anything else raises `bad` naming what is wrong."""
    try:
        message = json.loads(body)
    except ValueError:
        raise bad("message is not JSON") from None
    if isinstance(message, dict) and message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records") if isinstance(message, dict) else None
    if not isinstance(records, list) or not records:
        raise bad("message is not an S3 event notification")
    objects = []
    for record in records:
        try:
            bucket, key = record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"])
        except (KeyError, TypeError):
            raise bad("S3 record without bucket name or object key") from None
        if not key.startswith(prefix):
            raise bad(f"{key} is not under {prefix}")
        objects.append((bucket, key))
    return objects
