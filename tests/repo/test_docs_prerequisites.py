"""docs/prerequisites.md names what the deploy role needs for every AWS resource type the program creates."""

import re
from pathlib import Path

import pytest

from tests.helpers import cached_stack

DOC = Path(__file__).resolve().parents[2] / "docs" / "prerequisites.md"


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
        lambda: cached_stack("dr", tableEncryption="customer-managed"),
    ],
    ids=["dev", "dr", "dr-cmk"],
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
