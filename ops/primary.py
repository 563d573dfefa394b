"""Which region is primary for table writes, and moving it: the operator's side of shared/control.py.

The primary and its epoch live in the item `CONTROL#writer` of the global table; every region's
functions read it from their own replica, and every table write checks it at the replica it
writes to (a fence). `promote` moves it in three steps:

1. fence: every replica it can reach, except the new primary's, gets
   `{primary: new, epoch: n+1, handover: true}`. From then on the old primary's replica refuses
   writes made under epoch n, and writers there look for the new primary, which refuses them too
   until step 3 (a replica in handover accepts no write): writes pause (the API defers them,
   202) instead of racing;
2. settle: wait `settle_seconds` so that writes the old primary accepted just before the fence
   replicate to the new primary (global tables replicate item by item, typically within a
   second, with no ordering across items and no SLA);
3. activate: the new primary's replica gets `{primary: new, epoch: n+1}` without the handover
   mark (it replicates to the others and replaces their mark); writes resume there, and the
   deferred ones are applied by the retry consumers.

A replica that cannot be reached in step 1 (the old primary's region being down, or cut off from
the operator) learns the new epoch only by replication from the new primary: until then, writers
that can still reach it may write there. That window is the replication lag at promotion; the
two-region simulation measures it (README "Write modes").

Promotion is refused to a region that is not one of the stack's, that is evacuated by config, or
whose drain flag is set, and when the stack's write mode has no primary (any-region).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CONTROL_KEY = {"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}}


class PromotionRefused(Exception):
    pass


@dataclass(frozen=True)
class Seen:
    region: str
    primary: str | None  # None: the replica could not be read
    epoch: int | None
    error: str | None = None


@dataclass
class PromotionReport:
    previous: Seen
    new_primary: str
    new_epoch: int
    fenced: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    settle_seconds: float = 0.0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would promote" if self.dry_run else "promoted"
        out = [
            f"{verb} {self.new_primary} to primary at epoch {self.new_epoch} "
            f"(was {self.previous.primary} at epoch {self.previous.epoch})",
            f"  fenced first: {', '.join(self.fenced) or 'none'}; settled {self.settle_seconds:g} s before activating",
        ]
        if self.unreachable:
            out.append(
                f"  NOT fenced (unreachable): {', '.join(self.unreachable)}: they learn the new epoch by replication; "
                "writes accepted there until then may conflict (the replication lag at promotion)"
            )
        return out


def read_control(client, table: str, region: str) -> Seen:
    """The control item as `region`'s replica has it; a missing item is the home region at epoch 0."""
    try:
        item = client.get_item(TableName=table, Key=CONTROL_KEY, ConsistentRead=True).get("Item")
    except Exception as error:
        return Seen(region, None, None, f"{type(error).__name__}: {error}")
    if not item:
        return Seen(region, "", 0)
    return Seen(region, item["primary_region"]["S"], int(item["epoch"]["N"]))


def _write_control(client, table: str, primary: str, epoch: int, promoted_at: str, *, handover: bool) -> None:
    item = {**CONTROL_KEY, "primary_region": {"S": primary}, "epoch": {"N": str(epoch)}, "promoted_at": {"S": promoted_at}}
    if handover:
        item["handover"] = {"BOOL": True}
    client.put_item(
        TableName=table,
        Item=item,
        # Never move a replica's epoch backwards (a second operator, a replayed command); the
        # activation may replace the handover mark of its own epoch.
        ConditionExpression="attribute_not_exists(pk) OR epoch < :epoch OR (epoch = :epoch AND primary_region = :primary)",
        ExpressionAttributeValues={":epoch": {"N": str(epoch)}, ":primary": {"S": primary}},
    )


def status(clients: dict[str, Any], table: str, home_region: str) -> list[Seen]:
    seen = [read_control(client, table, region) for region, client in clients.items()]
    return [Seen(s.region, s.primary or home_region, s.epoch, s.error) if s.primary == "" else s for s in seen]


def promote(
    target: str,
    *,
    table: str,
    home_region: str,
    dynamodb: dict[str, Any],
    drained: Callable[[str], bool],
    evacuated: tuple[str, ...] = (),
    write_mode: str = "single-primary",
    settle_seconds: float = 5.0,
    sleep: Callable[[float], None],
    now_iso: Callable[[], str],
    dry_run: bool = False,
) -> PromotionReport:
    if write_mode != "single-primary":
        raise PromotionRefused(f"write mode {write_mode} has no primary to move (every region writes its own replica)")
    if target not in dynamodb:
        raise PromotionRefused(f"{target} is not a region of this stack ({', '.join(dynamodb)})")
    if target in evacuated:
        raise PromotionRefused(f"{target} is evacuated by config (evacuatedRegions); restore it before promoting it")
    if drained(target):
        raise PromotionRefused(f"{target} is drained (its drain flag is set); restore it before promoting it")
    seen = status(dynamodb, table, home_region)
    target_seen = next(s for s in seen if s.region == target)
    if target_seen.error:
        raise PromotionRefused(f"the new primary's replica in {target} cannot be read: {target_seen.error}")
    readable = [s for s in seen if s.error is None]
    previous = max(readable, key=lambda s: s.epoch)
    if previous.primary == target:
        raise PromotionRefused(f"{target} is already primary at epoch {previous.epoch}")
    report = PromotionReport(
        previous=previous,
        new_primary=target,
        new_epoch=previous.epoch + 1,
        unreachable=[s.region for s in seen if s.error],
        settle_seconds=settle_seconds,
        dry_run=dry_run,
    )
    if dry_run:
        report.fenced = [s.region for s in readable if s.region != target]
        return report
    stamp = now_iso()
    for region, client in dynamodb.items():
        if region == target or region in report.unreachable:
            continue
        try:
            _write_control(client, table, target, report.new_epoch, stamp, handover=True)
            report.fenced.append(region)
        except Exception:
            report.unreachable.append(region)
    sleep(settle_seconds)
    _write_control(dynamodb[target], table, target, report.new_epoch, stamp, handover=False)
    return report
