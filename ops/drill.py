"""The failover drill: drain a region without a deploy, watch it leave DNS, put it back.

`sdr drill drain|restore|status|promote` (ops/cli.py) runs these against the deployed stack:

drain    sets the region's drain parameter to "true": its /health answers 503 within the handler's
         cache period, Route 53's checkers see failures, and after interval x threshold the
         region's records stop being answered. Refused when it would leave no region serving
         (Route 53 answers with every record when all are unhealthy).
restore  sets it back to "false".
status   the parameter, the health check as Route 53's checkers see it, which regions the zone's
         own name servers answer with for the API name, and the write lease (`lease_status`).
measure  (with drain or restore) polls the health check and the DNS answers until the region is
         out (or back) and reports the measured times against the stack's DR budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared import clock
from shared.flags import is_drained

from ops import promotion
from ops.database_promotion import DatabaseRefused, GlobalDatabase
from ops.errors import OperatorError, Refused

DRAINED, SERVING = "true", "false"
REQUIRED_OUTPUTS = ("regions", "drainParameters")
# Route 53 considers an endpoint healthy when more than 18 % of its checkers report it healthy.
HEALTHY_FRACTION = 0.18


@dataclass(frozen=True)
class DrillTarget:
    stack: str
    region: str
    drain_parameter: str
    health_check_id: str | None
    record_name: str | None
    zone_name: str | None
    regional_targets: dict[str, str]
    detection_budget: int | None
    rto_budget: int | None
    drain_parameters: dict[str, str] = field(default_factory=dict)
    evacuated: tuple[str, ...] = ()
    table_name: str | None = None
    write_mode: str = "single-primary"
    home_region: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_outputs(cls, stack: str, region: str, outputs: dict[str, Any]) -> DrillTarget:
        missing = [k for k in REQUIRED_OUTPUTS if k not in outputs]
        if missing:
            raise OperatorError(
                f"stack {stack}'s outputs lack {', '.join(missing)}: deploy it first (pulumi up), or pass --outputs FILE"
            )
        regions = outputs.get("regions") or []
        if region not in regions:
            raise OperatorError(f"region {region} is not a region of stack {stack} ({', '.join(regions)})")
        budget = outputs.get("drBudget") or {}
        return cls(
            stack=stack,
            region=region,
            drain_parameters=dict(outputs["drainParameters"]),
            evacuated=tuple(budget.get("evacuated_regions") or ()),
            table_name=outputs.get("tableName"),
            write_mode=outputs.get("writeMode", "single-primary"),
            home_region=outputs.get("homeRegion") or regions[0],
            drain_parameter=outputs["drainParameters"][region],
            health_check_id=(outputs.get("healthCheckIds") or {}).get(region),
            record_name=outputs.get("apiRecordName"),
            zone_name=outputs.get("zoneName"),
            regional_targets=outputs.get("apiRegionalTargets") or {},
            detection_budget=budget.get("detection_seconds"),
            rto_budget=budget.get("api_rto_seconds"),
            outputs=dict(outputs),
        )


class Resolver(Protocol):
    def addresses(self, name: str, nameservers: list[str] | None = None) -> set[str]: ...


class DnsPythonResolver:
    """A and AAAA answers, from the given name servers (by host name) or the system resolver."""

    def addresses(self, name: str, nameservers: list[str] | None = None) -> set[str]:
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=nameservers is None)
        if nameservers:
            resolver.nameservers = sorted({a for ns in nameservers for a in self.addresses(ns)})
        found: set[str] = set()
        for rdtype in ("A", "AAAA"):
            try:
                found |= {r.to_text() for r in resolver.resolve(name, rdtype, lifetime=5)}
            except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
                continue
        return found


def zone_name_servers(route53, zone_name: str) -> list[str]:
    """The name servers of the account's public hosted zone `zone_name`: asked directly, DNS
    answers as soon as Route 53 changes, without any resolver's cache."""
    zones = route53.list_hosted_zones_by_name(DNSName=zone_name)["HostedZones"]
    zone = next((z for z in zones if z["Name"].rstrip(".") == zone_name and not z["Config"].get("PrivateZone")), None)
    if zone is None:
        raise OperatorError(f"no public hosted zone {zone_name} in this account")
    return route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]


def health_check_healthy(route53, check_id: str) -> tuple[bool, int, int]:
    """(healthy as Route 53 decides, checkers reporting success, checkers reporting)."""
    observations = route53.get_health_check_status(HealthCheckId=check_id)["HealthCheckObservations"]
    ok = sum(1 for o in observations if o["StatusReport"]["Status"].startswith("Success"))
    total = len(observations)
    return (total > 0 and ok / total > HEALTHY_FRACTION), ok, total


@dataclass
class Drill:
    target: DrillTarget
    ssm: Any
    route53: Any
    resolver: Resolver
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    out: Callable[[str], None] = print
    health: Callable[[Any, str], tuple[bool, int, int]] = health_check_healthy

    def set_drain(self, value: str) -> None:
        self.ssm.put_parameter(Name=self.target.drain_parameter, Value=value, Type="String", Overwrite=True)
        self.out(f"{self.target.region}: {self.target.drain_parameter} = {value}")

    def name_servers(self) -> list[str]:
        return zone_name_servers(self.route53, self.target.zone_name)

    def answered_regions(self, name_servers: list[str]) -> set[str]:
        """Regions whose API endpoint addresses appear in the zone's answer for the API name."""
        answer = self.resolver.addresses(self.target.record_name, name_servers)
        return {r for r, target in self.target.regional_targets.items() if answer & self.resolver.addresses(target)}

    def in_dns(self, name_servers: list[str]) -> bool:
        return self.target.region in self.answered_regions(name_servers)

    def status(self, cluster: promotion.Cluster | None = None) -> dict[str, Any]:
        value = self.ssm.get_parameter(Name=self.target.drain_parameter)["Parameter"]["Value"]
        report: dict[str, Any] = {"region": self.target.region, "drain_parameter": value}
        if cluster is not None:
            report["write_lease"] = lease_status(cluster)
        if self.target.health_check_id:
            healthy, ok, total = self.health(self.route53, self.target.health_check_id)
            report["health_check"] = {"healthy": healthy, "checkers_ok": ok, "checkers": total}
        if self.target.record_name and self.target.zone_name:
            report["dns_regions"] = sorted(self.answered_regions(self.name_servers()))
        return report

    def measure(self, *, expect_in_dns: bool, poll_seconds: float, timeout_seconds: float) -> dict[str, Any]:
        """Poll until the health check and DNS agree the region is out (or back); times in seconds."""
        if not (self.target.health_check_id and self.target.record_name):
            raise OperatorError("--measure needs a stack with FailoverDns (a domain and more than one region)")
        name_servers = self.name_servers()
        start = self.clock()
        detected = in_dns_changed = None
        while self.clock() - start <= timeout_seconds:
            elapsed = self.clock() - start
            if detected is None:
                healthy, _, _ = self.health(self.route53, self.target.health_check_id)
                if healthy == expect_in_dns:
                    detected = elapsed
            # DNS is only asked once the health check has flipped: before that it cannot have changed.
            if detected is not None and in_dns_changed is None and self.in_dns(name_servers) == expect_in_dns:
                in_dns_changed = elapsed
            if detected is not None and in_dns_changed is not None:
                break
            self.sleep(poll_seconds)
        return {"health_check_seconds": detected, "dns_seconds": in_dns_changed, "timed_out": in_dns_changed is None}

    def report(self, action: str, measured: dict[str, Any]) -> bool:
        """Print measured against budget; True when within it."""
        t = self.target
        lines = [f"drill {t.stack}: {action} {t.region}"]
        detect, dns_s = measured["health_check_seconds"], measured["dns_seconds"]
        lines.append(
            f"  health check {'unhealthy' if action == 'drain' else 'healthy'} after {_s(detect)}   budget (interval x threshold): {_s(t.detection_budget)}"
        )
        lines.append(
            f"  DNS {'without' if action == 'drain' else 'with'} {t.region} after {_s(dns_s)}   budget (API RTO): {_s(t.rto_budget)}"
        )
        within = dns_s is not None and (t.rto_budget is None or dns_s <= t.rto_budget)
        lines.append(f"  result: {'within budget' if within else 'OVER BUDGET' if dns_s is not None else 'TIMED OUT'}")
        for line in lines:
            self.out(line)
        return within


def lease_status(cluster: promotion.Cluster) -> dict[str, Any]:
    """The write lease as the voters grant it, and each serving replica's control item."""
    reading, regions = promotion.status(cluster)
    now = clock.now_ms()
    latest = reading.latest
    lease: dict[str, Any] = {"voters_answering": f"{reading.reachable} of {len(cluster.voter_tables)}"}
    if latest is not None:
        lease |= {
            "holder": latest.holder,
            "epoch": latest.epoch,
            "expires_in_seconds": round((latest.expires_at_ms - now) / 1000, 1),
            "in_sync": sorted(latest.in_sync),
        }
    lease["replicas"] = {
        r.region: (
            {"error": r.error}
            if r.error
            else {
                "primary": r.primary,
                "epoch": r.epoch,
                "valid_for_seconds": None if r.lease_until_ms is None else round((r.lease_until_ms - now) / 1000, 1),
                "in_sync": list(r.in_sync),
                "revoked": r.revoked,
            }
        )
        for r in regions
    }
    return lease


def render_status(report: dict[str, Any]) -> str:
    """`sdr drill status` for people (`--format json` prints `report` itself)."""
    lines = [f"{report['region']}: drain parameter {report['drain_parameter']}"]
    if "health_check" in report:
        check = report["health_check"]
        state = "healthy" if check["healthy"] else "UNHEALTHY"
        lines.append(f"  health check: {state} ({check['checkers_ok']} of {check['checkers']} checkers report success)")
    if "dns_regions" in report:
        lines.append(f"  DNS answers with: {', '.join(report['dns_regions']) or 'no region'}")
    lease = report.get("write_lease")
    if lease is not None:
        if "holder" in lease:
            lines.append(
                f"  write lease: {lease['holder']} at epoch {lease['epoch']}, {lease['expires_in_seconds']:g} s left; "
                f"in sync: {', '.join(lease['in_sync'])} ({lease['voters_answering']} voters answering)"
            )
        else:
            lines.append(f"  write lease: none granted yet ({lease['voters_answering']} voters answering)")
        for region, replica in lease["replicas"].items():
            if "error" in replica:
                lines.append(f"    {region} control item: unreadable ({replica['error']})")
            elif replica["primary"] is None:
                lines.append(f"    {region} control item: none yet")
            else:
                valid = "revoked" if replica["revoked"] else f"valid {replica['valid_for_seconds']:g} s"
                lines.append(f"    {region} control item: {replica['primary']} epoch {replica['epoch']}, {valid}")
    database = report.get("database")
    if database is not None:
        if "error" in database:
            lines.append(f"  database: {database['error']}")
        else:
            roles = ", ".join(f"{region} {role}" for region, role in database["roles"].items())
            moving = f", moving to {database['moving_to']}" if database["moving_to"] else ""
            lines.append(f"  database: {database['status']}{moving}; {roles}")
    paid = report.get("paid_content")
    if paid is not None:
        keys = ", ".join(f"{region} {state}" for region, state in paid["signing_key"].items())
        lines.append(f"  premium sign-in ({paid['pool_region']}): {paid['sign_in']}; signing key: {keys}")
    return "\n".join(lines)


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def outputs_have_lease(target: DrillTarget) -> bool:
    return target.write_mode == "single-primary" and bool(target.outputs.get("leaseVoterTables"))


def serving_regions(target: DrillTarget, read_flag: Callable[[str, str], str]) -> list[str]:
    """Regions DNS may still answer with: not evacuated by config, drain flag not set."""
    return [
        region
        for region, name in target.drain_parameters.items()
        if region not in target.evacuated and not is_drained(read_flag(region, name))
    ]


@dataclass
class Session:
    """The operator's AWS session for one stack: clients by region, and the drain flags."""

    target: DrillTarget
    aws: Any  # a boto3 Session

    def client(self, service: str, region: str):
        return self.aws.client(service, region_name=region)

    def read_flag(self, region: str, name: str) -> str:
        return self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"]

    def drained(self, region: str) -> bool:
        return is_drained(self.read_flag(region, self.target.drain_parameters[region]))

    def cluster(self) -> promotion.Cluster:
        return promotion.Cluster.from_outputs(self.target.outputs, self.aws, self.drained)

    def drill(self, resolver: Resolver, sleep: Callable[[float], None], out: Callable[[str], None]) -> Drill:
        return Drill(
            target=self.target,
            ssm=self.client("ssm", self.target.region),
            route53=self.client("route53", "us-east-1"),
            resolver=resolver,
            sleep=sleep,
            out=out,
        )


def status(session: Session, resolver: Resolver) -> dict[str, Any]:
    drill = session.drill(resolver, time.sleep, print)
    report = drill.status(session.cluster() if outputs_have_lease(session.target) else None)
    database = GlobalDatabase.from_outputs(session.target.outputs, session.aws)
    if database is not None:
        report["database"] = database_status(database, session.target.region)
    paid = session.target.outputs.get("paidContent")
    if paid:
        report["paid_content"] = paid_content_status(paid, session.client)
    return report


def paid_content_status(paid: dict[str, Any], client: Callable[[str, str], Any]) -> dict[str, Any]:
    """Premium readers as the drill sees them: whether the user pool answers in its region (new
    sign-ins need it), and whether each region can read its replica of the signing key (a
    session there answers 503 without it)."""
    from botocore.exceptions import BotoCoreError, ClientError

    def failure(error: Exception) -> str:
        return error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__

    try:
        client("cognito-idp", paid["poolRegion"]).describe_user_pool(UserPoolId=paid["userPoolId"])
        sign_in = "available"
    except (ClientError, BotoCoreError) as error:
        sign_in = f"unavailable ({failure(error)}): signed-in readers keep their sessions, new sign-ins wait"
    keys = {}
    for region, secret in paid["signingKeySecrets"].items():
        try:
            client("secretsmanager", region).describe_secret(SecretId=secret)
            keys[region] = "readable"
        except (ClientError, BotoCoreError) as error:
            keys[region] = f"missing ({failure(error)}): sessions there answer 503"
    return {"pool_region": paid["poolRegion"], "sign_in": sign_in, "signing_key": keys}


def database_status(database: GlobalDatabase, ask_first: str) -> dict[str, Any]:
    """The relational global database: its status and each region's role (writer, reader,
    headless, unreachable), or the error when no region describes it."""
    try:
        state = database.state(ask_first)
    except DatabaseRefused as refused:
        return {"error": str(refused)}
    moving = state.moving_to.split(":")[3] if state.moving_to else None
    return {"status": state.status, "moving_to": moving, "roles": {region: state.role(region) for region in state.members}}


def set_drain(
    session: Session,
    resolver: Resolver,
    *,
    drain: bool,
    dry_run: bool,
    measure: bool,
    poll_seconds: float,
    timeout_seconds: float | None,
    sleep: Callable[[float], None],
    out: Callable[[str], None],
) -> bool:
    """Drain or restore the region; with `measure`, True when it left (or came back) within budget."""
    target = session.target
    if drain:
        remaining = [r for r in serving_regions(target, session.read_flag) if r != target.region]
        if not remaining:
            raise Refused(
                f"refusing to drain {target.region}: no other region would serve "
                "(Route 53 answers with every record when all are unhealthy)"
            )
    value = DRAINED if drain else SERVING
    if dry_run:
        out(f"{target.region}: would set {target.drain_parameter} = {value} (dry run: nothing changed)")
        return True
    drill = session.drill(resolver, sleep, out)
    drill.set_drain(value)
    if not measure:
        return True
    timeout = timeout_seconds or 3 * (target.rto_budget or 300)
    measured = drill.measure(expect_in_dns=not drain, poll_seconds=poll_seconds, timeout_seconds=timeout)
    return drill.report("drain" if drain else "restore", measured)
