"""The relational store's writer following the write primary without an operator: one step per
failover tick of the region holding the lease (shared/failover.py), never a wait.

The holder's tick reads the global database and takes the next step of shared/database_primary.py
towards its own cluster writing: an instance when its cluster is headless, the switchover once
that instance is available and every region answers (nothing is lost), the failover when the old
writer's region does not answer only if the stack chose it (relationalDbAutomaticFailover), else
it says in its report that an operator's `sdr drill promote --allow-data-loss` is awaited. The
ledger's writes are deferred meanwhile (shared/ledger.py) and land once this region's cluster
writes. A region whose cluster writes re-reads the database only every SETTLED_RECHECK_SECONDS.

Environment: RELATIONAL_GLOBAL_CLUSTER (the global cluster's identifier), RELATIONAL_DATA_API (the
clusters, shared/ledger.py), RELATIONAL_AUTOMATIC_FAILOVER (true: a failover may lose data).
"""

from __future__ import annotations

import json
import os

from shared import aws, clock
from shared import database_primary as db

SETTLED_RECHECK_SECONDS = 300.0
_settled_at: dict[str, float] = {}  # by region: when its cluster was last seen writing


def configured() -> bool:
    return bool(os.environ.get("RELATIONAL_GLOBAL_CLUSTER") and os.environ.get("RELATIONAL_DATA_API"))


def follow(region: str) -> str | None:
    """One step towards `region`'s cluster writing; what was done or awaited, or None when there
    is nothing to say (no global database, or its writer is already here)."""
    if not configured():
        return None
    now = clock.now()
    if now - _settled_at.get(region, float("-inf")) < SETTLED_RECHECK_SECONDS:
        return None
    clusters = {r: v["resourceArn"] for r, v in json.loads(os.environ["RELATIONAL_DATA_API"]).items()}
    try:
        state = db.read_state(os.environ["RELATIONAL_GLOBAL_CLUSTER"], clusters, _rds, region)
        step = db.next_step(state, region, allow_data_loss=os.environ.get("RELATIONAL_AUTOMATIC_FAILOVER") == "true")
        if step.action == "done":
            _settled_at[region] = now
            return None
        if step.action in ("create-instance", "switchover", "failover"):
            db.take(step, state, region, _rds)
            return f"database {step.action}: {step.detail}"
    except Exception as error:
        return f"database unreadable or refused ({aws.error_code(error) or type(error).__name__})"
    if step.action == "refuse":
        return f"database waits for an operator: {step.detail}"
    return f"database: {step.detail}"


def _rds(region: str):
    return aws.client("rds", region=region, attempts=1)


def forget() -> None:
    _settled_at.clear()
