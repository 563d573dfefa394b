"""The health route on a function of its own: a spike that exhausts the API function's
concurrency must not take the region out of DNS. Same checks as the API's /health route
(api/health.py), answered as an API Gateway proxy response without the router. It also keeps
the write lease's pace (trigger_failover_tick)."""

from __future__ import annotations

import json
import os
from typing import Any

from api import cors, health
from aws_lambda_powertools import Logger
from shared import aws, deadline
from shared.items import local_region

logger = Logger(service="health")
ANSWER_RESERVE_SECONDS = 0.5


_last_tick: dict[str, float] = {}  # by region: one in Lambda, several in the simulation


def trigger_failover_tick() -> bool:
    """Ask the region's failover function for a tick (asynchronously: the answer to Route 53 does
    not wait for it), at most every half lease. Route 53's checkers call this function
    about once a second from their locations, so the lease is kept at their pace for free."""
    name = os.environ.get("FAILOVER_FUNCTION")
    if not name or deadline.remaining() < aws.ATTEMPT_SECONDS:
        return False
    every = float(os.environ.get("LEASE_SECONDS") or 30) / 2
    region, now = local_region(), deadline.now()
    if now - _last_tick.get(region, float("-inf")) < every:
        return False
    _last_tick[region] = now
    try:
        aws.client("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    except Exception as error:  # the health answer never depends on it; the schedule backs it up
        logger.warning("failover tick not triggered", extra={"error": repr(error)})
        return False
    return True


def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, ANSWER_RESERVE_SECONDS):
        status, body = health.check(
            aws.table(os.environ["TABLE_NAME"]),
            os.environ["DRAIN_PARAMETER"],
            local_region(),
            target_group_arn=os.environ.get("CONTAINER_TARGET_GROUP_ARN"),
        )
        trigger_failover_tick()
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **cors.headers_for(event)},
        "body": json.dumps(body),
    }
