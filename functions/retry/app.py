"""Apply deferred writes, once each, and record the fate of every one.

Each message is a write intent the API published when it could not decide the write at once.
The consumer applies it with the same code the API uses (shared/writes.py), so:
- applied: the request record is written with the data (the write happens once, however often
  the message is delivered, because the record and the item's stamp recognise it);
- rejected (the post changed since the version the caller read, the post is gone, the key was
  reused for another request): the rejection is recorded with its reason, counted
  (`WritesRejected`, alarmed) and the message is done: no retry can make it apply;
- waiting (no region holds the write lease, the primary is out of reach, throttling, an outage):
  not a failure. The intent is sent back to its own queue with a delay that grows to
  MAX_WAIT_DELAY_SECONDS (so it is applied within a minute of a promotion, automatic or manual),
  counted (`WritesWaiting`) with the age of the oldest (`OldestDeferredWriteAgeSeconds`,
  alarmed). Sending it anew never uses up the queue's deliveries, so a write waits as long as
  MAX_WAIT_DAYS, not five deliveries;
- dead-lettered: an intent that can never apply here (the table refuses it as malformed, or it
  waited MAX_WAIT_DAYS) is recorded `dead_lettered` with its reason and the sealed intent itself,
  listed for a redrive (`sdr writes redrive`), counted (`WritesDeadLettered`, alarmed). If even that
  record cannot be written now, the intent comes back later to try again: a 202 always reaches a
  state `GET /writes/{id}` shows;
- not an intent the API sealed for its route (malformed, forged, altered, or writing outside
  the route's items: shared/intent.py): refused, counted (`IntentsRefused`, alarmed), logged
  with the message id, and dropped; nothing in the table changes.

The queue's own DLQ then only receives what this function could not handle at all (it crashed or
timed out five times on a message): its depth is alarmed and SQS's redrive moves it back.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import aws, clock, deadline, signing, writes
from shared.consumer import batch_processor
from shared.failover_timing import DEFERRED_WRITE_MAX_DELAY_SECONDS, DEFERRED_WRITE_MAX_WAIT_DAYS
from shared.intent import InvalidIntent, WriteIntent

logger = Logger(service="retry")
metrics = Metrics(service="retry")
processor = batch_processor(EventType.SQS)
# Seconds kept back from the function's remaining time to report the batch.
REPORT_RESERVE_SECONDS = 2.0
FIRST_WAIT_DELAY_SECONDS = 5
MAX_WAIT_DELAY_SECONDS = DEFERRED_WRITE_MAX_DELAY_SECONDS
MAX_WAIT_DAYS = DEFERRED_WRITE_MAX_WAIT_DAYS
WAITS = "waits"  # message attribute: how often this intent waited already
DEAD_LETTER = "dead_letter"  # message attribute: the reason, when only its record is left to write


def _attribute(record: SQSRecord, name: str) -> str | None:
    value = (record.message_attributes or {}).get(name)
    if value is None:
        return None
    return getattr(value, "string_value", None) or (value.get("stringValue") if isinstance(value, dict) else None)


def age_seconds(intent: WriteIntent) -> float:
    accepted = datetime.fromisoformat(intent.accepted_at.replace("Z", "+00:00"))
    return max(0.0, clock.now() - accepted.astimezone(UTC).timestamp())


def record_handler(record: SQSRecord) -> str:
    try:
        intent = WriteIntent.from_json(record.body)
    except InvalidIntent as refused:
        return _refused(record, refused)
    pending_reason = _attribute(record, DEAD_LETTER)
    if pending_reason:
        return _dead_letter(record, intent, pending_reason)
    try:
        outcome = writes.apply(intent)
    except writes.KeyReuse as reuse:
        refused = writes.Outcome("rejected", 422, {"error": "idempotency_key_reused", "message": str(reuse)}, str(reuse))
        return _rejected(intent, refused, variant=intent.body_hash[: signing.STATUS_HASH_CHARS])
    except Exception as error:
        if not writes.should_defer(error):
            return _dead_letter(record, intent, f"the table refuses it ({type(error).__name__}: {str(error)[:200]})")
        if age_seconds(intent) > MAX_WAIT_DAYS * 86400:
            return _dead_letter(record, intent, f"no primary took it within {MAX_WAIT_DAYS} days ({type(error).__name__})")
        return _wait(record, intent, error)
    if outcome.state == "rejected":
        return _rejected(intent, outcome)
    metrics.add_metric(name="WritesApplied", unit=MetricUnit.Count, value=1)
    return "applied"


def _rejected(intent: WriteIntent, outcome: writes.Outcome, variant: str | None = None) -> str:
    writes.record(intent, outcome, variant=variant)
    metrics.add_metric(name="WritesRejected", unit=MetricUnit.Count, value=1)
    logger.warning("deferred write rejected", extra={"write_id": intent.write_id, "reason": outcome.reason})
    return "rejected"


def wait_delay(waits: int) -> int:
    """Seconds before the intent's next try: 5, 10, 20, 40, then 60, with 20 % jitter."""
    delay = min(MAX_WAIT_DELAY_SECONDS, FIRST_WAIT_DELAY_SECONDS * 2**waits)
    return max(1, min(900, round(delay * random.uniform(0.8, 1.0))))


def _send_back(record: SQSRecord, attributes: dict[str, dict[str, str]], delay: int) -> None:
    aws.client("sqs").send_message(
        QueueUrl=os.environ["WRITE_RETRY_QUEUE_URL"], MessageBody=record.body, DelaySeconds=delay, MessageAttributes=attributes
    )


def _wait(record: SQSRecord, intent: WriteIntent, error: BaseException) -> str:
    waits = int(_attribute(record, WAITS) or 0)
    _send_back(record, {WAITS: {"DataType": "Number", "StringValue": str(waits + 1)}}, wait_delay(waits))
    metrics.add_metric(name="WritesWaiting", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OldestDeferredWriteAgeSeconds", unit=MetricUnit.Seconds, value=age_seconds(intent))
    logger.info("deferred write waits", extra={"write_id": intent.write_id, "waits": waits + 1, "cause": repr(error)[:300]})
    return "waiting"


def _dead_letter(record: SQSRecord, intent: WriteIntent, reason: str) -> str:
    outcome = writes.Outcome("dead_lettered", 503, None, reason)
    try:
        writes.record(intent, outcome, keep_intent=True)
    except Exception as error:
        if not writes.should_defer(error):
            raise
        # The record is what tells the client; it comes back to be written.
        _send_back(record, {DEAD_LETTER: {"DataType": "String", "StringValue": reason[:1000]}}, MAX_WAIT_DELAY_SECONDS)
        logger.warning("dead letter not recorded yet", extra={"write_id": intent.write_id, "error": repr(error)[:300]})
        return "dead letter pending"
    metrics.add_metric(name="WritesDeadLettered", unit=MetricUnit.Count, value=1)
    logger.error("deferred write dead-lettered", extra={"write_id": intent.write_id, "reason": reason})
    return "dead-lettered"


def _refused(record: SQSRecord, refused: InvalidIntent) -> str:
    """Not a write intent the API sealed for its route: counted, logged with the message, dropped.
    Retrying can never make it valid, and recording it under the write id it names would let a
    forger decide the fate of someone else's write."""
    metrics.add_metric(name="IntentsRefused", unit=MetricUnit.Count, value=1)
    logger.error(
        "write intent refused",
        extra={"message_id": record.message_id, "refusal": type(refused).__name__, "reason": str(refused)[:300]},
    )
    return "refused"


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
