"""The write-failover function of a region: one tick of shared/failover.py per invocation.

Invoked every five minutes by an EventBridge schedule, and, between those, by the region's health
function (asynchronously, at most every half lease) while Route 53's checkers keep
calling it: the lease is renewed or taken over at the health checks' pace without a standing
charge of its own. Answers the tick's report (the schedule and the health function ignore it;
an operator invoking it by hand reads it).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

from api import health
from aws_lambda_powertools import Logger
from shared import deadline, failover

logger = Logger(service="failover")
ANSWER_RESERVE_SECONDS = 0.5


def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, ANSWER_RESERVE_SECONDS):
        report = failover.tick(
            failover.Settings.from_environment(), drained=lambda: health.drained(os.environ["DRAIN_PARAMETER"])[0]
        )
    moved = report.action in ("acquired", "released", "activated", "superseded") or report.database
    level = logger.warning if moved else logger.info
    level("write failover tick", extra=asdict(report))
    return asdict(report)
