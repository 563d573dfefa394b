"""One step of write failover in a region: renew the lease it holds, or take over one that expired.

Each serving region runs `tick` every half lease (the health checks trigger it, a schedule backs
them up: api/failover_app.py). What it does depends on the voters' latest lease record
(shared/lease.py):

- **this region holds it**: renew on a majority of the voters, then extend its control item's
  `lease_until` so writes keep landing; if its control item is not at the lease's epoch yet (the
  promotion that gave it the lease stopped before activating), activate it. Then bring back into
  the in-sync set any serving region whose replica answers: it joins first (writes wait for it
  again), then, once its replica is verified to hold every post and subscriber the primary holds
  and no write missed it meanwhile, it is in the set, in the control item and then on the voters
  (it may become primary again: `_rejoin`). A holder
  that is drained, or whose control item a planned promotion revoked, gives the lease back.
- **another region holds it, unexpired**: nothing, unless the lease runs out before the next tick:
  then an eligible region waits for that moment (a holder that renews never gets that close).
- **it expired** (by this clock, minus the drift margin): with `WRITE_FAILOVER=automatic`, an
  eligible region takes it with epoch + 1: in the in-sync set (it holds every acknowledged write:
  shared/confirm.py), not evacuated, not drained, its own replica answering. The old holder
  leaves the set (it may lack what comes next). The first in the stack's order goes first; the n-th waits n x
  PRIORITY_STEP_SECONDS more, so two rarely race (and a race has one winner). The winner writes
  its control item; the others give back what they took. With `manual`, nothing happens after
  the first lease: an operator promotes (ops/promotion.py).

With a relational global database, the holder's tick then takes one step of moving the
database's writer to its own region (shared/database_follower.py).

Every step is a conditional write that may fail or be repeated safely; a tick that dies half-way
(a crashed promoter) leaves a state the next tick finishes or lets expire.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from shared import aws, clock, confirm, database_follower, deadline, lineage
from shared.failover_timing import DEFAULT_LEASE_SECONDS, DRIFT_SECONDS, PRIORITY_STEP_SECONDS, renew_every_seconds
from shared.items import CONTROL_KEY
from shared.lease import Lease, Voters

_CONTROL = {"pk": {"S": CONTROL_KEY["pk"]}, "sk": {"S": CONTROL_KEY["sk"]}}


@dataclass(frozen=True)
class Settings:
    region: str
    regions: tuple[str, ...]  # serving regions, in the stack's order
    evacuated: frozenset[str]
    automatic: bool
    lease_seconds: float
    table: str

    @property
    def lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)

    @property
    def renew_every_ms(self) -> int:
        """The holder renews at half the lease: one renewal may fail without losing it."""
        return int(renew_every_seconds(self.lease_seconds) * 1000)

    @property
    def valid_ms(self) -> int:
        """How long after a renewal starts its holder may take writes: the lease minus the drift."""
        return int((self.lease_seconds - DRIFT_SECONDS) * 1000)

    @property
    def candidates(self) -> list[str]:
        return [r for r in self.regions if r not in self.evacuated]

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            region=aws.local_region(),
            regions=tuple(json.loads(os.environ["SERVING_REGIONS"])),
            evacuated=frozenset(json.loads(os.environ.get("EVACUATED_REGIONS") or "[]")),
            automatic=os.environ.get("WRITE_FAILOVER", "automatic") == "automatic",
            lease_seconds=float(os.environ.get("LEASE_SECONDS") or DEFAULT_LEASE_SECONDS),
            table=os.environ["TABLE_NAME"],
        )


@dataclass(frozen=True)
class Report:
    region: str
    action: str  # renewed, acquired, released, activated, following, waiting, lost-race, ...
    detail: str
    epoch: int | None = None
    database: str | None = None  # the relational store's step, when this region holds the lease


# --- the control item, as the lease holder writes it -------------------------------------------


def activate(client: Any, table: str, region: str, lease: Lease, valid_until_ms: int, now_ms: int) -> None:
    """The new primary's control item at its own replica (never moves an epoch back)."""
    client.put_item(
        TableName=table,
        Item={
            **_CONTROL,
            "primary_region": {"S": region},
            "epoch": {"N": str(lease.epoch)},
            "lease_until": {"N": str(valid_until_ms)},
            "renewed_at": {"N": str(now_ms)},
            "in_sync": {"SS": sorted(lease.in_sync)},
            "rev": {"N": "0"},
        },
        ConditionExpression="attribute_not_exists(pk) OR epoch < :epoch OR (epoch = :epoch AND primary_region = :region)",
        ExpressionAttributeValues={":epoch": {"N": str(lease.epoch)}, ":region": {"S": region}},
    )


def extend(client: Any, table: str, region: str, epoch: int, valid_until_ms: int, now_ms: int) -> None:
    client.update_item(
        TableName=table,
        Key=_CONTROL,
        UpdateExpression="SET lease_until = :until, renewed_at = :now",
        ConditionExpression="primary_region = :region AND epoch = :epoch AND attribute_not_exists(revoked)",
        ExpressionAttributeValues={
            ":until": {"N": str(valid_until_ms)},
            ":now": {"N": str(now_ms)},
            ":region": {"S": region},
            ":epoch": {"N": str(epoch)},
        },
    )


def revoke(client: Any, table: str, primary: str, epoch: int) -> None:
    """Fence a primary at its own replica: from now on it refuses every write of its epoch."""
    client.update_item(
        TableName=table,
        Key=_CONTROL,
        UpdateExpression="SET revoked = :yes, lease_until = :zero",
        ConditionExpression="primary_region = :region AND epoch = :epoch",
        ExpressionAttributeValues={
            ":yes": {"BOOL": True},
            ":zero": {"N": "0"},
            ":region": {"S": primary},
            ":epoch": {"N": str(epoch)},
        },
    )


def _replica_answers(client: Any, table: str) -> bool:
    try:
        read_control(client, table)
    except Exception as error:
        if aws.is_transient(error):
            return False
        raise
    return True


def read_control(client: Any, table: str) -> dict[str, Any] | None:
    return client.get_item(TableName=table, Key=_CONTROL, ConsistentRead=True).get("Item")


def failed_condition(error: BaseException) -> bool:
    return aws.error_code(error) == "ConditionalCheckFailedException"


# --- one tick -----------------------------------------------------------------------------------

# The lease this region held at its last tick, by region (one in Lambda, several in the
# simulation): a holder renews without reading the voters first.
_held: dict[str, Lease] = {}


def forget() -> None:
    _held.clear()
    database_follower.forget()


# What a tick did that leaves this region holding the lease: its database follows then.
HOLDING = frozenset({"renewed", "activated", "acquired"})


def tick(settings: Settings, *, drained: Callable[[], bool], voters: Voters | None = None) -> Report:
    report = _lease_tick(settings, drained=drained, voters=voters)
    if report.action in HOLDING:
        report = replace(report, database=database_follower.follow(settings.region))
    return report


def _lease_tick(settings: Settings, *, drained: Callable[[], bool], voters: Voters | None) -> Report:
    voters = voters or confirm.voters(attempts=1)
    region = settings.region
    now = clock.now_ms()
    local = aws.client("dynamodb")
    held = _held.pop(region, None)
    if held is not None:
        report = _as_holder(settings, voters, held, local, now, drained)
        if report is not None:
            return report
    reading = voters.read(enough=voters.majority, first=region)
    if not reading.has_majority:
        return Report(region, "no-majority", f"{reading.reachable} of {len(voters.tables)} voters answered")
    latest = reading.latest
    if latest is not None and latest.holder == region:
        return _as_holder(settings, voters, latest, local, now, drained) or Report(
            region, "renewal-failed", "a majority of the voters no longer renews this region's lease", latest.epoch
        )
    if latest is not None and not latest.expired_for_candidates(now, voters.drift_ms):
        if not _wait_for_expiry(settings, voters, latest, now, drained):
            return Report(region, "following", f"{latest.holder} holds the lease (epoch {latest.epoch})", latest.epoch)
        now = clock.now_ms()
        again = voters.read(enough=voters.majority, first=region)
        if not again.has_majority or again.latest is None or again.latest.order() != latest.order():
            return Report(region, "following", "the lease was renewed while this region waited for it to expire")
    if not settings.automatic and latest is not None:
        # Manual: no region takes over by itself. The first lease of a new stack is not a failover.
        return Report(region, "waiting", f"{latest.holder}'s lease (epoch {latest.epoch}) expired; manual failover: promote")
    return _as_candidate(settings, voters, latest, local, now, drained)


def _as_holder(
    settings: Settings, voters: Voters, lease: Lease, local: Any, now: int, drained: Callable[[], bool]
) -> Report | None:
    """Renew `lease`; None when the voters no longer grant it (the caller reads them)."""
    region = settings.region
    if drained():
        _fence_and_release(settings, voters, lease, local, revoke_first=True)
        return Report(region, "released", "drained", lease.epoch)
    if not _replica_answers(local, settings.table):
        # The other voters would still renew a lease this region cannot write under: leave it
        # to expire, so that a region whose replica answers takes over.
        return Report(region, "replica-down", "its own replica does not answer: the lease is left to expire", lease.epoch)
    renewal = voters.renew(region, lease.epoch, now, settings.lease_ms)
    if len(renewal.granted) < voters.majority:
        return None
    lease = renewal.latest or lease  # with the in-sync set the voters hold now
    valid_until = now + settings.valid_ms
    action = "renewed"
    try:
        extend(local, settings.table, region, lease.epoch, valid_until, now)
    except Exception as error:
        if not failed_condition(error):
            raise
        control = read_control(local, settings.table)
        if control and control.get("revoked") and int(control["epoch"]["N"]) == lease.epoch:
            _fence_and_release(settings, voters, lease, local, revoke_first=False)
            return Report(region, "released", "revoked by a promotion", lease.epoch)
        try:
            activate(local, settings.table, region, lease, valid_until, now)
        except Exception as refused:
            if not failed_condition(refused):
                raise
            return Report(region, "superseded", "the control item names a later epoch", lease.epoch)
        action = "activated"
    _held[region] = lease
    back = _rejoin(settings, voters, lease, local)
    detail = f"valid until +{settings.valid_ms / 1000:g} s" + (f"; back in sync: {', '.join(back)}" if back else "")
    return Report(region, action, detail, lease.epoch)


# --- back into the in-sync set -----------------------------------------------------------------


def _rejoin(settings: Settings, voters: Voters, lease: Lease, local: Any) -> list[str]:
    """Serving regions out of the in-sync set, back in it, in two steps that hold under a steady
    stream of writes:

    1. `joining`: a region whose replica answers joins the control item's `joining` set (raising
       `rev`, so every write from then on lands knowing it). Writes now wait for it as for the
       set; one it misses turns it away (raising `rev` again: shared/confirm.py).
    2. verified: every post and subscriber item the primary holds is held by the region's replica
       (waiting a moment for those still replicating), checked after step 1. What landed before
       the check is compared, what lands after it was confirmed there by its writer. If `rev` has
       not moved since the check began, the region leaves `joining` for `in_sync`, in the control
       item and then on the voters (from then on it may take the lease).

    Returns the regions added to the control item's in-sync set."""
    if set(settings.candidates) <= lease.in_sync:
        return []  # nobody to bring back (the usual case: no read at all)
    control = read_control(local, settings.table)
    if not control or int(control["epoch"]["N"]) != lease.epoch:
        return []
    in_control = set(control.get("in_sync", {}).get("SS", []))
    for region in sorted(in_control - lease.in_sync):  # the voters' step of an earlier rejoin failed
        voters.grow(settings.region, lease.epoch, region)
    added = []
    for region in settings.candidates:
        if region in in_control or region == settings.region:
            continue
        if region not in control.get("joining", {}).get("SS", []):
            if not _region_answers(settings.table, region):
                continue
            control = _start_joining(local, settings, control, region)
            if control is None:
                return added
        if not _replica_holds_everything(settings, region):
            continue  # it stays joining: the next tick checks again
        if _grow_control(local, settings, control, region):
            added.append(region)
            voters.grow(settings.region, lease.epoch, region)
        control = read_control(local, settings.table) or control
    return added


def _start_joining(local: Any, settings: Settings, control: dict[str, Any], region: str) -> dict[str, Any] | None:
    """`region` into the control item's `joining` set; the control item as it is then (None when
    this region is no longer the primary at that epoch)."""
    if not _change_membership(local, settings, control, region, "ADD joining :region, #rev :one"):
        return None
    return read_control(local, settings.table)


def _region_answers(table: str, region: str) -> bool:
    """Whether `region`'s replica answers a read now (one attempt): a region out of reach would
    only make writes wait for it, then turn it away."""
    try:
        _batch_get(aws.client("dynamodb", region=region, attempts=1), table, [_CONTROL])
    except Exception as error:
        if aws.is_transient(error):
            return False
        raise
    return True


def _replica_holds_everything(settings: Settings, region: str) -> bool:
    """Every post and subscriber item of the primary's replica is held by `region`'s, as the
    write that made it left it (strongly consistent reads on both sides; an item still behind is
    waited for up to confirm.CONFIRM_SECONDS: it may be replicating); False as soon as one is
    not, or when the deadline comes first (the next tick tries again)."""
    local, other = aws.client("dynamodb"), aws.client("dynamodb", region=region)
    scan: dict[str, Any] = {
        "TableName": settings.table,
        "ConsistentRead": True,
        "FilterExpression": "begins_with(pk, :post) OR begins_with(pk, :sub)",
        "ProjectionExpression": "pk, sk, version, write_id",
        "ExpressionAttributeValues": {":post": {"S": "POST#"}, ":sub": {"S": "SUB#"}},
    }
    behind: list[dict[str, Any]] = []
    try:
        while True:
            if deadline.remaining() < confirm.CONFIRM_SECONDS + 3 * aws.ATTEMPT_SECONDS:
                return False
            page = local.scan(**scan)
            behind += _not_held_in(other, settings.table, page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        waited = 0.0
        while behind and waited < confirm.CONFIRM_SECONDS:  # replicating, or never coming
            clock.sleep(confirm.POLL_SECONDS)
            waited += confirm.POLL_SECONDS
            behind = _not_held_in(other, settings.table, behind)
        return not behind
    except Exception as error:
        if aws.is_transient(error):
            return False
        raise


def _not_held_in(client: Any, table: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The primary's `items` that `table` in `client`'s region does not hold as their writer left
    them: at that version by that write, or moved on past it in the item's lineage."""
    theirs = {(f["pk"]["S"], f["sk"]["S"]): f for f in _batch_get(client, table, [{"pk": i["pk"], "sk": i["sk"]} for i in items])}
    return [i for i in items if not _holds(theirs.get((i["pk"]["S"], i["sk"]["S"])), i)]


def _holds(theirs: dict[str, Any] | None, ours: dict[str, Any]) -> bool:
    if theirs is None:
        return False
    if "version" not in ours or "write_id" not in ours:  # nothing to follow a lineage by
        return (theirs.get("version"), theirs.get("write_id")) == (ours.get("version"), ours.get("write_id"))
    plain = {
        "version": int(theirs.get("version", {}).get("N", "0")),
        "write_id": theirs.get("write_id", {}).get("S"),
        lineage.ATTRIBUTE: [e.get("S") for e in theirs.get(lineage.ATTRIBUTE, {}).get("L", [])],
    }
    return lineage.verdict(plain, int(ours["version"]["N"]), ours["write_id"]["S"]) == "held"


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strongly consistent reads of `keys` (100 at a time, unprocessed ones again)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        projection = f"pk, sk, version, write_id, {lineage.ATTRIBUTE}"
        request = {table: {"Keys": keys[start : start + 100], "ConsistentRead": True, "ProjectionExpression": projection}}
        while request:
            answer = client.batch_get_item(RequestItems=request)
            found += answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
    return found


def _grow_control(local: Any, settings: Settings, control: dict[str, Any], region: str) -> bool:
    """`region` from `joining` into the control item's in-sync set, only if neither set changed
    since `control` was read (before the check began): then every write since is confirmed there."""
    return _change_membership(
        local,
        settings,
        control,
        region,
        "ADD in_sync :region, #rev :one DELETE joining :region",
        unchanged_since_read=True,
    )


def _change_membership(
    local: Any, settings: Settings, control: dict[str, Any], region: str, update: str, *, unchanged_since_read: bool = False
) -> bool:
    """One conditional update of the sets in this primary's control item (at its epoch; with
    `unchanged_since_read`, also at `control`'s revision and with `region` still joining)."""
    condition = "primary_region = :primary AND epoch = :epoch"
    values = {
        ":region": {"SS": [region]},
        ":one": {"N": "1"},
        ":primary": {"S": settings.region},
        ":epoch": control["epoch"],
    }
    if unchanged_since_read:
        condition += " AND #rev = :rev AND contains(joining, :name)"
        values |= {":rev": control.get("rev", {"N": "0"}), ":name": {"S": region}}
    try:
        local.update_item(
            TableName=settings.table,
            Key=_CONTROL,
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#rev": "rev"},
            ExpressionAttributeValues=values,
        )
    except Exception as error:
        if failed_condition(error):
            return False
        raise
    return True


def _fence_and_release(settings: Settings, voters: Voters, lease: Lease, local: Any, *, revoke_first: bool) -> None:
    if revoke_first:
        try:
            revoke(local, settings.table, settings.region, lease.epoch)  # stop taking writes before letting go
        except Exception as error:
            if not failed_condition(error):
                raise
    voters.release(settings.region, lease.epoch)


def _takeover_at(settings: Settings, voters: Voters, latest: Lease) -> int | None:
    """When this region may take `latest` over (its expiry, the drift margin, and this region's
    turn after the ones before it), or None when it may not (evacuated)."""
    eligible = [r for r in settings.candidates if r != latest.holder and r in latest.in_sync]
    if settings.region not in eligible:
        return None
    return latest.expires_at_ms + voters.drift_ms + int(eligible.index(settings.region) * PRIORITY_STEP_SECONDS * 1000)


def _first_lease_at(settings: Settings) -> int | None:
    """A new stack's first lease is the home region's (the first one not evacuated)."""
    return 0 if settings.region == settings.candidates[0] else None


def _wait_for_expiry(settings: Settings, voters: Voters, latest: Lease, now: int, drained: Callable[[], bool]) -> bool:
    """A holder that stopped renewing loses the lease at a known time: an eligible region whose
    tick comes less than a renewal period before it waits for that moment (within its own
    deadline) instead of finding out a tick later. Only ever waits during a failover: a renewed
    lease always runs for more than a renewal period."""
    if not settings.automatic:
        return False
    at = _takeover_at(settings, voters, latest)
    if at is None:
        return False
    wait = (at - now) / 1000 + 0.05
    if wait > settings.renew_every_ms / 1000 or deadline.remaining() < wait + 4 * aws.ATTEMPT_SECONDS or drained():
        return False
    clock.sleep(wait)
    return True


def _as_candidate(
    settings: Settings, voters: Voters, latest: Lease | None, local: Any, now: int, drained: Callable[[], bool]
) -> Report:
    region = settings.region
    takeover_at = _first_lease_at(settings) if latest is None else _takeover_at(settings, voters, latest)
    if takeover_at is None:
        why = "evacuated" if region in settings.evacuated else "not in the in-sync set" if latest else "not the first region"
        return Report(region, "ineligible", why)
    if drained():
        return Report(region, "ineligible", "drained")
    if now < takeover_at:
        return Report(region, "yielding", f"{(takeover_at - now) / 1000:.1f} s to the region(s) before it")
    control = read_control(local, settings.table)  # this region's replica answers: it may serve
    control_epoch = int(control["epoch"]["N"]) if control else 0
    epoch = max(latest.epoch if latest else 0, control_epoch) + 1
    in_sync = frozenset(settings.candidates) if latest is None else (latest.in_sync - {latest.holder}) | {region}
    lease = Lease(region, epoch, now + settings.lease_ms, now, in_sync)
    outcome = voters.acquire(lease, latest, now)
    if len(outcome.granted) < voters.majority:
        if outcome.granted:
            voters.release(region, epoch, outcome.granted)
        return Report(region, "lost-race", f"took {len(outcome.granted)} of {len(voters.tables)} voters")
    activate(local, settings.table, region, lease, now + settings.valid_ms, now)
    _held[region] = lease
    was = f"from {latest.holder} (epoch {latest.epoch})" if latest else "first lease"
    return Report(region, "acquired", was, epoch)
