"""The IAM contract (verify/iam_contract.py): each function's recorded AWS calls against the role
policy the offline run gives it. Both stacks and the variants with every role and every key pass; removing
a grant, or writing it the way the program once did, fails."""

import copy
import json

import pytest

from tests.helpers import cached_stack
from verify import iam_contract
from verify.iam_contract import Requirement, allowed
from verify.variants import VARIANTS as STACK_VARIANTS

# Every hardening choice that changes a role (table, log and environment keys, a concurrency
# limit, page views over Kinesis instead of the FIFO queue), as the invariants' hardened variant
# has them: one shared run.
HARDENED = STACK_VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"][1]
# dr with every opt-in store that changes a role: the relational ledger (the API's and the retry
# consumer's Data API grants) and its global database (each failover tick's RDS grants), pilot-light
# containers, failover routing, hourly locked backups. It has every role dr has.
DATABASE = "failover-routing-locked-hourly-backups-pilot-light-headless-database"
VARIANTS = {
    "dev": ("dev", {}),
    "dr": ("dr", {}),
    "dr-hardened": ("dr", HARDENED),
    "dr-database": STACK_VARIANTS[DATABASE],
}
# make test runs dev and dr-database (a superset of dr's roles); dr as shipped and the hardened
# stack run in `make soak`. The hardened stack's key grants are shown needed here by
# test_a_removed_key_grant_fails_the_contract_with_customer_managed_keys.
IN_SOAK = ("dr", "dr-hardened")


@pytest.mark.parametrize("variant", [pytest.param(v, marks=pytest.mark.soak) if v in IN_SOAK else v for v in sorted(VARIANTS)])
def test_every_role_allows_every_call_and_grants_nothing_unused(variant):
    """Both directions, in every region, over every phase of the lease (each region holding it,
    a lapsed lease taken over, a region rejoining, a voter down)."""
    stack, overrides = VARIANTS[variant]
    run = cached_stack(stack, **overrides)
    verdicts = {n: v for region in run.outputs["regions"] for n, v in iam_contract.evaluate(run, region).items()}
    assert {f"api-{r}-fn" for r in run.outputs["regions"]} <= set(verdicts)
    assert [str(d) for v in verdicts.values() for d in v.denials] == []
    assert [str(u) for v in verdicts.values() for u in v.unused] == []


def test_a_grant_nobody_uses_fails_the_contract():
    run = copy.deepcopy(cached_stack("dev"))
    region = run.outputs["homeRegion"]
    table = run.outputs["tableArns"][region]
    extra = {"Sid": "Extra", "Effect": "Allow", "Action": ["dynamodb:DeleteItem"], "Resource": [table]}
    verdicts = iam_contract.evaluate(run, region, mutate=_edit_policy(f"thumbnails-{region}-fn-policy", None, add=extra))
    [unused] = verdicts[f"thumbnails-{region}-fn"].unused
    assert (unused.sid, unused.action, unused.resource) == ("Extra", "dynamodb:DeleteItem", table)


def test_every_kept_rare_path_names_a_statement_the_program_writes():
    """A reason in RARE_PATHS for a statement no role has any more would excuse nothing silently."""
    sids = {
        s.get("Sid")
        for stack, overrides in VARIANTS.values()
        for policy in cached_stack(stack, **overrides).of_type("aws:iam/rolePolicy:RolePolicy")
        for s in json.loads(policy.inputs["policy"])["Statement"]
    }
    assert {sid for sid, _action in iam_contract.RARE_PATHS} <= sids
    assert all(len(reason) > 60 for reason in iam_contract.RARE_PATHS.values())


def _edit_policy(name: str, edit, add: dict | None = None):
    def mutate(run):
        policy = run.one("aws:iam/rolePolicy:RolePolicy", name)
        document = json.loads(policy.inputs["policy"])
        statements = document["Statement"]
        if edit is not None:
            statements = [s for s in (edit(s) for s in statements) if s is not None]
        document["Statement"] = [*statements, *([add] if add else [])]
        policy.inputs["policy"] = json.dumps(document)

    return mutate


def test_a_removed_fence_grant_fails_the_contract():
    run = copy.deepcopy(cached_stack("dev"))
    region = run.outputs["homeRegion"]

    def without_condition_check(statement):
        if statement.get("Sid") == "TableWrites":
            statement["Action"] = [a for a in statement["Action"] if a != "dynamodb:ConditionCheckItem"]
        return statement

    found = iam_contract.check(
        run, region, first_phase_only=True, mutate=_edit_policy(f"api-{region}-fn-policy", without_condition_check)
    )
    assert [d.requirement.action for d in found[f"api-{region}-fn"]] == ["dynamodb:ConditionCheckItem"]


def test_a_removed_key_grant_fails_the_contract_with_customer_managed_keys():
    run = copy.deepcopy(cached_stack("dr", **HARDENED))
    assert HARDENED["tableEncryption"] == "customer-managed"
    region = run.outputs["regions"][1]
    found = iam_contract.check(
        run,
        region,
        first_phase_only=True,
        # The table keys reach the consumer twice: for its writes, and for the lease voters in
        # the serving regions, which use the same keys. Without both, its writes are denied.
        mutate=_edit_policy(
            f"write-retry-{region}-fn-policy",
            lambda s: None if s.get("Sid") in ("ApplyIntentsKeys", "LeaseInSyncSetKeys") else s,
        ),
    )
    actions = sorted({d.requirement.action for d in found[f"write-retry-{region}-fn"]})
    assert actions == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert all(":kms:" in d.requirement.resource for d in found[f"write-retry-{region}-fn"])


def test_a_list_grant_conditioned_on_a_prefix_does_not_make_a_missing_key_404():
    """The grant the program once had: s3:ListBucket only with s3:prefix thumbnails/*. HeadObject
    carries no s3:prefix, so S3 answers 403 and the consumer failed."""
    run = copy.deepcopy(cached_stack("dev"))
    region = run.outputs["homeRegion"]

    def conditioned(statement):
        if statement.get("Sid") == "SeeMissingObjects":
            statement["Condition"] = {"StringLike": {"s3:prefix": ["thumbnails/*"]}}
        return statement

    found = iam_contract.check(
        run, region, first_phase_only=True, mutate=_edit_policy(f"thumbnails-{region}-fn-policy", conditioned)
    )
    [denial] = found[f"thumbnails-{region}-fn"]
    assert denial.requirement.action == "s3:ListBucket" and "missing key" in denial.requirement.because


# --- the evaluator ---------------------------------------------------------------------------

NEED = Requirement("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t")


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": NEED.resource}], True),
        ([{"Effect": "Allow", "Action": "dynamodb:Put*", "Resource": "arn:aws:dynamodb:*:*:table/*"}], True),
        ([{"Effect": "Allow", "Action": "DynamoDB:putitem", "Resource": NEED.resource}], True),  # actions ignore case
        ([{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": NEED.resource}], False),
        ([{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": NEED.resource + "2"}], False),
        (
            [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": NEED.resource},
            ],
            False,
        ),
        ([{"Effect": "Allow", "NotAction": "dynamodb:DeleteItem", "Resource": "*"}], True),
        ([{"Effect": "Allow", "Action": "dynamodb:PutItem", "NotResource": NEED.resource}], False),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:PutItem",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpc": "v"}},
                }
            ],
            False,
        ),
        (
            [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:PutItem",
                    "Resource": "*",
                    "Condition": {"StringEqualsIfExists": {"aws:SourceVpc": "v"}},
                }
            ],
            True,
        ),
        ([], False),
    ],
)
def test_the_evaluator_follows_iam(statements, expected):
    assert allowed(statements, NEED) is expected


def test_a_call_the_contract_does_not_know_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match=r"does not know lambda\.ListFunctions"):
        iam_contract.requirements(iam_contract.Call("lambda", "ListFunctions", "us-east-1", {}), {})


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_an_independent_linter_finds_nothing_in_any_role_policy(variant):
    """parliament (Duo Labs' IAM linter, with its own copy of the IAM action/resource catalogue):
    an action on a resource type it cannot take (which authorises nothing), an unknown action, a
    malformed condition. The contract above cannot see those: such a grant is simply never used."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # parliament imports pkg_resources
        from parliament import analyze_policy_string

    stack, overrides = VARIANTS[variant]
    findings = [
        f"{policy.name}: {finding.issue} {finding.detail}"
        for policy in cached_stack(stack, **overrides).of_type("aws:iam/rolePolicy:RolePolicy")
        for finding in analyze_policy_string(policy.inputs["policy"]).findings
    ]
    assert findings == []


def test_the_linter_sees_an_object_action_granted_on_a_bucket():
    from parliament import analyze_policy_string

    grant = {"Effect": "Allow", "Action": "s3:AbortMultipartUpload", "Resource": "arn:aws:s3:::b"}
    findings = analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [grant]})).findings
    assert [f.issue for f in findings] == ["RESOURCE_MISMATCH"]
