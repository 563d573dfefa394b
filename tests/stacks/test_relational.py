"""The relational store as planned offline, for every variant that has one (one region, backup-copy,
global with headless and with warm secondaries): expectations come from each variant's config."""

import json

import pytest

from ops.cost import idle_lines, price
from tests.helpers import cached_stack
from tests.stacks.invariants import config_of, variant_config
from verify.variants import VARIANTS

RELATIONAL_VARIANTS = sorted(n for n, (_, o) in VARIANTS.items() if o.get("relationalDb", "off") != "off")
CLUSTER, INSTANCE = "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance"


def run_of(variant):
    base, overrides = VARIANTS[variant]
    return cached_stack(base, **overrides)


def test_the_variants_cover_one_region_backup_copy_and_both_kinds_of_secondary():
    shapes = set()
    for variant in RELATIONAL_VARIANTS:
        store = variant_config(*VARIANTS[variant]).relational
        shapes.add(store.secondary if store.is_global else (store.dr or "one region"))
    assert shapes == {"one region", "backup-copy", "headless", "warm"}


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_off_adds_nothing(stack):
    run = cached_stack(stack)
    assert not [r for r in run.resources if r.type.startswith(("aws:rds/", "aws:secretsmanager/"))]
    assert "relationalDataApi" not in run.outputs and run.outputs["drBudget"]["relational"] is None


@pytest.mark.parametrize("variant", RELATIONAL_VARIANTS)
def test_clusters_instances_and_credentials_follow_the_choice(variant):
    run = run_of(variant)
    cfg = config_of(run)
    store = cfg.relational
    regions = list(cfg.regions) if store.is_global else [cfg.home_region]
    clusters = {c.region: c for c in run.of_type(CLUSTER)}
    assert sorted(clusters) == sorted(regions)
    for region, cluster in clusters.items():
        primary = region == cfg.home_region
        assert cluster.inputs["enableHttpEndpoint"] is True and cluster.inputs["storageEncrypted"] is True
        assert cluster.inputs["engineVersion"] == store.engine_version
        scaling = cluster.inputs["serverlessv2ScalingConfiguration"]
        assert scaling["minCapacity"] == store.min_capacity and scaling["maxCapacity"] == store.max_capacity
        assert ("secondsUntilAutoPause" in scaling) is store.pauses
        # Only the primary carries credentials: AWS refuses them on a secondary.
        assert ("masterPassword" in cluster.inputs) is primary
        assert ("globalClusterIdentifier" in cluster.inputs) is store.is_global
        instances = [i for i in run.of_type(INSTANCE) if i.region == region]
        expected = 1 if primary or store.secondary == "warm" else 0
        assert len(instances) == expected and all(i.inputs["publiclyAccessible"] is False for i in instances)
    (secret,) = [s for s in run.of_type("aws:secretsmanager/secret:Secret") if s.name.startswith("relational-")]
    assert sorted(r["region"] for r in secret.inputs.get("replicas") or []) == sorted(r for r in regions if r != cfg.home_region)
    exported = run.outputs["relationalDataApi"]
    assert sorted(exported) == sorted(regions)
    assert all(v["secretArn"].split(":")[3] == region for region, v in exported.items())
    # No rule on the database's security groups: nothing connects over the network.
    groups = [g for g in run.of_type("aws:ec2/securityGroup:SecurityGroup") if g.name.startswith("relational-")]
    assert len(groups) == len(regions) and not any(g.inputs.get("ingress") or g.inputs.get("egress") for g in groups)
    assert "masterPassword" not in json.dumps(run.outputs)


@pytest.mark.parametrize("variant", RELATIONAL_VARIANTS)
def test_the_cost_model_prices_each_instance_at_its_minimum_and_the_secret_per_region(variant):
    run = run_of(variant)
    cfg = config_of(run)
    store = cfg.relational
    lines = [line for line in idle_lines(run) if line.type.startswith(("aws:rds/", "aws:secretsmanager/"))]
    instances = len(run.of_type(INSTANCE))
    compute = sum(line.monthly_usd for line in lines if "Aurora Serverless" in line.detail)
    assert compute == pytest.approx(instances * store.min_capacity * price("aurora_acu_hour") * 730, abs=0.01)
    copies = [len(cfg.regions) if store.is_global else 1]
    if cfg.paid_content.enabled:
        copies.append(len(cfg.regions))  # the signing key's, replicated to every region
    secrets = [line for line in lines if "secret" in line.detail]
    assert {line.detail for line in secrets} == {f"secret ({n} region{'s' if n > 1 else ''})" for n in copies}
    assert sum(line.monthly_usd for line in secrets) == pytest.approx(sum(copies) * price("secretsmanager_secret_month"))


def _function(run, name):
    (function,) = [f for f in run.of_type("aws:lambda/function:Function") if f.name == name]
    return function


@pytest.mark.parametrize("variant", RELATIONAL_VARIANTS)
def test_the_ledgers_writers_reach_every_cluster_and_only_a_global_stores_ticks_move_its_writer(variant):
    """The API, the write-retry consumer and the bounces consumer of every region hold rds-data on
    every cluster and the secret in every region, with the endpoints in their environment; with a global store each
    region's failover tick may start an instance in, and move the writer to, its own cluster only,
    and fail over only when the stack allows the automatic promotion to lose data."""
    from verify.harness import configure
    from verify.iam_contract import Requirement, allowed, role_statements

    configure()
    from shared import database_primary

    run = run_of(variant)
    cfg = config_of(run)
    endpoints = run.outputs["relationalDataApi"]
    for region in cfg.regions:
        writers = [f"api-{region}-fn", f"write-retry-{region}-fn"]
        if any(f.name == f"bounces-{region}-fn" for f in run.of_type("aws:lambda/function:Function")):
            writers.append(f"bounces-{region}-fn")  # the mail-events log
        for name in writers:
            function = _function(run, name)
            statements = role_statements(run, function)
            environment = function.inputs["environment"]["variables"]
            assert json.loads(environment["RELATIONAL_DATA_API"]) == endpoints, name
            for target in endpoints.values():
                assert allowed(statements, Requirement("rds-data:ExecuteStatement", target["resourceArn"])), name
                assert allowed(statements, Requirement("secretsmanager:GetSecretValue", target["secretArn"])), name
        if not cfg.relational.is_global or cfg.write_mode != "single-primary":
            continue
        budget = run.outputs["drBudget"]["relational"]
        assert ("losing what had not replicated" in budget["without_operator"]) is cfg.relational.automatic_failover
        ticks = role_statements(run, _function(run, f"failover-{region}"))
        own, other = endpoints[region]["resourceArn"], [v["resourceArn"] for r, v in endpoints.items() if r != region]
        assert allowed(ticks, Requirement("rds:SwitchoverGlobalCluster", own))
        assert not any(allowed(ticks, Requirement("rds:SwitchoverGlobalCluster", arn)) for arn in other)
        promoted = ":".join(own.split(":")[:5]) + ":db:" + database_primary.promoted_instance_id(own)
        headless = region != cfg.home_region and cfg.relational.secondary == "headless"
        assert allowed(ticks, Requirement("rds:CreateDBInstance", promoted)) is headless
        assert allowed(ticks, Requirement("rds:DescribeDBInstances", promoted)) is headless
        assert allowed(ticks, Requirement("rds:FailoverGlobalCluster", own)) is cfg.relational.automatic_failover
        assert not any(allowed(ticks, Requirement("rds-data:ExecuteStatement", arn)) for arn in [own, *other])
