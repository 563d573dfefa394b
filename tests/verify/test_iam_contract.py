"""The IAM contract (verify/iam_contract.py): each function's recorded AWS calls against the role
policy the offline run gives it. Both stacks and the customer-managed-key variant pass; removing
a grant, or writing it the way the program once did, fails."""

import copy
import json

import pytest

from tests.helpers import cached_stack
from verify import iam_contract
from verify.iam_contract import Requirement, allowed

CMK = {"tableEncryption": "customer-managed"}


@pytest.fixture(scope="module")
def cmk_run():
    return cached_stack("dr", **CMK)


def _all_denials(run) -> list[str]:
    return [str(d) for region in run.outputs["regions"] for found in iam_contract.check(run, region).values() for d in found]


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_every_call_of_every_function_is_allowed_by_its_role(stack):
    run = cached_stack(stack)
    results = iam_contract.check(run, run.outputs["homeRegion"])
    assert results and "api-" + run.outputs["homeRegion"] + "-fn" in results
    assert [str(d) for found in results.values() for d in found] == []


def test_with_customer_managed_keys_every_replica_key_is_granted_where_it_is_used(cmk_run):
    assert _all_denials(cmk_run) == []


def _edit_policy(name: str, edit):
    def mutate(run):
        policy = run.one("aws:iam/rolePolicy:RolePolicy", name)
        document = json.loads(policy.inputs["policy"])
        document["Statement"] = [s for s in (edit(s) for s in document["Statement"]) if s is not None]
        policy.inputs["policy"] = json.dumps(document)

    return mutate


def test_a_removed_fence_grant_fails_the_contract():
    run = copy.deepcopy(cached_stack("dev"))
    region = run.outputs["homeRegion"]

    def without_condition_check(statement):
        if statement.get("Sid") == "TableWrites":
            statement["Action"] = [a for a in statement["Action"] if a != "dynamodb:ConditionCheckItem"]
        return statement

    found = iam_contract.check(run, region, mutate=_edit_policy(f"api-{region}-fn-policy", without_condition_check))
    assert [d.requirement.action for d in found[f"api-{region}-fn"]] == ["dynamodb:ConditionCheckItem"]


def test_a_removed_key_grant_fails_the_contract_with_customer_managed_keys():
    run = copy.deepcopy(cached_stack("dr", **CMK))
    region = run.outputs["regions"][1]
    found = iam_contract.check(
        run,
        region,
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

    found = iam_contract.check(run, region, mutate=_edit_policy(f"thumbnails-{region}-fn-policy", conditioned))
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
