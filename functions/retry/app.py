"""Apply deferred write intents, once per request id.

A malformed message raises (InvalidIntent): it is reported as failed, redelivered up to the
queue's maxReceiveCount and then rests in the DLQ for a person. A conflict means the item moved
on since the request was accepted; the intent is dropped with a warning rather than retried,
because no number of retries can make it apply.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import aws
from shared.consumer import idempotency_config, idempotent_on_first_use
from shared.write_intents import ConflictError, WriteIntent, apply

logger = Logger(service="retry")
processor = BatchProcessor(event_type=EventType.SQS)
CONFIG = idempotency_config("request_id")


def apply_intent(intent: dict[str, Any]) -> str:
    parsed = WriteIntent(**intent)
    try:
        apply(aws.table(os.environ["TABLE_NAME"]), parsed)
    except ConflictError:
        logger.warning("intent no longer applies; dropped", extra={"request_id": parsed.request_id, "key": parsed.key})
        return "conflict"
    return "applied"


_apply_once = idempotent_on_first_use(apply_intent, data_keyword_argument="intent", config=CONFIG)


def record_handler(record: SQSRecord) -> str:
    intent = WriteIntent.from_json(record.body)
    return _apply_once(intent=asdict(intent))


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    CONFIG.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
