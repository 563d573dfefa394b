"""`sdr drill scale-containers` against fake ECS, Application Auto Scaling and ELB clients that
share a clock: moto starts tasks at once, a real region takes about a minute per image pull."""

import json

import pytest

from ops.containers import ContainerTarget, scale_containers
from ops.errors import OperatorError, Refused
from stack.budget import compute_budget
from stack.config import parse_stack_config
from tests.helpers import FakeClock, sdr
from verify.variants import VARIANTS

PILOT_LIGHT = VARIANTS["failover-routing-locked-hourly-backups-pilot-light-headless-database"][1]


class FakeRegion:
    """A service whose tasks run `start_seconds` after they are asked for and whose targets turn
    healthy `health_seconds` later; the autoscaling minimum as registered."""

    def __init__(self, clock, *, desired=0, start_seconds=60.0, health_seconds=20.0):
        self.clock, self.start_seconds, self.health_seconds = clock, start_seconds, health_seconds
        self.asked_at = [0.0 - start_seconds - health_seconds] * desired  # running and healthy already
        self.minimum = None
        self.calls = []

    # ECS
    def update_service(self, *, cluster, service, desiredCount):
        self.calls.append(("update_service", cluster, service, desiredCount))
        now = self.clock()
        self.asked_at = (self.asked_at + [now] * desiredCount)[:desiredCount]

    def describe_services(self, *, cluster, services):
        running = sum(1 for t in self.asked_at if self.clock() - t >= self.start_seconds)
        return {"services": [{"serviceName": services[0], "runningCount": running, "deployments": [{}]}]}

    # Application Auto Scaling
    def register_scalable_target(self, **kwargs):
        self.calls.append(("register_scalable_target", kwargs["ResourceId"], kwargs["MinCapacity"]))
        self.minimum = kwargs["MinCapacity"]

    # ELB
    def describe_target_health(self, *, TargetGroupArn):
        ready = self.start_seconds + self.health_seconds
        states = ["healthy" if self.clock() - t >= ready else "initial" for t in self.asked_at]
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": s}} for s in states]}


def outputs_of(overrides):
    """The outputs the stack exports for these config overrides (drBudget computed from config)."""
    cfg = parse_stack_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}, stack="dr", allow_placeholder_domain=True
    )
    return {
        "regions": list(cfg.regions),
        "drainParameters": dict.fromkeys(cfg.regions, "/serverless-dr/dr/drain"),
        "drBudget": compute_budget(cfg).to_dict(),
        "containerServices": {
            r: {"cluster": f"cluster-{r}", "service": f"service-{r}", "targetGroupArn": f"arn:aws:elasticloadbalancing:{r}:1:tg"}
            for r in cfg.regions
        },
    }


@pytest.fixture
def dr():
    return outputs_of({"regions": ["us-east-1", "us-west-2"], **PILOT_LIGHT, "domain": "example.com"})


def scale(target, region, clock, **kwargs):
    lines = []
    result = scale_containers(
        target, ecs=region, autoscaling=region, elbv2=region, now=clock, sleep=clock.sleep, out=lines.append, **kwargs
    )
    return result, lines


def test_the_budget_says_where_tasks_run_and_how_long_a_standby_takes(dr):
    budget = dr["drBudget"]["containers"]
    assert budget["mode"] == "pilot-light"
    assert budget["tasks_by_region"] == {"us-east-1": 1, "us-west-2": 0}
    assert budget["rto_seconds"] == dr["drBudget"]["detection_seconds"] + budget["scale_seconds"] + 60
    assert budget["rto_seconds"] <= budget["rto_budget_seconds"]


def test_a_standby_scaled_from_zero_is_timed_until_its_targets_are_healthy(dr):
    clock = FakeClock()
    target = ContainerTarget.from_outputs("dr", "us-west-2", dr)
    region = FakeRegion(clock, start_seconds=55, health_seconds=20)
    result, lines = scale(target, region, clock, tasks=2, serving=True, poll_seconds=5)
    # The minimum is raised before the desired count: autoscaling never scales it back in meanwhile.
    assert [c[0] for c in region.calls] == ["register_scalable_target", "update_service"]
    assert region.minimum == 2 and result.healthy == 2
    assert result.seconds == 75 and result.within_budget  # 55 s start + 20 s checks, polled every 5 s
    assert (
        lines[-1]
        == f"us-west-2: 2 healthy task(s) of 2 after 75 s (within the container scale budget, {target.scale_budget_seconds} s)"
    )


def test_a_slow_pull_is_over_budget_and_exits_1(dr, tmp_path):
    clock = FakeClock()
    slow = FakeRegion(clock, start_seconds=150, health_seconds=20)  # within the timeout, past the budget
    result = command(dr, tmp_path, FakeSession(slow), clock, "--measure")
    assert result.exit_code == 1
    assert "OVER the container scale budget" in result.stdout


def test_a_scale_that_never_completes_gives_up_at_the_timeout(dr):
    clock = FakeClock()
    target = ContainerTarget.from_outputs("dr", "us-west-2", dr)
    stuck = FakeRegion(clock, start_seconds=10_000)
    result, lines = scale(target, stuck, clock, tasks=1, serving=True, timeout_seconds=120)
    assert not result.within_budget and clock.now == pytest.approx(120, abs=5)
    assert lines[-1].startswith("us-west-2: gave up after 120 s with 0 running, 0 healthy of 1")


def test_failback_scales_the_old_standby_to_zero_and_an_up_to_date_service_returns_at_once(dr):
    clock = FakeClock()
    target = ContainerTarget.from_outputs("dr", "us-west-2", dr)
    region = FakeRegion(clock, desired=2)
    result, _ = scale(target, region, clock, tasks=0, serving=False)
    assert region.minimum == 0 and result.seconds == 0


@pytest.mark.parametrize("serving", [False])
def test_scaling_up_a_drained_or_evacuated_region_is_refused_and_changes_nothing(dr, serving):
    clock = FakeClock()
    region = FakeRegion(clock)
    with pytest.raises(Refused, match="refusing to scale up us-west-2: it is evacuated or drained"):
        scale(ContainerTarget.from_outputs("dr", "us-west-2", dr), region, clock, tasks=1, serving=serving)
    assert region.calls == []


def test_a_count_past_the_configured_maximum_and_a_stack_without_containers_are_refused(dr):
    clock = FakeClock()
    target = ContainerTarget.from_outputs("dr", "us-west-2", dr)
    with pytest.raises(OperatorError, match=f"--tasks 99 is outside 0-{target.max_tasks}"):
        scale(target, FakeRegion(clock), clock, tasks=99, serving=True)
    plain = outputs_of({"regions": ["us-east-1", "us-west-2"], "domain": "example.com"})
    plain.pop("containerServices")
    with pytest.raises(Refused, match="runs no containers"):
        ContainerTarget.from_outputs("dr", "us-west-2", plain)


def test_the_command_refuses_a_drained_region_with_exit_3(dr, tmp_path):
    clock = FakeClock()
    region = FakeRegion(clock)
    result = command(dr, tmp_path, FakeSession(region, drained=True), clock)
    assert result.exit_code == 3 and region.calls == []
    assert result.stderr.startswith("sdr drill scale-containers: refusing to scale up us-west-2")


def command(outputs, tmp_path, session, clock, *args):
    """`sdr drill scale-containers` on us-west-2 of the stack with these outputs, in `session`."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    where = ("--stack", "dr", "--region", "us-west-2", "--outputs", str(path))
    return sdr("drill", "scale-containers", *where, *args, session_factory=lambda: session, sleep=clock.sleep, clock=clock)


class FakeSession:
    """boto3's Session shape: the region's fakes, and its drain flag in SSM."""

    def __init__(self, region, drained=False):
        self.region, self.drained = region, drained

    def client(self, service, region_name=None):
        if service == "ssm":
            value = "true" if self.drained else "false"
            return type("Ssm", (), {"get_parameter": lambda _self, Name: {"Parameter": {"Value": value}}})()
        return self.region
