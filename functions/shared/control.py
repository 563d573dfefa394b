"""Which region takes the table's writes, until when, and the fence every write checks.

With `WRITE_MODE=single-primary` every table write goes to the primary region's replica, whichever
region accepted the request; reads stay local. The item `CONTROL#writer` in the global table says
who that is:

    primary_region, epoch, lease_until (ms), renewed_at (ms), [revoked],
    in_sync (regions), joining (regions), rev

It follows the write lease (shared/lease.py), it does not decide it: the lease holder writes it to
its own replica when it takes the lease and on every renewal, and it replicates to the others.
Every write checks it *at the replica it writes to*, in the same transaction: the replica must
name the primary, epoch and in-sync revision (`rev`) the writer believes in, not be revoked, and
its lease must still run for longer than the clock-drift margin plus one attempt by the writer's
clock. So a primary cut off from the voters stops taking writes when its lease runs out, a fenced
one (revoked by a planned promotion) at once, a stale epoch never lands after a promotion, and a
write is confirmed with the in-sync set that was current when it landed (shared/confirm.py).
A region on its way back into the set is `joining`: writes wait for it as for the set, and one it
does not confirm in time takes it out of `joining`; every change of either set raises `rev`, so
a write never lands under a membership it did not confirm with (shared/failover.py, `_rejoin`).

`WRITE_LEASE=off` (a single-region stack: nothing to fail over to): the home region is primary at
epoch 0 and the fence checks the epoch only, as before there was a lease.

With `WRITE_MODE=any-region` (strong consistency, MRSC) every region writes its own replica and
DynamoDB itself refuses conflicting writes; there is no primary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared import aws, clock, deadline
from shared.failover_timing import CONTROL_CACHE_SECONDS, DRIFT_SECONDS
from shared.items import CONTROL_KEY

SINGLE_PRIMARY = "single-primary"
ANY_REGION = "any-region"


class NoPrimary(Exception):
    """No region holds a usable write lease right now (it expired, was revoked, or none was ever
    taken): writes wait (202) until a promotion, automatic or manual, makes one."""


@dataclass(frozen=True)
class Primary:
    region: str
    epoch: int
    lease_until_ms: int | None = None  # None: no lease (a single-region stack)
    revoked: bool = False
    in_sync: frozenset[str] = frozenset()
    rev: int = 0
    joining: frozenset[str] = frozenset()

    @property
    def confirming(self) -> frozenset[str]:
        """The other regions a write must reach before it is acknowledged."""
        return (self.in_sync | self.joining) - {self.region}

    def usable(self, now_ms: int) -> bool:
        if self.lease_until_ms is None:
            return True
        return not self.revoked and self.lease_until_ms > now_ms + fence_margin_ms()


@dataclass
class _Cached:
    value: Primary | None = None
    at: float = float("-inf")


_caches: dict[str, _Cached] = {}  # by region: one in Lambda, several in the simulation


def write_mode() -> str:
    return os.environ.get("WRITE_MODE", SINGLE_PRIMARY)


def leased() -> bool:
    return os.environ.get("WRITE_LEASE", "off") == "on"


def home_region() -> str:
    return os.environ.get("HOME_REGION") or aws.local_region()


def fence_margin_ms() -> int:
    """How long a lease must still run when a writer sends a write: the clocks' drift plus the
    longest one attempt may take to reach DynamoDB (the writer's clock is read per attempt)."""
    return int((DRIFT_SECONDS + aws.ATTEMPT_SECONDS) * 1000)


def from_item(item: dict | None) -> Primary | None:
    if not leased():
        if not item:
            return Primary(home_region(), 0)
        return Primary(str(item["primary_region"]), int(item["epoch"]))
    if not item or "lease_until" not in item:
        return None
    return Primary(
        region=str(item["primary_region"]),
        epoch=int(item["epoch"]),
        lease_until_ms=int(item["lease_until"]),
        revoked=bool(item.get("revoked")),
        in_sync=frozenset(item.get("in_sync") or ()),
        rev=int(item.get("rev", 0)),
        joining=frozenset(item.get("joining") or ()),
    )


def at_primary(region: str) -> Primary | None:
    """The control item as the primary's own replica has it now (after a fence refused a write:
    the local copy may lag what the primary changed)."""
    item = aws.table(os.environ["TABLE_NAME"], region=region).get_item(Key=CONTROL_KEY, ConsistentRead=True).get("Item")
    primary = from_item(item)
    cache = _caches.setdefault(aws.local_region(), _Cached())
    cache.value, cache.at = primary, deadline.now()
    return primary


def current(refresh: bool = False) -> Primary | None:
    """The primary as this region's replica knows it (cached CONTROL_CACHE_SECONDS); None when no lease
    was ever taken. If the replica cannot be read, a cached value of any age is used: the fence
    at the target replica still refuses a stale one, so an old answer costs a retry, never a
    lost update."""
    cache = _caches.setdefault(aws.local_region(), _Cached())
    fresh = cache.at > float("-inf") and deadline.now() - cache.at < CONTROL_CACHE_SECONDS
    if fresh and not refresh:
        return cache.value
    try:
        item = aws.table(os.environ["TABLE_NAME"]).get_item(Key=CONTROL_KEY, ConsistentRead=True).get("Item")
    except Exception as error:
        if cache.at > float("-inf") and aws.is_transient(error):
            return cache.value
        raise
    cache.value, cache.at = from_item(item), deadline.now()
    return cache.value


def usable_primary(refresh: bool = False) -> Primary:
    """The primary a write may go to now, or NoPrimary."""
    primary = current(refresh=refresh)
    if primary is not None and primary.usable(clock.now_ms()):
        return primary
    if not refresh:
        return usable_primary(refresh=True)
    if primary is None:
        raise NoPrimary("no region has taken the write lease yet")
    reason = "revoked by a promotion" if primary.revoked else "expired"
    raise NoPrimary(f"the write lease of {primary.region} (epoch {primary.epoch}) is {reason}")


def fence_condition(primary: Primary) -> tuple[str, dict]:
    """(ConditionExpression, values) that hold at a replica whose control item names `primary`
    with a lease that outlives this attempt. Build it per attempt: it reads the clock."""
    values: dict = {":primary": primary.region, ":epoch": primary.epoch}
    matches = "primary_region = :primary AND epoch = :epoch"
    if primary.lease_until_ms is None:
        if primary.epoch == 0:
            return f"attribute_not_exists(pk) OR ({matches})", values
        return matches, values
    values[":now"] = clock.now_ms() + fence_margin_ms()
    values[":rev"] = primary.rev
    return f"{matches} AND lease_until > :now AND attribute_not_exists(revoked) AND #rev = :rev", values


def fence(table_name: str, primary: Primary) -> dict:
    """The transaction item that fences a write: a ConditionCheck of the control item."""
    from boto3.dynamodb.types import TypeSerializer

    condition, values = fence_condition(primary)
    serializer = TypeSerializer()
    part = {
        "TableName": table_name,
        "Key": {k: serializer.serialize(v) for k, v in CONTROL_KEY.items()},
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {k: serializer.serialize(v) for k, v in values.items()},
    }
    names = {"ExpressionAttributeNames": {"#rev": "rev"}} if ":rev" in values else {}
    return {"ConditionCheck": {**part, **names}}


def reset_cache() -> None:
    _caches.clear()
