"""The invariants hold for configs a team would really write, not only for the shipped two."""

import copy

import pytest

from tests.helpers import cached_stack
from tests.stacks.invariants import problems

# name -> (base stack, overrides): each changes what the expectations are derived from. Choices
# that do not depend on each other share a variant (each variant is a whole offline run).
VARIANTS = {
    "three-regions": ("dr", {"regions": ["us-east-1", "us-west-2", "eu-west-1"]}),
    "failover-routing-locked-hourly-backups": (
        "dr",
        {
            "routing": "failover",
            "backupVaultLock": True,
            "backupSchedule": "cron(0 * * * ? *)",
            "backupRetentionDays": 90,
            "healthReservedConcurrency": 7,
        },
    ),
    "real-domain-hardened-functions": (
        "dr",
        {
            "domain": "blog.acme.io",
            "apiSubdomain": "edge",
            "siteSubdomain": "blog",
            "apiWebAclArns": ["arn:aws:wafv2:us-west-2:123456789012:regional/webacl/blog/0f1e2d"],
            "logEncryption": "customer-managed",
            "functionEnvironmentEncryption": "customer-managed",
            "tableEncryption": "customer-managed",
            "functionConcurrencyLimit": 20,
            "healthReservedConcurrency": 5,
            "pageViewTransport": "kinesis-on-demand",
            "siteAccessLogs": True,
        },
    ),
    "customer-managed-keys": ("dr", {"tableEncryption": "customer-managed"}),
    "strong-with-witness": ("dr", {"consistency": "strong", "witnessRegion": "us-east-2"}),
    "evacuated-region": ("dr", {"evacuatedRegions": ["us-east-1"]}),
    "standing-charges-chosen-no-backups": (
        "dr",
        {
            "alarms": False,
            "dashboard": True,
            "pageViewTransport": "kinesis-on-demand",
            "healthCheckLatencyGraphs": True,
            "apiCacheEnabled": True,
            "analyticsBufferSeconds": 900,
            "analyticsBytesScannedLimitMb": 50,
            "backups": False,
        },
    ),
    "single-region-with-domain-and-environment-key": (
        "dev",
        {
            "regions": ["eu-central-1"],
            "domain": "blog.acme.io",
            "functionEnvironmentEncryption": "customer-managed",
            "pageViewTransport": "kinesis-provisioned",
        },
    ),
    "no-analytics": ("dev", {"analytics": False}),
}


@pytest.mark.parametrize("variant", VARIANTS, ids=str)
def test_every_invariant_holds_for_the_variant(variant):
    base, overrides = VARIANTS[variant]
    assert problems(cached_stack(base, **overrides)) == {}


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_every_invariant_holds_for_the_shipped_stacks(stack):
    assert problems(cached_stack(stack)) == {}


def _broken(mutate):
    run = copy.deepcopy(cached_stack("dr"))
    mutate(run)
    return problems(run)


def test_the_invariants_catch_a_missing_replica_an_uninverted_evacuation_and_a_plain_key():
    def drop_replica(run):
        run.one("aws:dynamodb/table:Table", "app-table").inputs["replicas"] = []

    def invert_a_check(run):
        run.of_type("aws:route53/healthCheck:HealthCheck")[0].inputs["invertHealthcheck"] = True

    def plain_key_value(run):
        run.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")[0].additional_secret_outputs.clear()

    assert "replicas [] != " in " ".join(_broken(drop_replica)["table"])
    assert "inverted health checks" in " ".join(_broken(invert_a_check)["dns"])
    assert "value not stored as a secret" in " ".join(_broken(plain_key_value)["regional-apis"])


def test_the_invariants_catch_a_lost_copy_and_a_vault_without_a_key():
    def drop_the_copy(run):
        run.one("aws:backup/plan:Plan", "backups-plan").inputs["rules"][0]["copyActions"] = []

    def plain_vault(run):
        run.of_type("aws:backup/vault:Vault")[0].inputs.pop("kmsKeyArn")

    assert "copies to []: expected the vault" in " ".join(_broken(drop_the_copy)["backups"])
    assert "has no KMS key" in " ".join(_broken(plain_vault)["backups"])


def test_the_invariants_catch_a_log_group_off_its_key_a_plain_environment_and_an_uncapped_poller():
    base, overrides = VARIANTS["real-domain-hardened-functions"]
    hardened = cached_stack(base, **overrides)

    def broken(mutate) -> str:
        run = copy.deepcopy(hardened)
        mutate(run)
        return " ".join(problems(run).get("hardening", []))

    def unkeyed_log_group(run):
        run.of_type("aws:cloudwatch/logGroup:LogGroup")[0].inputs.pop("kmsKeyId")

    def plain_environment(run):
        next(f for f in run.of_type("aws:lambda/function:Function") if f.inputs.get("environment")).inputs.pop("kmsKeyArn")

    def uncapped_poller(run):
        mapping = next(
            m
            for m in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
            if ":sqs:" in str(m.inputs["eventSourceArn"])
        )
        mapping.inputs.pop("scalingConfig")

    assert problems(hardened) == {}
    assert "logEncryption=customer-managed" in broken(unkeyed_log_group)
    assert "environment key with customer-managed" in broken(plain_environment)
    assert "SQS maximum concurrency None != 20" in broken(uncapped_poller)
