"""A write is acknowledged once every in-sync region holds it: losing the primary then loses none.

Global tables replicate asynchronously (usually within a second, no SLA), item by item. A write
acknowledged by the primary alone would be lost if the primary's region were cut off before it
replicated: the next primary would not have it, and when the old one came back, last-writer-wins
would drop it under any newer write of the same item. So, with a write lease, the write path
waits after applying a write until its item shows the write (by its lineage: shared/lineage.py)
in the replica of every region of the in-sync set it landed under (shared/control.py), polling
for up to CONFIRM_SECONDS within the request's deadline.

A region that does not confirm in time is taken out of the in-sync set, first on a majority of
the lease's voters (from then on it cannot become primary: shared/lease.py), then in the
primary's control item (later writes stop waiting for it and count themselves while it is out),
and the write is acknowledged without it. If that cannot be done (the voters are out of reach:
this region is the one cut off), the write is not acknowledged: it is deferred (202), and its
fate says `pending` until it is confirmed. `GET /writes/{id}` makes the same check, read-only.
A region on its way back (`joining`: shared/failover.py) is waited for in the same way; one that
misses a write is only turned away from `joining`, it was never eligible to take the lease.
The Kafka-style in-sync replica set is the model; the table is the log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from shared import aws, clock, data_api, deadline, lineage
from shared.control import Primary
from shared.items import CONTROL_KEY

CONFIRM_SECONDS = 4.0
POLL_SECONDS = 0.2


class Unconfirmed(Exception):
    """Applied at the primary, not yet held by every serving region: not acknowledged now; its
    fate is reported applied once they hold it (a deferral retries it meanwhile)."""


def voters(attempts: int = aws.MAX_ATTEMPTS):
    """The lease's voters, from the function's environment (LEASE_VOTERS: {region: table}).
    `attempts=1` for a failover tick: it must not hang on an unreachable voter, the next tick
    tries again."""
    from shared.lease import Voters

    tables = json.loads(os.environ.get("LEASE_VOTERS") or "{}")
    return Voters(tables, lambda region: aws.client("dynamodb", region=region, attempts=attempts))


def holds(region: str, key: dict[str, str], version: int, write_id: str) -> bool:
    """Whether `region`'s replica has the item as this write made it (or later, in its lineage:
    shared/lineage.py), by a strongly consistent read in that region: what it would serve as
    primary."""
    item = aws.table(os.environ["TABLE_NAME"], region=region).get_item(Key=key, ConsistentRead=True).get("Item")
    return lineage.verdict(item, version, write_id) == "held"


def lagging(regions: Iterable[str], key: dict[str, str], version: int, write_id: str, *, wait_seconds: float) -> set[str]:
    """The regions among `regions` that do not hold the write after waiting up to `wait_seconds`."""
    pending = set(regions)
    started = clock.now()  # the clock it sleeps on
    while pending:
        for region in sorted(pending):
            try:
                if holds(region, key, version, write_id):
                    pending.discard(region)
            except Exception as error:
                if not aws.is_transient(error):
                    raise
        waited = clock.now() - started
        if not pending or waited + POLL_SECONDS > wait_seconds:
            return pending
        clock.sleep(POLL_SECONDS)
    return pending


def confirm(key: dict[str, str], version: int, write_id: str, primary: Primary) -> None:
    """Return once every in-sync and joining region holds the write (or was taken out of its
    set); else Unconfirmed."""
    others = sorted(primary.confirming)
    if not others:
        return
    # Keep back what taking a region out of the set needs (its calls fail fast past the deadline).
    budget = min(CONFIRM_SECONDS, deadline.remaining() - 2 * aws.ATTEMPT_SECONDS)
    behind = lagging(others, key, version, write_id, wait_seconds=max(0.0, budget))
    for region in sorted(behind):
        if region in primary.in_sync:
            take_out(primary, region)
        else:
            turn_away(primary, region)


def take_out(primary: Primary, region: str) -> None:
    """`region` out of the in-sync set: on a majority of voters, then in the primary's control
    item; Unconfirmed when either cannot be done."""
    lease_voters = voters()
    outcome = lease_voters.shrink(primary.region, primary.epoch, region)
    if len(outcome.granted) < lease_voters.majority:
        raise Unconfirmed(f"{region} does not hold the write and could not be taken out of the in-sync set")
    _update_control(primary, region, "DELETE in_sync :region, joining :region ADD #rev :one")


def turn_away(primary: Primary, region: str) -> None:
    """A joining `region` that missed this write back out of `joining` (it was never eligible on
    the voters); the revision change stops its rejoin (shared/failover.py). Unconfirmed when the
    control item cannot be updated: the rejoin could otherwise complete without this write."""
    _update_control(primary, region, "DELETE joining :region ADD #rev :one")


def _update_control(primary: Primary, region: str, update: str) -> None:
    try:
        aws.table(os.environ["TABLE_NAME"], region=primary.region).update_item(
            Key=CONTROL_KEY,
            UpdateExpression=update,
            ConditionExpression="primary_region = :primary AND epoch = :epoch",
            ExpressionAttributeNames={"#rev": "rev"},
            ExpressionAttributeValues={":region": {region}, ":one": 1, ":primary": primary.region, ":epoch": primary.epoch},
        )
    except Exception as error:
        if aws.error_code(error) == "ConditionalCheckFailedException":
            raise Unconfirmed(f"the primary moved while {region} was taken out of the set it confirms with") from None
        if aws.is_transient(error):
            raise Unconfirmed(f"the primary's control item could not be updated ({type(error).__name__})") from None
        raise


def produced_version(kind: str, expected_version: int | None, body: dict[str, Any] | None) -> int | None:
    """The item version a write makes (what any in-sync replica must show, and its lineage name):
    1 for a create, the expected version + 1 for an update or delete, whatever later writes made
    of the item since; None when it wrote nothing (a subscription that found the address
    subscribed)."""
    if (kind == "purchase" and data_api.enabled()) or (isinstance(body, dict) and body.get("status") == "already_subscribed"):
        return None  # a row of the relational ledger (relationalDb): nothing of the table to confirm
    if kind in ("update", "delete") and expected_version is not None:
        return expected_version + 1
    return 1
