"""The invariants hold for configs a team would really write, not only for the shipped two."""

import copy
import json

import pytest

from tests.helpers import cached_stack
from tests.stacks.invariants import problems
from verify.variants import VARIANTS


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


def test_the_invariants_catch_stored_answers_read_from_elsewhere_kept_too_long_or_admitted_to_the_whole_bucket():
    def region_first(run):
        group = next(
            g
            for g in run.one("aws:cloudfront/distribution:Distribution", "api-edge-cdn").inputs["originGroups"]
            if g["originId"] == "stored-failover"
        )
        group["members"].reverse()

    def kept_a_day(run):
        run.one("aws:cloudfront/cachePolicy:CachePolicy", "api-edge-stored").inputs["maxTtl"] = 86_400

    def whole_bucket(run):
        cfg_first = run.outputs["regions"][0]
        policy = run.one("aws:s3/bucketPolicy:BucketPolicy", f"site-{cfg_first}-policy")
        document = json.loads(policy.inputs["policy"])
        for statement in document["Statement"]:
            if statement["Sid"].startswith("PrefixReader"):
                statement["Resource"] = statement["Resource"].replace("/api/*", "/*")
        policy.inputs["policy"] = json.dumps(document)

    assert "stored answers' group" in " ".join(_broken(region_first)["api-edge"])
    assert "stored answers kept" in " ".join(_broken(kept_a_day)["api-edge"])
    assert "not the edge to api/* only" in " ".join(_broken(whole_bucket)["api-edge"])


def test_the_invariants_catch_a_lost_copy_and_a_vault_without_a_key():
    def drop_the_copy(run):
        run.one("aws:backup/plan:Plan", "backups-plan").inputs["rules"][0]["copyActions"] = []

    def plain_vault(run):
        run.of_type("aws:backup/vault:Vault")[0].inputs.pop("kmsKeyArn")

    assert "copies to []: expected the vault" in " ".join(_broken(drop_the_copy)["backups"])
    assert "has no KMS key" in " ".join(_broken(plain_vault)["backups"])


def test_the_invariants_catch_a_log_group_off_its_key_a_plain_environment_and_an_uncapped_poller():
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]
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


def test_the_invariants_catch_an_unsigned_premium_path_a_longer_cookie_and_a_region_signing_with_another_s_key():
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]
    run = copy.deepcopy(cached_stack(base, **overrides))
    [site] = [d for d in run.of_type("aws:cloudfront/distribution:Distribution") if d.name == "site-cdn"]
    [premium] = [b for b in site.inputs["orderedCacheBehaviors"] if b["pathPattern"] == "/premium/*"]
    premium.pop("trustedKeyGroups")
    assert problems(run)["paid-content"] == ["no /premium/* behaviour trusting the key group"]
    run = copy.deepcopy(cached_stack(base, **overrides))
    west, east = (run.one("aws:lambda/function:Function", f"api-{r}-fn") for r in ("us-west-2", "us-east-1"))
    west.inputs["environment"]["variables"]["PREMIUM_SIGNING_KEY_SECRET"] = east.inputs["environment"]["variables"][
        "PREMIUM_SIGNING_KEY_SECRET"
    ]
    east.inputs["environment"]["variables"]["PREMIUM_COOKIE_SECONDS"] = "3600"
    found = " ".join(problems(run)["paid-content"])
    assert "us-west-2's API signs with arn:aws:secretsmanager:us-east-1" in found and "cookies 3600 s" in found
