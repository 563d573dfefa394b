"""What a game day measures on its deployed stack, each bounded by a timeout.

Everything reaches the world through a `Probe`: AWS through a boto3 session (botocore's Stubber
in the offline tests), the API through an httpx transport, DNS through a resolver, time through
a clock and a sleep.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from shared.items import CONTROL_KEY

from ops import ROOT
from ops.drill import DRAINED, SERVING, Drill, DrillTarget, Resolver, health_check_healthy
from ops.errors import CheckFailed

CLIENTS = ROOT / "clients" / "python"
# The failover client's patience with one request (a real account answers in well under a second).
ATTEMPT_TIMEOUT = httpx.Timeout(5.0, connect=1.0)
# Replication is asked about this often: its lag is about a second, a poll of 5 s would hide it.
LAG_POLL_SECONDS = 0.25


@dataclass
class Probe:
    session: Any  # boto3.session.Session: .client(service, region_name=...)
    resolver: Resolver
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    http: httpx.BaseTransport | None = None  # None: the network
    poll_seconds: float = 5.0

    def client(self, service: str, region: str):
        return self.session.client(service, region_name=region)

    def until(self, what: str, probe: Callable[[], Any], timeout: float, every: float | None = None) -> float:
        """Seconds until `probe()` is truthy, asked every `every` (default poll_seconds);
        CheckFailed past `timeout`."""
        start = self.clock()
        while not probe():
            if self.clock() - start > timeout:
                raise CheckFailed(f"{what}: not within {timeout:.0f} s")
            self.sleep(every or self.poll_seconds)
        return self.clock() - start


@dataclass
class Write:
    post_id: str
    acknowledged_at: float  # seconds since the run started
    region: str  # the server that answered


@dataclass
class Traffic:
    """The load's own record: what was acknowledged, and what the client could not get done."""

    writes: list[Write] = field(default_factory=list)
    reads: int = 0
    failed: list[str] = field(default_factory=list)  # one line per request the client gave up on

    @property
    def requests(self) -> int:
        return self.reads + len(self.writes) + len(self.failed)


class Api:
    """The stack's API through the generated client: the public name with failover (as the
    project's page and any client using serverless_dr_failover), or one region's own URL."""

    def __init__(self, outputs: dict[str, Any], probe: Probe, started: float):
        if str(CLIENTS) not in sys.path:
            sys.path.insert(0, str(CLIENTS))
        self.outputs, self.probe, self.started = outputs, probe, started
        self.key = outputs["adminApiKey"]
        self.regional = dict(outputs["apiUrls"])
        self.servers = [outputs.get("apiPublicUrl") or "", *self.regional.values()]
        self.answered_by = ""

    def _client(self, servers: list[str]):
        from serverless_dr_failover import failover_client

        def switched(_old: str, new: str) -> None:
            self.answered_by = new

        return failover_client(
            [s for s in servers if s],
            api_key=self.key,
            attempt_timeout=ATTEMPT_TIMEOUT,
            transport=self.probe.http,
            clock=self.probe.clock,
            sleep=self.probe.sleep,
            on_switch=switched,
        )

    def write(self, traffic: Traffic, region: str | None = None) -> Write | None:
        """One post, through every server (or only `region`'s); acknowledged or recorded as failed."""
        from serverless_dr_client.api.default import post_posts
        from serverless_dr_client.models import PostCreate

        servers = [self.regional[region]] if region else self.servers
        title = f"game day {uuid.uuid4().hex[:8]}"
        try:
            answer = post_posts.sync_detailed(client=self._client(servers), body=PostCreate(title=title, body="measured"))
        except (httpx.HTTPError, OSError) as error:
            traffic.failed.append(f"POST /posts: {type(error).__name__}")
            return None
        if answer.status_code != 201 or answer.parsed is None:
            traffic.failed.append(f"POST /posts: {answer.status_code}")
            return None
        write = Write(answer.parsed.id, self.probe.clock() - self.started, region or self._region_of(self.answered_by))
        traffic.writes.append(write)
        return write

    def read(self, region: str, post_id: str, traffic: Traffic | None = None) -> bool:
        """GET /posts/{id} at `region`'s own URL: found (200) or not."""
        from serverless_dr_client.api.default import get_posts_id

        try:
            answer = get_posts_id.sync_detailed(post_id, client=self._client([self.regional[region]]))
        except (httpx.HTTPError, OSError):
            return False
        if traffic is not None:
            traffic.reads += 1
        return answer.status_code == 200

    def healthy(self, region: str) -> bool:
        with httpx.Client(transport=self.probe.http, timeout=ATTEMPT_TIMEOUT) as client:
            try:
                return client.get(self.outputs["healthUrls"][region]).status_code == 200
            except httpx.HTTPError:
                return False

    def _region_of(self, server: str) -> str:
        return next((r for r, url in self.regional.items() if server.rstrip("/") == url.rstrip("/")), "public")


def wait_healthy(api: Api, regions: list[str], timeout: float) -> dict[str, float]:
    """Seconds from now until each region's /health answers 200 (asked in turn)."""
    probe, start, seconds = api.probe, api.probe.clock(), {}
    for region in regions:
        probe.until(f"{region} /health", lambda r=region: api.healthy(r), timeout - (probe.clock() - start))
        seconds[region] = probe.clock() - start
    return seconds


def scripted_load(api: Api, regions: list[str], writes_per_region: int) -> Traffic:
    """Writes through the public name and each region's own URL, each read back where written."""
    traffic = Traffic()
    for _ in range(writes_per_region):
        for region in [None, *regions]:
            write = api.write(traffic, region)
            if write is not None and region is not None:
                api.read(region, write.post_id, traffic)
    return traffic


def replication_lag(api: Api, home: str, regions: list[str], traffic: Traffic, timeout: float) -> dict[str, float]:
    """A post written at `home`, then the seconds until each other region's URL answers it."""
    write = api.write(traffic, home)
    if write is None:
        raise CheckFailed(f"replication lag: the write at {home} was not acknowledged ({traffic.failed[-1]})")
    return {
        region: api.probe.until(
            f"post {write.post_id} at {region}", lambda r=region: api.read(r, write.post_id), timeout, every=LAG_POLL_SECONDS
        )
        for region in regions
        if region != home
    }


@dataclass
class Failover:
    detection_seconds: float | None = None
    dns_seconds: float | None = None
    write_failover_seconds: float | None = None
    new_primary: str | None = None
    writes_during: int = 0
    client_failures: int = 0


def home_drill(probe: Probe, outputs: dict[str, Any]) -> Drill:
    """The drill (ops/drill.py) on the home region: its drain flag, health check and DNS answer."""
    target = DrillTarget.from_outputs("gameday", outputs["homeRegion"], outputs)
    return Drill(
        target,
        probe.client("ssm", target.region),
        probe.client("route53", "us-east-1"),
        probe.resolver,
        clock=probe.clock,
        sleep=probe.sleep,
        out=lambda _line: None,
    )


def drain_and_measure(api: Api, outputs: dict[str, Any], traffic: Traffic, timeout: float) -> Failover:
    """Drain the home region (its flag) and poll, from the moment it is set: Route 53's health
    check, the API name's DNS answer, and the table's writer control item, while one write a
    poll goes through the public name as any client's would."""
    probe, home = api.probe, outputs["homeRegion"]
    others = [r for r in outputs["regions"] if r != home]
    drill = home_drill(probe, outputs)
    drill.set_drain(DRAINED)
    name_servers = drill.name_servers()
    table = probe.client("dynamodb", others[0])
    measured, start = Failover(), probe.clock()
    failed_before = len(traffic.failed)
    while probe.clock() - start <= timeout:
        elapsed = probe.clock() - start
        if measured.detection_seconds is None and not drill.health(drill.route53, drill.target.health_check_id)[0]:
            measured.detection_seconds = elapsed
        if measured.detection_seconds is not None and measured.dns_seconds is None and not drill.in_dns(name_servers):
            measured.dns_seconds = elapsed
        if measured.write_failover_seconds is None:
            primary = _primary(table, outputs["tableName"])
            if primary and primary != home:
                measured.write_failover_seconds, measured.new_primary = elapsed, primary
        measured.writes_during += api.write(traffic) is not None
        if None not in (measured.detection_seconds, measured.dns_seconds, measured.write_failover_seconds):
            break
        probe.sleep(probe.poll_seconds)
    measured.client_failures = len(traffic.failed) - failed_before
    return measured


def restore_home(probe: Probe, outputs: dict[str, Any]) -> None:
    home_drill(probe, outputs).set_drain(SERVING)


def lost_writes(api: Api, regions: list[str], traffic: Traffic, settle_seconds: float) -> list[tuple[Write, str]]:
    """Every acknowledged write read back from every region: the (write, region) pairs still not
    found after `settle_seconds` (a write acknowledged just now may still be replicating)."""
    missing = [(w, region) for w in traffic.writes for region in regions if not api.read(region, w.post_id)]
    start = api.probe.clock()
    while missing and api.probe.clock() - start < settle_seconds:
        api.probe.sleep(LAG_POLL_SECONDS)
        missing = [(w, region) for w, region in missing if not api.read(region, w.post_id)]
    return missing


def _primary(dynamodb, table: str) -> str | None:
    key = {k: {"S": v} for k, v in CONTROL_KEY.items()}
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or {}
    return (item.get("primary_region") or {}).get("S")


# AWS FIS's action that pauses a global table's replication from the targeted replica (it denies
# the replication service-linked role in the table's resource policy for `duration`).
PAUSE_ACTION = "aws:dynamodb:global-table-pause-replication"
FIS_DONE = frozenset({"completed", "stopped", "failed", "cancelled"})


@dataclass
class Pause:
    seconds: float | None = None  # from the experiment's start to its end, as FIS reports it
    writes_acknowledged: int = 0  # during the pause
    client_failures: int = 0
    caught_up_seconds: float | None = None  # from the end until the last of them is everywhere
    state: str = ""


def replication_pause(
    api: Api, outputs: dict[str, Any], traffic: Traffic, role_arn: str, seconds: int, run: str, timeout: float
) -> Pause:
    """Pause the home replica's replication with an AWS FIS experiment while writes go on through
    the public name; then the time until every write acknowledged meanwhile is in every region.
    The template is the run's own and is deleted afterwards; a running experiment is stopped."""
    probe, home = api.probe, outputs["homeRegion"]
    fis = probe.client("fis", home)
    template = fis.create_experiment_template(
        clientToken=f"{run}-pause",
        description=f"sdr game day {run}: pause {outputs['tableName']}'s replication from {home}",
        roleArn=role_arn,
        stopConditions=[{"source": "none"}],
        targets={
            "table": {
                "resourceType": "aws:dynamodb:global-table",
                "resourceArns": [outputs["tableArns"][home]],
                "selectionMode": "ALL",
            }
        },
        actions={
            "pause": {"actionId": PAUSE_ACTION, "parameters": {"duration": f"PT{seconds}S"}, "targets": {"Tables": "table"}}
        },
        tags={"sdr:gameday": run},
    )["experimentTemplate"]["id"]
    experiment, measured = None, Pause()
    try:
        experiment = fis.start_experiment(clientToken=f"{run}-pause-run", experimentTemplateId=template)["experiment"]["id"]
        start, failed_before, during = probe.clock(), len(traffic.failed), []
        while True:
            measured.state = fis.get_experiment(id=experiment)["experiment"]["state"]["status"]
            if measured.state in FIS_DONE or probe.clock() - start > timeout:
                break
            if measured.state == "running" and (write := api.write(traffic)) is not None:
                during.append(write)
            probe.sleep(probe.poll_seconds)
        measured.seconds = probe.clock() - start
        measured.writes_acknowledged, measured.client_failures = len(during), len(traffic.failed) - failed_before
        regions = list(outputs["regions"])
        measured.caught_up_seconds = probe.until(
            "writes acknowledged during the pause, in every region",
            lambda: all(api.read(r, w.post_id) for w in during for r in regions),
            timeout,
            every=LAG_POLL_SECONDS,
        )
    finally:
        if experiment is not None and measured.state not in FIS_DONE:
            fis.stop_experiment(id=experiment)
        fis.delete_experiment_template(id=template)
    return measured


# Stage-wide method settings (`*/*`): setting their throttle to 0 makes API Gateway answer 429 to
# every route without its own override; /health has one (healthReservedConcurrency's limit), so
# the region still looks healthy to Route 53: a grey failure DNS cannot see, only clients can.
STAGE_WIDE = "/*/*/throttling"


@dataclass
class GreyFailure:
    requests: int = 0  # writes sent through the public name while the region refused
    client_failures: int = 0
    slowest_seconds: float = 0.0  # the longest a request took, failover included
    health_check_stayed_healthy: bool = True


def throttle_home(api: Api, outputs: dict[str, Any], traffic: Traffic, seconds: float) -> GreyFailure:
    """Throttle the home region's stage to 0 for `seconds` (API Gateway answers 429 to everything
    but /health) while requests go through the public name; the stage's limits are put back
    afterwards, also when the step fails."""
    probe, home = api.probe, outputs["homeRegion"]
    url = httpx.URL(outputs["apiUrls"][home])
    rest_api, stage = url.host.split(".", 1)[0], url.path.strip("/")
    apigateway, route53 = probe.client("apigateway", home), probe.client("route53", "us-east-1")
    settings = apigateway.get_stage(restApiId=rest_api, stageName=stage)["methodSettings"]["*/*"]
    limits = {"rateLimit": settings["throttlingRateLimit"], "burstLimit": settings["throttlingBurstLimit"]}

    def set_limits(values: dict[str, Any]) -> None:
        operations = [{"op": "replace", "path": f"{STAGE_WIDE}/{k}", "value": str(v)} for k, v in values.items()]
        apigateway.update_stage(restApiId=rest_api, stageName=stage, patchOperations=operations)

    measured, failed_before = GreyFailure(), len(traffic.failed)
    set_limits({"rateLimit": 0, "burstLimit": 0})
    try:
        start = probe.clock()
        while probe.clock() - start < seconds:
            sent = probe.clock()
            api.write(traffic)
            measured.requests += 1
            measured.slowest_seconds = max(measured.slowest_seconds, probe.clock() - sent)
            if not health_check_healthy(route53, outputs["healthCheckIds"][home])[0]:
                measured.health_check_stayed_healthy = False
            probe.sleep(probe.poll_seconds)
    finally:
        set_limits(limits)
    measured.client_failures = len(traffic.failed) - failed_before
    return measured
