"""Send one welcome email per new subscriber, from the region that accepted the subscription.

Every replica's stream carries every write, so the event-source filter keeps only INSERTs of
`SUB#` items whose `origin_region` is this region; the handler checks the same again (a filter
can be edited by hand). Suppressed addresses (bounced or complained) are never mailed.

Once across regions and redeliveries: before sending, the consumer claims the subscriber item
where the write mode sends table writes (`welcome = sending`, only if no claim exists). After a
promotion that item may not have replicated to the new primary yet: a claim that finds no item
there fails the record for a retry; it is never read as a claim someone else made (which sent
nothing, the cause of a missing email). A second
delivery of the record, a second region or an idempotency store that failed after the send all
find the claim and send nothing. After SES accepted the message the claim becomes `sent`; if the
send fails, the claim is released and the record retried. The send is therefore at most once:
a consumer that dies between SES accepting and the mark leaves `sending`, and the address gets
no second email (the log and `WelcomeClaimsOpen` say which). The Powertools idempotency record
stays the cheap first check for plain redeliveries.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from shared import aws, deadline, writes
from shared.consumer import batch_processor, idempotency_config, idempotent_on_first_use
from shared.items import local_region, now_iso, subscriber_key, suppression_key

logger = Logger(service="welcome")
metrics = Metrics(service="welcome")
processor = batch_processor(EventType.DynamoDBStreams)
CONFIG = idempotency_config("email")
REPORT_RESERVE_SECONDS = 2.0

SUBJECT = "Welcome to the blog"
BODY = "Thanks for subscribing. New posts will reach you here.\n\nTo stop, reply with 'unsubscribe'."


class NotASubscriber(ValueError):
    """A stream record that claims to be a new subscriber but has no usable address."""


class NotYetAtTheWriteTarget(RuntimeError):
    """The subscriber item is not in the replica the claim goes to yet (the primary moved since it
    was written there, and replication has not brought it over): retried, never taken for a
    claim someone else made."""


def new_subscriber(record: DynamoDBRecord, region: str) -> str | None:
    """The address to welcome, or None when this record is not this region's new subscriber."""
    if record.event_name is not DynamoDBRecordEventName.INSERT:
        return None
    image = record.dynamodb.new_image if record.dynamodb else None
    if not image or not str(image.get("pk", "")).startswith("SUB#"):
        return None
    if image.get("origin_region") != region:
        return None  # the region that accepted the subscription sends the email
    email = image.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise NotASubscriber(f"subscriber item {image.get('pk')} has no email address")
    return email


def _claim(email: str, state: str, *, expected: str | None) -> bool:
    # attribute_exists(pk): a claim must never create a subscriber item without its address.
    condition = "attribute_exists(pk) AND " + ("attribute_not_exists(welcome)" if expected is None else "welcome = :expected")
    values = {":state": state, ":now": now_iso()}
    if expected is not None:
        values[":expected"] = expected
    claimed = writes.guarded_update(
        subscriber_key(email), update="SET welcome = :state, welcome_at = :now", condition=condition, values=values
    )
    if not claimed.applied and not claimed.existed:
        raise NotYetAtTheWriteTarget(f"{subscriber_key(email)['pk']} is not in the primary's replica yet")
    return claimed.applied


def _release(email: str) -> None:
    writes.guarded_update(
        subscriber_key(email), update="REMOVE welcome, welcome_at", condition="welcome = :sending", values={":sending": "sending"}
    )


def send_welcome(subscriber: dict[str, str]) -> str:
    email = subscriber["email"]
    if "Item" in aws.table(os.environ["TABLE_NAME"]).get_item(Key=suppression_key(email)):
        logger.info("suppressed address not mailed", extra={"email_domain": email.split("@")[1]})
        return "suppressed"
    if not _claim(email, "sending", expected=None):
        return "already welcomed"
    try:
        aws.client("sesv2").send_email(
            FromEmailAddress=os.environ["SENDER"],
            Destination={"ToAddresses": [email]},
            Content={"Simple": {"Subject": {"Data": SUBJECT}, "Body": {"Text": {"Data": BODY}}}},
            ConfigurationSetName=os.environ["CONFIGURATION_SET"],
        )
    except Exception:
        _release(email)  # not sent: let a retry claim it again
        raise
    if not _claim(email, "sent", expected="sending"):
        metrics.add_metric(name="WelcomeClaimsOpen", unit=MetricUnit.Count, value=1)
        logger.warning("welcome sent but its claim could not be closed", extra={"email_domain": email.split("@")[1]})
    return "sent"


_send_once = idempotent_on_first_use(send_welcome, data_keyword_argument="subscriber", config=CONFIG)


def record_handler(record: DynamoDBRecord) -> str:
    email = new_subscriber(record, local_region())
    if email is None:
        return "skipped"
    return _send_once(subscriber={"email": email.lower()})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    CONFIG.register_lambda_context(context)
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
