"""Photo uploads: a presigned POST to the region's media bucket, limited in size and type.

S3 enforces the limits itself (the policy's content-length-range and Content-Type conditions), so
a client cannot upload more or something else than it asked for.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from api.errors import too_large

# The types the upload schema allows (schemas/UploadRequest.json, checked before this runs), with
# the extension each is stored under.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
UPLOAD_PREFIX = "uploads/"
THUMBNAIL_PREFIX = "thumbnails/"
THUMBNAIL_NAME = re.compile(r"[0-9a-f]{32}\.jpg")
EXPIRES_SECONDS = 300


def presigned_upload(s3, bucket: str, content_type: str, size: int, max_bytes: int) -> dict[str, Any]:
    if size > max_bytes:
        raise too_large(f"size {size} exceeds the limit of {max_bytes} bytes")
    stem = uuid.uuid4().hex
    key = f"{UPLOAD_PREFIX}{stem}.{EXTENSIONS[content_type]}"
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=EXPIRES_SECONDS,
    )
    return {
        "url": post["url"],
        "fields": post["fields"],
        "key": key,
        "thumbnail": f"{stem}.jpg",  # GET /thumbnails/<this> once the thumbnail consumer has run
        "max_bytes": max_bytes,
        "expires_in": EXPIRES_SECONDS,
    }


def thumbnail_url(s3, bucket: str, name: str) -> dict[str, Any]:
    """A short-lived GET URL for a thumbnail, or 404 while it is not made (or not replicated) yet."""
    from api.errors import not_found
    from shared.s3 import head_or_none

    key = f"{THUMBNAIL_PREFIX}{name}"
    if not THUMBNAIL_NAME.fullmatch(name) or head_or_none(s3, bucket, key) is None:
        raise not_found(f"thumbnail {name}")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=EXPIRES_SECONDS)
    return {"url": url, "key": key, "expires_in": EXPIRES_SECONDS}
