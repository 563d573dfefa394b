"""The health route on a function of its own: a spike that exhausts the API function's
concurrency must not take the region out of DNS. Same checks as the API's /health route
(api/health.py), answered as an API Gateway proxy response without the router."""

from __future__ import annotations

import json
import os
from typing import Any

from api import health
from shared import aws, deadline
from shared.items import local_region

ANSWER_RESERVE_SECONDS = 0.5


def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, ANSWER_RESERVE_SECONDS):
        status, body = health.check(aws.table(os.environ["TABLE_NAME"]), os.environ["DRAIN_PARAMETER"], local_region())
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }
