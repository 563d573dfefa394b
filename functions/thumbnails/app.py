"""Make one thumbnail per uploaded photo, in the region where it was uploaded.

Skipped without failing: objects S3 wrote as replicas (ReplicationStatus REPLICA: the origin
region made their thumbnail, which replicates too), objects whose thumbnail exists, S3's test
event. Failed (reported, retried up to the queue's maxReceiveCount, then kept in the DLQ): a
message that is not an S3 notification, a file that is not a decodable image or is too large.
"""

from __future__ import annotations

import io
import posixpath
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import aws, deadline
from shared.consumer import batch_processor
from shared.s3 import head_or_none, notified_objects

logger = Logger(service="thumbnails")
processor = batch_processor(EventType.SQS)

UPLOAD_PREFIX = "uploads/"
THUMBNAIL_PREFIX = "thumbnails/"
THUMBNAIL_SIZE = (320, 320)
MAX_SOURCE_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 40_000_000
REPORT_RESERVE_SECONDS = 2.0  # refuse decompression bombs before decoding


class BadUpload(ValueError):
    """A message or an object this consumer cannot turn into a thumbnail."""


def thumbnail_key(upload_key: str) -> str:
    stem = posixpath.splitext(posixpath.basename(upload_key))[0]
    return f"{THUMBNAIL_PREFIX}{stem}.jpg"


def uploaded_objects(body: str) -> list[tuple[str, str]]:
    """(bucket, key) pairs of an S3 notification of uploads; [] for S3's test event."""
    return notified_objects(body, UPLOAD_PREFIX, BadUpload)


def make_thumbnail(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # catches truncated and corrupt files before any decoding work
        with Image.open(io.BytesIO(data)) as image:
            image = image.convert("RGB")
            image.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise BadUpload(f"not a decodable image: {error}") from None


def process_object(s3, bucket: str, key: str) -> str:
    head = head_or_none(s3, bucket, key)
    if head is None:
        return "gone"  # deleted before we got to it: nothing to do
    if head.get("ReplicationStatus") == "REPLICA":
        return "replica"
    if head["ContentLength"] > MAX_SOURCE_BYTES:
        raise BadUpload(f"{key} is {head['ContentLength']} bytes, over {MAX_SOURCE_BYTES}")
    target = thumbnail_key(key)
    if head_or_none(s3, bucket, target) is not None:
        return "exists"
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=target, Body=make_thumbnail(data), ContentType="image/jpeg", Metadata={"source-key": key})
    return "created"


def record_handler(record: SQSRecord) -> list[str]:
    s3 = aws.client("s3")
    return [process_object(s3, bucket, key) for bucket, key in uploaded_objects(record.body)]


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
