"""Writes without an operator, checked over histories: regions crash, partition and drift; clients
keep writing; a checker reads what happened.

    python -m verify.partition_sim [--schedules 1000] [--start 1] [--workers 2] [--readme]

Each seeded schedule runs two or three serving regions (their real API, write-retry and failover
handlers over moto) and the write lease's voters (every serving region, plus a witness region for
two), with:
- replication between replicas after a lag of 0.1-5 s (per schedule) with jitter, last writer wins
  (verify/replication.py);
- every region's wall clock offset by up to half the stated drift bound (so any two differ by at
  most DRIFT_SECONDS), or, in schedules marked `beyond_drift`, by more (the checker must then be
  able to see overlapping leases);
- one fault scenario: the primary crashing and returning, the primary cut off from every other
  region, a pair of regions partitioned (both ways or one way), a minority region or the witness
  down, two operators promoting at once, the automatic promoter crashing half-way through a
  promotion;
- clients writing about every 1.5 s to a region of their choice (creates, updates of what they
  read there, deletes, subscriptions), failing over to another region with the same
  Idempotency-Key when one refuses or times out, polling `GET /writes/{id}` after a 202.

A crashed region runs nothing, answers nothing, and neither sends nor receives replication until
it returns; a partition stops calls and replication across it. The regions take turns on one
virtual clock: time one region spends waiting on an unreachable one (connect timeouts, a write
waiting for its confirmation) delays what the others do next, so the write RTO measured here is
an upper bound of what concurrent regions would show. Each region's failover function
ticks every half lease (the pace Route 53's health checks give it), its write-retry consumer runs
every few seconds. At the end every fault heals, the queues drain, replication converges, and the
checker reads the history:
- **acknowledged writes** (a 2xx, or a 202 later reported applied) are applied in the final state,
  none lost;
- **no silent overwrite**: no two applied writes produced the same version of an item, and each
  item's last writer has a record that matches it (nothing applied twice under two versions);
- **no overlapping leases**: writes that landed under different epochs (observed on the wire as
  fenced transactions DynamoDB accepted) never interleave in time;
- **write RTO**: from the primary's loss to the first write a client had acknowledged afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import heapq
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from verify.faults import REQUEST_SECONDS, VirtualClock, injected, powertools_on
from verify.harness import (
    FakeContext,
    call_api,
    configure,
    create_voter_tables,
    drain_queue,
    make_regional_resources,
    reset_handler_state,
)
from verify.moto_speed import fast_transactions
from verify.replication import TABLE, Replicator, backend

WITNESS = "us-east-2"
SERVING = {2: ("us-east-1", "us-west-2"), 3: ("us-east-1", "us-west-2", "eu-west-1")}
LEASE_SECONDS = 30.0
EPOCH_BASE = 1_790_000_000.0
CROSS_REGION_SECONDS = 0.035
API_TIMEOUT_SECONDS = FakeContext().timeout_ms / 1000
SCENARIOS = (
    "primary_crash",
    "primary_isolated",
    "pair_partition",
    "one_way_partition",
    "minority_down",
    "operators_race",
    "promoter_crash",
)
_URL_REGION = re.compile(r"https?://[a-z0-9-]+\.([a-z]{2}-[a-z]+-\d)\.amazonaws\.com")


# --- the network --------------------------------------------------------------------------------


class Network:
    """Where requests go: refused when their region is down or cut off from the caller's."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self.caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("caller", default=None)
        self.down: set[str] = set()
        self.cut: set[tuple[str, str]] = set()  # (from, to)
        self.landed: list[tuple[float, int, str]] = []  # (time, epoch, region) of fenced writes accepted
        self.granted: list[tuple[float, int, str]] = []  # (time, epoch, holder) of leases a majority granted

    def reachable(self, source: str | None, target: str | None) -> bool:
        if source is None or target is None:
            return target not in self.down
        return source not in self.down and target not in self.down and (source, target) not in self.cut

    def handle(self, forward, request, event_name: str):
        from botocore.exceptions import ConnectTimeoutError

        match = _URL_REGION.match(request.url)
        target = match.group(1) if match else None
        caller = self.caller.get()
        if not self.reachable(caller, target):
            self.clock.advance(1.0)
            raise ConnectTimeoutError(endpoint_url=request.url)
        self.clock.advance(REQUEST_SECONDS if caller in (None, target) else CROSS_REGION_SECONDS)
        response = forward()
        if event_name.endswith("TransactWriteItems") and response is not None and response.status_code == 200:
            epoch = _fenced_epoch(request.body)
            if epoch is not None:
                self.landed.append((self.clock.now, epoch, target))
        return response


def _fenced_epoch(body: bytes | None) -> int | None:
    try:
        items = json.loads(body or b"{}").get("TransactItems", [])
    except ValueError:
        return None
    for item in items:
        check = item.get("ConditionCheck")
        if check and check.get("Key", {}).get("pk", {}).get("S") == "CONTROL#writer":
            value = check.get("ExpressionAttributeValues", {}).get(":epoch")
            return int(value["N"]) if value else None
    return None


# --- a schedule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    seed: int
    serving: tuple[str, ...]
    lag: float
    jitter: float
    drift: dict[str, float]
    scenario: str
    fault_at: float
    fault_seconds: float
    beyond_drift: bool = False
    duration: float = 0.0
    writes_until: float = float("inf")  # clients stop writing then (a long outage's quiet hours)

    @property
    def voters(self) -> tuple[str, ...]:
        return self.serving + ((WITNESS,) if len(self.serving) % 2 == 0 else ())


def schedule_of(
    seed: int,
    *,
    lag: float | None = None,
    scenario: str | None = None,
    beyond_drift: bool = False,
    short: bool = False,
    fault_seconds: float | None = None,
    drift: dict[str, float] | None = None,
    writes_for: float | None = None,
) -> Schedule:
    """The seeded schedule `seed`; the keywords pin what a test needs (`short`: a fault of
    30-50 s from second 25 and 40 s after it, for quick runs; `writes_for`: clients stop that long after the fault
    starts; `drift`: each region's clock offset, instead of the seeded ones)."""
    configure()  # functions/ on the path
    from shared.failover_timing import DRIFT_SECONDS

    rng = random.Random(f"schedule-{seed}")
    serving = SERVING[rng.choice((2, 2, 3))]
    regions = serving + ((WITNESS,) if len(serving) == 2 else ())
    bound = DRIFT_SECONDS * (3.0 if beyond_drift else 1.0)
    offsets = {r: rng.uniform(-bound / 2, bound / 2) for r in regions}
    if not beyond_drift:  # pin the extremes: two clocks exactly the bound apart
        first, second = rng.sample(regions, 2)
        offsets[first], offsets[second] = -bound / 2, bound / 2
    lag = lag if lag is not None else rng.uniform(0.1, 5.0)
    if fault_seconds is None:
        fault_seconds = rng.uniform(30, 50) if short else rng.uniform(40, 150)
    fault_at = 25.0 if short else rng.uniform(50, 70)
    tail = 40.0 if short else 60.0  # after the heal; the end drains every queue anyway
    return Schedule(
        seed=seed,
        serving=serving,
        lag=lag,
        jitter=lag * 0.3,
        drift={**offsets, **(drift or {})},
        scenario=scenario or rng.choice(SCENARIOS),
        fault_at=fault_at,
        fault_seconds=fault_seconds,
        beyond_drift=beyond_drift,
        duration=fault_at + fault_seconds + tail,
        writes_until=fault_at + writes_for if writes_for is not None else float("inf"),
    )


# --- the clients' history -----------------------------------------------------------------------


@dataclass
class Write:
    number: int
    kind: str  # create, update, delete, subscribe
    key: str
    method: str
    path: str
    body: dict | None = None
    query: dict | None = None
    post_id: str | None = None
    sent_at: float = 0.0
    attempts: list[tuple[float, str, int]] = field(default_factory=list)  # (time, region, status)
    token: str | None = None
    acked_at: float | None = None  # a 2xx, or the time a poll first said applied
    decided: bool = False
    rejected: bool = False

    @property
    def write_id(self) -> str | None:
        return self.token.split(".", 1)[0] if self.token else None


# --- the cluster --------------------------------------------------------------------------------


class Cluster:
    def __init__(self, schedule: Schedule):
        self.schedule = schedule
        self.clock = VirtualClock(start=0.0)
        self.net = Network(self.clock)
        self.rng = random.Random(schedule.seed)
        self.replicator = Replicator(schedule.serving, self.clock, schedule.lag, jitter=schedule.jitter, seed=schedule.seed)
        self.regional: dict[str, Any] = {}
        self.environment: dict[str, dict[str, str]] = {}
        self.writes: list[Write] = []
        self.posts: list[str] = []
        self.events: list[tuple[float, int, str, Any]] = []
        self.order = itertools.count()
        self.ticks: Counter = Counter()
        self.operator_outcomes: list[str] = []
        self.primary_lost_at: float | None = None
        self.crash_activation: set[str] = set()
        self.concurrent_ticks = False  # while the schedule runs (not while it is wound up)
        self.ticking = False

    # --- time, and running code in a region --------------------------------------------------

    def wall(self) -> float:
        return EPOCH_BASE + self.clock.now + self.schedule.drift.get(self.net.caller.get() or "", 0.0)

    def settle(self) -> None:
        self.replicator.observe()
        self.replicator.deliver_due()
        self.replicator.observe()

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float, step: float = 0.25) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.advance(min(step, end - self.clock.now))
            self.settle()
            self._ticks_due()

    def _ticks_due(self) -> None:
        """The failover functions run on their own schedule, also while a request in some region
        waits (for its confirmation, a back-off): a tick that falls due then runs at that point,
        as a concurrent invocation would, instead of after the request."""
        if not self.concurrent_ticks or self.ticking:
            return
        due = [event for event in self.events if event[2] == "tick" and event[0] <= self.clock.now]
        if not due:
            return
        self.events = [event for event in self.events if event not in due]
        heapq.heapify(self.events)
        for _when, _, _kind, region in sorted(due):
            self._on_tick(region)

    @contextlib.contextmanager
    def in_region(self, region: str | None) -> Iterator[None]:
        saved = {k: os.environ.get(k) for k in self.environment.get(region, {})}
        os.environ.update(self.environment.get(region, {}))
        token = self.net.caller.set(region)
        try:
            yield
        finally:
            self.net.caller.reset(token)
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v
            self.settle()

    # --- setup --------------------------------------------------------------------------------

    def build(self) -> None:

        voters = {region: f"lease-voter-{region}" for region in self.schedule.voters}
        create_voter_tables(voters)
        for region in self.schedule.serving:
            self.regional[region] = make_regional_resources(region)
            self.environment[region] = {
                **self.regional[region].environment,
                "WRITE_LEASE": "on",
                "LEASE_VOTERS": json.dumps(voters, sort_keys=True),
                "LEASE_SECONDS": str(int(LEASE_SECONDS)),
                "SERVING_REGIONS": json.dumps(list(self.schedule.serving)),
                "EVACUATED_REGIONS": "[]",
                "WRITE_FAILOVER": "automatic",
                "HOME_REGION": self.schedule.serving[0],
            }

    def settings(self, region: str):
        from shared import failover

        return failover.Settings(
            region=region,
            regions=self.schedule.serving,
            evacuated=frozenset(),
            automatic=True,
            lease_seconds=LEASE_SECONDS,
            table=TABLE,
        )

    # --- the event loop -----------------------------------------------------------------------

    def at(self, when: float, kind: str, payload: Any = None) -> None:
        heapq.heappush(self.events, (when, next(self.order), kind, payload))

    def run(self) -> None:
        s = self.schedule
        for index, region in enumerate(s.serving):
            self.at(index * 0.5, "tick", region)
            self.at(2 + index, "drain", region)
        self.at(3.0, "write")
        self.at(s.fault_at, "fault")
        self.at(s.fault_at + s.fault_seconds, "heal")
        self.at(5.0, "poll")
        self.concurrent_ticks = True
        while self.events and self.events[0][0] <= s.duration:
            when, _, kind, payload = heapq.heappop(self.events)
            if when > self.clock.now:
                self.advance(when - self.clock.now)
            getattr(self, f"_on_{kind}")(payload)
        self.concurrent_ticks = False
        self._finish()

    def _up(self, region: str) -> bool:
        return region not in self.net.down

    def _on_tick(self, region: str) -> None:
        from shared import deadline, failover

        self.at(self.clock.now + LEASE_SECONDS / 2 + self.rng.uniform(-1, 1), "tick", region)
        if not self._up(region):
            return
        self.ticking = True
        try:
            # its own invocation: not bound by the deadline of a request it interrupts
            with self.in_region(region), self._promoter_crash(region), deadline.within(None, 0):
                report = failover.tick(self.settings(region), drained=lambda: False)
                self.ticks[report.action] += 1
        except Exception as error:  # a crashed promoter, an unreachable local replica
            self.ticks[f"crashed: {type(error).__name__}"] += 1
        finally:
            self.ticking = False

    @contextlib.contextmanager
    def _promoter_crash(self, region: str) -> Iterator[None]:
        """In a `promoter_crash` schedule, the first region to take the lease dies right after
        taking it on the voters, before writing its control item."""
        from shared import failover

        if region not in self.crash_activation:
            yield
            return

        def crashed(*_args, **_kwargs):
            self.crash_activation.clear()
            raise RuntimeError("the promoter crashed after taking the lease, before activating it")

        with _patched(failover, "activate", crashed):
            yield

    def _on_drain(self, region: str) -> None:
        from retry.app import handler

        self.at(self.clock.now + self.rng.uniform(2, 5), "drain", region)
        if not self._up(region):
            return
        regional = self.regional[region]
        with self.in_region(region):
            drain_queue(regional.sqs, regional.retry_queue_url, handler, rounds=3)

    # --- clients --------------------------------------------------------------------------------

    def _on_write(self, _payload: Any) -> None:
        if self.clock.now > self.schedule.writes_until:
            return
        self.at(self.clock.now + self.rng.expovariate(1 / 1.5), "write")
        roll = self.rng.random()
        number = len(self.writes)
        key = f"w{self.schedule.seed}-{number:05d}"
        if roll < 0.25 or not self.posts:
            write = Write(number, "create", key, "POST", "/posts", body={"title": f"t{number}", "body": "b"})
        elif roll < 0.7:
            write = Write(number, "update", key, "PUT", "", post_id=self.rng.choice(self.posts))
        elif roll < 0.8:
            write = Write(number, "delete", key, "DELETE", "", post_id=self.rng.choice(self.posts))
        else:
            write = Write(
                number, "subscribe", key, "POST", "/subscribers", body={"email": f"r{self.rng.randrange(60)}@example.com"}
            )
        write.sent_at = self.clock.now
        self.writes.append(write)
        self._send(write, self.rng.choice(self.schedule.serving))

    def _send(self, write: Write, region: str) -> None:
        if len(write.attempts) >= 4 or write.decided:
            return
        if not self._up(region):
            write.attempts.append((self.clock.now, region, 0))  # connection refused
            self._retry(write, region, delay=0.0)
            return
        with self.in_region(region):
            if write.kind in ("update", "delete") and write.body is None and write.query is None:
                status, post, _ = call_api("GET", f"/posts/{write.post_id}")
                if status != 200:
                    write.decided = True  # nothing to change: the client moves on
                    return
                write.path = f"/posts/{write.post_id}"
                if write.kind == "update":
                    write.body = {"version": post["version"], "title": f"u{write.number}"}
                else:
                    write.query = {"version": str(post["version"])}
            started = self.clock.now
            status, body, headers = call_api(
                write.method, write.path, body=write.body, query=write.query, headers={"Idempotency-Key": write.key}
            )
        if self.clock.now - started > API_TIMEOUT_SECONDS:
            status = 504  # API Gateway gave up on the function
        write.attempts.append((self.clock.now, region, status))
        if status in (200, 201, 204):
            write.token, write.decided = headers.get("X-Write-Id"), True
            write.acked_at = write.acked_at or self.clock.now
            if write.kind == "create" and isinstance(body, dict):
                self.posts.append(body["id"])
        elif status == 202:
            write.token = headers.get("X-Write-Id")
            if write.kind == "create" and isinstance(body, dict):
                self.posts.append(body["id"])
        elif status in (404, 409, 422):
            write.decided = write.rejected = True
        else:
            self._retry(write, region)

    def _retry(self, write: Write, failed_region: str, delay: float | None = None) -> None:
        others = [r for r in self.schedule.serving if r != failed_region]
        target = self.rng.choice(others) if others else failed_region
        self.at(self.clock.now + (delay if delay is not None else self.rng.uniform(1, 3)), "resend", (write, target))

    def _on_resend(self, payload: tuple[Write, str]) -> None:
        self._send(*payload)

    def _on_poll(self, _payload: Any) -> None:
        self.at(self.clock.now + 5.0, "poll")
        live = [r for r in self.schedule.serving if self._up(r)]
        for write in self.writes:
            if write.token and not write.decided and live:
                self._poll(write, self.rng.choice(live))

    def _poll(self, write: Write, region: str) -> None:
        with self.in_region(region):
            status, fate, _ = call_api("GET", f"/writes/{write.token}")
        if status != 200:
            return
        if fate.get("state") == "applied":
            write.acked_at, write.decided = write.acked_at or self.clock.now, True
        elif fate.get("state") in ("rejected", "dead_lettered"):
            write.decided = write.rejected = True

    # --- faults ---------------------------------------------------------------------------------

    def holder(self) -> str | None:
        from shared.lease import Voters

        voters = Voters({r: f"lease-voter-{r}" for r in self.schedule.voters}, self._operator_client)
        latest = voters.read().latest
        return latest.holder if latest else None

    def _operator_client(self, region: str):
        from verify.harness import setup_client

        return _Reachable(setup_client("dynamodb", region), region, self.net)

    def _on_fault(self, _payload: Any) -> None:
        s = self.schedule
        primary = self.holder() or s.serving[0]
        others = [r for r in s.voters if r != primary]
        if s.scenario in ("primary_crash", "promoter_crash"):
            self._crash(primary)
            if s.scenario == "promoter_crash":
                self.crash_activation = {r for r in s.serving if r != primary}
        elif s.scenario == "primary_isolated":
            self.primary_lost_at = self.clock.now
            for other in others:
                self._cut(primary, other)
        elif s.scenario == "pair_partition":
            a, b = self.rng.sample(list(s.voters), 2)
            self._cut(a, b)
        elif s.scenario == "one_way_partition":
            a, b = self.rng.sample(list(s.voters), 2)
            self.net.cut.add((a, b))
            self.replicator.cut.add((a, b))
        elif s.scenario == "minority_down":
            self._crash(self.rng.choice(others), primary_loss=False)
        elif s.scenario == "operators_race":
            self._operators_race(primary)

    def _crash(self, region: str, *, primary_loss: bool = True) -> None:
        from shared import control, failover

        self.net.down.add(region)
        self.replicator.down.add(region)
        if primary_loss:
            self.primary_lost_at = self.clock.now
        control._caches.pop(region, None)
        failover._held.pop(region, None)

    def _cut(self, a: str, b: str) -> None:
        for pair in ((a, b), (b, a)):
            self.net.cut.add(pair)
            self.replicator.cut.add(pair)

    def _on_heal(self, _payload: Any) -> None:
        from shared import control, failover

        for region in list(self.net.down):
            control._caches.pop(region, None)  # a cold start: what it cached is gone
            failover._held.pop(region, None)
        self.net.down.clear()
        self.net.cut.clear()
        self.replicator.down.clear()
        self.replicator.cut.clear()

    def _operators_race(self, primary: str) -> None:
        """Two operators promote at once: the second runs its whole promotion between the
        first's reading of the voters and its first write to them."""
        from shared.lease import Voters

        from ops import promotion

        targets = [r for r in self.schedule.serving if r != primary]
        first, second = targets[0], targets[-1]  # two regions: both promote the same one
        cluster = promotion.Cluster(
            table=TABLE,
            regions=self.schedule.serving,
            voter_tables={r: f"lease-voter-{r}" for r in self.schedule.voters},
            dynamodb=self._operator_client,
            drained=lambda _r: False,
            lease_seconds=LEASE_SECONDS,
        )
        clock_ms = lambda: int((EPOCH_BASE + self.clock.now) * 1000)  # noqa: E731  (the operators' clocks are true)
        real = {name: getattr(Voters, name) for name in ("acquire", "take_over")}
        raced = {"done": False}

        def racing(name):
            def call(voters, *args, **kwargs):
                if not raced["done"]:
                    raced["done"] = True
                    self.operator_outcomes.append(self._promote(cluster, second, clock_ms))
                return real[name](voters, *args, **kwargs)

            return call

        with contextlib.ExitStack() as stack:
            for name in real:
                stack.enter_context(_patched(Voters, name, racing(name)))
            self.operator_outcomes.insert(0, self._promote(cluster, first, clock_ms))

    def _promote(self, cluster, target: str, clock_ms) -> str:
        from ops import promotion

        try:
            report = promotion.promote(cluster, target, now_ms=clock_ms, sleep=self.advance, force=True)
        except promotion.PromotionRefused as refused:
            return f"refused: {refused}"
        return report.lines()[0]

    # --- the end --------------------------------------------------------------------------------

    def _finish(self) -> None:
        """Heal, let the regions settle, drain every queue, converge, and read every fate."""
        from retry.app import handler

        self._on_heal(None)
        for _round in range(40):
            for region in self.schedule.serving:
                regional = self.regional[region]
                with self.in_region(region):
                    drain_queue(regional.sqs, regional.retry_queue_url, handler, rounds=20, advance=self._time_with_ticks)
            self._time_with_ticks(LEASE_SECONDS / 2)
            self._on_poll(None)
            if all(w.decided or not w.token for w in self.writes) and self.replicator.idle():
                break
        while not self.replicator.idle():
            self.advance(self.schedule.lag + self.schedule.jitter + 0.25)

    def _time_with_ticks(self, seconds: float) -> None:
        """Time passing at the end as it does in a deployed stack: every region ticking every half
        lease (what waits for a delayed message must not let the lease lapse meanwhile)."""
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.advance(min(LEASE_SECONDS / 2, end - self.clock.now))
            for region in self.schedule.serving:
                self._on_tick(region)


class _Reachable:
    """An operator's client: refused while the region is down (the operator's own network is fine)."""

    def __init__(self, client, region: str, net: Network):
        self.client, self.region, self.net = client, region, net

    def __getattr__(self, name: str):
        call = getattr(self.client, name)

        def guarded(*args, **kwargs):
            from botocore.exceptions import EndpointConnectionError

            if self.region in self.net.down:
                raise EndpointConnectionError(endpoint_url=f"https://dynamodb.{self.region}.amazonaws.com")
            return call(*args, **kwargs)

        return guarded


@contextlib.contextmanager
def _patched(owner, name: str, value) -> Iterator[None]:
    from unittest import mock

    with mock.patch.object(owner, name, value):
        yield


# --- the checker --------------------------------------------------------------------------------


@dataclass
class Verdict:
    seed: int
    scenario: str
    serving: int
    lag: float
    beyond_drift: bool
    writes: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    overwritten: int = 0
    overlapping_leases: int = 0
    undecided: int = 0
    dead_lettered: int = 0
    diverged: int = 0
    write_rto_seconds: float | None = None
    operators: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.overwritten or self.overlapping_leases or self.diverged)


def _items(region: str) -> dict[tuple[str, str], dict]:
    table = backend(region).tables[TABLE]
    out = {}
    for item in table.all_items():
        plain = item.to_json()["Attributes"]
        out[(plain["pk"]["S"], plain["sk"]["S"])] = plain
    return out


def _number(attribute: dict | None) -> int | None:
    return int(attribute["N"]) if attribute and "N" in attribute else None


def final_fates(cluster: Cluster) -> dict[int, dict]:
    """Every write's fate as a client asks for it at the end (GET /writes/{id}), in one region:
    the replicas agree by then."""
    fates = {}
    with cluster.in_region(cluster.schedule.serving[0]):
        for write in cluster.writes:
            if write.token:
                status, fate, _ = call_api("GET", f"/writes/{write.token}")
                fates[write.number] = fate if status == 200 else {"state": f"unreadable ({status})"}
    return fates


def check(cluster: Cluster) -> Verdict:
    s = cluster.schedule
    verdict = Verdict(s.seed, s.scenario, len(s.serving), round(s.lag, 2), s.beyond_drift, writes=len(cluster.writes))
    replicas = {r: _items(r) for r in s.serving}
    final = replicas[s.serving[0]]
    for region, items in replicas.items():
        if items != final:
            verdict.diverged += 1
            verdict.failures.append(f"replica {region} did not converge")
    fates = final_fates(cluster)
    claims: dict[str, list[tuple[int, str]]] = defaultdict(list)  # item -> (version, write id) applied
    for write in cluster.writes:
        fate = fates.get(write.number, {})
        applied = fate.get("state") == "applied"
        if write.acked_at is not None:
            verdict.acknowledged += 1
            if not applied:
                verdict.lost += 1
                verdict.failures.append(
                    f"write {write.key} ({write.kind}) acknowledged at {write.acked_at:.1f} s, finally {fate.get('state')}"
                )
        if write.token and fate.get("state") == "pending":
            verdict.undecided += 1
        verdict.dead_lettered += fate.get("state") == "dead_lettered"
        record = final.get((f"REQ#{write.write_id}", "REQ"))
        if applied and record and "item_pk" in record:
            claims[record["item_pk"]["S"]].append((_number(record["item_version"]) or 0, write.write_id))
    for item_pk, applied in claims.items():
        for version, count in Counter(version for version, _ in applied).items():
            if count > 1:
                verdict.overwritten += count - 1
                verdict.failures.append(f"{item_pk}: {count} writes reported applied made version {version}")
        item = final.get((item_pk, item_pk.split("#", 1)[0]))
        writer = (item or {}).get("write_id", {}).get("S")
        made = {write_id: version for version, write_id in applied}
        if item is None or (writer in made and made[writer] != _number(item.get("version"))):
            verdict.duplicated += 1
            verdict.failures.append(f"{item_pk}: the item does not show its writes' versions")
    verdict.overlapping_leases = _overlaps(cluster.net.landed, cluster.net.granted, verdict)
    verdict.write_rto_seconds = _write_rto(cluster)
    verdict.operators = list(cluster.operator_outcomes)
    return verdict


def _overlaps(landed: list[tuple[float, int, str]], granted: list[tuple[float, int, str]], verdict: Verdict) -> int:
    """Writes that landed under an epoch after a later epoch's lease was granted, epochs whose
    writes interleave in time, and epochs whose writes landed in two regions."""
    overlaps = 0
    for when, epoch, region in landed:
        later = [(t, e, holder) for t, e, holder in granted if e > epoch and t < when]
        if later:
            overlaps += 1
            t, e, holder = min(later)
            verdict.failures.append(
                f"a write landed in {region} under epoch {epoch} at {when:.2f} s, after {holder} got epoch {e} at {t:.2f} s"
            )
    spans: dict[int, tuple[float, float, set[str]]] = {}
    for when, epoch, region in landed:
        first, last, regions = spans.get(epoch, (when, when, set()))
        spans[epoch] = (min(first, when), max(last, when), regions | {region})
    ordered = sorted(spans.items())
    for (epoch, (_, last, regions)), (later, (first, _, _)) in itertools.pairwise(ordered):
        if first < last:
            overlaps += 1
            verdict.failures.append(f"epoch {later} took a write at {first:.2f} s, before epoch {epoch}'s last at {last:.2f} s")
        if len(regions) > 1:
            overlaps += 1
            verdict.failures.append(f"epoch {epoch} writes landed in {sorted(regions)}")
    return overlaps


def _write_rto(cluster: Cluster) -> float | None:
    """From the primary's loss to the first write acknowledged under a later epoch (a new primary)."""
    lost = cluster.primary_lost_at
    if lost is None:
        return None
    before = [epoch for when, epoch, _ in cluster.net.landed if when <= lost]
    old_epoch = max(before, default=0)
    final = _items(cluster.schedule.serving[0])
    acked = []
    for write in cluster.writes:
        record = final.get((f"REQ#{write.write_id}", "REQ"))
        if write.sent_at >= lost and write.acked_at is not None and record and (_number(record.get("epoch")) or 0) > old_epoch:
            acked.append(write.acked_at)
    return round(min(acked) - lost, 1) if acked else None


# --- running ------------------------------------------------------------------------------------


@contextlib.contextmanager
def world(schedule: Schedule) -> Iterator[Cluster]:
    from moto import mock_aws
    from shared import clock

    configure()
    cluster = Cluster(schedule)
    with mock_aws(), fast_transactions(), _granting_recorded(cluster), _seeded(schedule.seed):
        reset_handler_state()
        with injected(cluster.net), powertools_on(cluster.clock), clock.use(now=cluster.wall, sleep=cluster.sleep):
            cluster.build()
            yield cluster
        reset_handler_state()
    configure()


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """The handlers' own randomness (back-off jitter, request and upload ids) from the schedule's
    seed, so that one schedule replays the same history in any worker, after any other."""
    import uuid
    from unittest import mock

    ids = random.Random(f"ids-{seed}")
    saved = random.getstate()
    random.seed(f"handlers-{seed}")
    try:
        with mock.patch.object(uuid, "uuid4", lambda: uuid.UUID(int=ids.getrandbits(128), version=4)):
            yield
    finally:
        random.setstate(saved)


@contextlib.contextmanager
def _granting_recorded(cluster: Cluster) -> Iterator[None]:
    """Record each lease a majority of voters granted (by an automatic or a manual promotion)."""
    from shared.lease import Voters

    real = {name: getattr(Voters, name) for name in ("acquire", "take_over")}

    def recording(name):
        def call(voters, lease, *args, **kwargs):
            outcome = real[name](voters, lease, *args, **kwargs)
            if len(outcome.granted) >= voters.majority:
                cluster.net.granted.append((cluster.clock.now, lease.epoch, lease.holder))
            return outcome

        return call

    with contextlib.ExitStack() as stack:
        for name in real:
            stack.enter_context(_patched(Voters, name, recording(name)))
        yield


def run_schedule(schedule: Schedule) -> Verdict:
    """One schedule, quietly (the handlers' logs and metrics go nowhere)."""
    import io
    import logging

    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()), world(schedule) as cluster:
            cluster.run()
            return check(cluster)
    finally:
        logging.disable(logging.NOTSET)


def summarize(verdicts: list[Verdict]) -> dict[str, Any]:
    rtos = [v.write_rto_seconds for v in verdicts if v.write_rto_seconds is not None]
    return {
        "schedules": len(verdicts),
        "writes": sum(v.writes for v in verdicts),
        "acknowledged": sum(v.acknowledged for v in verdicts),
        "lost": sum(v.lost for v in verdicts),
        "duplicated": sum(v.duplicated for v in verdicts),
        "overwritten": sum(v.overwritten for v in verdicts),
        "overlapping_leases": sum(v.overlapping_leases for v in verdicts),
        "diverged": sum(v.diverged for v in verdicts),
        "undecided": sum(v.undecided for v in verdicts),
        "dead_lettered": sum(v.dead_lettered for v in verdicts),
        "scenarios": dict(Counter(v.scenario for v in verdicts)),
        "write_rto_median_seconds": round(statistics.median(rtos), 1) if rtos else None,
        "write_rto_max_seconds": max(rtos) if rtos else None,
        "write_rto_samples": len(rtos),
        # Per scenario: a partition that leaves no serving region with a majority of voters has
        # no write primary until it heals (the lease refuses two), so its RTO is the partition's.
        "write_rto_by_scenario": {
            scenario: (round(statistics.median(found), 1), max(found), len(found))
            for scenario in sorted({v.scenario for v in verdicts})
            if (found := [v.write_rto_seconds for v in verdicts if v.scenario == scenario and v.write_rto_seconds is not None])
        },
        # The slowest takeovers, to replay one: --start SEED --schedules 1 (and the same --lag).
        "write_rto_slowest": [
            (v.seed, v.scenario, v.write_rto_seconds)
            for v in sorted(verdicts, key=lambda v: -(v.write_rto_seconds or 0))[:5]
            if v.write_rto_seconds is not None
        ],
    }


def _run_seeds(seeds: list[int], lag: float | None = None) -> list[Verdict]:
    return [run_schedule(schedule_of(seed, lag=lag)) for seed in seeds]


def long_outage(hours: float, seed: int = 1) -> Verdict:
    """The primary's region down for `hours`; clients write for the first ten minutes of it (the
    deferred ones wait in the queues the whole time), then the region comes back."""
    return run_schedule(
        schedule_of(seed, lag=1.0, scenario="primary_crash", fault_seconds=hours * 3600, writes_for=600, short=True)
    )


def render_markdown(summary: dict[str, Any], outage: Verdict | None, hours: float) -> str:
    lines = [
        "| schedules | acknowledged writes | lost | duplicated | overwritten | overlapping leases | diverged | "
        "undecided after healing | write RTO median / max |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {summary['schedules']} | {summary['acknowledged']} | {summary['lost']} | {summary['duplicated']} | "
        f"{summary['overwritten']} | {summary['overlapping_leases']} | {summary['diverged']} | {summary['undecided']} | "
        f"{summary['write_rto_median_seconds']} s / {summary['write_rto_max_seconds']} s |",
        "",
        "Scenarios: "
        + ", ".join(f"{name} {count}" for name, count in sorted(summary["scenarios"].items()))
        + "; "
        + (f"replication lag {summary['lag']:g} s" if summary.get("lag") is not None else "replication lag 0.1-5 s")
        + f" (jitter 30 %); {summary['seconds']} s on {summary['workers']} workers.",
        "",
        "| scenario | schedules with a primary lost | write RTO median | max |",
        "|---|---|---|---|",
        *(
            f"| {name} | {count} | {median} s | {worst} s |"
            for name, (median, worst, count) in sorted(summary["write_rto_by_scenario"].items())
        ),
        "",
        "Slowest takeovers (replay one with `--start SEED --schedules 1`): "
        + ", ".join(f"seed {seed} {scenario} {rto} s" for seed, scenario, rto in summary["write_rto_slowest"])
        + ".",
    ]
    if outage is not None:
        lines += [
            "",
            f"Primary region down for {hours:g} hours: {outage.acknowledged} writes acknowledged, {outage.lost} lost, "
            f"{outage.undecided} undecided and {outage.dead_lettered} dead-lettered after it came back; "
            f"write RTO {outage.write_rto_seconds} s.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.partition_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--start", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lag", type=float, help="one replication lag (s) for every schedule, instead of 0.1-5 s")
    parser.add_argument("--outage-hours", type=float, default=2.0, help="also one outage this long (0: none)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--readme", action="store_true", help="replace the partitions table in README.md")
    args = parser.parse_args(argv)
    seeds = list(range(args.start, args.start + args.schedules))
    started = time.perf_counter()
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        chunks = [seeds[i :: args.workers] for i in range(args.workers)]
        with ProcessPoolExecutor(args.workers) as pool:
            verdicts = [v for chunk in pool.map(_run_seeds, chunks, [args.lag] * len(chunks)) for v in chunk]
    else:
        verdicts = _run_seeds(seeds, args.lag)
    outage = long_outage(args.outage_hours) if args.outage_hours > 0 else None
    summary = summarize(verdicts) | {"seconds": round(time.perf_counter() - started), "lag": args.lag, "workers": args.workers}
    if args.json:
        print(json.dumps(summary, indent=2))
    table = render_markdown(summary, outage, args.outage_hours)
    sys.stdout.write(table)
    if args.readme:
        from verify.readme import replace_section

        replace_section("partitions", table)
    failed = [v for v in verdicts + ([outage] if outage else []) if not v.ok]
    for verdict in failed:
        print(f"seed {verdict.seed} ({verdict.scenario}): {'; '.join(verdict.failures[:3])}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
