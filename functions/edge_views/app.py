"""Count page views from CloudFront's standard logs: no API call per view.

CloudFront writes its standard (legacy) log files, gzipped and tab-separated, to the log bucket in
the home region; each new file's S3 notification reaches this consumer through a queue (batches of
files, retries, a DLQ). Which distribution's logs (`EDGE_LOG_PREFIX`): the site's when posts are
pages of their own (postPages: `GET /posts/{id}` is the page), else the API edge's (the page's
read of the post). A page view is a line for `GET /posts/{id}` that the edge answered 200 or 304,
whether the cache answered it or an origin did.

Exactly once: a file is counted under one mark (`edgelog:<bucket>/<key>`), in one transaction
with the increments of every post it names, together with the other files of the batch that fit
(shared/view_counts.py `count_tallies`), so the same notification delivered twice, a replay, or
a redrive from the DLQ days later counts nothing again. The queue's batching window gathers a few
files per invocation, so a busy post is incremented and published once per batch, not per file. Lines are
unique by CloudFront's request id (`x-edge-request-id`): a line repeated in a file counts once.
The fields are read by the names of the file's `#Fields` header, not by position, so fields
CloudFront adds later change nothing.

Analytics (`ANALYTICS_DELIVERY_STREAM`): every view as the page-view record the analytics table
holds (its view id is the edge's request id), many JSON documents concatenated in one Firehose
record (Firehose bills a record as at least 5 KB), put after the count; a failed put fails the
file's message, which comes back and finds its marks (the count stays exact, analytics get the
views at least once and count them by view_id).

The lag: CloudFront delivers a period's file usually within an hour, some entries up to 24 hours
later (CloudFront Developer Guide, "Timing of log file delivery").
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from shared import aws, deadline, view_counts
from shared.items import local_region
from shared.s3 import notified_objects

logger = Logger(service="edge-views")
metrics = Metrics(service="edge-views")
DEFAULT_LOG_PREFIX = "api-edge/"
POST_PATH = re.compile(r"^/posts/([0-9a-f]{32})$")
VIEW_STATUSES = {"200", "304"}
REPORT_RESERVE_SECONDS = 2.0
# Firehose takes records of up to 1,000 KiB and batches of 500 records or 4 MiB.
FIREHOSE_RECORD_BYTES = 900 * 1024
FIREHOSE_BATCH_RECORDS = 500


class BadLog(ValueError):
    """A message or an object that is not a CloudFront standard log file of this edge."""


@dataclass(frozen=True)
class EdgeView:
    post_id: str
    request_id: str
    at: str  # ISO 8601, UTC


def log_objects(body: str) -> list[tuple[str, str]]:
    """(bucket, key) pairs of an S3 notification of new log files; [] for S3's test event."""
    # Read per call, not at import: the environment is the function's configuration, and a
    # process that imported this module under another one (a test run) must not keep its prefix.
    return notified_objects(body, os.environ.get("EDGE_LOG_PREFIX", DEFAULT_LOG_PREFIX), BadLog)


def log_lines(text: str) -> Iterator[dict[str, str]]:
    """Each entry of a standard log file as {field name: value}, by its `#Fields` header."""
    fields: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("#Fields:"):
            fields = line.split(":", 1)[1].split()
            continue
        if not line or line.startswith("#"):
            continue
        if fields is None:
            raise BadLog("log entries before a #Fields header")
        values = line.split("\t")
        if len(values) < len(fields):
            raise BadLog(f"an entry has {len(values)} fields, the header {len(fields)}")
        yield dict(zip(fields, values, strict=False))


def page_views(entries: Iterable[dict[str, str]]) -> list[EdgeView]:
    """The entries that are page views, once per request id."""
    views: dict[str, EdgeView] = {}
    for entry in entries:
        match = POST_PATH.match(entry.get("cs-uri-stem", ""))
        if not match or entry.get("cs-method") != "GET" or entry.get("sc-status") not in VIEW_STATUSES:
            continue
        request_id = entry.get("x-edge-request-id", "")
        if not request_id or request_id == "-":
            continue
        views.setdefault(request_id, EdgeView(match[1], request_id, f"{entry.get('date')}T{entry.get('time')}.000Z"))
    return list(views.values())


def read_log(bucket: str, key: str) -> list[EdgeView]:
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        text = gzip.decompress(body).decode("utf-8") if key.endswith(".gz") else body.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        raise BadLog(f"{key} is not a gzipped text log") from None
    return page_views(log_lines(text))


def file_tally(bucket: str, key: str, views: list[EdgeView], source: str) -> view_counts.Tally:
    """The file's views per post, under one mark: the file counts once, whatever its lines."""
    return view_counts.Tally(f"edgelog:{bucket}/{key}", dict(Counter(v.post_id for v in views)), source)


def analytics_records(views: list[EdgeView]) -> list[bytes]:
    """The views as page-view records, packed into Firehose records of at most FIREHOSE_RECORD_BYTES."""
    region = local_region()
    packed, current = [], b""
    for view in views:
        document = json.dumps(
            # No reader: the edge does not know the page's reader id (the column is null).
            {"post_id": view.post_id, "type": "view", "view_id": view.request_id, "region": region, "at": view.at}
        ).encode()
        if current and len(current) + len(document) + 1 > FIREHOSE_RECORD_BYTES:
            packed.append(current)
            current = b""
        current += document + b"\n"
    return [*packed, current] if current else packed


def forward_to_analytics(views: list[EdgeView]) -> bool:
    """Put the views on the analytics delivery stream; False when Firehose refused some (throttled,
    unavailable: the message comes back and they are put again)."""
    stream = os.environ.get("ANALYTICS_DELIVERY_STREAM")
    if not stream or not views:
        return True
    records = analytics_records(views)
    for i in range(0, len(records), FIREHOSE_BATCH_RECORDS):
        batch = [{"Data": data} for data in records[i : i + FIREHOSE_BATCH_RECORDS]]
        answer = aws.client("firehose").put_record_batch(DeliveryStreamName=stream, Records=batch)
        if answer.get("FailedPutCount"):
            logger.warning("Firehose refused records", extra={"refused": answer["FailedPutCount"], "of": len(batch)})
            return False
    return True


def count_batch(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    failed: set[str] = set()
    read: dict[str, list[EdgeView]] = {}
    counted: list[view_counts.Tally] = []
    for record in records:
        message = record["messageId"]
        try:
            for bucket, key in log_objects(record["body"]):
                views = read_log(bucket, key)
                read.setdefault(message, []).extend(views)
                counted.append(file_tally(bucket, key, views, message))
        except BadLog as bad:
            metrics.add_metric(name="BadLogFiles", unit=MetricUnit.Count, value=1)
            logger.warning("not a log file of the edge: skipped", extra={"sqs_message": message, "reason": str(bad)})
            continue
        except Exception as error:
            if not aws.is_transient(error):
                raise
            failed.add(message)
    result = view_counts.count_tallies([t for t in counted if t.source not in failed])
    failed |= result.failed_sources
    for message, views in read.items():
        if message in failed:
            continue
        try:
            forwarded = forward_to_analytics(views)
        except Exception as error:
            if not aws.is_transient(error):
                raise
            forwarded = False
        if not forwarded:
            failed.add(message)
    metrics.add_metric(name="EdgeViewsCounted", unit=MetricUnit.Count, value=result.counted)
    if result.already_counted:
        metrics.add_metric(name="ViewsAlreadyCounted", unit=MetricUnit.Count, value=result.already_counted)
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["messageId"] in failed]}


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return count_batch(event.get("Records") or [])
