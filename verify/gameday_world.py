"""An account for the game day without an account: a fake of Pulumi's Automation API whose `up`
"deploys" the saved config by running the program offline, AWS clients answered by botocore's
Stubber (each call expected, in order), the API as an httpx transport, DNS as a resolver, and a
clock that moves only when slept on. `Timeline` says what the account does and when; `fail_at`
breaks one step on purpose.

The orchestration's tests (tests/ops/test_gameday.py) run it; `make gameday-sample` writes the
sample report of docs/gameday.md from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
from botocore.stub import Stubber

from ops.gameday.run import GameDay, Options, offline_plan
from verify.harness import FakeClock

NOW = dt.datetime(2026, 12, 5, 13, 0, 0, tzinfo=dt.UTC)
DOMAIN = "gameday.acme.io"
STEPS = ("create", "up", "health", "load", "replication", "grey-failure", "failover", "read-back", "restore", "destroy")
# With --fis-role-arn, AWS FIS pauses replication between the grey failure and the failover.
STEPS_WITH_PAUSE = (*STEPS[:6], "replication-pause", *STEPS[6:])
STAGE_LIMITS = {"throttlingRateLimit": 100.0, "throttlingBurstLimit": 200}
ROLE = "arn:aws:iam::123456789012:role/gameday-fis"


def _health_status(status: str) -> dict[str, Any]:
    """Route 53's answer to GetHealthCheckStatus: one checker reporting `status`."""
    return {"HealthCheckObservations": [{"Region": "us-east-1", "IPAddress": "1.2.3.4", "StatusReport": {"Status": status}}]}


@functools.cache
def _session():
    """One session for every world: its loaded service models make each stubbed client cheap."""
    return boto3.session.Session(aws_access_key_id="stub", aws_secret_access_key="stub")


@dataclass(frozen=True)
class Timeline:
    """Seconds of the fake clock: how long the account takes, and when a drained region is
    seen out by each mechanism (from the drain)."""

    up_seconds: float = 840.0
    healthy_after_up: float = 35.0
    replication_lag: float = 1.0
    detection: float = 30.0
    write_failover: float = 45.0
    dns: float = 85.0
    restore_seconds: float = 1260.0
    destroy_seconds: float = 600.0
    lost_writes: int = 0  # acknowledged writes the fake API then loses (the read-back must see them)


class CommandError(Exception):
    """The Automation API's error for a failed `pulumi` command."""


@dataclass
class World:
    timeline: Timeline = field(default_factory=Timeline)
    fail_at: str | None = None
    events: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.clock = FakeClock()
        self.step = ""
        self.settings: dict[str, Any] = {}
        self.tags: dict[str, str] = {}
        self.stacks: set[str] = set()
        self.outputs: dict[str, Any] = {}
        self.up_at: float | None = None
        self.drained_at: float | None = None
        self.paused: tuple[float, float] | None = None  # replication from the home region, (from, until)
        self.throttled = False  # the home stage answers 429 to all but /health
        self.posts: dict[str, dict[str, Any]] = {}  # id -> post, with {region: visible from}
        self.ids = itertools.count(1)
        self.clients: dict[tuple[str, str], Any] = {}
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    # --- what GameDay is given -------------------------------------------------------------

    def game_day(self, **options: Any) -> GameDay:
        from ops.gameday.automation import Stacks
        from ops.gameday.measure import Probe

        probe = Probe(self, self, self.clock, self.clock.sleep, http=httpx.MockTransport(self.answer))
        settings = {"base": "dr", "domain": DOMAIN, "yes": True, "max_usd": 5.0, **options}
        self.pause_seconds = settings.get("pause_seconds", 120)
        self.grey_seconds = settings.get("grey_failure_seconds", 60)
        return GameDay(
            Options(**settings),
            Stacks(self.automation(), out=self.out),
            probe,
            now=lambda: NOW,
            plan=offline_plan,
            restore=self.restore,
            out=self.out,
        )

    def sample_report(self) -> str:
        """The report of an undisturbed run, marked as the stubs'."""
        report = self.game_day(fis_role_arn=ROLE).run()
        report.notes.append("SAMPLE: every figure comes from verify/gameday_world.py's stubs, not from AWS")
        return report.text() + "\n"

    def out(self, line: str) -> None:
        if line.startswith("game day: "):
            self.step = line.removeprefix("game day: ").split()[0]
            self.events.append(f"step {self.step}")
            if self.fail_at == f"interrupt:{self.step}":
                self.events.append(f"Ctrl-C at {self.step}")
                raise KeyboardInterrupt

    # --- Pulumi's Automation API -----------------------------------------------------------

    def automation(self) -> SimpleNamespace:
        world = self

        class Stack:
            def __init__(self, name: str):
                self.name, self.workspace = name, Workspace()

            def set_tag(self, key: str, value: str) -> None:
                world.events.append(f"tag {key}")
                world.tags[key] = value

            def list_tags(self) -> dict[str, str]:
                return dict(world.tags)

            def get_all_config(self) -> dict[str, Any]:
                return {k: SimpleNamespace(value=v) for k, v in world.settings.items()}

            def up(self, on_output=None, color=None):
                world.events.append("up")
                world.clock.sleep(world.timeline.up_seconds)
                if world.fail_at == "up":
                    raise CommandError("error: update failed: 1 resource failed (the fake's own)")
                world.up_at = world.clock()
                world.outputs = offline_plan(self.name, world.settings).outputs
                return SimpleNamespace(outputs={k: SimpleNamespace(value=v, secret=False) for k, v in world.outputs.items()})

            def destroy(self, on_output=None, color=None):
                world.events.append("destroy")
                world.clock.sleep(world.timeline.destroy_seconds)
                if world.fail_at == "destroy":
                    raise CommandError("error: destroy failed: a resource is still in use (the fake's own)")

        class Workspace:
            def stack_settings(self, name: str):
                return SimpleNamespace(config=None, encryption_salt="v1:salt")

            def save_stack_settings(self, name: str, settings) -> None:
                world.events.append("save settings")
                assert settings.encryption_salt == "v1:salt", "the backend's salt was lost"
                world.settings = dict(settings.config)

            def remove_stack(self, name: str) -> None:
                world.events.append("remove")
                world.stacks.discard(name)

        def create_stack(stack_name: str, work_dir: str):
            world.events.append("create")
            if world.fail_at == "create":
                raise CommandError("error: stack name already taken (the fake's own)")
            world.stacks.add(stack_name)
            return Stack(stack_name)

        def select_stack(stack_name: str, work_dir: str):
            assert stack_name in world.stacks, f"select of a stack that does not exist: {stack_name}"
            return Stack(stack_name)

        def local_workspace(work_dir: str):
            return SimpleNamespace(list_stacks=lambda: [SimpleNamespace(name=n) for n in sorted(world.stacks)])

        return SimpleNamespace(
            create_stack=create_stack,
            select_stack=select_stack,
            LocalWorkspace=local_workspace,
            StackSettings=SimpleNamespace,
            CommandError=CommandError,
        )

    # --- AWS, through botocore's Stubber ----------------------------------------------------

    def client(self, service: str, region_name: str):
        key = (service, region_name)
        if key not in self.clients:
            client = _session().client(service, region_name=region_name)
            stubber = Stubber(client)
            stubber.activate()
            self.clients[key], self.stubbers[key] = client, stubber
            if service == "fis":
                self._queue_experiment(client, stubber)
            if service == "apigateway":
                self._queue_grey_failure(client, stubber)
            if service == "ssm":
                client.meta.events.register("before-parameter-build.ssm.PutParameter", self._flag_set)
                for _ in range(2):  # the drain, and the restore
                    stubber.add_response("put_parameter", {"Version": 2})
        return self.clients[key]

    def _queue_experiment(self, client, stubber: Stubber) -> None:
        """AWS FIS: the run's template, its experiment running for pause_seconds (one status a
        poll), and the template's deletion; replication from the home region waits meanwhile."""
        template, experiment, poll = "EXTgameday1", "EXPgameday1", 5.0
        stubber.add_response("create_experiment_template", {"experimentTemplate": {"id": template}})
        if self.fail_at == "replication-pause":
            stubber.add_client_error("start_experiment", "ServiceQuotaExceededException", "too many experiments (the fake's own)")
        else:
            stubber.add_response("start_experiment", {"experiment": {"id": experiment, "state": {"status": "initiating"}}})
            for k in itertools.count():
                running = k * poll < self.pause_seconds
                stubber.add_response(
                    "get_experiment",
                    {"experiment": {"id": experiment, "state": {"status": "running" if running else "completed"}}},
                    {"id": experiment},
                )
                if not running:
                    break
        stubber.add_response("delete_experiment_template", {"experimentTemplate": {"id": template}}, {"id": template})

        def started(params: dict[str, Any], **_: Any) -> None:
            self.events.append("replication paused")
            self.paused = (self.clock(), self.clock() + self.pause_seconds)

        client.meta.events.register("before-parameter-build.fis.StartExperiment", started)

    def _queue_grey_failure(self, client, stubber: Stubber) -> None:
        """API Gateway: the home stage's limits read, set to 0, put back; Route 53's view of the
        home region's health meanwhile (healthy: its /health has limits of its own)."""
        url = httpx.URL(self.outputs["apiUrls"][self.outputs["homeRegion"]])
        stage = {"restApiId": url.host.split(".", 1)[0], "stageName": url.path.strip("/")}
        if self.fail_at == "grey-failure":
            stubber.add_client_error("get_stage", "TooManyRequestsException", "rate exceeded (the fake's own)")
            return
        stubber.add_response("get_stage", {"methodSettings": {"*/*": STAGE_LIMITS}}, stage)
        for rate, burst in ((0, 0), (STAGE_LIMITS["throttlingRateLimit"], STAGE_LIMITS["throttlingBurstLimit"])):
            operations = [
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(rate)},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(burst)},
            ]
            stubber.add_response("update_stage", {}, {**stage, "patchOperations": operations})

        def throttled(params: dict[str, Any], **_: Any) -> None:
            self.throttled = params["patchOperations"][0]["value"] == "0"
            self.events.append(f"home stage throttle {params['patchOperations'][0]['value']}")
            if self.throttled:
                self.client("route53", "us-east-1")
                for _ in range(math.ceil(self.grey_seconds / 5.0)):  # one health look a poll
                    self.stubbers[("route53", "us-east-1")].add_response(
                        "get_health_check_status", _health_status("Success: HTTP Status Code 200")
                    )

        client.meta.events.register("before-parameter-build.apigateway.UpdateStage", throttled)

    def pending(self) -> dict[tuple[str, str], int]:
        """Responses queued that no call took: a call the run should have made and did not."""
        return {key: len(s._queue) for key, s in self.stubbers.items() if s._queue}

    def _flag_set(self, params: dict[str, Any], **_: Any) -> None:
        home = self.outputs["homeRegion"]
        assert params["Name"] == self.outputs["drainParameters"][home], params
        self.events.append(f"drain flag {params['Value']}")
        if params["Value"] != "true":
            return
        self.drained_at = self.clock()
        if self.fail_at == "failover":
            raise RuntimeError("Route 53 throttled the game day (the fake's own)")
        self._queue_failover(home)

    def _queue_failover(self, home: str) -> None:
        """What the drain is seen as, one response per poll (every Probe.poll_seconds)."""
        from shared.items import CONTROL_KEY  # functions/ is on the path once ops is imported

        t, poll = self.timeline, 5.0
        other = next(r for r in self.outputs["regions"] if r != home)
        self.client("route53", "us-east-1")
        route53 = self.stubbers[("route53", "us-east-1")]
        zone = self.outputs["zoneName"]
        route53.add_response(
            "list_hosted_zones_by_name",
            {
                "HostedZones": [
                    {"Id": "/hostedzone/Z1", "Name": f"{zone}.", "CallerReference": "c", "Config": {"PrivateZone": False}}
                ],
                "IsTruncated": False,
                "MaxItems": "100",
            },
        )
        route53.add_response(
            "get_hosted_zone",
            {
                "HostedZone": {"Id": "/hostedzone/Z1", "Name": f"{zone}.", "CallerReference": "c"},
                "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]},
            },
        )
        for k in itertools.count():
            healthy = k * poll < t.detection
            status = "Success: HTTP Status Code 200" if healthy else "Failure: HTTP Status Code 503"
            route53.add_response("get_health_check_status", _health_status(status))
            if not healthy:
                break
        self.client("dynamodb", other)
        table = self.stubbers[("dynamodb", other)]
        key = {k: {"S": v} for k, v in CONTROL_KEY.items()}
        for k in itertools.count():
            primary = home if k * poll < t.write_failover else other
            table.add_response(
                "get_item",
                {"Item": {**key, "primary_region": {"S": primary}, "epoch": {"N": "2" if primary == other else "1"}}},
                {"TableName": self.outputs["tableName"], "Key": key, "ConsistentRead": True},
            )
            if primary == other:
                break

    def restore(self, probe, outputs, name, out) -> float:
        if self.fail_at == "restore":
            raise RuntimeError("RestoreTableToPointInTime: LimitExceededException (the fake's own)")
        self.clock.sleep(self.timeline.restore_seconds)
        return self.timeline.restore_seconds

    # --- DNS ----------------------------------------------------------------------------------

    def addresses(self, name: str, name_servers: list[str] | None = None) -> set[str]:
        targets = self.outputs["apiRegionalTargets"]
        regional = {target: {f"10.0.{i}.1"} for i, target in enumerate(targets.values())}
        if name in regional:
            return regional[name]
        home = self.outputs["homeRegion"]
        out = self.drained_at is not None and self.clock() - self.drained_at >= self.timeline.dns
        return set().union(*(regional[target] for region, target in targets.items() if not (out and region == home)))

    # --- the API --------------------------------------------------------------------------------

    def answer(self, request: httpx.Request) -> httpx.Response:
        if self.fail_at in ("load", "read-back") and self.step == self.fail_at:
            raise RuntimeError(f"the fake API broke during {self.step}")
        region, path = self._route(request.url)
        now = self.clock()
        if self.throttled and region == self.outputs["homeRegion"] and path != "/health":
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "Too Many Requests"})
        if path == "/health":
            ready = self.up_at is not None and now >= self.up_at + self.timeline.healthy_after_up and self.fail_at != "health"
            return httpx.Response(200 if ready else 503, json={"status": "ok" if ready else "starting"})
        if request.method == "POST" and path == "/posts":
            post_id = f"p{next(self.ids):04d}"
            lag = None if self.fail_at == "replication" and self.step == "replication" else self.timeline.replication_lag
            if (
                lag is not None
                and self.paused
                and region == self.outputs["homeRegion"]
                and self.paused[0] <= now < self.paused[1]
            ):
                lag += self.paused[1] - now  # written during the pause: replicated after it
            visible = {r: (now if r == region else (None if lag is None else now + lag)) for r in self.outputs["regions"]}
            body = json.loads(request.content)
            post = {"id": post_id, "title": body["title"], "body": body["body"], "created_at": NOW.isoformat(), "version": 1}
            self.posts[post_id] = {**post, "visible": visible}
            return httpx.Response(201, json=post)
        if request.method == "GET" and path.startswith("/posts/"):
            post = self.posts.get(path.removeprefix("/posts/"))
            seen = post and post["visible"].get(region)
            if post and seen is not None and now >= seen and not self._lost(post["id"]):
                return httpx.Response(200, json={k: v for k, v in post.items() if k != "visible"})
            return httpx.Response(404, json={"error": "not_found", "message": "no such post"})
        return httpx.Response(404, json={"error": "not_found", "message": f"no route {request.method} {path}"})

    def _lost(self, post_id: str) -> bool:
        return self.step == "read-back" and int(post_id[1:]) <= self.timeline.lost_writes

    def _route(self, url: httpx.URL) -> tuple[str, str]:
        """(the region that answers, the API path) for a request to a server of the stack."""
        text = str(url)
        for region, base in self.outputs["apiUrls"].items():
            if text.startswith(base.rstrip("/") + "/"):
                return region, text[len(base.rstrip("/")) :].split("?")[0]
        public = self.outputs["apiPublicUrl"].rstrip("/")
        if text.startswith(public):
            serving = [
                r
                for r in self.outputs["regions"]
                if self.addresses(self.outputs["apiRegionalTargets"][r]) & self.addresses(self.outputs["apiRecordName"])
            ]
            return serving[0], urlsplit(text).path
        raise AssertionError(f"a request to no server of the stack: {text}")
