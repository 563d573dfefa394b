"""Record permanent bounces and complaints as suppression items in the global table, and, with
the relational store on, every bounce and complaint in its append-only log (shared/mail_events.py).

The suppression item replicates, so an address that bounced in one region is never mailed from
another. It is written where the write mode sends table writes (the primary's replica), and
merged, never overwritten: the count and the sets of event ids and kinds are added to, so two
regions handling feedback for one address both count. Each event is counted once: the update is
conditional on its event id not being in the item's set yet, which holds even when the
idempotency store fails after the update (a redelivery then finds its own id and stops).

The SES payload is untrusted input: anything that is not a well-formed bounce or complaint
event raises, is reported as failed and ends in the DLQ after the queue's retries. Transient
bounces do not suppress (the next send may succeed).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from shared import data_api, deadline, mail_events, writes
from shared.consumer import batch_processor, idempotency_config, idempotent_on_first_use
from shared.items import local_region, now_iso, suppression_key

logger = Logger(service="bounces")
processor = batch_processor(EventType.SQS)
CONFIG = idempotency_config("event_id")
REPORT_RESERVE_SECONDS = 2.0
EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")


class BadFeedback(ValueError):
    """Not an SES bounce or complaint event this consumer understands."""


def _addresses(recipients: Any, field: str) -> list[str]:
    if not isinstance(recipients, list) or not recipients:
        raise BadFeedback(f"{field}: a non-empty list is required")
    addresses = []
    for recipient in recipients:
        address = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        if not isinstance(address, str) or not EMAIL.match(address.strip()):
            raise BadFeedback(f"{field}: every recipient needs a valid emailAddress")
        addresses.append(address.strip().lower())
    return addresses


def parse_feedback(body: str) -> tuple[str, str, list[str], bool]:
    """(event id, kind, recipients, whether they are suppressed); kind is 'bounce' or 'complaint'."""
    try:
        event = json.loads(body)
    except ValueError:
        raise BadFeedback("not JSON") from None
    if not isinstance(event, dict):
        raise BadFeedback("not a JSON object")
    kind = str(event.get("eventType") or event.get("notificationType") or "").lower()
    message_id = (event.get("mail") or {}).get("messageId") if isinstance(event.get("mail"), dict) else None
    if not isinstance(message_id, str) or not message_id:
        raise BadFeedback("mail.messageId is required")
    if kind == "bounce":
        bounce = event.get("bounce")
        if not isinstance(bounce, dict) or bounce.get("bounceType") not in ("Permanent", "Transient", "Undetermined"):
            raise BadFeedback("bounce.bounceType is required")
        addresses = _addresses(bounce.get("bouncedRecipients"), "bounce.bouncedRecipients")
        return f"{message_id}/bounce", "bounce", addresses, bounce["bounceType"] == "Permanent"
    if kind == "complaint":
        complaint = event.get("complaint")
        if not isinstance(complaint, dict):
            raise BadFeedback("complaint is required")
        return (
            f"{message_id}/complaint",
            "complaint",
            _addresses(complaint.get("complainedRecipients"), "complaint.complainedRecipients"),
            True,
        )
    raise BadFeedback(f"eventType {kind!r} is neither Bounce nor Complaint")


def suppress(feedback: dict[str, Any]) -> int:
    """Merge the event into each address's suppression item; returns how many were new to it."""
    merged = 0
    for address in feedback["addresses"]:
        merged += writes.guarded_update(
            suppression_key(address),
            update="ADD #count :one, #version :one, events :event, kinds :kind "
            "SET email = :email, last_type = :kind_name, origin_region = :region, updated_at = :now",
            condition="NOT contains(events, :event_id)",
            names={"#count": "count", "#version": "version"},
            values={
                ":one": 1,
                ":event": {feedback["event_id"]},
                ":event_id": feedback["event_id"],
                ":kind": {feedback["kind"]},
                ":kind_name": feedback["kind"],
                ":email": address,
                ":region": local_region(),
                ":now": now_iso(),
            },
        ).applied
    return merged


_suppress_once = idempotent_on_first_use(suppress, data_keyword_argument="feedback", config=CONFIG)


def record_handler(record: SQSRecord) -> int:
    event_id, kind, addresses, suppressing = parse_feedback(record.body)
    merged = 0
    if suppressing:
        merged = _suppress_once(feedback={"event_id": event_id, "kind": kind, "addresses": addresses})
    else:
        logger.info("transient bounce: nothing to suppress", extra={"event_id": event_id})
    if data_api.enabled():
        # After the merge: a busy database fails the record, and its redelivery merges nothing twice.
        mail_events.append(event_id, kind, addresses, suppressed=suppressing, region=local_region(), at=now_iso())
    return merged


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    CONFIG.register_lambda_context(context)
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
