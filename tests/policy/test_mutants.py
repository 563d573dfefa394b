"""The mutation suite: insecure variants of the real dev and dr resources, each caught by its rule."""

import dataclasses

import pytest

from policy.engine import resources_of
from tests.helpers import cached_stack
from verify import mutants as mutation
from verify.mutants import mutants_of, run_suite
from verify.variants import VARIANTS


@pytest.fixture(scope="module")
def resources():
    return {stack: resources_of(cached_stack(stack)) for stack in ("dev", "dr")}


def test_every_mutant_of_both_stacks_is_caught_by_its_rule(resources):
    report = run_suite(resources)
    assert report.total >= 100
    assert report.survivors == [], report.survivors
    assert report.kill_ratio == 1.0
    # The access channels the issue found open are each exercised.
    names = " ".join(m.name for m in mutants_of(resources["dr"]))
    for channel in (
        "queue's own policy",
        "inline bucket policy",
        "key policy",
        "REST API policy",
        "table resource policy",
        "email identity policy",
        "layer shared",
        "function URL",
        "trust anyone",
        "AdministratorAccess",
        "NotAction",
        "PassRole on role/*",
        "wildcard condition",
        "IfExists",
        "without its source",
        "without its key",
        "IAM certificate with TLSv1",
        "custom origin over HTTP",
        "S3 origin stored-answers without origin access control",
    ):
        assert channel in names, channel


def test_a_rule_that_stops_looking_lets_its_mutants_survive(resources, monkeypatch):
    blind = [
        dataclasses.replace(r, check_stack=lambda _resources: []) if r.name == "no-public-access" else r for r in mutation.RULES
    ]
    monkeypatch.setattr(mutation, "RULES", tuple(blind))
    report = run_suite({"dr": resources["dr"]})
    assert report.survivors and all("no-public-access" in s for s in report.survivors)
    assert report.kill_ratio < 1.0


def test_every_property_class_has_mutants_in_each_of_its_spellings(resources):
    names = " ".join(m.name for m in mutants_of(resources["dr"]))
    for spelling in (
        "source conditions for any account",
        "source conditions for any resource",
        "invoke permission from any resource",
        "TLS deny narrowed to one principal",
        "TLS deny narrowed to NotPrincipal",
        "TLS deny narrowed to NotAction",
        "TLS deny narrowed to objects only",
        "BucketV2 public-read",
        "BucketAclV2 grant to AllUsers",
        "default certificate and its aliases",
        "legacy dash endpoint",
        "an origin access identity",
        "the website endpoint",
        "without headers policy",
        "data tracing on",
        "a generated password in the plain environment",
    ):
        assert spelling in names, spelling


@pytest.mark.parametrize(
    ("helper", "blind", "rule"),
    [
        # The narrowed-deny class: a rule that checks only that a deny exists lets every narrowing through.
        ("_covers_everyone", lambda _statement: True, "s3-tls-only"),
        # The type-alias class: a rule that sees only the canonical spelling misses BucketV2 and BucketAclV2.
        ("canonical_type", lambda type_: type_, "s3-no-public-acls"),
    ],
)
def test_a_rule_that_knows_one_spelling_lets_the_others_survive(resources, monkeypatch, helper, blind, rule):
    import policy.rules

    monkeypatch.setattr(policy.rules, helper, blind)
    report = run_suite({"dr": resources["dr"]})
    survivors = [s for s in report.survivors if f"expected {rule}" in s]
    assert survivors, f"{rule} still killed everything with {helper} blinded"


def test_every_container_mutant_is_caught_by_its_rule():
    """The container backend's protections, undone one at a time on a stack that runs it (warm,
    private endpoints): each is caught by its rule."""
    base, overrides = VARIANTS["strong-with-witness-private-containers"]
    resources = resources_of(cached_stack(base, **overrides))
    container = [m for m in mutation._container_mutants(resources)]
    rules = {m.rule for m in container}
    assert rules == {
        "lb-internal-only",
        "lb-listener-tls",
        "ecs-image-by-digest",
        "ecs-task-hardened",
        "ecs-circuit-breaker",
        "no-open-ingress",
        "subnet-no-auto-public-ip",
    }
    survivors = [m.name for m in container if not mutation.killed(m, resources)]
    assert survivors == [] and len(container) >= 20


def test_every_relational_store_mutant_is_caught_by_its_rule():
    """The global database's encryption, privacy and recoverability, undone one at a time (a
    global headless store over two regions)."""
    base, overrides = VARIANTS["failover-routing-locked-hourly-backups-pilot-light-headless-database"]
    resources = resources_of(cached_stack(base, **overrides))
    relational = list(mutation._relational_mutants(resources))
    assert {m.rule for m in relational} == {"rds-encrypted", "rds-private", "rds-recoverable"}
    survivors = [m.name for m in relational if not mutation.killed(m, resources)]
    assert survivors == [] and len(relational) >= 10


def test_every_paid_content_mutant_is_caught_by_its_rule():
    """Premium media's signatures undone one at a time on a stack that sells them during a key
    rotation: the path unsigned, its buckets served or admitted another way, an empty key group,
    day-long cookies."""
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]
    resources = resources_of(cached_stack(base, **overrides))
    premium = list(mutation._premium_mutants(resources))
    assert {m.rule for m in premium} == {"premium-signed-only", "premium-key-group-not-empty", "premium-cookie-lifetime"}
    survivors = [m.name for m in premium if not mutation.killed(m, resources)]
    assert survivors == [] and len(premium) >= 6
