"""Two regions of the blog in one process, in real time: the two-region simulation's world
(verify/two_region_sim.py: the real handlers over moto, a global table that replicates with a
lag, the write lease and its failover ticks) driven by the wall clock instead of a script.

Every handler runs under one lock, in its region's environment (the handlers read their region
from the process environment, so two cannot run at once). A pump thread lets time pass: it keeps
the simulation's clock level with the wall clock (replication, lease renewals and automatic
promotion happen on their own) and runs each live region's consumers: deferred writes from its
retry queue, welcome emails from its table's stream, page views from its events stream.

A region can be killed (its API refuses connections and it is cut off from the other region and
the lease's witness: what it wrote and has not replicated waits for it), hung, slowed, throttled,
drained, and restored; the operator can promote a region (`ops/promotion.py`, as `sdr primary
promote` does).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from verify.harness import FakeContext, drain_queue, queue_depth
from verify.two_region_sim import REGIONS, TwoRegions, _kinesis_records, world

FAULTS = ("up", "killed", "hung", "slow", "throttled", "loses-writes")
# The simulation patches time.sleep (through botocore's retries) onto its clock; here time is real.
REAL_SLEEP = time.sleep
PUMP_SECONDS = 0.25


@dataclass
class RegionState:
    fault: str = "up"
    slow_seconds: float = 2.0
    drained: bool = False
    views_position: int = 0
    views_waiting: list = field(default_factory=list)  # stream records the consumer has not taken yet
    welcome_waiting: list = field(default_factory=list)
    changed: threading.Event = field(default_factory=threading.Event)  # wakes requests held by a hang


class LocalWorld:
    """Use inside `running()`. Every public method is safe to call from any thread."""

    def __init__(self, sim: TwoRegions):
        self.sim = sim
        self.lock = threading.RLock()
        self.released = threading.Condition(self.lock)  # to wait with the lock let go
        self.regions = {name: RegionState() for name in REGIONS}
        self.started = time.monotonic()
        self.clock_at_start = sim.clock.now
        self.stopping = threading.Event()
        self.pump_error: BaseException | None = None

    # --- handlers -----------------------------------------------------------------------------

    def invoke(self, region: str, function, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock, self.sim.region(region):
            return function(event, FakeContext())

    # --- time and consumers -------------------------------------------------------------------

    def pump(self) -> None:
        while not self.stopping.wait(PUMP_SECONDS):
            try:
                with self.lock:
                    self.step()
            except BaseException as error:  # kept for `status()` and the smoke run to report
                self.pump_error = error
                raise

    def catch_up(self) -> None:
        """Bring the clock level with the wall: replication due by now, lease renewals and
        takeovers due by now. It is never set back."""
        behind = (time.monotonic() - self.started) - (self.sim.clock.now - self.clock_at_start)
        self.sim.pass_time(max(behind, 0.0))
        sim = self.sim
        if sim.leased and not sim.ticking and sim.clock.now - sim.last_tick >= sim.lease_seconds / 2:
            sim.tick()

    def wait(self, seconds: float) -> None:
        """A handler's or a tick's wait (a write for its confirmation): real time passes, with the
        lock let go meanwhile, so the other region's requests and the pump go on, as they would in
        AWS, where nothing waits for another region's function. The waiter's region (its
        environment and its side of a partition) is put back before it goes on."""
        environment, rules = dict(os.environ), list(self.sim.injector.rules)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.released.wait(min(PUMP_SECONDS / 5, left))  # lets go of the lock, then takes it back
            for name, value in environment.items():
                if os.environ.get(name) != value:
                    os.environ[name] = value
            self.sim.injector.rules = rules
            self.catch_up()

    def step(self) -> None:
        from verify.local import media

        self.catch_up()
        live = [region for region in REGIONS if self.regions[region].fault != "killed"]
        for region in live:
            self._consume(region)
        media.replicate(self, live)

    def _consume(self, region: str) -> None:
        from retry.app import handler as retry
        from views.app import handler as views
        from welcome.app import handler as welcome

        regional = self.sim.regional[region]
        with self.sim.region(region):
            drain_queue(regional.sqs, regional.retry_queue_url, retry, rounds=5)
        state = self.regions[region]
        state.welcome_waiting += self.sim.new_welcome_records(region)
        state.welcome_waiting = self._deliver(
            region, welcome, state.welcome_waiting, key=lambda r: r["dynamodb"]["SequenceNumber"]
        )
        records = _kinesis_records(regional.kinesis, region)
        state.views_waiting += records[state.views_position :]
        state.views_position = len(records)
        state.views_waiting = self._deliver(region, views, state.views_waiting, key=lambda r: r["kinesis"]["sequenceNumber"])

    def _deliver(self, region: str, handler, records: list[dict], *, key) -> list[dict]:
        """One delivery of a stream's records to its consumer, as its event source mapping makes
        it; what the consumer reports failed is returned, to be delivered again on a later round
        (in order: a stream's failed record holds back the ones after it)."""
        if not records:
            return []
        with self.sim.region(region):
            answer = handler({"Records": records}, FakeContext(function_name="consumer", timeout_ms=30_000))
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        first = next((i for i, record in enumerate(records) if key(record) in failed), None)
        return [] if first is None else records[first:]

    # --- faults -------------------------------------------------------------------------------

    def set_fault(self, region: str, fault: str, *, slow_seconds: float | None = None) -> None:
        if region not in self.regions:
            raise ValueError(f"region: {region!r} is not one of {', '.join(REGIONS)}")
        if fault not in FAULTS:
            raise ValueError(f"fault: {fault!r} is not one of {', '.join(FAULTS)}")
        with self.lock:
            state = self.regions[region]
            if fault == "killed":
                self.sim.isolate(region)
            elif state.fault == "killed":
                self.sim.heal()
            state.fault = fault
            if slow_seconds is not None:
                state.slow_seconds = slow_seconds
            state.changed.set()
            state.changed = threading.Event()

    def drain(self, region: str, drained: bool = True) -> None:
        """The region's drain switch (its SSM parameter): its /health answers 503, so DNS and the
        page move away from it."""
        with self.lock, self.sim.region(region):
            self.sim.regional[region].ssm.put_parameter(
                Name=_drain_parameter(), Value="true" if drained else "false", Type="String", Overwrite=True
            )
            self.regions[region].drained = drained

    def promote(self, region: str) -> dict[str, Any]:
        """The operator's promotion; with the old primary cut off it waits out that primary's
        lease first (simulated time: the wall clock catches up)."""
        with self.lock:
            reachable = tuple(r for r in (*REGIONS, "us-east-2") if self.regions.get(r, RegionState()).fault != "killed")
            report = self.sim.promote(region, reachable=reachable)
        return {"region": region, "epoch": getattr(report, "epoch", None), "report": str(report)}

    # --- what the control view shows ----------------------------------------------------------

    def _health(self, region: str) -> str:
        """What the region's /health answers now, as Route 53's checkers would see it."""
        from api.health_app import handler

        from verify.harness import api_event

        fault = self.regions[region].fault
        if fault in ("killed", "hung"):
            return "no answer"
        answer = self.invoke(region, handler, api_event("GET", "/health"))
        return "ok" if answer["statusCode"] == 200 else json.loads(answer["body"]).get("status", str(answer["statusCode"]))

    def status(self) -> dict[str, Any]:
        from shared import clock, control

        with self.lock:
            regions = {}
            for name in REGIONS:
                regional = self.sim.regional[name]
                with self.sim.region(name):
                    primary = control.current(refresh=True)  # as this region's replica has it
                regions[name] = {
                    "fault": self.regions[name].fault,
                    "health": self._health(name),
                    "drained": self.regions[name].drained,
                    "primary_seen": primary.region if primary else None,
                    "epoch_seen": primary.epoch if primary else None,
                    "lease_seconds_left": None
                    if primary is None or primary.lease_until_ms is None
                    else round((primary.lease_until_ms - clock.now_ms()) / 1000, 1),
                    "retry_queue": queue_depth(regional.sqs, regional.retry_queue_url),
                    "retry_dlq": queue_depth(regional.sqs, regional.retry_dlq_url),
                }
            pending = len(self.sim.replicator.pending)
            oldest = min((d.due - self.sim.replicator.lag for d in self.sim.replicator.pending), default=None)
            return {
                "clock_seconds": round(self.sim.clock.now - self.clock_at_start, 1),
                "regions": regions,
                "replication": {
                    "lag_seconds": self.sim.replicator.lag,
                    "pending_items": pending,
                    "oldest_pending_seconds": None if oldest is None else round(self.sim.clock.now - oldest, 1),
                },
                "pump_error": repr(self.pump_error) if self.pump_error else None,
            }


def _drain_parameter() -> str:
    import os

    return os.environ["DRAIN_PARAMETER"]


@contextlib.contextmanager
def running(*, lag: float, lease_seconds: float, allowed_origin: str):
    """Both regions up, the pump running, handlers' waits taking real time; stops the pump on the
    way out."""
    quiet = {"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}  # the terminal is the user's
    with world(lag=lag, lease_seconds=lease_seconds, environment={"ALLOWED_ORIGIN": allowed_origin, **quiet}) as sim:
        from shared import clock  # importable once the world has configured the handlers' path

        # Real requests take real time here, and a killed region's endpoint refuses at once (the
        # simulation's clock would otherwise be charged its connect timeouts and run ahead).
        sim.injector.request_seconds = sim.injector.connect_timeout = sim.injector.read_timeout = 0.0
        local = LocalWorld(sim)
        epoch_offset = time.time() - sim.clock.now
        with (
            mock.patch.object(time, "sleep", REAL_SLEEP),
            clock.use(now=lambda: epoch_offset + sim.clock.now, sleep=local.wait),
        ):
            thread = threading.Thread(target=local.pump, name="local-pump", daemon=True)
            thread.start()
            try:
                yield local
            finally:
                local.stopping.set()
                thread.join(timeout=5)
