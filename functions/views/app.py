"""Count page views into counters sharded by region, each view exactly once, from either transport.

Each region increments only its own item (`VIEWS#<post>` / `REGION#<region>`) in its own
replica: an item only one region writes cannot lose an increment to last-writer-wins (the
"write to your Region" mode of the global-tables guidance, for these items only), and counting
does not wait for the primary. The API reads the sum.

Exactly once: one post's views arrive in sequence-number order, and each counter remembers the
last sequence number it counted (zero-padded so strings compare as numbers). The increment is
conditional on a newer sequence number, so a redelivered record or batch is recognised by the
counter itself: no idempotency store is involved, and none can fail under it. The two transports
(`pageViewTransport`) give that order the same way:
- an SQS FIFO queue (no standing charge): the post id is the message group, SQS delivers a group
  in order and its SequenceNumber grows within the group; after a failure the rest of that group
  in the batch is reported failed without being tried (Powertools' SqsFifoPartialProcessor);
- a Kinesis stream: the post id is the partition key, one shard holds a post's views in order;
  the first record that fails stops the batch, Lambda redelivers from it.
Each transport has its own counter attribute (`last_sqs_sequence`, `last_sequence`): their numbers
are not comparable, and a stack that switches transport keeps counting.

With `ANALYTICS_DELIVERY_STREAM` set (SQS transport), every view taken from the queue is also put
on that Firehose delivery stream (see forward_to_analytics).

A record that is not a page view can never be counted: it is logged and skipped (metric
`BadViewRecords`) instead of failed, because a failing record holds back the shard behind it
and, once the mapping's retries run out, takes the good records of its batch along to the
on-failure destination.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import aws, deadline
from shared.consumer import batch_processor
from shared.items import local_region, now_iso, views_key

logger = Logger(service="views")
metrics = Metrics(service="views")
processor = batch_processor(EventType.KinesisDataStreams)
fifo_processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# Which counter attribute remembers the last sequence number, per transport.
SEQUENCE_ATTRIBUTE = {"kinesis": "last_sequence", "sqs": "last_sqs_sequence"}
POST_ID = re.compile(r"^[0-9a-f]{32}$")
SEQUENCE_DIGITS = 64
REPORT_RESERVE_SECONDS = 2.0


class BadView(ValueError):
    """A record that is not a page view of a post."""


class AfterAFailure(RuntimeError):
    """Not tried: an earlier record of this shard's batch failed, and order matters here."""


_batch = {"failed": False}


def parse_view(data: bytes) -> str:
    try:
        view = json.loads(data)
    except ValueError:
        raise BadView("record is not JSON") from None
    if not isinstance(view, dict) or view.get("type", "view") != "view" or not POST_ID.match(str(view.get("post_id", ""))):
        raise BadView("record is not a page view of a post")
    return view["post_id"]


def count_view(post_id: str, sequence: str, transport: str = "kinesis") -> bool:
    """True when counted, False when this sequence number (or a later one) was counted before."""
    from botocore.exceptions import ClientError

    region = local_region()
    try:
        aws.table(os.environ["TABLE_NAME"]).update_item(
            Key=views_key(post_id, region),
            UpdateExpression="ADD #count :one, #version :one SET origin_region = :region, updated_at = :now, #last = :seq",
            ConditionExpression="attribute_not_exists(#last) OR #last < :seq",
            ExpressionAttributeNames={"#count": "count", "#version": "version", "#last": SEQUENCE_ATTRIBUTE[transport]},
            ExpressionAttributeValues={":one": 1, ":region": region, ":now": now_iso(), ":seq": sequence.zfill(SEQUENCE_DIGITS)},
        )
    except ClientError as error:
        if aws.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _count(data: bytes, sequence: str, transport: str) -> str:
    try:
        post_id = parse_view(data)
    except (BadView, ValueError) as bad:
        metrics.add_metric(name="BadViewRecords", unit=MetricUnit.Count, value=1)
        logger.warning("not a page view: skipped", extra={"sequence": sequence, "reason": str(bad)})
        return "skipped"
    return "counted" if count_view(post_id, sequence, transport) else "already counted"


def record_handler(record: KinesisStreamRecord) -> str:
    if _batch["failed"]:
        raise AfterAFailure(record.kinesis.sequence_number)
    try:
        return _count(base64.b64decode(record.kinesis.data), record.kinesis.sequence_number, "kinesis")
    except Exception:
        _batch["failed"] = True
        raise


def message_handler(record: SQSRecord) -> str:
    # The FIFO processor stops this message's group after a failure; other groups go on.
    outcome = _count(record.body.encode(), record.attributes.sequence_number or "", "sqs")
    if outcome != "skipped":
        forward_to_analytics(record.body)
    return outcome


def forward_to_analytics(body: str) -> None:
    """The queue has no second reader: the consumer hands each view to the analytics delivery
    stream (a Kinesis transport is read by Firehose itself). A failed put fails the message, which
    comes back; its counter recognises it, so the count stays exact and the analytics copy is at
    least once (twice only when Firehose took a record but its answer was lost)."""
    stream = os.environ.get("ANALYTICS_DELIVERY_STREAM")
    if stream:
        aws.client("firehose").put_record(DeliveryStreamName=stream, Record={"Data": body.encode() + b"\n"})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    _batch["failed"] = False
    from_queue = bool(event.get("Records")) and event["Records"][0].get("eventSource") == "aws:sqs"
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        if from_queue:
            return process_partial_response(
                event=event, record_handler=message_handler, processor=fifo_processor, context=context
            )
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
