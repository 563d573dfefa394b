"""Moving the write primary by hand, under the write lease: the operator's side of shared/lease.py.

`promote(cluster, target)`:
1. checks: single-primary write mode, `target` serves (a stack region, not evacuated, not
   drained), a majority of voters answers, and `target` is in the in-sync set (it holds every
   acknowledged write: functions/shared/confirm.py) unless `out_of_sync` accepts losing what it
   lacks;
2. if a region holds an unexpired lease, fences it first: its control item is revoked at its own
   replica, so from that moment it refuses every write of its epoch. A holder that cannot be
   reached cannot be fenced: the promotion is refused, unless `force`, which waits for its lease
   to expire (it stops taking writes by its own clock then) instead of fencing it;
3. takes the lease with epoch + 1 on a majority of voters, conditionally on what it read: of two
   operators promoting at once, one wins; the other gets a one-line refusal naming the winner
   (and gives back what it took);
4. activates the target's control item. If the target's replica cannot be written now, the lease
   is still its: the target's own failover tick activates it within half a lease.

With a relational global database (ops/database_promotion.py), its writer moves too: a headless
target gets its instance before step 2 (nothing is fenced while it starts), and the switchover (or,
with `allow_data_loss`, the failover) runs after step 4, the ledger's writes deferred meanwhile.
A target that already holds the lease but not the database's writer (a switchover that failed)
gets only the database's move.

Nothing waits longer than the lease plus a few seconds; every failure is a `PromotionRefused`
with one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import failover
from shared.lease import Lease, Reading, Voters

from ops import database_promotion
from ops.database_promotion import DatabaseMove, GlobalDatabase
from ops.errors import OperatorError, Refused


class PromotionRefused(Refused):
    """One line saying why; nothing was changed."""


@dataclass(frozen=True)
class Cluster:
    """What a promotion needs to know and reach of a deployed stack."""

    table: str
    regions: tuple[str, ...]  # serving, in the stack's order
    voter_tables: Mapping[str, str]  # {region: voter table}
    dynamodb: Callable[[str], Any]  # a DynamoDB client in a region
    drained: Callable[[str], bool]
    evacuated: tuple[str, ...] = ()
    write_mode: str = "single-primary"
    lease_seconds: float = 30.0

    def voters(self) -> Voters:
        return Voters(self.voter_tables, self.dynamodb)

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], session: Any, drained: Callable[[str], bool]) -> Cluster:
        """A deployed stack, from `pulumi stack output --json`; refused (one line) when the stack
        has no write lease: a single-region stack, or any-region writes."""
        if outputs.get("writeMode", "single-primary") != "single-primary":
            raise OperatorError(f"write mode {outputs['writeMode']} has no primary to move (every region writes its own replica)")
        missing = [k for k in ("tableName", "regions", "leaseVoterTables") if not outputs.get(k)]
        if missing:
            raise OperatorError(
                f"the stack outputs lack {', '.join(missing)}: a stack with one region has no write lease to move "
                "(or deploy it first: pulumi up)"
            )
        budget = outputs.get("drBudget") or {}
        evacuated = tuple(budget.get("evacuated_regions") or ())
        clients: dict[str, Any] = {}

        def dynamodb(region: str):
            if region not in clients:
                clients[region] = session.client("dynamodb", region_name=region)
            return clients[region]

        return cls(
            table=outputs["tableName"],
            regions=tuple(outputs["regions"]),
            voter_tables=dict(outputs["leaseVoterTables"]),
            dynamodb=dynamodb,
            drained=drained,
            evacuated=evacuated,
            lease_seconds=float(outputs.get("leaseSeconds") or 30),
        )


@dataclass
class PromotionReport:
    target: str
    epoch: int
    previous: Lease | None
    fenced: bool = False
    waited_for_expiry_seconds: float = 0.0
    activated: bool = True
    dry_run: bool = False
    database: DatabaseMove | None = None
    lease_moved: bool = True

    def lines(self) -> list[str]:
        database = self.database.lines() if self.database else []
        if not self.lease_moved:
            return [f"{self.target} already holds the write lease at epoch {self.epoch}", *database]
        verb = "would promote" if self.dry_run else "promoted"
        was = f"{self.previous.holder} at epoch {self.previous.epoch}" if self.previous else "no lease yet"
        out = [f"{verb} {self.target} to primary at epoch {self.epoch} (was {was})"]
        if self.previous and self.previous.holder != self.target:
            how = (
                "fenced first (its control item revoked)"
                if self.fenced
                else (f"not reachable: waited {self.waited_for_expiry_seconds:.0f} s for its lease to expire")
            )
            out.append(f"  old primary {self.previous.holder}: {how}")
        if not self.activated:
            out.append(f"  {self.target}'s control item not written yet: its failover tick activates it")
        return out + database


def _winner(reading: Reading) -> str:
    latest = reading.latest
    return f"{latest.holder} won the promotion at epoch {latest.epoch}" if latest else "no region holds the lease"


def promote(
    cluster: Cluster,
    target: str,
    *,
    now_ms: Callable[[], int],
    sleep: Callable[[float], None],
    force: bool = False,
    out_of_sync: bool = False,
    dry_run: bool = False,
    database: GlobalDatabase | None = None,
    allow_data_loss: bool = False,
) -> PromotionReport:
    lease = {"now_ms": now_ms, "sleep": sleep, "force": force, "out_of_sync": out_of_sync}
    if database is None:
        return _promote_lease(cluster, target, dry_run=dry_run, **lease)

    def now_s() -> float:
        return now_ms() / 1000

    held = _held_by(cluster, target, now_ms())
    if held is not None and database.state(target).writer != target:
        # A switchover that failed after the lease moved: only the database's move is left.
        return _database_only(database, target, held, now_s=now_s, sleep=sleep, allow_data_loss=allow_data_loss, dry_run=dry_run)
    # Every refusal of the lease's move first, changing nothing; then, still unfenced, the
    # database's refusals and a headless target's instance (minutes); then the lease's move, read
    # afresh; then the switchover.
    _promote_lease(cluster, target, dry_run=True, **lease)
    move = _prepare_database(database, target, allow_data_loss=allow_data_loss, now_s=now_s, sleep=sleep, dry_run=dry_run)
    try:
        report = _promote_lease(cluster, target, dry_run=dry_run, **lease)
    except PromotionRefused:
        # The target's own failover tick may have taken the expired lease while the instance started.
        held = _held_by(cluster, target, now_ms())
        if held is None:
            raise
        report = PromotionReport(target, held.epoch, held, dry_run=dry_run, lease_moved=False)
    report.database = move
    if not dry_run:
        _move_database(database, move, now_s=now_s, sleep=sleep)
    return report


def _held_by(cluster: Cluster, target: str, now_ms: int) -> Lease | None:
    """The lease, when `target` holds it unexpired."""
    voters = cluster.voters()
    latest = voters.read().latest
    if latest is not None and latest.holder == target and not latest.expired_for_candidates(now_ms, voters.drift_ms):
        return latest
    return None


def _promote_lease(
    cluster: Cluster,
    target: str,
    *,
    now_ms: Callable[[], int],
    sleep: Callable[[float], None],
    force: bool,
    out_of_sync: bool,
    dry_run: bool,
) -> PromotionReport:
    if cluster.write_mode != "single-primary":
        raise PromotionRefused(f"write mode {cluster.write_mode} has no primary to move (every region writes its own replica)")
    if target not in cluster.regions:
        raise PromotionRefused(f"{target} is not a region of this stack ({', '.join(cluster.regions)})")
    if target in cluster.evacuated:
        raise PromotionRefused(f"{target} is evacuated by config (evacuatedRegions); restore it before promoting it")
    if cluster.drained(target):
        raise PromotionRefused(f"{target} is drained (its drain flag is set); restore it before promoting it")
    voters = cluster.voters()
    reading = voters.read()
    if not reading.has_majority:
        raise PromotionRefused(f"only {reading.reachable} of {len(voters.tables)} lease voters answered; a majority is needed")
    latest = reading.latest
    now = now_ms()
    valid = latest is not None and not latest.expired_for_candidates(now, voters.drift_ms)
    if valid and latest.holder == target:
        raise PromotionRefused(f"{target} is already primary at epoch {latest.epoch}")
    in_sync = latest.in_sync if latest else frozenset(r for r in cluster.regions if r not in cluster.evacuated)
    if target not in in_sync and not out_of_sync:
        raise PromotionRefused(
            f"{target} is not in the in-sync set ({', '.join(sorted(in_sync)) or 'empty'}): acknowledged writes may be "
            "missing there; --out-of-sync accepts losing them"
        )
    # A fenced primary holds everything it acknowledged: it stays in the in-sync set (and can be
    # promoted back at once). One that cannot be reached may be down: out until it rejoins.
    stays_in_sync = in_sync | {target}
    leaves_in_sync = (in_sync - {latest.holder} if latest and latest.holder != target else in_sync) | {target}
    report = PromotionReport(target, 0, latest, dry_run=dry_run)
    fence_client = None
    if valid:
        try:
            fence_client = cluster.dynamodb(latest.holder)
            failover.read_control(fence_client, cluster.table)
        except Exception as error:
            if not force:
                raise PromotionRefused(
                    f"the primary {latest.holder} cannot be fenced ({type(error).__name__}); --force waits up to "
                    f"{cluster.lease_seconds:g} s for its lease to expire instead"
                ) from None
            fence_client = None
    control_epoch = _control_epoch(cluster, target)
    epoch = max(latest.epoch if latest else 0, control_epoch) + 1
    report.epoch = epoch
    if dry_run:
        report.fenced = fence_client is not None
        return report
    if valid and fence_client is not None:
        try:
            failover.revoke(fence_client, cluster.table, latest.holder, latest.epoch)
        except Exception as error:
            if failover.failed_condition(error):
                raise PromotionRefused(f"{latest.holder}'s control item moved on: {_winner(voters.read())}") from None
            raise PromotionRefused(f"fencing {latest.holder} failed ({type(error).__name__}); nothing changed") from None
        report.fenced = True
        now = now_ms()
        lease = Lease(target, epoch, now + int(cluster.lease_seconds * 1000), now, stays_in_sync)
        outcome = voters.take_over(lease, latest, out_of_sync=out_of_sync)
    else:
        if valid:
            report.waited_for_expiry_seconds = _wait_for_expiry(voters, latest, now_ms, sleep, cluster.lease_seconds)
        now = now_ms()
        lease = Lease(target, epoch, now + int(cluster.lease_seconds * 1000), now, leaves_in_sync)
        outcome = voters.acquire(lease, latest, now, out_of_sync=out_of_sync)
    if len(outcome.granted) < voters.majority:
        if outcome.granted:
            voters.release(target, epoch, outcome.granted)
        raise PromotionRefused(f"{_winner(voters.read())}; nothing changed")
    valid_until = lease.renewed_at_ms + int((cluster.lease_seconds - 1) * 1000)
    try:
        failover.activate(cluster.dynamodb(target), cluster.table, target, lease, valid_until, lease.renewed_at_ms)
    except Exception:
        report.activated = False
    return report


def _prepare_database(database: GlobalDatabase, target: str, **kwargs) -> DatabaseMove:
    try:
        return database_promotion.prepare(database, target, **kwargs)
    except database_promotion.DatabaseRefused as refused:
        raise PromotionRefused(str(refused)) from None


def _move_database(database: GlobalDatabase, move: DatabaseMove, *, now_s: Callable[[], float], sleep) -> None:
    try:
        database_promotion.complete(database, move, now_s=now_s, sleep=sleep)
    except database_promotion.DatabaseRefused as refused:
        raise PromotionRefused(
            f"{refused}. {move.target} is the write primary; the ledger's writes stay deferred (nothing is lost) "
            f"until its database writes: run promote --region {move.target} again"
        ) from None


def _database_only(
    database: GlobalDatabase, target: str, lease: Lease, *, now_s, sleep, allow_data_loss: bool, dry_run: bool
) -> PromotionReport:
    """The target holds the lease but not the database's writer: finish the database's move."""
    move = _prepare_database(database, target, allow_data_loss=allow_data_loss, now_s=now_s, sleep=sleep, dry_run=dry_run)
    if not dry_run:
        _move_database(database, move, now_s=now_s, sleep=sleep)
    return PromotionReport(target, lease.epoch, lease, dry_run=dry_run, database=move, lease_moved=False)


def _control_epoch(cluster: Cluster, region: str) -> int:
    try:
        control = failover.read_control(cluster.dynamodb(region), cluster.table)
    except Exception as error:
        raise PromotionRefused(f"the target's replica in {region} cannot be read ({type(error).__name__})") from None
    return int(control["epoch"]["N"]) if control else 0


def _wait_for_expiry(
    voters: Voters, lease: Lease, now_ms: Callable[[], int], sleep: Callable[[float], None], bound: float
) -> float:
    started = now_ms()
    deadline = lease.expires_at_ms + voters.drift_ms + 1
    while now_ms() <= deadline:
        if (now_ms() - started) / 1000 > bound + 5:
            raise PromotionRefused(f"{lease.holder}'s lease did not expire within {bound + 5:g} s; nothing changed")
        sleep(min(1.0, max(0.05, (deadline - now_ms()) / 1000)))
    return (now_ms() - started) / 1000


@dataclass(frozen=True)
class RegionStatus:
    region: str
    primary: str | None
    epoch: int | None
    lease_until_ms: int | None
    in_sync: tuple[str, ...]
    revoked: bool
    error: str | None = None


def status(cluster: Cluster) -> tuple[Reading, list[RegionStatus]]:
    """The voters' view of the lease, and each serving region's control item."""
    regions = []
    for region in cluster.regions:
        try:
            item = failover.read_control(cluster.dynamodb(region), cluster.table)
        except Exception as error:
            regions.append(RegionStatus(region, None, None, None, (), False, f"{type(error).__name__}"))
            continue
        if not item:
            regions.append(RegionStatus(region, None, None, None, (), False))
            continue
        regions.append(
            RegionStatus(
                region,
                item["primary_region"]["S"],
                int(item["epoch"]["N"]),
                int(item["lease_until"]["N"]) if "lease_until" in item else None,
                tuple(sorted(item.get("in_sync", {}).get("SS", []))),
                bool(item.get("revoked", {}).get("BOOL")),
            )
        )
    return cluster.voters().read(), regions
