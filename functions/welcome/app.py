"""Send one welcome email per new subscriber, from the region that accepted the subscription.

Every replica's stream carries every write, so the event-source filter keeps only INSERTs of
`SUB#` items whose `origin_region` is this region; the handler checks the same again (a filter
can be edited by hand). Idempotency by subscriber address makes a redelivered record a no-op,
and suppressed addresses (bounced or complained) are never mailed.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from shared import aws
from shared.consumer import idempotency_config, idempotent_on_first_use
from shared.items import local_region, suppression_key

logger = Logger(service="welcome")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
CONFIG = idempotency_config("email")

SUBJECT = "Welcome to the blog"
BODY = "Thanks for subscribing. New posts will reach you here.\n\nTo stop, reply with 'unsubscribe'."


class NotASubscriber(ValueError):
    """A stream record that claims to be a new subscriber but has no usable address."""


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


def send_welcome(subscriber: dict[str, str]) -> str:
    email = subscriber["email"]
    table = aws.table(os.environ["TABLE_NAME"])
    if "Item" in table.get_item(Key=suppression_key(email)):
        logger.info("suppressed address not mailed", extra={"email_domain": email.split("@")[1]})
        return "suppressed"
    aws.client("sesv2").send_email(
        FromEmailAddress=os.environ["SENDER"],
        Destination={"ToAddresses": [email]},
        Content={"Simple": {"Subject": {"Data": SUBJECT}, "Body": {"Text": {"Data": BODY}}}},
        ConfigurationSetName=os.environ["CONFIGURATION_SET"],
    )
    return "sent"


_send_once = idempotent_on_first_use(send_welcome, data_keyword_argument="subscriber", config=CONFIG)


def record_handler(record: DynamoDBRecord) -> str:
    email = new_subscriber(record, local_region())
    if email is None:
        return "skipped"
    return _send_once(subscriber={"email": email.lower()})


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    CONFIG.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
