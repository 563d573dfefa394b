"""FailoverDns: checks and records per region, both routing modes, evacuation by inverted check."""

import pytest

from components import FailoverDns, FailoverDnsArgs, RegionalEndpoint
from tests.helpers import cached_stack, providers_for, run_component
from tests.stacks.invariants import config_of
from verify.variants import VARIANTS

CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"


def endpoints(*regions):
    return {
        r: RegionalEndpoint(
            health_host=f"api{i}.execute-api.{r}.amazonaws.com",
            health_path="/v1/health",
            alias_name=f"d-{i}.execute-api.{r}.amazonaws.com",
            alias_zone_id=f"ZONE{i}",
        )
        for i, r in enumerate(regions)
    }


def build(regions=("us-east-1", "us-west-2"), **kwargs):
    def program():
        import pulumi

        provider = providers_for("us-east-1")["us-east-1"]
        dns = FailoverDns(
            "dns",
            FailoverDnsArgs(
                record_name="api.example.com",
                zone_name="example.com",
                endpoints=endpoints(*regions),
                alert_topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
                interval=10,
                **kwargs,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        return {"checks": dns.health_check_ids}

    return run_component(program)


def records(run):
    return [r for r in run.of_type(RECORD)]


@pytest.mark.parametrize("regions", [("us-east-1", "us-west-2"), ("us-east-1", "us-west-2", "eu-west-1")])
def test_latency_routing_has_a_and_aaaa_per_region_each_with_its_check(regions):
    run = build(regions)
    checks = {c.name.removeprefix("dns-check-"): c for c in run.of_type(CHECK)}
    assert sorted(checks) == sorted(regions)
    recs = records(run)
    assert len(recs) == 2 * len(regions)
    assert sorted((r.inputs["type"], r.inputs["setIdentifier"]) for r in recs) == sorted(
        (t, g) for g in regions for t in ("A", "AAAA")
    )
    for record in recs:
        region = record.inputs["setIdentifier"]
        assert record.inputs["latencyRoutingPolicies"] == [{"region": region}]
        assert record.inputs["healthCheckId"] == run.outputs["checks"][region]
        [alias] = record.inputs["aliases"]
        assert alias["evaluateTargetHealth"] is True and region in alias["name"]
        assert record.region == "us-east-1" and "failoverRoutingPolicies" not in record.inputs


def test_health_checks_hit_each_regions_own_deep_health_path_with_explicit_settings():
    run = build()
    for check in run.of_type(CHECK):
        region = check.name.removeprefix("dns-check-")
        inputs = check.inputs
        assert (inputs["type"], inputs["port"], inputs["resourcePath"]) == ("HTTPS", 443, "/v1/health")
        assert inputs["fqdn"].endswith(f".execute-api.{region}.amazonaws.com")
        assert (inputs["requestInterval"], inputs["failureThreshold"]) == (10, 3)
        # Latency graphs are an optional, billed feature ($1/check/month), off unless asked for.
        assert inputs["measureLatency"] is False and inputs["enableSni"] is True
        assert len(inputs["regions"]) >= 3
        assert inputs["invertHealthcheck"] is False


def test_failover_routing_has_exactly_one_primary():
    run = build(routing="failover")
    policies = {
        (r.inputs["setIdentifier"], r.inputs["type"]): r.inputs["failoverRoutingPolicies"][0]["type"] for r in records(run)
    }
    assert policies == {
        ("us-east-1", "A"): "PRIMARY",
        ("us-east-1", "AAAA"): "PRIMARY",
        ("us-west-2", "A"): "SECONDARY",
        ("us-west-2", "AAAA"): "SECONDARY",
    }


def test_evacuation_inverts_exactly_the_evacuated_regions_check():
    run = build(regions=("us-east-1", "us-west-2", "eu-west-1"), evacuated_regions=["us-west-2"])
    inverted = {c.name.removeprefix("dns-check-"): c.inputs["invertHealthcheck"] for c in run.of_type(CHECK)}
    assert inverted == {"us-east-1": False, "us-west-2": True, "eu-west-1": False}
    # Data plane only: the records are the same as without evacuation.
    assert len(records(run)) == 6


def test_alarm_per_check_in_us_east_1():
    run = build()
    alarms = [a for a in run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")]
    assert sorted(a.name for a in alarms) == ["dns-alarm-us-east-1", "dns-alarm-us-west-2"]
    for alarm in alarms:
        assert alarm.region == "us-east-1"
        assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/Route53", "HealthCheckStatus")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"routing": "failover", "regions": ("us-east-1", "us-west-2", "eu-west-1")}, "routing"),
        ({"evacuated_regions": ["us-east-1", "us-west-2"]}, "evacuated_regions"),
        ({"evacuated_regions": ["eu-west-1"]}, "evacuated_regions"),
        ({"interval": 20}, "interval"),
        ({"checker_regions": ["us-east-1", "us-west-2"]}, "checker_regions"),
    ],
)
def test_bad_args_name_the_field(kwargs, field):
    regions = kwargs.pop("regions", ("us-east-1", "us-west-2"))
    args = FailoverDnsArgs(
        record_name="api.example.com", zone_name="example.com", endpoints=endpoints(*regions), alert_topic_arn="x", **kwargs
    )
    with pytest.raises(ValueError, match=rf"FailoverDnsArgs\.{field}"):
        args.validate()


def test_dr_plan_has_checks_and_records_for_both_regions_and_a_budget_within_target():
    dr = cached_stack("dr")
    assert len(dr.of_type(CHECK)) == 2
    assert len([r for r in dr.of_type(RECORD) if r.name.startswith("api-dns-")]) == 4
    assert set(dr.outputs["healthCheckIds"]) == {"us-east-1", "us-west-2"}
    assert dr.outputs["drBudget"]["api_rto_seconds"] <= dr.outputs["drBudget"]["rto_budget_seconds"] == 90
    checks = {c.name: c.inputs for c in dr.of_type(CHECK)}
    api_urls = dr.outputs["apiUrls"]
    for region in ("us-east-1", "us-west-2"):
        assert checks[f"api-dns-check-{region}"]["fqdn"] == api_urls[region].split("/")[2]


def test_dr_evacuation_by_config_and_dev_without_dns():
    base, overrides = VARIANTS["evacuated-home-customer-managed-keys-database-backup-copy"]
    run = cached_stack(base, **overrides)
    inverted = {c.name: c.inputs["invertHealthcheck"] for c in run.of_type(CHECK)}
    evacuated = set(overrides["evacuatedRegions"])
    assert inverted == {f"api-dns-check-{r}": r in evacuated for r in config_of(run).regions}
    assert cached_stack("dev").of_type(CHECK) == []


def test_dashboard_spans_every_region():
    import json

    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]  # a dr with the dashboard on
    [dashboard] = cached_stack(base, **overrides).of_type("aws:cloudwatch/dashboard:Dashboard")
    widgets = json.loads(dashboard.inputs["dashboardBody"])["widgets"]
    assert {w["properties"]["region"] for w in widgets} == {"us-east-1", "us-west-2"}
    titles = " ".join(w["properties"]["title"] for w in widgets)
    for part in ("API requests", "Lambda errors", "DLQ depth", "iterator age", "replication latency", "Route 53 health checks"):
        assert part in titles
