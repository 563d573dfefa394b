"""Apply deferred writes, once each, and record the fate of every one.

Each message is a write intent the API published when it could not decide the write at once.
The consumer applies it with the same code the API uses (shared/writes.py), so:
- applied: the request record is written with the data (the write happens once, however often
  the message is delivered, because the record and the item's stamp recognise it);
- rejected (the post changed since the version the caller read, the post is gone, the key was
  reused for another request): the rejection is recorded with its reason, counted
  (`WritesRejected`, alarmed) and the message is done: no retry can make it apply;
- not decidable now (throttling, outage, a moved primary): the record fails and SQS redelivers
  it; on the last delivery before the DLQ the write is marked dead-lettered (`WritesDeadLettered`,
  alarmed) so `GET /writes/{id}` says so, and a redrive from the DLQ applies it later;
- not an intent the API sealed for its route (malformed, forged, altered, or writing outside
  the route's items: shared/intent.py): refused, counted (`IntentsRefused`, alarmed), logged
  with the message id, and dropped; nothing in the table changes.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import deadline, signing, writes
from shared.consumer import batch_processor
from shared.intent import InvalidIntent, WriteIntent

logger = Logger(service="retry")
metrics = Metrics(service="retry")
processor = batch_processor(EventType.SQS)
# Seconds kept back from the function's remaining time to report the batch.
REPORT_RESERVE_SECONDS = 2.0


def _final_delivery(record: SQSRecord) -> bool:
    return int(record.attributes.approximate_receive_count or 1) >= int(os.environ.get("MAX_RECEIVES", "5"))


def _rejected(intent: WriteIntent, outcome: writes.Outcome, variant: str | None = None) -> str:
    writes.record(intent, outcome, variant=variant)
    metrics.add_metric(name="WritesRejected", unit=MetricUnit.Count, value=1)
    logger.warning("deferred write rejected", extra={"write_id": intent.write_id, "reason": outcome.reason})
    return "rejected"


def record_handler(record: SQSRecord) -> str:
    try:
        intent = WriteIntent.from_json(record.body)
    except InvalidIntent as refused:
        return _refused(record, refused)
    try:
        outcome = writes.apply(intent)
    except writes.KeyReuse as reuse:
        refused = writes.Outcome("rejected", 422, {"error": "idempotency_key_reused", "message": str(reuse)}, str(reuse))
        return _rejected(intent, refused, variant=intent.body_hash[: signing.STATUS_HASH_CHARS])
    except Exception as error:
        if _final_delivery(record):
            _mark_dead_lettered(intent, error)
        raise
    if outcome.state == "rejected":
        return _rejected(intent, outcome)
    metrics.add_metric(name="WritesApplied", unit=MetricUnit.Count, value=1)
    return "applied"


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


def _mark_dead_lettered(intent: WriteIntent, error: BaseException) -> None:
    metrics.add_metric(name="WritesDeadLettered", unit=MetricUnit.Count, value=1)
    reason = f"not applied after {os.environ.get('MAX_RECEIVES', '5')} deliveries ({type(error).__name__}); kept in the DLQ for a redrive"
    try:
        writes.record(intent, writes.Outcome("dead_lettered", 503, None, reason))
    except Exception as mark_error:  # the DLQ and its alarm still hold the intent
        logger.error("could not mark a dead-lettered write", extra={"write_id": intent.write_id, "error": repr(mark_error)})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
