"""Count page views into counters sharded by region.

Each region increments only its own item (`VIEWS#<post>` / `REGION#<region>`), so two regions
counting at once never write the same item and global-table last-writer-wins loses nothing; the
API reads the sum. Each record is counted once (idempotency by its sequence number), although
Kinesis redelivers whole batches after a failure.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from shared import aws
from shared.consumer import idempotency_config, idempotent_on_first_use
from shared.items import local_region, now_iso, views_key

logger = Logger(service="views")
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
CONFIG = idempotency_config("sequence")
POST_ID = re.compile(r"^[0-9a-f]{32}$")


class BadView(ValueError):
    """A record that is not a page view of a post."""


def parse_view(data: bytes) -> str:
    try:
        view = json.loads(data)
    except ValueError:
        raise BadView("record is not JSON") from None
    if not isinstance(view, dict) or view.get("type", "view") != "view" or not POST_ID.match(str(view.get("post_id", ""))):
        raise BadView("record is not a page view of a post")
    return view["post_id"]


def count_view(view: dict[str, str]) -> None:
    region = local_region()
    aws.table(os.environ["TABLE_NAME"]).update_item(
        Key=views_key(view["post_id"], region),
        UpdateExpression="ADD #count :one, #version :one SET origin_region = :region, updated_at = :now",
        ExpressionAttributeNames={"#count": "count", "#version": "version"},
        ExpressionAttributeValues={":one": 1, ":region": region, ":now": now_iso()},
    )


_count_once = idempotent_on_first_use(count_view, data_keyword_argument="view", config=CONFIG)


def record_handler(record: KinesisStreamRecord) -> None:
    post_id = parse_view(base64.b64decode(record.kinesis.data))
    _count_once(view={"sequence": f"{record.event_source_arn}/{record.kinesis.sequence_number}", "post_id": post_id})


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    CONFIG.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
