"""S3 lookups the functions share."""

from __future__ import annotations

from typing import Any

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
