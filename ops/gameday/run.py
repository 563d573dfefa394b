"""One game day, step by step; the stack it creates is destroyed whatever happens (unless kept)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops import cost, drill
from ops.errors import OperatorError, Refused
from ops.gameday import ephemeral, measure
from ops.gameday.automation import Stacks
from ops.gameday.report import Report, budget_figures

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
HOURS_A_MONTH = 730  # AWS's hours in a month for hourly charges
# How long a write missing from a region is waited for before it counts as lost: longer than the
# table's replication takes (about a second), shorter than anything an operator would accept.
SETTLE_SECONDS = 60.0


@dataclass(frozen=True)
class Options:
    base: str
    domain: str
    name: str | None = None
    assignments: dict[str, Any] = field(default_factory=dict)
    yes: bool = False
    keep: bool = False
    max_usd: float = 5.0
    max_minutes: float = 120.0
    writes_per_region: int = 20
    restore: bool = True
    grey_failure_seconds: int = 60  # the home stage throttled to 0 but for /health; 0: skipped
    fis_role_arn: str | None = None  # with it, DynamoDB replication is paused with AWS FIS
    pause_seconds: int = 120


def offline_plan(name: str, config: dict[str, Any]):
    """The program run offline with the ephemeral stack's config (what `sdr plan` does)."""
    from ops.offline_run import run_stack

    with tempfile.TemporaryDirectory() as directory:
        stack_file = Path(directory) / f"Pulumi.{name}.yaml"
        stack_file.write_text(yaml.safe_dump({"config": config}))
        return run_stack(name, stack_file=stack_file)


def restore_seconds(probe: measure.Probe, outputs: dict[str, Any], name: str, out: Callable[[str], None]) -> float:
    """The table restored to its latest restorable time in the home region, compared, deleted."""
    from ops import restore_test as restores

    target = restores.RestoreTarget.from_outputs(name, None, outputs)
    test = restores.RestoreTest(
        target=target,
        dynamodb=probe.client("dynamodb", target.region),
        s3=probe.client("s3", target.region),
        backup=probe.client("backup", target.region),
        run_id=name.removeprefix(ephemeral.PREFIX).replace("-", ""),
        clock=restores.Clock(now=probe.clock, sleep=probe.sleep, timeout_seconds=3600),
        out=out,
    )
    return test.table(None, from_backup=False, sample=10, keep=False).seconds


@dataclass
class GameDay:
    options: Options
    stacks: Stacks
    probe: measure.Probe
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    plan: Callable[[str, dict[str, Any]], Any] = offline_plan
    restore: Callable[..., float] = restore_seconds
    out: Callable[[str], None] = print

    def run(self) -> Report:
        o = self.options
        if not o.yes:
            raise Refused("a game day creates and destroys a whole stack in your account: pass --yes")
        if o.fis_role_arn and not ROLE_ARN.match(o.fis_role_arn):
            raise OperatorError(f"--fis-role-arn: {o.fis_role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        name = ephemeral.check_name(o.name or ephemeral.new_name(self.now()))
        if self.stacks.exists(name):
            raise Refused(f"stack {name} exists: a game day only runs on a stack it creates (sdr gameday destroy --name {name})")
        config = ephemeral.settings(o.base, name, o.domain, o.assignments)
        planned = self.plan(name, config)
        estimate = self._estimate(planned, o.max_minutes / 60)
        if estimate > o.max_usd:
            raise Refused(f"the run is estimated at ${estimate:.2f}, over --max-usd {o.max_usd:.2f}")
        budget = planned.outputs["drBudget"]
        report = Report(name, o.base, list(budget["regions"]), round(estimate, 2), o.max_usd)
        self.started, self.report = self.probe.clock(), report
        self.paused_seconds: float | None = None  # how long FIS held replication, when it did
        created = False
        try:
            with self._step("create"):
                self.stacks.create(name, config)
                created = True
            with self._step("up"):
                outputs = self.stacks.up(name)
            self._measure(outputs, budget)
        except (Exception, KeyboardInterrupt) as error:  # reported; the stack goes either way
            report.error = str(error).splitlines()[0] if str(error) else type(error).__name__
        finally:
            if created and not o.keep:
                self._destroy(name)
        report.add("cost of the run", self._cost(planned), o.max_usd, "usd")
        return report

    def _measure(self, outputs: dict[str, Any], budget: dict[str, Any]) -> None:
        o, report, probe = self.options, self.report, self.probe
        numbers = budget_figures(budget)
        regions, home = list(outputs["regions"]), outputs["homeRegion"]
        api = measure.Api(outputs, probe, self.started)
        with self._step("health"):
            for region, seconds in measure.wait_healthy(api, regions, self._left(900)).items():
                report.add(f"/health 200 in {region} (after up)", seconds)
        with self._step("load"):
            self.traffic = measure.scripted_load(api, regions, o.writes_per_region)
            report.add("load: requests the client gave up on", len(self.traffic.failed), 0, "")
        if len(regions) > 1:
            with self._step("replication"):
                for region, seconds in measure.replication_lag(api, home, regions, self.traffic, self._left(300)).items():
                    report.add(f"replication lag {home} -> {region}", seconds)
            if o.grey_failure_seconds:
                with self._step("grey-failure"):
                    grey = measure.throttle_home(api, outputs, self.traffic, o.grey_failure_seconds)
                    report.add(f"writes the failover client gave up on while {home} answered 429", grey.client_failures, 0, "")
                    report.add(f"slowest of {grey.requests} writes meanwhile (failover included)", grey.slowest_seconds)
                    if not grey.health_check_stayed_healthy:  # the drain below must start from a healthy check
                        report.notes.append(
                            f"{home}'s health check failed during the grey failure (its /health is throttled too)"
                        )
                        probe.until(
                            f"{home}'s health check healthy again",
                            lambda: drill.health_check_healthy(
                                probe.client("route53", "us-east-1"), outputs["healthCheckIds"][home]
                            )[0],
                            self._left(600),
                        )
            if o.fis_role_arn:
                with self._step("replication-pause"):
                    paused = measure.replication_pause(
                        api,
                        outputs,
                        self.traffic,
                        o.fis_role_arn,
                        o.pause_seconds,
                        report.stack,
                        self._left(o.pause_seconds + 600),
                    )
                    self.paused_seconds = paused.seconds
                    report.add(f"replication paused from {home} (AWS FIS, {paused.state})", paused.seconds)
                    report.add("writes acknowledged during the pause", paused.writes_acknowledged, unit="")
                    report.add("writes the failover client gave up on during the pause", paused.client_failures, 0, "")
                    report.add("those writes in every region after the pause", paused.caught_up_seconds)
            with self._step("failover"):
                try:
                    failed = measure.drain_and_measure(api, outputs, self.traffic, self._left(3 * (numbers["dns"] or 300)))
                finally:
                    measure.restore_home(probe, outputs)
                report.add(f"health check detects {home} drained", failed.detection_seconds, numbers["detection"])
                report.add(f"DNS answers without {home}", failed.dns_seconds, numbers["dns"])
                report.add("writes fail over without an operator", failed.write_failover_seconds, numbers["write_failover"])
                report.add("writes the failover client gave up on", failed.client_failures, 0, "")
        with self._step("read-back"):
            lost = measure.lost_writes(api, regions, self.traffic, self._left(SETTLE_SECONDS))
            lost_ids = {write.post_id for write, _ in lost}
            report.add(f"acknowledged writes lost (of {len(self.traffic.writes)})", len(lost_ids), numbers["lost_writes"], "")
            report.notes += [f"lost: post {w.post_id} acknowledged by {w.region}, missing in {r}" for w, r in lost[:5]]
        if o.restore:
            with self._step("restore"):
                report.add("table restore (PITR) usable after", self.restore(probe, outputs, report.stack, self.out))

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        try:
            self.out(f"game day: {name}")
            if self._left(1) <= 0:
                raise OperatorError(f"--max-minutes {self.options.max_minutes:g} reached before {name}")
            yield
        except BaseException:
            self.report.failed_step = self.report.failed_step or name
            raise
        self.report.steps.append(name)

    def _left(self, step_seconds: float) -> float:
        """A step's timeout: its own, or what is left of --max-minutes if less."""
        remaining = self.options.max_minutes * 60 - (self.probe.clock() - self.started)
        return min(step_seconds, remaining)

    def _destroy(self, name: str) -> None:
        self.out(f"game day: destroy {name}")
        try:
            self.stacks.destroy(name)
            self.report.destroyed = True
            self.report.steps.append("destroy")
        except (Exception, KeyboardInterrupt) as error:
            self.report.destroyed = False
            self.report.failed_step = self.report.failed_step or "destroy"
            self.report.notes.append(f"destroy failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")

    def _estimate(self, planned, hours: float) -> float:
        o, regions = self.options, len(planned.outputs["drBudget"]["regions"])
        writes = o.writes_per_region * (regions + 1) + 100  # the load, the failover's writes, the lag probes
        return (
            cost.idle_monthly(planned) * hours / HOURS_A_MONTH
            + cost.api_load_cost(planned, reads=4 * writes, writes=writes)
            + self._fis_cost(o.pause_seconds)
        )

    def _fis_cost(self, seconds: float) -> float:
        """FIS bills each action by the minute it runs (a started minute counts)."""
        return math.ceil(seconds / 60) * cost.price("fis_action_minute") if self.options.fis_role_arn else 0.0

    def _cost(self, planned) -> float:
        hours = (self.probe.clock() - self.started) / 3600
        traffic = getattr(self, "traffic", None)
        reads, writes = (traffic.reads, len(traffic.writes)) if traffic else (0, 0)
        paused = self.paused_seconds
        return (
            cost.idle_monthly(planned) * hours / HOURS_A_MONTH
            + cost.api_load_cost(planned, reads=reads, writes=writes)
            + (self._fis_cost(paused) if paused else 0.0)
        )
