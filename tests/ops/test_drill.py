"""The failover drill against moto (SSM, Route 53), with DNS answers faked at the resolver."""

import json

import boto3
import pytest
from moto import mock_aws

from ops import drill
from ops.drill import Drill, DrillTarget
from ops.errors import OperatorError
from tests.helpers import FakeClock, sdr

REGIONS = ("us-east-1", "us-west-2")
TARGETS = {"us-east-1": "d-east.execute-api.us-east-1.amazonaws.com", "us-west-2": "d-west.execute-api.us-west-2.amazonaws.com"}
IPS = {"us-east-1": {"198.51.100.1"}, "us-west-2": {"203.0.113.7"}}


class FakeResolver:
    """The zone answers with the regions in `serving`; each target resolves to its own addresses."""

    def __init__(self):
        self.serving = set(REGIONS)
        self.asked_nameservers = []

    def addresses(self, name, nameservers=None):
        if name == "api.example.com":
            self.asked_nameservers.append(nameservers)
            return set().union(*(IPS[r] for r in self.serving))
        return next(IPS[r] for r, target in TARGETS.items() if target == name)


@pytest.fixture
def aws_stack():
    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        route53.create_hosted_zone(Name="example.com", CallerReference="zone")
        checks = {}
        for region in REGIONS:
            boto3.client("ssm", region_name=region).put_parameter(Name="/serverless-dr/dr/drain", Value="false", Type="String")
            config = {
                "Type": "HTTPS",
                "FullyQualifiedDomainName": f"abc.execute-api.{region}.amazonaws.com",
                "ResourcePath": "/v1/health",
                "RequestInterval": 10,
                "FailureThreshold": 3,
            }
            checks[region] = route53.create_health_check(CallerReference=region, HealthCheckConfig=config)["HealthCheck"]["Id"]
        yield {
            "regions": list(REGIONS),
            "drainParameters": dict.fromkeys(REGIONS, "/serverless-dr/dr/drain"),
            "healthCheckIds": checks,
            "apiRecordName": "api.example.com",
            "zoneName": "example.com",
            "apiRegionalTargets": TARGETS,
            "drBudget": {"detection_seconds": 30, "api_rto_seconds": 90},
        }


def make_drill(outputs, region="us-west-2", **kwargs):
    lines = []
    target = DrillTarget.from_outputs("dr", region, outputs)
    d = Drill(
        target=target,
        ssm=boto3.client("ssm", region_name=region),
        route53=boto3.client("route53", region_name="us-east-1"),
        resolver=kwargs.pop("resolver", FakeResolver()),
        out=lines.append,
        **kwargs,
    )
    return d, lines


def drain_value(region):
    return boto3.client("ssm", region_name=region).get_parameter(Name="/serverless-dr/dr/drain")["Parameter"]["Value"]


def test_drain_and_restore_touch_only_the_named_region(aws_stack):
    d, lines = make_drill(aws_stack)
    d.set_drain(drill.DRAINED)
    assert (drain_value("us-west-2"), drain_value("us-east-1")) == ("true", "false")
    d.set_drain(drill.SERVING)
    assert drain_value("us-west-2") == "false"
    assert lines == ["us-west-2: /serverless-dr/dr/drain = true", "us-west-2: /serverless-dr/dr/drain = false"]


def test_status_reports_flag_health_and_dns_from_the_zones_name_servers(aws_stack):
    resolver = FakeResolver()
    d, _ = make_drill(aws_stack, resolver=resolver)
    report = d.status()
    assert report == {
        "region": "us-west-2",
        "drain_parameter": "false",
        "health_check": {"healthy": True, "checkers_ok": 1, "checkers": 1},
        "dns_regions": ["us-east-1", "us-west-2"],
    }
    [nameservers] = resolver.asked_nameservers
    assert nameservers and all("awsdns" in ns for ns in nameservers)


def test_measure_prints_times_against_the_budget(aws_stack):
    clock, resolver = FakeClock(), FakeResolver()

    def health(_route53, _check_id):
        return (clock.now < 35, 0, 16)  # checkers see the 503s from second 35 on

    d, lines = make_drill(aws_stack, resolver=resolver, clock=clock, sleep=clock.sleep, health=health)
    original = resolver.addresses

    def addresses(name, nameservers=None):
        if name == "api.example.com" and clock.now >= 75:
            resolver.serving = {"us-east-1"}
        return original(name, nameservers)

    resolver.addresses = addresses
    d.set_drain(drill.DRAINED)
    measured = d.measure(expect_in_dns=False, poll_seconds=5, timeout_seconds=270)
    assert measured == {"health_check_seconds": 35, "dns_seconds": 75, "timed_out": False}
    assert d.report("drain", measured) is True
    assert lines[-4:] == [
        "drill dr: drain us-west-2",
        "  health check unhealthy after 35 s   budget (interval x threshold): 30 s",
        "  DNS without us-west-2 after 75 s   budget (API RTO): 90 s",
        "  result: within budget",
    ]


def test_measure_over_budget_and_time_out_are_reported(aws_stack):
    clock = FakeClock()
    d, lines = make_drill(aws_stack, clock=clock, sleep=clock.sleep, health=lambda *_: (True, 16, 16))
    measured = d.measure(expect_in_dns=False, poll_seconds=10, timeout_seconds=60)
    assert measured == {"health_check_seconds": None, "dns_seconds": None, "timed_out": True}
    assert d.report("drain", measured) is False and lines[-1] == "  result: TIMED OUT"
    assert d.report("drain", {"health_check_seconds": 30, "dns_seconds": 120, "timed_out": False}) is False
    assert lines[-1] == "  result: OVER BUDGET"


def test_command_line_runs_status_from_an_outputs_file(aws_stack, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(aws_stack))
    args = ("drill", "status", "--stack", "dr", "--region", "us-east-1", "--outputs", str(path))
    result = sdr(*args, "--format", "json", session_factory=boto3.session.Session, resolver=FakeResolver())
    assert result.exit_code == 0
    assert json.loads(result.stdout)["drain_parameter"] == "false"
    text = sdr(*args, session_factory=boto3.session.Session, resolver=FakeResolver())
    assert text.stdout.startswith("us-east-1: drain parameter false\n")


def test_command_line_drain_then_restore(aws_stack, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(aws_stack))
    where = ("--stack", "dr", "--region", "us-east-1", "--outputs", str(path))
    assert sdr("drill", "drain", *where, session_factory=boto3.session.Session).exit_code == 0
    assert drain_value("us-east-1") == "true"
    assert sdr("drill", "restore", *where, session_factory=boto3.session.Session).exit_code == 0
    assert drain_value("us-east-1") == "false"


def test_draining_the_last_serving_region_is_refused_with_exit_3(aws_stack, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(aws_stack))
    where = ("--stack", "dr", "--outputs", str(path))
    assert sdr("drill", "drain", *where, "--region", "us-east-1", session_factory=boto3.session.Session).exit_code == 0
    refused = sdr("drill", "drain", *where, "--region", "us-west-2", session_factory=boto3.session.Session)
    assert refused.exit_code == 3
    assert (
        refused.stderr
        == "sdr drill drain: refusing to drain us-west-2: no other region would serve (Route 53 answers with every record when all are unhealthy)\n"
    )
    assert drain_value("us-west-2") == "false"


def test_unknown_region_is_refused(aws_stack):
    with pytest.raises(OperatorError, match="region eu-west-1 is not a region of stack dr"):
        DrillTarget.from_outputs("dr", "eu-west-1", aws_stack)
