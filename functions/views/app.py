"""Count page views into this region's counters, each view exactly once, from either transport.

The transports (`pageViewTransport`): an SQS FIFO queue (no standing charge; the post id is the
message group) or a Kinesis stream (the post id is the partition key). Either way the batch is
counted by view identity (shared/view_counts.py): redeliveries, replays and any order count once.

The batch is counted as a whole, one transaction per post (per 99 views), not record by record:
that is what makes a view cost one mark and a share of one counter update. What fails
transiently is reported back in `batchItemFailures`, so the poller delivers it again:
- from the FIFO queue, a failed message and every later message of its group in the batch (a
  FIFO queue's consumer keeps the group's order);
- from the stream, the failed records (Lambda resumes the shard from the earliest one).

With `ANALYTICS_DELIVERY_STREAM` set (SQS transport), every view taken from the queue is also put
on that Firehose delivery stream (see forward_to_analytics).

A record that is not a page view can never be counted: it is logged and skipped (metric
`BadViewRecords`) instead of failed, because a failing record holds back the records behind it
and, once the retries run out, takes them along to the DLQ.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from shared import aws, deadline, view_counts

logger = Logger(service="views")
metrics = Metrics(service="views")
POST_ID = re.compile(r"^[0-9a-f]{32}$")
VIEW_ID = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")
REPORT_RESERVE_SECONDS = 2.0


class BadView(ValueError):
    """A record that is not a page view of a post."""


def parse_view(data: bytes, fallback_id: str) -> tuple[str, str]:
    """(post id, view id); a record without its own view id is identified by its transport id."""
    try:
        view = json.loads(data)
    except ValueError:
        raise BadView("record is not JSON") from None
    if not isinstance(view, dict) or view.get("type", "view") != "view" or not POST_ID.match(str(view.get("post_id", ""))):
        raise BadView("record is not a page view of a post")
    view_id = view.get("view_id", fallback_id)
    if not isinstance(view_id, str) or not VIEW_ID.match(view_id):
        raise BadView("view_id is not an identifier")
    return view["post_id"], view_id


def _from_queue(record: dict[str, Any]) -> tuple[str, bytes, str]:
    return record["messageId"], record["body"].encode(), record["attributes"].get("MessageDeduplicationId") or record["messageId"]


def _from_stream(record: dict[str, Any]) -> tuple[str, bytes, str]:
    sequence = record["kinesis"]["sequenceNumber"]
    return sequence, base64.b64decode(record["kinesis"]["data"]), f"{record.get('eventID', sequence)}"


def count_batch(records: list[dict[str, Any]], from_queue: bool) -> dict[str, list[dict[str, str]]]:
    unpack = _from_queue if from_queue else _from_stream
    views, bodies = [], {}
    for record in records:
        source, data, fallback = unpack(record)
        try:
            post_id, view_id = parse_view(data, fallback)
        except BadView as bad:
            metrics.add_metric(name="BadViewRecords", unit=MetricUnit.Count, value=1)
            logger.warning("not a page view: skipped", extra={"source": source, "reason": str(bad)})
            continue
        views.append(view_counts.View(post_id, view_id, source))
        bodies[source] = data
    result = view_counts.count(views)
    failed = set(result.failed_sources)
    if from_queue:
        failed |= _forward(views, bodies, failed)
        failed |= _rest_of_failed_groups(records, failed)
    if result.already_counted:
        metrics.add_metric(name="ViewsAlreadyCounted", unit=MetricUnit.Count, value=result.already_counted)
    ids = [unpack(r)[0] for r in records]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids if i in failed]}


def _forward(views: list[view_counts.View], bodies: dict[str, bytes], failed: set[str]) -> set[str]:
    """Each counted view to analytics; the sources whose put failed (they come back, their marks
    keep the count exact, analytics gets them at least once)."""
    not_forwarded = set()
    for view in views:
        if view.source in failed:
            continue
        try:
            forward_to_analytics(bodies[view.source].decode())
        except Exception as error:
            if not aws.is_transient(error):
                raise
            not_forwarded.add(view.source)
    return not_forwarded


def _rest_of_failed_groups(records: list[dict[str, Any]], failed: set[str]) -> set[str]:
    """Every message after a failed one in its message group (FIFO keeps each group's order)."""
    stopped, rest = set(), set()
    for record in records:
        group = record["attributes"].get("MessageGroupId")
        if group in stopped:
            rest.add(record["messageId"])
        elif record["messageId"] in failed:
            stopped.add(group)
    return rest


def forward_to_analytics(body: str) -> None:
    """The queue has no second reader: the consumer hands each view to the analytics delivery
    stream (a Kinesis transport is read by Firehose itself). A failed put fails the message, which
    comes back; its mark makes the count exact and the analytics copy at least once."""
    stream = os.environ.get("ANALYTICS_DELIVERY_STREAM")
    if stream:
        aws.client("firehose").put_record(DeliveryStreamName=stream, Record={"Data": body.encode() + b"\n"})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    records = event.get("Records") or []
    from_queue = bool(records) and records[0].get("eventSource") == "aws:sqs"
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return count_batch(records, from_queue)
