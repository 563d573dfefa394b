"""The write lease: which region may accept table writes, granted by a majority of voters.

Voters are small DynamoDB tables that do not replicate into each other, one per voter region
(every serving region, plus a witness region when the number of serving regions is even, so that
two regions cut off from each other cannot both have a majority). Each holds one record:

    holder, epoch, expires_at (ms, the holder's clock), renewed_at (ms), in_sync (regions)

- **Acquire** (after expiry): a candidate reads a majority of the voters; from the latest record
  (highest epoch, then latest expiry) it takes epoch + 1, and writes its record to each voter only
  if that voter's record is not of a later epoch and has expired by the candidate's clock minus
  the drift margin. It holds the lease when a majority took the write; otherwise it gives back
  what it took.
- **Renew**: the holder rewrites `expires_at = now + LEASE` on a majority of voters that still name
  it at its epoch. It may accept writes until `start of the renewal + LEASE - DRIFT` by its own
  clock.
- **Why no two holders overlap**: a holder's renewal is on a majority; a candidate needs a
  majority, so at least one voter holds the renewal's expiry T. The candidate takes it only when
  its clock reads more than T + DRIFT, so the holder's clock then reads more than T, while the
  holder stopped at T - DRIFT. Clocks may differ by up to DRIFT_SECONDS (an assumption, stated in
  docs/design.md; the simulation drifts clocks on both sides of it).

- **In-sync set**: the regions whose replicas hold every acknowledged write (shared/confirm.py).
  Only a region in it may take the lease (the acquisition's condition checks it on each voter),
  so a new primary never lacks an acknowledged write. A writer that cannot confirm a region
  removes it here, on a majority, before it acknowledges without it (`shrink`); the holder adds it
  back once its replica is verified to hold everything (`grow`, shared/failover.py). A removal
  on a majority is seen by every later acquisition, since two majorities meet.

The record's times are in milliseconds of the epoch (shared/clock.py). This module is used by the
functions (shared/failover.py) and by the operator's promotion (ops/promotion.py) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.failover_timing import DRIFT_SECONDS

LEASE_KEY = {"pk": {"S": "LEASE#writer"}}


@dataclass(frozen=True)
class Lease:
    holder: str
    epoch: int
    expires_at_ms: int
    renewed_at_ms: int = 0
    in_sync: frozenset[str] = frozenset()

    def order(self) -> tuple[int, int]:
        """Newest first by epoch, then by the latest renewal (a renewal goes to a majority only,
        so voters of one epoch may hold different expiries)."""
        return (self.epoch, self.expires_at_ms)

    def expired_for_candidates(self, now_ms: int, drift_ms: int) -> bool:
        return self.expires_at_ms + drift_ms < now_ms


@dataclass(frozen=True)
class VoterView:
    region: str
    lease: Lease | None  # None: the voter never held a record
    error: str | None = None


@dataclass(frozen=True)
class Reading:
    views: list[VoterView]
    majority: int

    @property
    def reachable(self) -> int:
        return sum(1 for v in self.views if v.error is None)

    @property
    def latest(self) -> Lease | None:
        leases = [v.lease for v in self.views if v.lease is not None]
        return max(leases, key=Lease.order) if leases else None

    @property
    def has_majority(self) -> bool:
        return self.reachable >= self.majority


@dataclass
class Outcome:
    granted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)  # what granting voters now hold, when asked

    @property
    def latest(self) -> Lease | None:
        return max(self.leases, key=Lease.order) if self.leases else None


def _lease_of(item: Mapping[str, Any] | None) -> Lease | None:
    if not item or "holder" not in item:
        return None
    return Lease(
        holder=item["holder"]["S"],
        epoch=int(item["epoch"]["N"]),
        expires_at_ms=int(item["expires_at"]["N"]),
        renewed_at_ms=int(item.get("renewed_at", {"N": "0"})["N"]),
        in_sync=frozenset(item.get("in_sync", {}).get("SS", [])),
    )


def _item(lease: Lease) -> dict[str, Any]:
    return {
        **LEASE_KEY,
        "holder": {"S": lease.holder},
        "epoch": {"N": str(lease.epoch)},
        "expires_at": {"N": str(lease.expires_at_ms)},
        "renewed_at": {"N": str(lease.renewed_at_ms)},
        "in_sync": {"SS": sorted(lease.in_sync)},
    }


def _failed_condition(error: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Voters:
    """The voter tables ({region: table name}), each reached with `client_for(region)`."""

    def __init__(self, tables: Mapping[str, str], client_for: Callable[[str], Any], drift_seconds: float = DRIFT_SECONDS):
        if not tables:
            raise ValueError("a lease needs at least one voter")
        self.tables = dict(tables)
        self.client_for = client_for
        self.drift_ms = int(drift_seconds * 1000)

    @property
    def majority(self) -> int:
        return len(self.tables) // 2 + 1

    def _order(self, first: str | None) -> list[str]:
        return ([first] if first in self.tables else []) + [r for r in self.tables if r != first]

    def read(self, *, enough: int | None = None, first: str | None = None) -> Reading:
        """Each voter's record; with `enough`, stop once that many answered (a majority read sees
        the latest grant: every grant and renewal is on a majority, and two majorities meet)."""
        views = []
        for region in self._order(first):
            try:
                item = (
                    self.client_for(region)
                    .get_item(TableName=self.tables[region], Key=LEASE_KEY, ConsistentRead=True)
                    .get("Item")
                )
            except Exception as error:
                views.append(VoterView(region, None, f"{type(error).__name__}: {str(error)[:120]}"))
                continue
            views.append(VoterView(region, _lease_of(item)))
            if enough is not None and sum(1 for v in views if v.error is None) >= enough:
                break
        return Reading(views, self.majority)

    def _each(
        self, call: Callable[[Any, str], Any], regions: Iterable[str] | None = None, *, until_majority: bool = False
    ) -> Outcome:
        outcome = Outcome()
        for region in regions if regions is not None else self.tables:
            if until_majority and len(outcome.granted) >= self.majority:
                break
            try:
                answer = call(self.client_for(region), self.tables[region])
                outcome.granted.append(region)
                lease = _lease_of(answer.get("Attributes")) if isinstance(answer, dict) else None
                if lease is not None:
                    outcome.leases.append(lease)
            except Exception as error:
                (outcome.refused if _failed_condition(error) else outcome.unreachable).append(region)
        return outcome

    def acquire(self, lease: Lease, seen: Lease | None, now_ms: int, *, out_of_sync: bool = False) -> Outcome:
        """Write `lease` to every voter whose record is of no later epoch than `seen`, has expired,
        and lists the candidate in its in-sync set (`out_of_sync`: an operator's forced promotion
        of a region that is not, accepting the loss of what it lacks)."""
        condition = "epoch <= :epoch AND expires_at < :cutoff" + ("" if out_of_sync else " AND contains(in_sync, :me)")
        values = {
            ":epoch": {"N": str(seen.epoch if seen else 0)},
            ":cutoff": {"N": str(now_ms - self.drift_ms)},
            **({} if out_of_sync else {":me": {"S": lease.holder}}),
        }
        return self._each(
            lambda client, table: client.put_item(
                TableName=table,
                Item=_item(lease),
                ConditionExpression=f"attribute_not_exists(pk) OR ({condition})",
                ExpressionAttributeValues=values,
            )
        )

    def take_over(self, lease: Lease, seen: Lease, *, out_of_sync: bool = False) -> Outcome:
        """A planned switchover: the lease passes before expiry, only from exactly `seen`'s holder
        and epoch (which must already be fenced: ops/promotion.py revokes it first), to a region in
        the in-sync set unless `out_of_sync`."""
        condition = "holder = :holder AND epoch = :epoch" + ("" if out_of_sync else " AND contains(in_sync, :me)")
        values = {
            ":holder": {"S": seen.holder},
            ":epoch": {"N": str(seen.epoch)},
            **({} if out_of_sync else {":me": {"S": lease.holder}}),
        }
        return self._each(
            lambda client, table: client.put_item(
                TableName=table, Item=_item(lease), ConditionExpression=condition, ExpressionAttributeValues=values
            )
        )

    def renew(self, holder: str, epoch: int, now_ms: int, lease_ms: int) -> Outcome:
        """Renew on a majority, the holder's own region's voter first (a majority is all a renewal
        needs to count, and all a candidate's read must meet)."""
        values = {
            ":expires": {"N": str(now_ms + lease_ms)},
            ":now": {"N": str(now_ms)},
            ":holder": {"S": holder},
            ":epoch": {"N": str(epoch)},
        }
        return self._each(
            lambda client, table: client.update_item(
                TableName=table,
                Key=LEASE_KEY,
                UpdateExpression="SET expires_at = :expires, renewed_at = :now",
                ConditionExpression="holder = :holder AND epoch = :epoch",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",  # the holder learns the in-sync set the voters hold
            ),
            self._order(holder),
            until_majority=True,
        )

    def shrink(self, holder: str, epoch: int, region: str) -> Outcome:
        """Take `region` out of the in-sync set (a voter that no longer lists it counts as done)."""
        return self._in_sync_update(holder, epoch, "DELETE", region, wanted=False)

    def grow(self, holder: str, epoch: int, region: str) -> Outcome:
        return self._in_sync_update(holder, epoch, "ADD", region, wanted=True)

    def _in_sync_update(self, holder: str, epoch: int, verb: str, region: str, *, wanted: bool) -> Outcome:
        values = {":holder": {"S": holder}, ":epoch": {"N": str(epoch)}, ":region": {"SS": [region]}}

        def update(client, table):
            try:
                client.update_item(
                    TableName=table,
                    Key=LEASE_KEY,
                    UpdateExpression=f"{verb} in_sync :region",
                    ConditionExpression="holder = :holder AND epoch = :epoch",
                    ExpressionAttributeValues=values,
                )
            except Exception as error:
                if not _failed_condition(error):
                    raise
                # Refused: done anyway when the voter already shows it under this holder and epoch.
                lease = _lease_of(client.get_item(TableName=table, Key=LEASE_KEY, ConsistentRead=True).get("Item"))
                if lease is None or (lease.holder, lease.epoch) != (holder, epoch) or (region in lease.in_sync) != wanted:
                    raise

        return self._each(update)

    def release(self, holder: str, epoch: int, regions: Iterable[str] | None = None) -> Outcome:
        """Give the lease back at once (a drained or fenced holder; a failed acquisition)."""
        values = {":holder": {"S": holder}, ":epoch": {"N": str(epoch)}, ":zero": {"N": "0"}}
        return self._each(
            lambda client, table: client.update_item(
                TableName=table,
                Key=LEASE_KEY,
                UpdateExpression="SET expires_at = :zero",
                ConditionExpression="holder = :holder AND epoch = :epoch",
                ExpressionAttributeValues=values,
            ),
            regions,
        )
