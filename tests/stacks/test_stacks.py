"""Whole-program invariants, per stack, with each stack's real config files."""

import pytest

from ops.offline_run import DuplicateUrnError
from stack.regions import GLOBAL_SERVICES_REGION
from tests.helpers import cached_stack, fixture_stack
from verify.variants import VARIANTS

STACKS = ("dev", "dr")
STACK_REGIONS = {"dev": ["us-east-1"], "dr": ["us-east-1", "us-west-2"]}
# The write lease's third voter of the shipped dr stack (two serving regions): no serving region.
LEASE_WITNESS = {"dev": [], "dr": ["us-east-2"]}


@pytest.mark.parametrize("stack", STACKS)
def test_every_aws_resource_has_an_explicit_provider_in_an_intended_region(stack):
    run = cached_stack(stack)
    allowed = {*STACK_REGIONS[stack], GLOBAL_SERVICES_REGION, *LEASE_WITNESS[stack]}
    aws_resources = [r for r in run.resources if r.is_aws]
    assert aws_resources, "the program created no AWS resources"
    for resource in aws_resources:
        assert resource.provider is not None, f"{resource.urn} uses the default provider"
        assert resource.provider.endswith(f"pulumi:providers:aws::aws-{resource.region}"), resource.urn
        assert resource.region in allowed, f"{resource.urn} lands in {resource.region}"
        if resource.region in LEASE_WITNESS[stack]:
            assert resource.name.startswith("lease-voter"), f"{resource.urn}: only the lease voter lives in the witness region"


@pytest.mark.parametrize("stack", STACKS)
def test_one_provider_per_region_with_stable_names_and_default_tags(stack):
    run = cached_stack(stack)
    providers = run.of_type("pulumi:providers:aws")
    expected = sorted({*STACK_REGIONS[stack], GLOBAL_SERVICES_REGION, *LEASE_WITNESS[stack]})
    assert sorted(p.name for p in providers) == [f"aws-{r}" for r in expected]
    for provider in providers:
        assert provider.inputs["region"] == provider.name.removeprefix("aws-")
        tags = _default_tags(provider)
        # No region tag: replicas copy the home table's tags and would claim the home region.
        assert tags == {"project": "serverless-dr", "stack": stack, "managed-by": "pulumi"}


def _default_tags(provider) -> dict:
    import json

    value = provider.inputs["defaultTags"]
    # Provider inputs reach the engine JSON-encoded.
    return (json.loads(value) if isinstance(value, str) else value)["tags"]


@pytest.mark.parametrize("stack", STACKS)
def test_urns_are_unique(stack):
    run = cached_stack(stack)
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns))


def test_harness_refuses_a_duplicate_urn_like_the_engine():
    import pulumi_aws as aws

    from tests.helpers import run_component

    def build():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        import pulumi

        opts = pulumi.ResourceOptions(provider=provider)
        aws.sqs.Queue("same", opts=opts)
        aws.sqs.Queue("same", opts=opts)

    with pytest.raises(DuplicateUrnError, match=r"duplicate URN .*aws:sqs/queue:Queue::same"):
        run_component(build)


def test_dr_table_lives_in_us_east_1_with_a_pitr_replica_in_us_west_2():
    run = cached_stack("dr")
    [table] = [r for r in run.of_type("aws:dynamodb/table:Table") if r.name == "app-table"]
    assert table.region == "us-east-1"
    assert [(r["regionName"], r["pointInTimeRecovery"]) for r in table.inputs["replicas"]] == [("us-west-2", True)]
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["deletionProtectionEnabled"] is True
    assert set(run.outputs["tableArns"]) == {"us-east-1", "us-west-2"}


def test_dev_table_has_no_replicas_and_no_deletion_protection():
    run = cached_stack("dev")
    table = run.one("aws:dynamodb/table:Table", "app-table")
    assert "replicas" not in table.inputs
    assert table.inputs["deletionProtectionEnabled"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_idempotency_tables_are_region_local(stack):
    run = cached_stack(stack)
    tables = [r for r in run.of_type("aws:dynamodb/table:Table") if r.name.startswith("idempotency-")]
    assert sorted(t.region for t in tables) == STACK_REGIONS[stack]
    for table in tables:
        assert "replicas" not in table.inputs
        assert table.inputs["hashKey"] == "id"
        assert table.inputs["ttl"] == {"attributeName": "expiration", "enabled": True}
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert set(run.outputs["idempotencyTableNames"]) == set(STACK_REGIONS[stack])


def test_dr_budget_follows_the_config_and_names_both_static_failure_modes():
    run = cached_stack("dr")
    budget, config = run.outputs["drBudget"], run.config
    interval = int(config["serverless-dr:healthCheckIntervalSeconds"])
    threshold = int(config["serverless-dr:healthCheckFailureThreshold"])
    assert budget["detection_seconds"] == interval * threshold
    assert budget["api_rto_seconds"] == interval * threshold + budget["alias_ttl_seconds"]
    assert budget["api_rto_seconds"] <= budget["rto_budget_seconds"] == int(config["serverless-dr:rtoBudgetSeconds"])
    # A refused connection fails over fast; an origin that accepts and stalls waits for the response timeout.
    assert budget["static_failover_seconds"] < budget["static_failover_stalled_origin_seconds"] == 30
    assert "stalls" in budget["static_failover"]


def test_dr_budget_bounds_write_failover_by_the_code_s_own_times_within_the_rto_budget():
    from functions.shared import failover_timing

    run = cached_stack("dr")
    budget, config = run.outputs["drBudget"], run.config
    writes = budget["write_failover"]
    mode = config.get("serverless-dr:writeFailover", "automatic")
    assert writes["mode"] == mode and writes["lease_seconds"] == run.outputs["leaseSeconds"]
    if mode == "automatic":
        assert writes["write_rto_seconds"] == failover_timing.write_rto_seconds(writes["lease_seconds"])
        assert writes["write_rto_seconds"] <= budget["rto_budget_seconds"]
    assert set(writes["voters"]) == set(run.outputs["leaseVoterTables"])
    assert len(writes["voters"]) % 2 == 1  # a majority always exists


def test_dev_budget_claims_no_failover():
    budget = cached_stack("dev").outputs["drBudget"]
    assert budget["routing"] == "single-region"
    assert budget["api_rto_seconds"] is None and budget["write_failover"] is None


def test_component_type_tokens_end_with_the_class_name():
    run = cached_stack("dr")
    components = [r for r in run.resources if not r.custom]
    assert components
    import components as package

    for component in components:
        package_name, module, class_name = component.type.split(":")
        assert (package_name, module) == ("serverless-dr", "index")
        assert hasattr(package, class_name), component.type


def test_config_overrides_reach_the_program():
    base, overrides = VARIANTS["three-regions-warm-database"]
    run = cached_stack(base, **overrides)
    table = run.one("aws:dynamodb/table:Table", "app-table")
    assert [r["regionName"] for r in table.inputs["replicas"]] == overrides["regions"][1:]


def test_invalid_config_stops_the_program_before_any_resource():
    from pulumi import RunError

    with pytest.raises(RunError, match="healthCheckFailureThreshold"):
        fixture_stack("dr", healthCheckFailureThreshold=0)
