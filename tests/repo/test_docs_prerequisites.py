"""docs/prerequisites.md names what the deploy role needs for every AWS resource type the program creates."""

import json
import re
from pathlib import Path

import pytest

from tests.helpers import cached_stack
from verify.variants import VARIANTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "prerequisites.md"
# The container variants: a NAT, and interface endpoints (runs shared with the stack tests).
# Table, backup vault and their grants under a customer-managed key.
CUSTOMER_KEYS = "evacuated-home-customer-managed-keys-database-backup-copy"
CONTAINERS = ("failover-routing-locked-hourly-backups-pilot-light-headless-database", "strong-with-witness-private-containers")


def documented_types() -> tuple[set[str], set[str]]:
    """Exact types, and module wildcards (`aws:s3/*`), from the deploy-role table."""
    text = DOC.read_text()
    table = text[text.index("## The deploying role") : text.index("## Where the first apply waits")]
    exact = set(re.findall(r"`(aws:[\w]+/[\w]+:[\w]+)`", table))
    modules = set(re.findall(r"`aws:([\w]+)/\*`", table))
    return exact, modules


@pytest.mark.parametrize(
    "run",
    [
        lambda: cached_stack("dev"),
        lambda: cached_stack("dr"),
        *(lambda v=v: cached_stack(VARIANTS[v][0], **VARIANTS[v][1]) for v in (CUSTOMER_KEYS, *CONTAINERS)),
    ],
    ids=["dev", "dr", CUSTOMER_KEYS, *CONTAINERS],
)
def test_every_planned_aws_resource_type_has_its_deploy_permissions_documented(run):
    exact, modules = documented_types()
    planned = {r.type for r in run().resources if r.is_aws}
    missing = sorted(t for t in planned if t not in exact and t.split(":")[1].split("/")[0] not in modules)
    assert not missing, f"docs/prerequisites.md has no deploy-role row for {missing}"


def test_the_doc_table_is_read_not_empty():
    exact, modules = documented_types()
    assert len(exact) >= 20 and {"apigateway", "lambda", "s3", "sesv2"} <= modules


def test_the_vault_row_grants_what_aws_backup_documents_for_an_encrypted_vault():
    """AWS's "Backup vault creation and deletion" lists these for a vault under a customer key;
    backups are on by default, so a role built from the table must be able to create one."""
    text = DOC.read_text()
    [row] = [line for line in text.splitlines() if line.startswith("| `aws:backup/vault:Vault`")]
    for action in ("kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant", "kms:Decrypt", "kms:GenerateDataKey", "MountCapsule"):
        assert action in row, action
    assert any(r.type == "aws:backup/vault:Vault" for r in cached_stack("dr").resources), "the stack no longer plans a vault"


def test_the_doc_table_is_the_one_rendered_from_the_code():
    from ops.deploy_role import markdown_table

    text = DOC.read_text()
    section = text[text.index("<!-- deploy-role:start -->") : text.index("<!-- deploy-role:end -->")]
    assert section.split("\n", 1)[1] == markdown_table(), "run: python -m verify.readme deploy-role"


# Table, log and environment keys, page views over Kinesis, a WAF, a real domain: the invariants'
# hardened variant (tests/stacks/test_variants.py), a run shared with them.
HARDENED = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"][1]


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [("dev", {}), ("dr", {}), ("dr", HARDENED), VARIANTS[CONTAINERS[0]]],
    ids=["dev", "dr", "dr-hardened", CONTAINERS[0]],
)
def test_the_generated_policy_covers_the_plan_and_names_only_real_actions(stack, overrides):
    import warnings

    from ops.deploy_role import policy_document, required

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # parliament imports pkg_resources
        from parliament import analyze_policy_string

    rows, choices, uncovered = required(cached_stack(stack, **overrides))
    assert uncovered == []
    document = policy_document(rows, choices)
    # parliament's catalogue of IAM actions: a misspelt or invented action is UNKNOWN_ACTION.
    issues = {f.issue for f in analyze_policy_string(json.dumps(document)).findings}
    assert not issues & {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "MALFORMED", "UNKNOWN_CONDITION_FOR_ACTION"}, issues
    actions = {a for s in document["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    cmk = overrides.get("tableEncryption") == "customer-managed"
    assert ("kms:CreateGrant" in actions) is (cmk or any(r.types[0].startswith("aws:backup/") for r in rows))


def test_a_planned_type_without_a_row_is_named():
    from ops import deploy_role

    run = cached_stack("dev")
    rows = tuple(p for p in deploy_role.PERMISSIONS if not p.covers("aws:sqs/queue:Queue"))
    original = deploy_role.PERMISSIONS
    try:
        deploy_role.PERMISSIONS = rows
        _, _, uncovered = deploy_role.required(run)
    finally:
        deploy_role.PERMISSIONS = original
    assert "aws:sqs/queue:Queue" in uncovered
