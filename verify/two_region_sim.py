"""Two regions, their real handlers over moto, and a global table that replicates like one
(verify/replication.py). Time is virtual: nothing sleeps.

`TwoRegions` runs the regions' API, write-retry, welcome and bounce handlers against their own
replica (each with its own caches, as separate Lambda processes would have), their failover
ticks every half lease against three lease voters (the regions' and a witness's), the operator's
promotions (ops/promotion.py) and partitions (`isolate`), and judges the outcome:

- silently lost updates: writes answered 2xx (or 202 and later applied) whose effect is not in
  the converged table without a later acknowledged write that explains it (two acknowledged
  edits that both claim version N; an acknowledged delete whose post came back; an acknowledged
  edit that a concurrent one overwrote);
- welcome emails against subscribers, suppression counts against complaints.

Scenarios (`scenario_*`) are scripted; `random_writes` is seeded. `python -m verify.two_region_sim`
prints the figures the README quotes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from verify.event_filter import matches
from verify.faults import FaultInjector, Rule, VirtualClock, injected, powertools_on
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
from verify.replication import TABLE, Replicator
from verify.replication import backend as _backend
from verify.replication import shard as _shard

REGIONS = ("us-east-1", "us-west-2")
WITNESS = "us-east-2"  # the write lease's third voter, as in the dr stack
VOTERS = {r: f"lease-voter-{r}" for r in (*REGIONS, WITNESS)}
LEASE_SECONDS = 30.0
# Time between a consumer's failed attempt and SQS delivering the message again (visibility
# timeout, 6 x the consumer's timeout in the stack); long enough for cached control items to expire.
CONSUMER_REDELIVERY_SECONDS = 10.0
# A failed record's next delivery (SQS: the visibility timeout, 6 x 30 s in the stack).
REDELIVERY_SECONDS = 180.0
VIEWS_BATCH_SIZE = 100  # the views mapping's batch size in the stack
ACCOUNT = "123456789012"


@dataclass
class Ack:
    region: str
    kind: str  # create, update, delete, subscribe
    post_id: str | None
    status: int
    base: int | None = None  # the version the write expected (updates and deletes)
    version: int | None = None
    title: str | None = None
    token: str | None = None
    deferred: bool = False  # answered 202 first


class TwoRegions:
    """Both regions' handlers, one replicated table, a virtual clock. Use inside `world()`."""

    def __init__(
        self,
        *,
        lag: float,
        seed: int = 0,
        write_mode: str = "single-primary",
        automatic: bool = True,
        lease_seconds: float = LEASE_SECONDS,
    ):
        self.clock = VirtualClock()
        self.lease_seconds = lease_seconds
        self.automatic = automatic  # writeFailover: automatic, or manual (only the operator promotes)
        self.rng = random.Random(seed)
        self.write_mode = write_mode
        self.replicator = Replicator(REGIONS, self.clock, lag)
        self.regional: dict[str, Any] = {}
        self.acks: list[Ack] = []
        self.welcome_position = dict.fromkeys(REGIONS, 0)
        self.injector: FaultInjector | None = None
        self.last_tick = float("-inf")
        self.grants: dict[str, list[float]] = defaultdict(list)  # when each region took the lease
        self.isolated: str | None = None
        self.ticking = False

    @property
    def leased(self) -> bool:
        return self.write_mode == "single-primary"

    # --- running handlers in a region -------------------------------------------------------

    @contextlib.contextmanager
    def region(self, name: str) -> Iterator[None]:
        overrides = {**self.regional[name].environment, "WRITE_MODE": self.write_mode, **self.lease_environment()}
        saved = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        rules = list(self.injector.rules) if self.injector else []
        if self.injector and self.isolated:
            # Across the partition nothing answers; within it, everything does (a nested region's
            # handlers see their own side of it).
            beyond = [r for r in (*REGIONS, WITNESS) if r != name] if name == self.isolated else [self.isolated]
            unpartitioned = [r for r in rules if not isinstance(r, _Partition)]
            self.injector.rules = unpartitioned + [_Partition(fault="connect_timeout", region=r) for r in beyond]
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)  # nothing of this region's may leak into the next test
                else:
                    os.environ[k] = v
            if self.injector:
                self.injector.rules = rules
            self.settle()

    def isolate(self, region: str) -> None:
        """Cut `region` off from the other regions and the witness: replication stops both ways,
        and its handlers reach only its own replica and voter (nobody else reaches them)."""
        self.isolated = region
        self.replicator.cut |= {(region, r) for r in REGIONS if r != region} | {(r, region) for r in REGIONS if r != region}

    def heal(self) -> None:
        self.isolated = None
        self.replicator.cut.clear()

    def granted_at(self, region: str) -> float | None:
        """When `region` last took the lease at a failover tick (None: never)."""
        return self.grants[region][-1] if self.grants[region] else None

    def lease_environment(self) -> dict[str, str]:
        if not self.leased:
            return {"WRITE_LEASE": "off"}
        return {
            "WRITE_LEASE": "on",
            "LEASE_VOTERS": json.dumps(VOTERS, sort_keys=True),
            "LEASE_SECONDS": str(int(self.lease_seconds)),
            "SERVING_REGIONS": json.dumps(list(REGIONS)),
            "EVACUATED_REGIONS": "[]",
            "HOME_REGION": REGIONS[0],
        }

    def settle(self) -> None:
        """Let time pass for replication: stamp new writes, deliver what is due."""
        self.replicator.observe()
        self.replicator.deliver_due()
        self.replicator.observe()

    def pass_time(self, seconds: float, step: float = 0.25) -> None:
        """Time passing in the deployed stack: replication, and each region's failover tick every
        half lease (the health checks' pace), which keeps the primary's lease. A handler waiting
        on its clock (a write for its confirmation) sees the same."""
        end = self.clock.now + seconds
        step = min(step, self.lease_seconds / 2) if self.leased else step
        while self.clock.now < end:
            self.clock.advance(min(step, end - self.clock.now))
            self.settle()
            if self.leased and not self.ticking and self.clock.now - self.last_tick >= self.lease_seconds / 2:
                self.tick()

    advance = pass_time

    def tick(self) -> list[str]:
        from shared import failover

        self.last_tick = self.clock.now
        self.ticking = True  # a tick's own waits do not start another
        try:
            return self._tick_each_region(failover)
        finally:
            self.ticking = False

    def _tick_each_region(self, failover) -> list[str]:
        actions = []
        for region in REGIONS:
            with self.region(region):
                settings = failover.Settings(
                    region=region,
                    regions=REGIONS,
                    evacuated=frozenset(),
                    automatic=self.automatic,
                    lease_seconds=self.lease_seconds,
                    table=TABLE,
                )
                report = failover.tick(settings, drained=lambda: False)
            if report.action == "acquired":
                self.grants[region].append(self.clock.now)
            actions.append(report.action)
        return actions

    def converge(self) -> None:
        self.settle()  # writes made outside a region's handlers (an operator's) replicate too
        while not self.replicator.idle():
            self.advance(self.replicator.lag or 0.25)

    def api(self, region: str, method: str, path: str, **kwargs) -> tuple[int, Any, dict]:
        with self.region(region):
            return call_api(method, path, **kwargs)

    def drain_retries(self, region: str) -> None:
        from retry.app import handler

        with self.region(region):
            drain_queue(
                self.regional[region].sqs, self.regional[region].retry_queue_url, handler, rounds=50, advance=self.advance
            )

    def run_welcome(self, region: str) -> int:
        """Deliver the region's new stream records to its welcome consumer, filtered as the mapping
        does; returns the deliveries made (a failed record is delivered again)."""
        from welcome.app import handler

        return self.deliver(region, handler, self.new_welcome_records(region), key=lambda r: r["dynamodb"]["SequenceNumber"])

    def new_welcome_records(self, region: str) -> list[dict]:
        """The region's stream records since the last call that its welcome mapping's filter passes,
        as the mapping hands them to the consumer."""
        from stack.event_filters import welcome_filter

        records = _shard(region).items
        batch = []
        for index in range(self.welcome_position[region], len(records)):
            record = {
                **records[index].record,
                "awsRegion": region,
                "eventSourceARN": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{TABLE}/stream/x",
            }
            if matches(welcome_filter(region), record):
                batch.append(record)
        self.welcome_position[region] = len(records)
        return batch

    def deliver(self, region: str, handler, records: list[dict], *, key, rounds: int = 12) -> int:
        """Hand `records` to a batch consumer; redeliver what it reports failed, a visibility
        timeout later (longer than Powertools' in-progress window), until none fail. Returns the
        deliveries made."""
        deliveries = 0
        while records and rounds:
            with self.region(region):
                failures = handler({"Records": records}, FakeContext(function_name="consumer", timeout_ms=30_000))
            deliveries += 1
            failed = {f["itemIdentifier"] for f in failures.get("batchItemFailures", [])}
            records = [r for r in records if key(r) in failed]
            rounds -= 1
            if records:
                self.advance(REDELIVERY_SECONDS, step=REDELIVERY_SECONDS)
        if records:
            raise AssertionError(f"{len(records)} record(s) still failing in {region}")
        return deliveries

    def complaint(self, region: str, address: str, message_id: str, *, copies: int = 1) -> int:
        """An SES complaint delivered `copies` times (SNS and SQS deliver at least once)."""
        from bounces.app import handler

        body = json.dumps(
            {
                "eventType": "Complaint",
                "mail": {"messageId": message_id},
                "complaint": {"complainedRecipients": [{"emailAddress": address}]},
            }
        )
        record = {"messageId": message_id, "body": body, "attributes": {"ApproximateReceiveCount": "1"}}
        return sum(self.deliver(region, handler, [record], key=lambda r: r["messageId"]) for _ in range(copies))

    def cluster(self, reachable: tuple[str, ...] = (*REGIONS, WITNESS), **overrides):
        """The deployed stack as the operator's tools see it (ops/promotion.py), with the regions
        outside `reachable` cut off from the operator."""
        import boto3

        from ops import promotion

        def client(region: str):
            return boto3.client("dynamodb", region_name=region) if region in reachable else _Unreachable(region)

        settings = {
            "table": TABLE,
            "regions": REGIONS,
            "voter_tables": VOTERS,
            "dynamodb": client,
            "drained": lambda _region: False,
            "lease_seconds": self.lease_seconds,
            "write_mode": self.write_mode,
        }
        return promotion.Cluster(**{**settings, **overrides})

    def promote(
        self,
        target: str,
        *,
        reachable: tuple[str, ...] = (*REGIONS, WITNESS),
        force: bool = False,
        out_of_sync: bool = False,
        while_waiting=None,
        **overrides,
    ):
        """The operator's promotion; `while_waiting(seconds)` is what the world does while it
        waits for an unreachable primary's lease to expire (time passing, by default)."""
        from shared import clock

        from ops import promotion

        report = promotion.promote(
            self.cluster(reachable, **overrides),
            target,
            now_ms=clock.now_ms,
            sleep=while_waiting or self.advance,
            force=force,
            out_of_sync=out_of_sync,
        )
        self.settle()
        return report

    # --- judging ----------------------------------------------------------------------------

    def record(
        self,
        region: str,
        kind: str,
        post_id: str | None,
        answer: tuple[int, Any, dict],
        *,
        base: int | None = None,
        title: str | None = None,
    ):
        status, body, headers = answer
        ack = Ack(region, kind, post_id, status, base=base, title=title, token=headers.get("X-Write-Id"), deferred=status == 202)
        if status in (200, 201) and isinstance(body, dict):
            ack.version = body.get("version")
        self.acks.append(ack)
        return answer

    def resolve_deferred(self) -> None:
        """Replace each 202 by the outcome its write id reports (after the consumers ran)."""
        for ack in self.acks:
            if ack.status != 202 or not ack.token:
                continue
            status, fate, _ = self.api(ack.region, "GET", f"/writes/{ack.token}")
            if status == 200 and fate.get("state") == "applied":
                ack.status = fate["status"]
                if isinstance(fate.get("result"), dict):
                    ack.version = fate["result"].get("version")

    def final_posts(self) -> dict[str, dict[str, Any] | None]:
        """Each post as the converged replicas hold it (they must agree)."""
        import boto3

        views = {}
        for region in REGIONS:
            items = boto3.resource("dynamodb", region_name=region).Table(TABLE).scan()["Items"]
            views[region] = {i["pk"][5:]: i for i in items if i["pk"].startswith("POST#")}
        if views[REGIONS[0]] != views[REGIONS[1]]:
            raise AssertionError("the replicas did not converge")
        return {post: (None if item.get("deleted") else item) for post, item in views[REGIONS[0]].items()}

    def lost_updates(self) -> int:
        """Acknowledged writes to posts whose effect the converged table silently dropped: two
        acknowledged writes made against the same version (one of them is gone), or a newest
        acknowledged write that the table does not show (an edit overwritten, a delete undone)."""
        final = self.final_posts()
        lost = 0
        by_post: dict[str, list[Ack]] = defaultdict(list)
        for ack in self.acks:
            if ack.post_id and ack.kind in ("update", "delete") and ack.status in (200, 204):
                by_post[ack.post_id].append(ack)
        for post_id, acks in by_post.items():
            by_base = Counter(a.base for a in acks)
            lost += sum(count - 1 for count in by_base.values())
            newest_base = max(by_base)
            if by_base[newest_base] > 1:
                continue  # already counted: which of the two survived says nothing more
            newest = next(a for a in acks if a.base == newest_base)
            item = final.get(post_id)
            if newest.kind == "delete":
                lost += item is not None
            elif item is None or int(item["version"]) != newest.base + 1 or item.get("title") != newest.title:
                lost += 1
        return lost


class _Partition(Rule):
    """A fault that stands for the partition (`TwoRegions.isolate`), not for the scenario."""


class _Unreachable:
    def __init__(self, region: str):
        self.region = region

    def __getattr__(self, name: str):
        def refuse(*_args, **_kwargs):
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url=f"https://dynamodb.{self.region}.amazonaws.com")

        return refuse


@contextlib.contextmanager
def world(
    *,
    lag: float,
    seed: int = 0,
    write_mode: str = "single-primary",
    automatic: bool = True,
    lease_seconds: float = LEASE_SECONDS,
    environment: dict[str, str] | None = None,
) -> Iterator[TwoRegions]:
    """Both regions in moto, the handlers configured (and `environment` over the defaults),
    faults injectable (`sim.injector.rules`)."""
    from moto import mock_aws

    configure()
    before = {name: os.environ.get(name) for name in environment or {}}
    os.environ.update(environment or {})
    sim = TwoRegions(lag=lag, seed=seed, write_mode=write_mode, automatic=automatic, lease_seconds=lease_seconds)
    try:
        with mock_aws(), fast_transactions():
            reset_handler_state()
            for region in REGIONS:
                sim.regional[region] = make_regional_resources(region)
            create_voter_tables(VOTERS)
            with injected(FaultInjector(sim.clock, seed=seed)) as injector, powertools_on(sim.clock):
                from shared import clock

                sim.injector = injector
                # A handler waiting on its clock (a write for its confirmation) lets replication happen.
                epoch_offset = time.time() - sim.clock.now
                with clock.use(now=lambda: epoch_offset + sim.clock.now, sleep=sim.pass_time):
                    if sim.leased:
                        sim.tick()  # the home region takes the first lease
                        sim.converge()  # and every region learns it before the first request
                    yield sim
            reset_handler_state()
    finally:
        for name, value in before.items():  # what this world set beyond the defaults goes too
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        configure()  # the handlers' default environment again, for whatever runs next


def sent_welcomes() -> int:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return sum(len(ses_backends[DEFAULT_ACCOUNT_ID][r].sent_messages) for r in REGIONS)


# --- scenarios ------------------------------------------------------------------------------


def _new_post(sim: TwoRegions, region: str = REGIONS[0]) -> str:
    status, body, _ = sim.api(region, "POST", "/posts", body={"title": "first", "body": "b"})
    assert status == 201, body
    sim.converge()
    return body["id"]


def scenario_concurrent_edits(sim: TwoRegions, trials: int) -> dict[str, int]:
    """The same post edited in each region inside the replication window."""
    answers = Counter()
    for trial in range(trials):
        post = _new_post(sim)
        for region in REGIONS:
            title = f"{region}-{trial}"
            answer = sim.api(region, "PUT", f"/posts/{post}", body={"version": 1, "title": title})
            sim.record(region, "update", post, answer, base=1, title=title)
            answers[answer[0]] += 1
        sim.converge()
    return {"trials": trials, "lost": sim.lost_updates(), **{f"answered_{k}": v for k, v in sorted(answers.items())}}


def scenario_edit_vs_delete(sim: TwoRegions, trials: int) -> dict[str, int]:
    for trial in range(trials):
        post = _new_post(sim)
        first, second = REGIONS if trial % 2 else REGIONS[::-1]
        edit = sim.api(first, "PUT", f"/posts/{post}", body={"version": 1, "title": f"e{trial}"})
        sim.record(first, "update", post, edit, base=1, title=f"e{trial}")
        sim.record(second, "delete", post, sim.api(second, "DELETE", f"/posts/{post}", query={"version": "1"}), base=1)
        sim.converge()
    return {"trials": trials, "lost": sim.lost_updates()}


def scenario_double_subscription(sim: TwoRegions, subscribers: int) -> dict[str, int]:
    for index in range(subscribers):
        for region in REGIONS:
            sim.api(region, "POST", "/subscribers", body={"email": f"twice{index}@example.com"})
        sim.converge()
        for region in REGIONS:
            sim.run_welcome(region)
    return {"subscribers": subscribers, "welcome_emails": sent_welcomes()}


def scenario_complaints_in_both_regions(sim: TwoRegions, addresses: int) -> dict[str, int]:
    import boto3

    for index in range(addresses):
        for region in REGIONS:
            sim.complaint(region, f"angry{index}@example.com", f"msg-{region}-{index}")
    sim.converge()
    table = boto3.resource("dynamodb", region_name=REGIONS[1]).Table(TABLE)
    counted = sum(
        int(table.get_item(Key={"pk": f"SUPPRESS#angry{i}@example.com", "sk": "SUPPRESS"})["Item"]["count"])
        for i in range(addresses)
    )
    return {"complaints": 2 * addresses, "counted": counted}


class _Writer:
    """Edits a set of posts from both regions in turn, one every 0.1 s, and notes when and under
    which epoch each acknowledged edit was applied."""

    def __init__(self, sim: TwoRegions, posts: int = 4):
        self.sim = sim
        self.posts = [_new_post(sim) for _ in range(posts)]
        self.versions = dict.fromkeys(self.posts, 1)
        self.index = 0
        self.applied: list[tuple[float, str, int | None]] = []  # (time, region answering, epoch)

    def write_once(self) -> None:
        sim, region = self.sim, REGIONS[self.index % 2]
        post = sim.rng.choice(self.posts)
        title = f"w{self.index}"
        answer = sim.api(region, "PUT", f"/posts/{post}", body={"version": self.versions[post], "title": title})
        sim.record(region, "update", post, answer, base=self.versions[post], title=title)
        if answer[0] == 200:
            self.versions[post] = answer[1]["version"]
            self.applied.append((sim.clock.now, region, _applied_epoch(answer[2]["X-Write-Id"])))
        elif answer[0] == 409 and "version" in answer[1]:
            self.versions[post] = answer[1]["version"]
        sim.advance(0.1)
        self.index += 1

    def keep_writing(self, seconds: float) -> None:
        end = self.sim.clock.now + seconds
        while self.sim.clock.now < end:
            self.write_once()

    def finish(self) -> None:
        """Let the deferred writes land, and the replicas converge."""
        sim = self.sim
        sim.advance(CONSUMER_REDELIVERY_SECONDS)
        for region in REGIONS:
            sim.drain_retries(region)
        sim.converge()
        sim.resolve_deferred()

    def acknowledged_under(self, epoch: int, after: float) -> int:
        return sum(1 for at, _, e in self.applied if e == epoch and at > after)


def scenario_promotion(sim: TwoRegions, *, writes: int) -> dict[str, Any]:
    """A planned promotion: both regions edit a set of posts continuously; half-way the operator
    moves the primary to B (fencing A first). Judged: updates lost, and edits acknowledged under
    the old epoch after the new one was granted (the conflict window; 0 under the lease)."""
    new = REGIONS[1]
    writer = _Writer(sim)
    promoted_at = None
    while writer.index < writes or sim.clock.now < promoted_at + 2 * sim.replicator.lag + 2:
        if writer.index == writes // 2 and promoted_at is None:
            report = sim.promote(new)
            promoted_at = sim.clock.now
        writer.write_once()
    writer.finish()
    return {
        "lag_seconds": sim.replicator.lag,
        "writes": writer.index,
        "epoch": report.epoch,
        "deferred": sum(1 for a in sim.acks if a.deferred),
        "acknowledged_by_the_old_primary_after": writer.acknowledged_under(report.epoch - 1, promoted_at),
        "lost": sim.lost_updates(),
    }


def scenario_primary_isolated(sim: TwoRegions, *, writes: int) -> dict[str, Any]:
    """Half-way through continuous edits from both regions, the primary's region is cut off from
    the other region and the witness (its handlers still reach its own replica and answer its
    clients). Nobody promotes: the failover ticks do. Judged after the partition heals: updates
    lost, edits the old primary acknowledged after the other region's lease began, and the write
    RTO (from the cut to the other region's first acknowledged edit)."""
    old, new = REGIONS
    writer = _Writer(sim)
    while writer.index < writes // 2:
        writer.write_once()
    cut_at = sim.clock.now
    sim.isolate(old)

    def taken_over_by_new() -> list[float]:
        return [at for at, region, epoch in writer.applied if region == new and at > cut_at and (epoch or 0) > 0]

    while writer.index < writes or not taken_over_by_new():
        writer.write_once()
        if sim.clock.now - cut_at > 10 * LEASE_SECONDS:
            raise AssertionError(f"{new} took no write within ten leases of the cut")
    first_new = min(taken_over_by_new())
    granted_at = sim.granted_at(new)
    writer.keep_writing(10.0)
    sim.heal()
    writer.finish()
    return {
        "lag_seconds": sim.replicator.lag,
        "writes": writer.index,
        "deferred": sum(1 for a in sim.acks if a.deferred),
        "acknowledged_by_the_old_primary_after": writer.acknowledged_under(0, granted_at),
        "write_rto_seconds": round(first_new - cut_at, 1),
        "lost": sim.lost_updates(),
    }


def _applied_epoch(token: str) -> int | None:
    """The epoch a write was applied under, from its request record in whichever replica holds it
    (None when it was not applied)."""
    for region in REGIONS:
        epoch = _epoch_of(region, token)
        if epoch is not None:
            return epoch
    return None


def _epoch_of(region: str, token: str) -> int | None:
    """The epoch a write was applied under, from its request record in `region`'s replica (None
    when it was not applied there)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    write_id = token.split(".", 1)[0]
    item = _backend(region).tables[TABLE].get_item(DynamoType({"S": f"REQ#{write_id}"}), DynamoType({"S": "REQ"}))
    if item is None:
        return None
    attributes = item.to_json()["Attributes"]
    return int(attributes["epoch"]["N"]) if attributes.get("applied_region", {}).get("S") == region else None


def scenario_primary_down(sim: TwoRegions, writes: int) -> dict[str, Any]:
    """The primary's DynamoDB stops answering while the other region takes subscriptions. Nobody
    promotes: the other region's failover tick takes the lease once the old one expired, and the
    deferred writes are applied there by its write-retry consumer."""
    old, new = REGIONS
    sim.injector.rules = [Rule(fault="connect_timeout", region=old)]
    down_at = sim.clock.now
    statuses = Counter()
    for index in range(writes):
        answer = sim.api(new, "POST", "/subscribers", body={"email": f"during{index}@example.com"})
        sim.record(new, "subscribe", None, answer)
        statuses[answer[0]] += 1
    written_locally = len(sim.replicator.originated(new))
    while sim.granted_at(new) is None:
        sim.advance(1.0)
        if sim.clock.now - down_at > 10 * LEASE_SECONDS:
            raise AssertionError(f"{new} did not take the lease within ten leases")
    promoted_after = sim.granted_at(new) - down_at
    sim.advance(CONSUMER_REDELIVERY_SECONDS)
    sim.drain_retries(new)
    sim.resolve_deferred()
    applied = sum(1 for a in sim.acks if a.kind == "subscribe" and a.status in (200, 201))
    sim.injector.rules = []
    sim.converge()
    return {
        "writes": writes,
        "deferred": statuses[202],
        "written_locally_before_promotion": written_locally,
        "promoted_after_seconds": round(promoted_after, 1),
        "applied_after_promotion": applied,
    }


def scenario_store_failures(
    sim: TwoRegions, *, subscribers: int, complaints: int, views: int, rate: float = 0.2
) -> dict[str, int]:
    """The idempotency store fails after the side effect on `rate` of first deliveries (its
    completion write), and deliveries repeat: welcome emails, complaint counts and view counters
    must still come out exact, because each side effect has its own guard in the data."""
    import boto3
    from views.app import handler as views_handler

    store = frozenset({"idempotency-table"})
    sim.injector.rules = [Rule(fault="http500", rate=rate, tables=store, operations=frozenset({"UpdateItem"}))]
    for index in range(subscribers):
        sim.api(sim.rng.choice(REGIONS), "POST", "/subscribers", body={"email": f"reader{index}@example.com"})
    sim.converge()
    for region in REGIONS:
        sim.run_welcome(region)
    sent = 0
    for index in range(complaints):
        copies = 2 if sim.rng.random() < 0.2 else 1
        sim.complaint(sim.rng.choice(REGIONS), f"angry{index % 7}@example.com", f"msg-{index}", copies=copies)
        sent += 1
    sim.injector.rules = [Rule(fault="http500", rate=rate, operations=frozenset({"UpdateItem"}))]
    post = "a" * 32
    sent_views = Counter()
    for _view in range(views):
        region = sim.rng.choice(REGIONS)
        sim.api(region, "POST", "/events", body={"post_id": post})
        sent_views[region] += 1
    for region in REGIONS:
        records = _kinesis_records(sim.regional[region].kinesis, region)
        for start in range(0, len(records), VIEWS_BATCH_SIZE):
            batch = records[start : start + VIEWS_BATCH_SIZE]
            for _copy in range(2 if sim.rng.random() < 0.5 else 1):  # sometimes a whole batch again
                sim.deliver(region, views_handler, batch, key=lambda r: r["kinesis"]["sequenceNumber"], rounds=50)
    sim.injector.rules = []
    sim.converge()
    table = boto3.resource("dynamodb", region_name=REGIONS[0]).Table(TABLE)
    counted = sum(
        int((table.get_item(Key={"pk": f"SUPPRESS#angry{i}@example.com", "sk": "SUPPRESS"}).get("Item") or {}).get("count", 0))
        for i in range(7)
    )
    views_counted = {
        region: int(table.get_item(Key={"pk": f"VIEWS#{post}", "sk": f"REGION#{region}"}).get("Item", {}).get("count", 0))
        for region in REGIONS
    }
    return {
        "subscribers": subscribers,
        "welcome_emails": sent_welcomes(),
        "complaints": sent,
        "complaints_counted": counted,
        "views": sum(sent_views.values()),
        "views_counted": sum(views_counted.values()),
        "store_failures_injected": sum(v for (op, _), v in sim.injector.injected.items() if op == "UpdateItem"),
    }


def scenario_shuffled_deliveries(sim: TwoRegions, *, subscribers: int, views: int, copies: int = 3) -> dict[str, int]:
    """Subscriptions and page views accepted in both regions; half-way the primary moves, and the
    welcome records so far are delivered at once, before the subscribers replicated to the new
    primary; then every consumer record (again) up to `copies` times, in shuffled order and random
    batches, in the region whose consumer receives it."""
    from views.app import handler as views_handler
    from welcome.app import handler as welcome_handler

    from stack.event_filters import welcome_filter

    post = "c" * 32
    deliveries = 0

    def deliver_welcomes() -> int:
        delivered = 0
        for region in REGIONS:
            stream = [
                {**r.record, "awsRegion": region, "eventSourceARN": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{TABLE}/stream/x"}
                for r in _shard(region).items
            ]
            mail = [r for r in stream if matches(welcome_filter(region), r)]
            delivered += self_deliver_shuffled(
                sim, region, welcome_handler, mail, copies, lambda r: r["dynamodb"]["SequenceNumber"]
            )
        return delivered

    for index in range(subscribers):
        if index == subscribers // 2:
            sim.promote(REGIONS[1])
            deliveries += deliver_welcomes()
        sim.api(sim.rng.choice(REGIONS), "POST", "/subscribers", body={"email": f"shuffled{index}@example.com"})
    for _view in range(views):
        sim.api(sim.rng.choice(REGIONS), "POST", "/events", body={"post_id": post})
    sim.advance(CONSUMER_REDELIVERY_SECONDS)
    for region in REGIONS:
        sim.drain_retries(region)  # subscriptions deferred during the handover
    deliveries += deliver_welcomes()
    for region in REGIONS:
        counted = _kinesis_records(sim.regional[region].kinesis, region)
        deliveries += self_deliver_shuffled(sim, region, views_handler, counted, copies, lambda r: r["kinesis"]["sequenceNumber"])
    sim.converge()
    import boto3

    table = boto3.resource("dynamodb", region_name=REGIONS[0]).Table(TABLE)
    return {
        "subscribers": subscribers,
        "welcome_emails": sent_welcomes(),
        "views": views,
        "views_counted": sum(
            int(table.get_item(Key={"pk": f"VIEWS#{post}", "sk": f"REGION#{r}"}).get("Item", {}).get("count", 0)) for r in REGIONS
        ),
        "deliveries": deliveries,
    }


def self_deliver_shuffled(sim: TwoRegions, region: str, handler, records: list[dict], copies: int, key) -> int:
    """Every record 1..copies times, shuffled, in batches of 1-25; what fails comes back later."""
    pending = [r for r in records for _ in range(sim.rng.randint(1, copies))]
    delivered = 0
    for _round in range(50):
        if not pending:
            return delivered
        sim.rng.shuffle(pending)
        failed: list[dict] = []
        while pending:
            size = sim.rng.randint(1, 25)
            batch, pending = pending[:size], pending[size:]
            with sim.region(region):
                answer = handler({"Records": batch}, FakeContext(function_name="consumer", timeout_ms=30_000))
            delivered += len(batch)
            failing = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            failed += [r for r in batch if key(r) in failing]
        pending = failed
        if pending:
            sim.advance(REDELIVERY_SECONDS, step=REDELIVERY_SECONDS)
    raise AssertionError(f"{len(pending)} record(s) still failing in {region}")


def _kinesis_records(kinesis, region: str) -> list[dict]:
    """The region's events stream as a Lambda Kinesis event's records."""
    import base64

    from verify.harness import read_stream

    return [
        {
            "kinesis": {
                "sequenceNumber": r["SequenceNumber"],
                "data": base64.b64encode(r["Data"]).decode(),
                "partitionKey": r["PartitionKey"],
                "kinesisSchemaVersion": "1.0",
                "approximateArrivalTimestamp": 1790000000.0,
            },
            "eventSource": "aws:kinesis",
            "eventID": f"shardId-000000000000:{r['SequenceNumber']}",
            "eventSourceARN": f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/events",
            "awsRegion": region,
            "eventName": "aws:kinesis:record",
            "eventVersion": "1.0",
            "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/views",
        }
        for r in read_stream(kinesis, "events")
    ]


def random_writes(sim: TwoRegions, writes: int) -> dict[str, int]:
    posts: list[str] = []
    versions: dict[str, int] = {}
    for index in range(writes):
        region = sim.rng.choice(REGIONS)
        roll = sim.rng.random()
        if roll < 0.25 or not posts:
            answer = sim.api(region, "POST", "/posts", body={"title": f"p{index}", "body": "b"})
            if answer[0] == 201:
                posts.append(answer[1]["id"])
                versions[answer[1]["id"]] = 1
        elif roll < 0.85:
            post = sim.rng.choice(posts)
            title = f"r{index}"
            request = {"version": versions[post], "title": title}
            answer = sim.record(
                region, "update", post, sim.api(region, "PUT", f"/posts/{post}", body=request), base=versions[post], title=title
            )
            if answer[0] == 200 or (answer[0] == 409 and "version" in answer[1]):
                versions[post] = answer[1]["version"]
        else:
            post = sim.rng.choice(posts)
            answer = sim.api(region, "DELETE", f"/posts/{post}", query={"version": str(versions[post])})
            sim.record(region, "delete", post, answer, base=versions[post])
            if answer[0] in (204, 404):
                posts.remove(post)
        sim.advance(sim.rng.uniform(0, sim.replicator.lag * 1.5))
    sim.converge()
    return {"writes": writes, "lost": sim.lost_updates()}


def run_all(trials: int, lags: list[float]) -> dict[str, Any]:
    """Every scenario, sized for the README figures (make soak)."""
    results: dict[str, Any] = {"edits": {}, "edit_vs_delete": {}, "promotions": []}
    for mode in ("single-primary", "any-region"):
        with world(lag=1.0, seed=1, write_mode=mode) as sim:
            results["edits"][mode] = scenario_concurrent_edits(sim, trials)
        with world(lag=1.0, seed=2, write_mode=mode) as sim:
            results["edit_vs_delete"][mode] = scenario_edit_vs_delete(sim, trials)
    with world(lag=1.0, seed=3) as sim:
        results["double_subscription"] = scenario_double_subscription(sim, trials)
    with world(lag=1.0, seed=4) as sim:
        results["complaints"] = scenario_complaints_in_both_regions(sim, trials)
    with world(lag=1.0, seed=5) as sim:
        results["store_failures"] = scenario_store_failures(sim, subscribers=trials, complaints=trials, views=4 * trials)
    with world(lag=1.0, seed=8) as sim:
        results["primary_down"] = scenario_primary_down(sim, trials // 4)
    with world(lag=1.5, seed=9) as sim:
        results["random"] = random_writes(sim, 4 * trials)
    with world(lag=2.0, seed=22) as sim:
        results["shuffled"] = scenario_shuffled_deliveries(sim, subscribers=150, views=400)
    for lag in lags:
        with world(lag=lag, seed=10) as sim:
            results["promotions"].append({"how": "planned (old primary fenced)", **scenario_promotion(sim, writes=100)})
        with world(lag=lag, seed=11) as sim:
            results["promotions"].append(
                {"how": "primary cut off, nobody promoting", **scenario_primary_isolated(sim, writes=100)}
            )
    return results


def render_markdown(results: dict[str, Any]) -> str:
    edits, evd = results["edits"], results["edit_vs_delete"]
    store = results["store_failures"]
    lines = [
        "| scenario | single-primary (shipped) | every region writing its own replica (eventual) |",
        "|---|---|---|",
        f"| same post edited in both regions inside the replication window | {edits['single-primary']['lost']} lost of "
        f"{edits['single-primary']['trials']} (one 200, one 409 each) | {edits['any-region']['lost']} lost of {edits['any-region']['trials']} |",
        f"| edit in one region, delete in the other | {evd['single-primary']['lost']} lost of {evd['single-primary']['trials']} | "
        f"{evd['any-region']['lost']} lost of {evd['any-region']['trials']} |",
        f"| random edits and deletes from both regions, lag 1.5 s | {results['random']['lost']} lost of {results['random']['writes']} writes | |",
        "",
        "| side effect | sent or counted | expected |",
        "|---|---|---|",
        f"| welcome emails, one address subscribing in both regions | {results['double_subscription']['welcome_emails']} | "
        f"{results['double_subscription']['subscribers']} |",
        f"| complaints for one address handled in both regions | {results['complaints']['counted']} | {results['complaints']['complaints']} |",
        f"| welcome emails, idempotency store failing on 20 % of completions ({store['store_failures_injected']} failures) | "
        f"{store['welcome_emails']} | {store['subscribers']} |",
        f"| complaint counts, same store failures, 20 % of events delivered twice | {store['complaints_counted']} | {store['complaints']} |",
        f"| page views, 20 % of counter writes failing, batches redelivered | {store['views_counted']} | {store['views']} |",
        f"| welcome emails, {results['shuffled']['deliveries']} shuffled deliveries (each record 1-3 times, batches of 1-25, "
        f"the primary moving half-way) | {results['shuffled']['welcome_emails']} | {results['shuffled']['subscribers']} |",
        f"| page views, the same deliveries | {results['shuffled']['views_counted']} | {results['shuffled']['views']} |",
        "",
        "| primary moves | replication lag | writes deferred (202) | edits the old primary acknowledged after the new lease | write RTO | updates lost |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["promotions"]:
        rto = f"{row['write_rto_seconds']:g} s" if "write_rto_seconds" in row else "planned"
        lines.append(
            f"| {row['how']} | {row['lag_seconds']:g} s | {row['deferred']} | {row['acknowledged_by_the_old_primary_after']} | "
            f"{rto} | {row['lost']} of {row['writes']} |"
        )
    down = results["primary_down"]
    lines += [
        "",
        f"Primary's DynamoDB down while the other region takes writes: {down['deferred']} of {down['writes']} deferred (202), "
        f"{down['written_locally_before_promotion']} written locally, the other region took the lease "
        f"{down['promoted_after_seconds']:g} s after the outage began with nobody promoting, "
        f"{down['applied_after_promotion']} applied there.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.two_region_sim", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--lags", default="0.5,1,2,5")
    parser.add_argument("--readme", action="store_true", help="replace the simulation table in README.md")
    args = parser.parse_args(argv)
    results = run_all(args.trials, [float(x) for x in args.lags.split(",")])
    table = render_markdown(results)
    sys.stdout.write(table)
    if args.readme:
        from verify.readme import replace_section

        replace_section("simulation", table)
    single = results["edits"]["single-primary"]["lost"] + results["edit_vs_delete"]["single-primary"]["lost"]
    return 0 if single == 0 and results["random"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
