"""Photo uploads: a presigned POST to the region's media bucket, limited in size and type.

S3 enforces the limits itself (the policy's content-length-range and Content-Type conditions), so
a client cannot upload more or something else than it asked for.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.errors import too_large, unsupported_media_type

ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
UPLOAD_PREFIX = "uploads/"
EXPIRES_SECONDS = 300


def presigned_upload(s3, bucket: str, content_type: str, size: int, max_bytes: int) -> dict[str, Any]:
    content_type = content_type.strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise unsupported_media_type(f"content_type must be one of {', '.join(sorted(ALLOWED_TYPES))}")
    if size > max_bytes:
        raise too_large(f"size {size} exceeds the limit of {max_bytes} bytes")
    key = f"{UPLOAD_PREFIX}{uuid.uuid4().hex}.{ALLOWED_TYPES[content_type]}"
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=EXPIRES_SECONDS,
    )
    return {"url": post["url"], "fields": post["fields"], "key": key, "max_bytes": max_bytes, "expires_in": EXPIRES_SECONDS}
