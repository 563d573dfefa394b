"""Moving the relational store's writer with the write primary (`sdr drill promote` when the stack
has an Aurora global database): the operator's pacing of shared/database_primary.py's steps.

`promote` (ops/promotion.py) calls, around its own fence-and-lease step:
1. `prepare` before anything is fenced: the refusals (a member that does not answer without
   --allow-data-loss, a target that does not answer), and a headless target's instance, created
   and waited for while the old primary still takes every write;
2. `complete` once the lease is the target's: the switchover (or, with --allow-data-loss, the
   failover, after printing the last replication lag seen as what may be lost), waited for until
   the target is the writer. From the lease move until then the ledger's writes are deferred (the
   Data API of the new primary's cluster refuses them; they are applied when it answers), so a
   switchover that fails loses nothing: they stay deferred until `promote` runs again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared import database_primary as db

from ops.errors import OperatorError, Refused

POLL_SECONDS = 10.0
INSTANCE_TIMEOUT_SECONDS = 30 * 60  # creating a db.serverless instance takes minutes, rarely more than 15
SWITCH_TIMEOUT_SECONDS = 15 * 60


class DatabaseRefused(Refused):
    """One line saying why the database's writer did not move."""


@dataclass(frozen=True)
class GlobalDatabase:
    """The deployed global database: its identifier, its clusters by region, clients by region."""

    identifier: str
    cluster_arns: Mapping[str, str]
    rds: Callable[[str], Any]
    cloudwatch: Callable[[str], Any]

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], session: Any) -> GlobalDatabase | None:
        """None for a stack without a global database (relationalDb off, or one region)."""
        identifier, data_api = outputs.get("relationalGlobalCluster"), outputs.get("relationalDataApi")
        if not identifier:
            return None
        if not data_api:
            raise OperatorError("the stack outputs name a global database but lack relationalDataApi: pulumi up first")
        clients: dict[tuple[str, str], Any] = {}

        def client(service: str) -> Callable[[str], Any]:
            def in_region(region: str) -> Any:
                if (service, region) not in clients:
                    clients[service, region] = session.client(service, region_name=region)
                return clients[service, region]

            return in_region

        return cls(identifier, {r: v["resourceArn"] for r, v in data_api.items()}, client("rds"), client("cloudwatch"))

    def state(self, ask_first: str) -> db.GlobalState:
        try:
            return db.read_state(self.identifier, self.cluster_arns, self.rds, ask_first)
        except LookupError as error:
            raise DatabaseRefused(str(error)) from None


@dataclass
class DatabaseMove:
    target: str
    previous_writer: str | None
    action: str | None = None  # switchover or failover; None when the target already writes
    instance_created: bool = False
    instance_seconds: float = 0.0
    switch_seconds: float = 0.0
    lag_ms: float | None = None
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.action is None:
            return [f"  database: {self.target} is already the writer"]
        verb = "would" if self.dry_run else "did"
        out = [f"  database: {verb} {self.action} the writer from {self.previous_writer} to {self.target}"]
        if self.instance_created:
            out.append(f"    created an instance in headless {self.target} ({self.instance_seconds:.0f} s to available)")
        if self.action == "failover":
            lost = "unknown (no datapoint in 15 min)" if self.lag_ms is None else f"{self.lag_ms:.0f} ms"
            out.append(f"    may have lost what had not replicated: last replication lag seen {lost}")
        if self.switch_seconds:
            out.append(f"    {self.target} became the writer after {self.switch_seconds:.0f} s")
        return out + [f"    {note}" for note in self.notes]


def prepare(
    database: GlobalDatabase,
    target: str,
    *,
    allow_data_loss: bool,
    now_s: Callable[[], float],
    sleep: Callable[[float], None],
    dry_run: bool = False,
    timeout_seconds: float = INSTANCE_TIMEOUT_SECONDS,
) -> DatabaseMove:
    """Refuse what cannot be done, and give a headless target an available instance; nothing
    fenced, nothing switched. Returns the move `complete` finishes."""
    state = database.state(target)
    move = DatabaseMove(target, state.writer, dry_run=dry_run)
    started = now_s()
    while True:
        step = db.next_step(state, target, allow_data_loss=allow_data_loss)
        if step.action == "refuse":
            raise DatabaseRefused(f"database: {step.detail}; nothing changed")
        if step.action == "done":
            return move
        if step.action in ("switchover", "failover"):
            move.action = step.action
            if step.action == "failover":
                move.lag_ms = db.last_seen_lag_ms(database.cloudwatch(target), state.members[target].arn, now_s())
            move.instance_seconds = now_s() - started if move.instance_created else 0.0
            return move
        if dry_run:
            move.action = "failover" if allow_data_loss and any(not m.answered for m in state.members.values()) else "switchover"
            move.notes.append(f"first: {step.detail}")
            return move
        if step.action == "create-instance":
            db.take(step, state, target, database.rds)
            move.instance_created = True
        elif state.moving_to is not None:
            raise DatabaseRefused(f"database: {step.detail}; run promote again when it has finished")
        if now_s() - started > timeout_seconds:
            raise DatabaseRefused(f"database: {target}'s instance not available after {timeout_seconds:.0f} s; nothing fenced")
        sleep(POLL_SECONDS)
        state = database.state(target)


def complete(
    database: GlobalDatabase,
    move: DatabaseMove,
    *,
    now_s: Callable[[], float],
    sleep: Callable[[float], None],
    timeout_seconds: float = SWITCH_TIMEOUT_SECONDS,
) -> DatabaseMove:
    """Switch (or fail) the writer over to the target and wait until it writes. Raises
    DatabaseRefused when Aurora refuses or the writer does not arrive in time."""
    if move.action is None:
        return move
    target = move.target
    state = database.state(target)
    step = db.next_step(state, target, allow_data_loss=move.action == "failover")
    started = now_s()
    if step.action in ("switchover", "failover"):
        try:
            db.take(step, state, target, database.rds)
        except Exception as error:
            # The target's own failover tick may have asked for the same move a moment earlier.
            again = database.state(target)
            if again.writer != target and again.moving_to != state.members[target].arn:
                code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
                raise DatabaseRefused(f"database: the {step.action} to {target} was refused ({code})") from None
    elif step.action == "refuse":
        raise DatabaseRefused(f"database: {step.detail}")
    while True:
        state = database.state(target)
        step = db.next_step(state, target, allow_data_loss=False)
        if step.action == "done":
            move.switch_seconds = now_s() - started
            return move
        if state.moving_to is None and state.writer != target and now_s() - started > 2 * POLL_SECONDS:
            raise DatabaseRefused(f"database: the {move.action} to {target} did not happen (the writer is still {state.writer})")
        if now_s() - started > timeout_seconds:
            raise DatabaseRefused(f"database: {target} not the writer after {timeout_seconds:.0f} s ({step.detail})")
        sleep(POLL_SECONDS)
