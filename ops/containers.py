"""`sdr drill scale-containers`: bring a pilot-light region's containers up (or a standby back to
zero after failback), and time it against the DR budget.

Scaling is two calls and a wait:
1. Application Auto Scaling's minimum for the service is raised to the count first, so the
   target-tracking policy cannot scale it back in (the stack leaves the minimum to this command
   after creation, as it leaves the desired count: a later `pulumi up` undoes neither);
2. the service's desired count is set;
3. until the service runs that many tasks and the load balancer reports that many healthy
   targets, it polls ECS and ELB; the elapsed time is what the budget's container line estimates
   (image pull, start, health checks), and only a real account measures it.

Refused like promotion: an evacuated or drained region, a stack without containers, a count
outside 0..containerMaxTasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ops.errors import OperatorError, Refused

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class ContainerTarget:
    region: str
    cluster: str
    service: str
    target_group_arn: str
    max_tasks: int
    min_tasks: int
    scale_budget_seconds: int | None

    @classmethod
    def from_outputs(cls, stack: str, region: str, outputs: dict[str, Any]) -> ContainerTarget:
        services = outputs.get("containerServices") or {}
        if not services:
            raise Refused(f"stack {stack} runs no containers (containerBackend is off): nothing to scale")
        if region not in services:
            raise OperatorError(f"region {region} has no container service in stack {stack} ({', '.join(services)})")
        service = services[region]
        budget = (outputs.get("drBudget") or {}).get("containers") or {}
        return cls(
            region=region,
            cluster=service["cluster"],
            service=service["service"],
            target_group_arn=service["targetGroupArn"],
            max_tasks=int(budget.get("max_tasks") or 1),
            min_tasks=int(budget.get("min_tasks") or 1),
            scale_budget_seconds=budget.get("scale_seconds"),
        )

    @property
    def resource_id(self) -> str:
        return f"service/{self.cluster}/{self.service}"


@dataclass(frozen=True)
class ScaleResult:
    region: str
    tasks: int
    seconds: float | None  # None: not measured (no --measure, or a dry run)
    budget_seconds: int | None
    healthy: int

    @property
    def within_budget(self) -> bool:
        return self.seconds is None or self.budget_seconds is None or self.seconds <= self.budget_seconds

    def line(self) -> str:
        if self.seconds is None:
            return f"{self.region}: {self.tasks} task(s) requested"
        verdict = "within" if self.within_budget else "OVER"
        budget = f"{self.budget_seconds} s" if self.budget_seconds is not None else "none"
        return (
            f"{self.region}: {self.healthy} healthy task(s) of {self.tasks} after {self.seconds:.0f} s "
            f"({verdict} the container scale budget, {budget})"
        )


def scale_containers(
    target: ContainerTarget,
    *,
    tasks: int | None,
    serving: bool,
    ecs,
    autoscaling,
    elbv2,
    now: Callable[[], float],
    sleep: Callable[[float], None],
    out: Callable[[str], None],
    measure: bool = True,
    dry_run: bool = False,
    poll_seconds: float = 5.0,
    timeout_seconds: float | None = None,
) -> ScaleResult:
    """`serving`: the region is neither evacuated nor drained (scaling up a region DNS does not
    answer with would not bring its routes back). `tasks` None: the stack's containerMinTasks."""
    count = target.min_tasks if tasks is None else tasks
    if not 0 <= count <= target.max_tasks:
        raise OperatorError(f"--tasks {count} is outside 0-{target.max_tasks} (containerMaxTasks)")
    if count > 0 and not serving:
        raise Refused(f"refusing to scale up {target.region}: it is evacuated or drained, DNS does not send it requests")
    if dry_run:
        out(f"{target.region}: would set {target.resource_id} to minimum and desired {count} (dry run: nothing changed)")
        return ScaleResult(target.region, count, None, target.scale_budget_seconds, 0)

    autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=target.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        MinCapacity=count,
        MaxCapacity=target.max_tasks,
    )
    started = now()
    ecs.update_service(cluster=target.cluster, service=target.service, desiredCount=count)
    out(f"{target.region}: {target.resource_id} minimum and desired set to {count}")
    if not measure:
        return ScaleResult(target.region, count, None, target.scale_budget_seconds, 0)

    deadline = started + (timeout_seconds or 3 * (target.scale_budget_seconds or 300))
    while True:
        running = _running(ecs, target)
        healthy = _healthy(elbv2, target) if count else 0
        elapsed = now() - started
        if running == count and healthy >= count:
            result = ScaleResult(target.region, count, elapsed, target.scale_budget_seconds, healthy)
            out(result.line())
            return result
        if now() >= deadline:
            out(f"{target.region}: gave up after {elapsed:.0f} s with {running} running, {healthy} healthy of {count}")
            return ScaleResult(target.region, count, float("inf"), target.scale_budget_seconds, healthy)
        sleep(poll_seconds)


def _running(ecs, target: ContainerTarget) -> int:
    (service,) = ecs.describe_services(cluster=target.cluster, services=[target.service])["services"]
    # A deployment in progress (a new task definition) counts only once it is the only one.
    return int(service["runningCount"]) if len(service.get("deployments") or [None]) <= 1 else -1


def _healthy(elbv2, target: ContainerTarget) -> int:
    descriptions = elbv2.describe_target_health(TargetGroupArn=target.target_group_arn)["TargetHealthDescriptions"]
    return sum(1 for d in descriptions if d["TargetHealth"]["State"] == "healthy")
