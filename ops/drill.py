"""Failover drill: drain a region without a deploy, watch it leave DNS, put it back; move the primary.

    python -m ops.drill <stack> --region R {drain,restore,status,promote} [--measure] [--dry-run]
    python -m ops.drill <stack> restore-test [--region R] [--point-in-time T] [--from-backup] ...

drain    sets the region's drain parameter to "true": its /health answers 503 within the handler's
         cache period, Route 53's checkers see failures, and after interval x threshold the
         region's records stop being answered. Refused when it would leave no region serving
         (Route 53 answers with every record when all are unhealthy).
restore  sets it back to "false".
status   prints the parameter, the health check as Route 53's checkers see it, which regions the
         zone's own name servers answer with for the API name, and which region each replica
         names as primary for table writes (with its epoch).
promote  makes R the primary for table writes (single-primary write mode): fences the other
         replicas, waits --settle-seconds for in-flight replication, activates R
         (ops/primary.py). Refused for an evacuated or drained region.
--measure (with drain or restore) polls the health check and the DNS answers until the region is
         out (or back) and prints the measured times against the stack's DR budget.
--dry-run prints what drain, restore or promote would change, and changes nothing.
restore-test restores the table and a media prefix into scratch copies (PITR and object versions,
         or with --from-backup the latest AWS Backup recovery point), compares them with the live
         data, prints the restore times and deletes the copies (ops/restore_test.py). --region
         defaults to the stack's home region.
copy-back writes user data from a kept scratch table back to the live table (the items that
         differ or are gone; --dry-run counts them), in the primary region in single-primary mode.

Runs against real AWS with the caller's credentials. Stack outputs come from
`pulumi stack output --json --stack <stack>`, or from `--outputs FILE` (the same JSON) where the
CLI is not at hand. Every refusal and every missing prerequisite is one line on stderr and a
non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from functions.shared.flags import is_drained
from ops import primary, restore_test

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

    @classmethod
    def from_outputs(cls, stack: str, region: str, outputs: dict[str, Any]) -> DrillTarget:
        missing = [k for k in REQUIRED_OUTPUTS if k not in outputs]
        if missing:
            raise SystemExit(
                f"drill: stack {stack}'s outputs lack {', '.join(missing)}: deploy it first (pulumi up), or pass --outputs FILE"
            )
        regions = outputs.get("regions") or []
        if region not in regions:
            raise SystemExit(f"drill: region {region} is not a region of stack {stack} ({', '.join(regions)})")
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
        zones = self.route53.list_hosted_zones_by_name(DNSName=self.target.zone_name)["HostedZones"]
        zone = next(
            (z for z in zones if z["Name"].rstrip(".") == self.target.zone_name and not z["Config"].get("PrivateZone")), None
        )
        if zone is None:
            raise SystemExit(f"drill: no public hosted zone {self.target.zone_name} in this account")
        return self.route53.get_hosted_zone(Id=zone["Id"])["DelegationSet"]["NameServers"]

    def answered_regions(self, name_servers: list[str]) -> set[str]:
        """Regions whose API endpoint addresses appear in the zone's answer for the API name."""
        answer = self.resolver.addresses(self.target.record_name, name_servers)
        return {r for r, target in self.target.regional_targets.items() if answer & self.resolver.addresses(target)}

    def in_dns(self, name_servers: list[str]) -> bool:
        return self.target.region in self.answered_regions(name_servers)

    def status(self, dynamodb: Any = None) -> dict[str, Any]:
        value = self.ssm.get_parameter(Name=self.target.drain_parameter)["Parameter"]["Value"]
        report: dict[str, Any] = {"region": self.target.region, "drain_parameter": value}
        if dynamodb is not None and self.target.table_name and self.target.write_mode == "single-primary":
            [seen] = primary.status({self.target.region: dynamodb}, self.target.table_name, self.target.home_region)
            report["primary"] = {"region": seen.primary, "epoch": seen.epoch} if seen.error is None else {"error": seen.error}
        if self.target.health_check_id:
            healthy, ok, total = self.health(self.route53, self.target.health_check_id)
            report["health_check"] = {"healthy": healthy, "checkers_ok": ok, "checkers": total}
        if self.target.record_name and self.target.zone_name:
            report["dns_regions"] = sorted(self.answered_regions(self.name_servers()))
        return report

    def measure(self, *, expect_in_dns: bool, poll_seconds: float, timeout_seconds: float) -> dict[str, Any]:
        """Poll until the health check and DNS agree the region is out (or back); times in seconds."""
        if not (self.target.health_check_id and self.target.record_name):
            raise SystemExit("drill: --measure needs a stack with FailoverDns (a domain and more than one region)")
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


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def load_outputs(stack: str, path: Path | None) -> dict[str, Any]:
    if path is not None:
        return json.loads(path.read_text())
    try:
        result = subprocess.run(
            ["pulumi", "stack", "output", "--json", "--stack", stack], check=True, capture_output=True, text=True
        )
    except FileNotFoundError:
        raise SystemExit("drill: the Pulumi CLI is not installed; pass --outputs FILE (pulumi stack output --json)") from None
    return json.loads(result.stdout)


def serving_regions(target: DrillTarget, read_flag: Callable[[str, str], str]) -> list[str]:
    """Regions DNS may still answer with: not evacuated by config, drain flag not set."""
    return [
        region
        for region, name in target.drain_parameters.items()
        if region not in target.evacuated and not is_drained(read_flag(region, name))
    ]


def main(
    argv: list[str] | None = None,
    *,
    session_factory: Callable[[], Any] | None = None,
    resolver: Resolver | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.drill", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack")
    parser.add_argument("--region", help="required except for restore-test (default: the home region)")
    parser.add_argument("action", choices=("drain", "restore", "status", "promote", "restore-test", "copy-back"))
    parser.add_argument("--measure", action="store_true", help="poll until the region is out (drain) or back (restore)")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; change nothing")
    parser.add_argument("--outputs", type=Path, help="stack outputs JSON instead of asking the Pulumi CLI")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--timeout-seconds", type=float, default=None, help="default: 3 x the stack's API RTO budget")
    parser.add_argument("--settle-seconds", type=float, default=5.0, help="promote: wait between fencing and activating")
    restore = parser.add_argument_group("restore-test")
    restore.add_argument("--point-in-time", help="ISO-8601 time with zone (default: latest restorable / latest backup)")
    restore.add_argument("--from-backup", action="store_true", help="restore AWS Backup recovery points instead of PITR")
    restore.add_argument("--prefix", default="uploads/", help="media prefix to restore (default: uploads/)")
    restore.add_argument("--sample", type=int, default=50, help="items and objects compared by hash (default: 50)")
    restore.add_argument("--keep", action="store_true", help="leave the scratch table and bucket for inspection")
    restore.add_argument("--json", action="store_true", help="also print the results as JSON")
    back = parser.add_argument_group("copy-back")
    back.add_argument("--scratch-table", help="the table restore-test --keep left")
    back.add_argument("--kinds", default="POST", help=f"item kinds to copy back (of {', '.join(restore_test.COPYABLE_KINDS)})")
    args = parser.parse_args(argv)
    if args.action == "copy-back" and not args.scratch_table:
        parser.error("copy-back needs --scratch-table (the table restore-test --keep left)")
    if args.action not in ("restore-test", "copy-back") and not args.region:
        parser.error(f"{args.action} needs --region")

    import boto3
    from botocore.exceptions import NoCredentialsError

    outputs = load_outputs(args.stack, args.outputs)
    session = session_factory() if session_factory else boto3.session.Session()
    try:
        if args.action == "restore-test":
            return _restore_test(args, outputs, session, sleep)
        if args.action == "copy-back":
            return _copy_back(args, outputs, session)
        target = DrillTarget.from_outputs(args.stack, args.region, outputs)
        return _run(args, target, session, resolver or DnsPythonResolver(), sleep)
    except NoCredentialsError:
        raise SystemExit(
            "drill: no AWS credentials: the drill acts on the deployed stack (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        ) from None
    except primary.PromotionRefused as refused:
        raise SystemExit(f"drill: promotion refused: {refused}") from None
    except restore_test.RestoreError as error:
        raise SystemExit(f"drill: restore-test: {error}") from None


def _copy_back(args, outputs: dict[str, Any], session) -> int:
    target = restore_test.RestoreTarget.from_outputs(args.stack, args.region, outputs)
    dynamodb = session.client("dynamodb", region_name=target.region)
    if outputs.get("writeMode", "single-primary") == "single-primary":
        seen = primary.read_control(dynamodb, target.table_name, target.region)
        if seen.error:
            raise restore_test.RestoreError(f"cannot read which region is primary in {target.region}: {seen.error}")
        current = seen.primary or outputs.get("homeRegion") or outputs["regions"][0]  # no item yet: home
        if current != target.region:
            raise restore_test.RestoreError(
                f"{target.region} is not the primary for writes ({current} is): run copy-back with --region {current}"
            )
    kinds = tuple(k.strip().upper() for k in args.kinds.split(",") if k.strip())
    print(restore_test.copy_back(dynamodb, args.scratch_table, target.table_name, kinds, args.dry_run).line())
    return 0


def _restore_test(args, outputs: dict[str, Any], session, sleep: Callable[[float], None]) -> int:
    at = restore_test.parse_time(args.point_in_time)
    target = restore_test.RestoreTarget.from_outputs(args.stack, args.region, outputs)
    drill = restore_test.RestoreTest(
        target=target,
        dynamodb=session.client("dynamodb", region_name=target.region),
        s3=session.client("s3", region_name=target.region),
        backup=session.client("backup", region_name=target.region),
        run_id=time.strftime("%Y%m%d%H%M%S", time.gmtime()),
        clock=restore_test.Clock(sleep=sleep, timeout_seconds=args.timeout_seconds or 4 * 3600.0),
    )
    results = [
        drill.table(at, args.from_backup, args.sample, args.keep),
        drill.media(args.prefix, at, args.from_backup, args.sample, args.keep),
    ]
    ok = drill.report(results)
    if args.json:
        print(restore_test.results_json(results))
    return 0 if ok else 1


def _run(args, target: DrillTarget, session, resolver: Resolver, sleep: Callable[[float], None]) -> int:
    def ssm(region: str):
        return session.client("ssm", region_name=region)

    def read_flag(region: str, name: str) -> str:
        return ssm(region).get_parameter(Name=name)["Parameter"]["Value"]

    drill = Drill(
        target=target, ssm=ssm(args.region), route53=session.client("route53", region_name="us-east-1"), resolver=resolver
    )
    if args.action == "status":
        dynamodb = session.client("dynamodb", region_name=args.region) if target.table_name else None
        print(json.dumps(drill.status(dynamodb), indent=2, sort_keys=True))
        return 0
    if args.action == "promote":
        if not target.table_name:
            raise SystemExit("drill: promote needs the stack output tableName: deploy the stack first (pulumi up)")
        report = primary.promote(
            args.region,
            table=target.table_name,
            home_region=target.home_region,
            dynamodb={r: session.client("dynamodb", region_name=r) for r in target.drain_parameters},
            drained=lambda region: is_drained(read_flag(region, target.drain_parameters[region])),
            evacuated=target.evacuated,
            write_mode=target.write_mode,
            settle_seconds=args.settle_seconds,
            sleep=sleep,
            now_iso=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            dry_run=args.dry_run,
        )
        for line in report.lines():
            print(line)
        return 0
    if args.action == "drain":
        remaining = [r for r in serving_regions(target, read_flag) if r != args.region]
        if not remaining:
            raise SystemExit(
                f"drill: refusing to drain {args.region}: no other region would serve "
                "(Route 53 answers with every record when all are unhealthy)"
            )
    value = DRAINED if args.action == "drain" else SERVING
    if args.dry_run:
        print(f"{args.region}: would set {target.drain_parameter} = {value} (dry run: nothing changed)")
        return 0
    drill.set_drain(value)
    if not args.measure:
        return 0
    timeout = args.timeout_seconds or 3 * (target.rto_budget or 300)
    measured = drill.measure(expect_in_dns=args.action == "restore", poll_seconds=args.poll_seconds, timeout_seconds=timeout)
    return 0 if drill.report(args.action, measured) else 1


if __name__ == "__main__":
    sys.exit(main())
