"""Which region takes the table's writes, and since when: the primary and its epoch.

With `WRITE_MODE=single-primary` (eventual consistency) every table write goes to the primary
region's replica, whichever region accepted the request; reads stay local. The primary is
runtime state, not a deploy: the item `CONTROL#writer` in the global table holds
`{primary_region, epoch}`, each region reads it from its own replica with a short cache, and
`python -m ops.drill <stack> promote --region X` moves it, raising the epoch. Every write
carries the epoch it was made under and checks it against the control item *at the replica it
writes to* (a ConditionCheck in the same transaction): after a promotion the old primary's
replica refuses writes from the old epoch instead of racing the new primary. Before the first
promotion there is no control item: the home region (HOME_REGION) is primary at epoch 0.

With `WRITE_MODE=any-region` (strong consistency, MRSC) every region writes its own replica and
DynamoDB itself refuses conflicting writes; there is no primary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared import aws, deadline
from shared.items import CONTROL_KEY

CACHE_SECONDS = 5.0
SINGLE_PRIMARY = "single-primary"
ANY_REGION = "any-region"


@dataclass(frozen=True)
class Primary:
    region: str
    epoch: int


@dataclass
class _Cached:
    value: Primary | None = None
    at: float = float("-inf")


_caches: dict[str, _Cached] = {}  # by region: one in Lambda, several in the simulation


def write_mode() -> str:
    return os.environ.get("WRITE_MODE", SINGLE_PRIMARY)


def home_region() -> str:
    return os.environ.get("HOME_REGION") or aws.local_region()


def from_item(item: dict | None) -> Primary:
    if not item:
        return Primary(home_region(), 0)
    return Primary(str(item["primary_region"]), int(item["epoch"]))


def current(refresh: bool = False) -> Primary:
    """The primary as this region's replica knows it (cached CACHE_SECONDS). If the replica cannot
    be read, a cached value of any age is used: the fence at the target replica still refuses a
    stale epoch, so an old answer costs a retry, never a lost update."""
    cache = _caches.setdefault(aws.local_region(), _Cached())
    fresh = cache.value is not None and deadline.now() - cache.at < CACHE_SECONDS
    if fresh and not refresh:
        return cache.value
    try:
        item = aws.table(os.environ["TABLE_NAME"]).get_item(Key=CONTROL_KEY, ConsistentRead=True).get("Item")
    except Exception as error:
        if cache.value is not None and aws.is_transient(error):
            return cache.value
        raise
    cache.value, cache.at = from_item(item), deadline.now()
    return cache.value


def fence_condition(primary: Primary) -> tuple[str, dict]:
    """(ConditionExpression, values) that hold at a replica whose control item names `primary`,
    active (a promotion in progress marks the record `handover` until the new primary is
    activated: writes pause, and are deferred, rather than race)."""
    values = {":primary": primary.region, ":epoch": primary.epoch}
    matches = "primary_region = :primary AND epoch = :epoch AND attribute_not_exists(handover)"
    if primary.epoch == 0:
        return f"attribute_not_exists(pk) OR ({matches})", values
    return matches, values


def reset_cache() -> None:
    _caches.clear()
