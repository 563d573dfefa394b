"""The fault suite: random writes through the real API and retry consumer while DynamoDB fails.

    python -m verify.fault_suite [--writes 1000] [--seeds 1] [--readme]

A seeded workload of writes (create, update and delete posts; subscribe) goes through the real
API handler against moto, in segments. Each segment has its weather: no faults, intermittent
faults (30 % of DynamoDB requests) or sustained ones (all of them), of one kind: throttling, 500,
503, 502 with an HTML body, 504 with an empty body, a read timeout before or after the request
was applied, a connect timeout; or `refused`: every write is deferred, the table then refuses
the deferred ones outright (a ValidationException, never retried into success) and half of the
dead-letter records that follow fail too. The write-retry consumer drains its queue under the
same weather every few writes. Clients behave like clients: an unanswered or 5xx request is retried with the
same Idempotency-Key, and some answered ones are sent again anyway.

At the end the weather clears, an operator redrives what reached the DLQ (the runbook step), the
consumer drains, and every accepted write (2xx or 202) is checked against the table: its fate
visible (`GET /writes/{id}`: applied or rejected with a reason, or dead-lettered with one) and
its effect in the table's stream exactly once (none for a dead letter). Reported per operation
and fault kind: tried, accepted, deferred, held, dead-lettered, pending (accepted but with no
visible fate), lost, duplicated, 5xx, over the deadline (answered later than the function's
timeout, on the virtual clock), redriven.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from verify.faults import FAULT_KINDS, FaultInjector, Rule, VirtualClock, injected
from verify.harness import (
    REGION,
    FakeContext,
    call_api,
    configure,
    drain_queue,
    make_regional_resources,
    reset_handler_state,
    stream_records,
)
from verify.moto_speed import fast_transactions

OPERATIONS = ("create", "update", "delete", "subscribe")
OPERATION_WEIGHTS = (3, 3, 1, 3)
EPISODES = {"none": 0.0, "intermittent": 0.3, "sustained": 1.0}
SEGMENT_WRITES = 25
DRAIN_EVERY = 10
CLIENT_ATTEMPTS = 3
RESEND_ANSWERED = 0.1
API_TIMEOUT_SECONDS = FakeContext().timeout_ms / 1000
COLUMNS = ("tried", "accepted", "deferred", "held", "dead_lettered", "pending", "lost", "duplicated", "5xx", "over_deadline")
REFUSED = "refused"  # the dead-letter weather (module docstring)


@dataclass
class Write:
    operation: str
    fault: str
    token: str | None = None  # X-Write-Id of the accepted answer
    statuses: list[int] = field(default_factory=list)


@dataclass
class SuiteResult:
    seed: int
    writes: int
    rows: dict[tuple[str, str], Counter]
    redriven: int
    injected: int
    seconds: float

    def total(self) -> Counter:
        total: Counter = Counter()
        for counts in self.rows.values():
            total.update(counts)
        return total

    def by(self, axis: int) -> dict[str, Counter]:
        grouped: dict[str, Counter] = defaultdict(Counter)
        for key, counts in self.rows.items():
            grouped[key[axis]].update(counts)
        return dict(grouped)


class Workload:
    """What the clients know: the posts they created and the last version they saw."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.posts: dict[str, int] = {}
        self.emails = 0

    def request(self, operation: str) -> tuple[str, str, dict[str, Any]]:
        if operation in ("update", "delete") and not self.posts:
            operation = "create"
        if operation == "create":
            return operation, "POST", {"path": "/posts", "body": {"title": f"t{self.rng.randrange(10**6)}", "body": "b"}}
        if operation == "subscribe":
            self.emails += 1
            # Some addresses come back: a second subscription of one address is a 200, not a duplicate.
            address = self.rng.randrange(max(1, self.emails // 2) + 1) if self.rng.random() < 0.2 else self.emails
            return operation, "POST", {"path": "/subscribers", "body": {"email": f"reader{address}@example.com"}}
        post_id = self.rng.choice(sorted(self.posts))
        version = self.posts[post_id]
        if operation == "update":
            return (
                operation,
                "PUT",
                {"path": f"/posts/{post_id}", "body": {"version": version, "title": f"u{self.rng.randrange(10**6)}"}},
            )
        return operation, "DELETE", {"path": f"/posts/{post_id}", "query": {"version": str(version)}}

    def learn(self, operation: str, request: dict[str, Any], status: int, body: Any) -> None:
        if operation == "create" and status in (201, 202) and isinstance(body, dict):
            self.posts[body["id"]] = 1
        elif operation == "update" and status == 200:
            self.posts[body["id"]] = body["version"]
        elif operation == "update" and status == 409 and isinstance(body, dict) and "version" in body:
            self.posts[request["path"].rsplit("/", 1)[1]] = body["version"]
        elif operation == "delete" and status in (204, 404):
            self.posts.pop(request["path"].rsplit("/", 1)[1], None)


def _send(
    clock: VirtualClock, method: str, request: dict[str, Any], key: str, timeout_seconds: float
) -> tuple[int, Any, dict, float]:
    start = clock.now
    status, body, headers = call_api(
        method,
        request["path"],
        body=request.get("body"),
        query=request.get("query"),
        headers={"Idempotency-Key": key},
        timeout_ms=int(timeout_seconds * 1000),
    )
    return status, body, headers, clock.now - start


def _stream_effects(region: str = REGION) -> Counter:
    """How many times each write id reached the table (INSERT/MODIFY records of its stream)."""
    effects: Counter = Counter()
    for record in stream_records(region):
        image = record["dynamodb"].get("NewImage") or {}
        if record["eventName"] in ("INSERT", "MODIFY") and "write_id" in image and not image["pk"]["S"].startswith("REQ#"):
            effects[image["write_id"]["S"]] += 1
    return effects


def _redrive(regional) -> int:
    """The runbook's redrive: every message in the DLQ back to the source queue."""
    moved = 0
    while True:
        messages = regional.sqs.receive_message(QueueUrl=regional.retry_dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            regional.sqs.send_message(QueueUrl=regional.retry_queue_url, MessageBody=message["Body"])
            regional.sqs.delete_message(QueueUrl=regional.retry_dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def run(
    seed: int = 1, writes: int = 1000, timeout_seconds: float = API_TIMEOUT_SECONDS, segment_writes: int = SEGMENT_WRITES
) -> SuiteResult:
    """One seeded run; needs moto (opens its own mock). `timeout_seconds`: the API function's;
    `segment_writes`: how many writes each turn of the weather lasts."""
    from moto import mock_aws
    from retry.app import handler as retry_handler

    configure()
    rng = random.Random(seed)
    started = time.perf_counter()
    clock = VirtualClock()
    workload = Workload(rng)
    done: list[Write] = []
    with mock_aws(), fast_transactions():
        reset_handler_state()
        regional = make_regional_resources()
        with injected(FaultInjector(clock, seed=seed)) as injector:
            weather = _weather(seed)
            while len(done) < writes:
                episode, fault = next(weather)
                api_rules, drain_rules = _rules(episode, fault)
                for index in range(min(segment_writes, writes - len(done))):
                    injector.rules = api_rules
                    done.append(_one_write(rng, clock, workload, fault, timeout_seconds))
                    if index % DRAIN_EVERY == DRAIN_EVERY - 1:
                        injector.rules = drain_rules
                        drain_queue(regional.sqs, regional.retry_queue_url, retry_handler, rounds=2)
            injector.rules = []
            drain_queue(regional.sqs, regional.retry_queue_url, retry_handler, rounds=200, advance=clock.advance)
            redriven = _redrive(regional)
            drain_queue(regional.sqs, regional.retry_queue_url, retry_handler, rounds=200, advance=clock.advance)
            rows = _account(done, _stream_effects())
            injected_count = sum(injector.injected.values())
        reset_handler_state()
    return SuiteResult(seed, writes, rows, redriven, injected_count, round(time.perf_counter() - started, 1))


def _rules(episode: str, fault: str) -> tuple[list[Rule], list[Rule]]:
    """(while the API answers, while the retry consumer drains) for one segment."""
    if fault == "none":
        return [], []
    if fault == REFUSED:
        return [Rule(fault="throttle")], [
            Rule(fault="validation", operations=frozenset({"TransactWriteItems"})),
            Rule(fault="http500", rate=0.5, operations=frozenset({"PutItem"})),
        ]
    rules = [Rule(fault=fault, rate=EPISODES[episode])]
    return rules, rules


def _weather(seed: int):
    """Segments of (episode, fault), seeded on their own: every fault kind in both its intermittent
    and its sustained form, then calm, in a shuffled order, over and over. The schedule depends on
    the seed only, never on how the writes went (answers vary with the machine's load where a
    deadline is near), so every run of a seed meets every fault kind."""
    schedule = random.Random(f"weather-{seed}")
    rounds = [
        ("none", "none"),
        ("sustained", REFUSED),
        *((episode, fault) for fault in FAULT_KINDS for episode in ("intermittent", "sustained")),
    ]
    while True:
        schedule.shuffle(rounds)
        yield from list(rounds)


def _one_write(rng: random.Random, clock: VirtualClock, workload: Workload, fault: str, timeout_seconds: float) -> Write:
    operation, method, request = workload.request(rng.choices(OPERATIONS, OPERATION_WEIGHTS)[0])
    write = Write(operation, fault)
    key = f"k{rng.getrandbits(64):016x}"
    for _attempt in range(CLIENT_ATTEMPTS):
        status, body, headers, elapsed = _send(clock, method, request, key, timeout_seconds)
        write.statuses.append(status)
        if elapsed > timeout_seconds:
            write.statuses[-1] = -1  # API Gateway would have answered 504: unknown to the client
            continue
        if status >= 500:
            continue
        workload.learn(operation, request, status, body)
        if status in (200, 201, 202, 204):
            write.token = headers.get("X-Write-Id")
            if rng.random() < RESEND_ANSWERED:
                again = _send(clock, method, request, key, timeout_seconds)
                write.statuses.append(again[0])
        break
    return write


def _account(done: list[Write], effects: Counter) -> dict[tuple[str, str], Counter]:
    import boto3

    table = boto3.resource("dynamodb", region_name=REGION).Table("app-table")
    rows: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for write in done:
        row = rows[(write.operation, write.fault)]
        row["tried"] += 1
        row["5xx"] += sum(1 for s in write.statuses if s >= 500)
        row["over_deadline"] += sum(1 for s in write.statuses if s == -1)
        if write.token is None:
            continue
        row["accepted"] += 1
        row["deferred"] += 202 in write.statuses
        fate = _fate(write, table)
        state = fate.get("state")
        write_id = write.token.split(".", 1)[0]
        # A decided write whose outcome changed the table must show exactly one effect there; a
        # dead letter none, and its fate visible to its client.
        changed = state == "applied" and fate.get("status") in (200, 201, 204) and not _already_subscribed(fate)
        expected_effects = 1 if changed else 0
        row["dead_lettered"] += state == "dead_lettered"
        row["pending"] += state not in ("applied", "rejected", "dead_lettered")
        if effects[write_id] > expected_effects:
            row["duplicated"] += 1
        elif state in ("applied", "rejected", "dead_lettered") and effects[write_id] == expected_effects:
            row["held"] += 1
        else:
            row["lost"] += 1
    return rows


def _fate(write: Write, table) -> dict[str, Any]:
    """A deferred write's fate as its client sees it (GET /writes/{id}); the others' from the record."""
    if 202 in write.statuses:
        status, fate, _ = call_api("GET", f"/writes/{write.token}")
        return fate if status == 200 else {}
    write_id = write.token.split(".", 1)[0]
    item = table.get_item(Key={"pk": f"REQ#{write_id}", "sk": "REQ"}).get("Item") or {}
    body = item.get("body")
    return {"state": item.get("state"), "status": int(item.get("http_status", 0)), "result": json.loads(body) if body else None}


def _already_subscribed(fate: dict[str, Any]) -> bool:
    return isinstance(fate.get("result"), dict) and fate["result"].get("status") == "already_subscribed"


def render_markdown(results: list[SuiteResult]) -> str:
    writes = sum(r.writes for r in results)
    injected_count = sum(r.injected for r in results)
    lines = [
        f"{writes} writes over seed(s) {', '.join(str(r.seed) for r in results)}; {injected_count} faults injected; "
        f"{sum(r.redriven for r in results)} intents redriven from the DLQ after sustained outages; "
        f"{sum(r.seconds for r in results):.0f} s of wall time.",
        "",
        "| fault | " + " | ".join(c.replace("_", " ") for c in COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    merged: dict[str, Counter] = defaultdict(Counter)
    by_operation: dict[str, Counter] = defaultdict(Counter)
    total: Counter = Counter()
    for result in results:
        for fault, counts in result.by(1).items():
            merged[fault].update(counts)
        for operation, counts in result.by(0).items():
            by_operation[operation].update(counts)
        total.update(result.total())
    for fault in ("none", *FAULT_KINDS, REFUSED):
        if fault in merged:
            lines.append(f"| {fault} | " + " | ".join(str(merged[fault][c]) for c in COLUMNS) + " |")
    for operation in OPERATIONS:
        if operation in by_operation:
            lines.append(f"| *{operation}* | " + " | ".join(str(by_operation[operation][c]) for c in COLUMNS) + " |")
    lines.append("| **all** | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.fault_suite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000, help="writes per seed")
    parser.add_argument("--seeds", default="1", help="comma-separated seeds")
    parser.add_argument("--readme", action="store_true", help="replace the table between the faults markers in README.md")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure()
    results = [run(int(seed), args.writes) for seed in args.seeds.split(",")]
    table = render_markdown(results)
    if args.json:
        sys.stdout.write(json.dumps([{"seed": r.seed, "total": dict(r.total())} for r in results]) + "\n")
    else:
        sys.stdout.write(table)
    if args.readme:
        from verify.readme import replace_section

        replace_section("faults", table)
    total = Counter()
    for result in results:
        total.update(result.total())
    return 0 if total["lost"] == total["duplicated"] == total["5xx"] == total["over_deadline"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
