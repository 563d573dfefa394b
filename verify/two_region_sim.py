"""Two regions, their real handlers over moto, and a global table that replicates like one
(verify/replication.py). Time is virtual: nothing sleeps.

`TwoRegions` runs the regions' API, write-retry, welcome and bounce handlers against their own
replica (each with its own caches, as separate Lambda processes would have), drives promotions
with ops/primary.py, and judges the outcome:

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
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from verify.event_filter import matches
from verify.faults import FaultInjector, Rule, VirtualClock, injected, powertools_on
from verify.harness import FakeContext, call_api, configure, drain_queue, make_regional_resources, reset_handler_state
from verify.moto_speed import fast_transactions
from verify.replication import TABLE, Replicator
from verify.replication import backend as _backend
from verify.replication import shard as _shard

REGIONS = ("us-east-1", "us-west-2")
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

    def __init__(self, *, lag: float, seed: int = 0, write_mode: str = "single-primary"):
        self.clock = VirtualClock()
        self.rng = random.Random(seed)
        self.write_mode = write_mode
        self.replicator = Replicator(REGIONS, self.clock, lag)
        self.regional: dict[str, Any] = {}
        self.acks: list[Ack] = []
        self.welcome_position = dict.fromkeys(REGIONS, 0)
        self.injector: FaultInjector | None = None

    # --- running handlers in a region -------------------------------------------------------

    @contextlib.contextmanager
    def region(self, name: str) -> Iterator[None]:
        overrides = {**self.regional[name].environment, "WRITE_MODE": self.write_mode}
        saved = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is not None:
                    os.environ[k] = v
            self.settle()

    def settle(self) -> None:
        """Let time pass for replication: stamp new writes, deliver what is due."""
        self.replicator.observe()
        self.replicator.deliver_due()
        self.replicator.observe()

    def advance(self, seconds: float, step: float = 0.25) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.advance(min(step, end - self.clock.now))
            self.settle()

    def converge(self) -> None:
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
        return self.deliver(region, handler, batch, key=lambda r: r["dynamodb"]["SequenceNumber"])

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

    def promote(self, target: str, *, reachable: tuple[str, ...] = REGIONS, settle_seconds: float = 0.0, while_settling=None):
        """ops.drill promote, with the replicas outside `reachable` cut off from the operator;
        `while_settling(seconds)` spends the settle time (default: nothing happens meanwhile)."""
        import boto3

        from ops import primary

        clients = {}
        for region in REGIONS:
            client = boto3.client("dynamodb", region_name=region)
            clients[region] = client if region in reachable else _Unreachable(region)
        report = primary.promote(
            target,
            table=TABLE,
            home_region=REGIONS[0],
            dynamodb=clients,
            drained=lambda _region: False,
            settle_seconds=settle_seconds,
            sleep=while_settling or self.advance,
            now_iso=lambda: "2026-11-26T00:00:00Z",
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


class _Unreachable:
    def __init__(self, region: str):
        self.region = region

    def __getattr__(self, name: str):
        def refuse(*_args, **_kwargs):
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url=f"https://dynamodb.{self.region}.amazonaws.com")

        return refuse


@contextlib.contextmanager
def world(*, lag: float, seed: int = 0, write_mode: str = "single-primary") -> Iterator[TwoRegions]:
    """Both regions in moto, the handlers configured, faults injectable (`sim.injector.rules`)."""
    from moto import mock_aws

    configure()
    sim = TwoRegions(lag=lag, seed=seed, write_mode=write_mode)
    with mock_aws(), fast_transactions():
        reset_handler_state()
        for region in REGIONS:
            sim.regional[region] = make_regional_resources(region)
        with injected(FaultInjector(sim.clock, seed=seed)) as injector, powertools_on(sim.clock):
            sim.injector = injector
            yield sim
        reset_handler_state()
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


def scenario_promotion(sim: TwoRegions, *, writes: int, reachable: bool, settle: float) -> dict[str, Any]:
    """Both regions edit a set of posts continuously; half-way, B is promoted, with the old primary
    A reachable by the operator (fenced first, then `settle` seconds) or not (the fence reaches A
    by replication only; A's region keeps serving writes, replicating with the same lag). The
    edits go on until well past the replication lag; the window is measured from the start of the
    promotion to the last edit applied under the old epoch."""
    old, new = REGIONS
    posts = [_new_post(sim) for _ in range(4)]
    versions = dict.fromkeys(posts, 1)
    state: dict[str, Any] = {"index": 0, "promoted_at": None}
    old_epoch_writes_after: list[float] = []

    def write_once() -> None:
        index = state["index"]
        region = REGIONS[index % 2]
        post = sim.rng.choice(posts)
        title = f"w{index}"
        answer = sim.api(region, "PUT", f"/posts/{post}", body={"version": versions[post], "title": title})
        sim.record(region, "update", post, answer, base=versions[post], title=title)
        if answer[0] == 200:
            versions[post] = answer[1]["version"]
            if state["promoted_at"] is not None and _epoch_of(old, answer[2]["X-Write-Id"]) == 0:
                old_epoch_writes_after.append(sim.clock.now - state["promoted_at"])
        elif answer[0] == 409 and "version" in answer[1]:
            versions[post] = answer[1]["version"]
        sim.advance(0.1)
        state["index"] += 1

    def keep_writing(seconds: float) -> None:
        end = sim.clock.now + seconds
        while sim.clock.now < end:
            write_once()

    while state["index"] < writes or sim.clock.now < state["promoted_at"] + 2 * sim.replicator.lag + 2:
        if state["index"] == writes // 2 and state["promoted_at"] is None:
            state["promoted_at"] = sim.clock.now
            sim.promote(new, reachable=REGIONS if reachable else (new,), settle_seconds=settle, while_settling=keep_writing)
        write_once()
    index = state["index"]
    sim.advance(CONSUMER_REDELIVERY_SECONDS)
    for region in REGIONS:
        sim.drain_retries(region)
    sim.converge()
    sim.resolve_deferred()
    return {
        "lag_seconds": sim.replicator.lag,
        "old_primary_reachable": reachable,
        "settle_seconds": settle,
        "writes": index,
        "deferred": sum(1 for a in sim.acks if a.deferred),
        "conflict_window_seconds": round(max(old_epoch_writes_after, default=0.0), 2),
        "lost": sim.lost_updates(),
    }


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
    """The primary's DynamoDB stops answering while both regions take writes; the operator
    promotes the other region; the deferred writes are applied there."""
    old, new = REGIONS
    post = _new_post(sim)
    sim.injector.rules = [Rule(fault="connect_timeout", region=old)]
    statuses = Counter()
    for index in range(writes):
        answer = sim.api(new, "POST", "/subscribers", body={"email": f"during{index}@example.com"})
        sim.record(new, "subscribe", None, answer)
        statuses[answer[0]] += 1
    shard = _shard(new).items
    local_before = [i for i in range(len(shard)) if i not in sim.replicator.replicated_in[new]]
    sim.promote(new, reachable=(new,), settle_seconds=0)
    sim.advance(CONSUMER_REDELIVERY_SECONDS)
    sim.drain_retries(new)
    sim.resolve_deferred()
    applied = sum(1 for a in sim.acks if a.kind == "subscribe" and a.status in (200, 201))
    sim.injector.rules = []
    sim.converge()
    del post
    return {
        "writes": writes,
        "deferred": statuses[202],
        "written_locally_before_promotion": len(local_before),
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
            sim.promote(REGIONS[1], settle_seconds=0.0)
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
    for lag in lags:
        for reachable, settle in ((True, 2 * lag), (False, 0.0)):
            with world(lag=lag, seed=10) as sim:
                results["promotions"].append(scenario_promotion(sim, writes=100, reachable=reachable, settle=settle))
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
        "",
        "| promotion | replication lag | writes deferred during the handover | conflict window measured | updates lost |",
        "|---|---|---|---|---|",
    ]
    for row in results["promotions"]:
        how = f"fenced, settle {row['settle_seconds']:g} s" if row["old_primary_reachable"] else "old primary not reachable"
        lines.append(
            f"| {how} | {row['lag_seconds']:g} s | {row['deferred']} | {row['conflict_window_seconds']:g} s | {row['lost']} of {row['writes']} |"
        )
    down = results["primary_down"]
    lines += [
        "",
        f"Primary down while the other region takes writes: {down['deferred']} of {down['writes']} deferred (202), "
        f"{down['written_locally_before_promotion']} written locally before the promotion, "
        f"{down['applied_after_promotion']} applied after it.",
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
