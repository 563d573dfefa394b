"""The plan as a user meets it: config errors in one line, secrets and ESC values offline, what-if
values, and a diff that says what a change replaces."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops import plan
from ops.plan_diff import diff_plans, plan_at_ref, render_diff
from tests.helpers import cached_stack, fixture_file, sdr
from verify.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[2]


def run_plan(stack, *args):
    return subprocess.run(
        [sys.executable, "-m", "ops", "plan", "--stack", stack, *args], cwd=ROOT, capture_output=True, text=True
    )


def test_a_misspelt_key_is_one_line_with_a_suggestion_and_exit_2():
    result = run_plan("dr", "--config", str(fixture_file("dr")), "--set", "healthCheckFailureTreshold=1")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "serverless-dr:healthCheckFailureTreshold" in result.stderr
    assert "did you mean serverless-dr:healthCheckFailureThreshold?" in result.stderr


def stack_file(tmp_path, text):
    path = tmp_path / "Pulumi.custom.yaml"
    path.write_text(text)
    return path


def test_a_secret_value_is_planned_with_a_note_not_a_crash(tmp_path):
    path = stack_file(
        tmp_path,
        "config:\n"
        "  serverless-dr:regions: [us-east-1]\n"
        "  serverless-dr:alertEmail:\n    secure: v1:AAAAbase64ciphertext\n"
        "  aws:secretKey:\n    secure: v1:BBBBbase64ciphertext\n",
    )
    result = sdr("plan", "--stack", "custom", "--config", str(path), "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    notes = " ".join(document["config_notes"])
    assert "serverless-dr:alertEmail is a secret" in notes and "--set alertEmail=" in notes
    assert "aws:secretKey is a secret (secure:): masked offline" in notes
    assert "AAAAbase64ciphertext" not in json.dumps(document)
    result = sdr("plan", "--stack", "custom", "--config", str(path), "--set", "alertEmail=ops@acme.io", "--format", "json")
    assert result.exit_code == 0
    supplied = json.loads(result.stdout)
    assert not any("alertEmail" in n for n in supplied["config_notes"])
    mail = [
        r
        for r in supplied["resources"]
        if r["type"] == "aws:sns/topicSubscription:TopicSubscription" and r["inputs"].get("protocol") == "email"
    ]
    assert mail and all(s["inputs"]["endpoint"] == "ops@acme.io" for s in mail)


ESC_STACK = "environment:\n  - acme/blog-prod\nconfig:\n  serverless-dr:regions: [us-east-1, us-west-2]\n"


def test_keys_from_an_esc_environment_are_named_and_set_supplies_them(tmp_path):
    path = stack_file(tmp_path, ESC_STACK)
    # The environment would provide the domain at deploy time; offline it is missing: one line, with the hint.
    refused = sdr("plan", "--stack", "custom", "--config", str(path))
    assert refused.exit_code == 2
    err = refused.stderr
    assert err.count("\n") == 1 and "serverless-dr:domain" in err and "ESC environment(s) acme/blog-prod" in err
    result = sdr("plan", "--stack", "custom", "--config", str(path), "--set", "domain=blog.acme.io")
    assert result.exit_code == 0
    out = result.stdout
    note = next(line for line in out.splitlines() if line.startswith("note: imports ESC environment(s) acme/blog-prod"))
    assert "resolved at deploy time" in note and "alertEmail" in note and not re.search(r"[(\s]domain[,)]", note)


def test_what_if_values_change_the_plan_without_touching_the_stack_file():
    before = fixture_file("dr").read_text()
    # A variant's values: the session plans them once for every test that reads them.
    base, overrides = VARIANTS["three-regions-warm-database"]
    values = [f"{key}={json.dumps(value) if not isinstance(value, str) else value}" for key, value in overrides.items()]
    result = sdr(
        "plan",
        "--stack",
        base,
        "--config",
        str(fixture_file(base)),
        *(a for v in values for a in ("--set", v)),
        "--format",
        "json",
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["dr"]["regions"] == overrides["regions"]
    assert fixture_file("dr").read_text() == before


@pytest.fixture(scope="module")
def dr_plan():
    from tests.helpers import cached_stack

    return json.loads(json.dumps(plan.plan_document(cached_stack("dr"))))


def test_the_diff_flags_a_table_replacement_when_its_key_schema_changes(dr_plan):
    after = copy.deepcopy(dr_plan)
    table = next(r for r in after["resources"] if r["type"] == "aws:dynamodb/table:Table" and r["name"] == "app-table")
    table["inputs"]["hashKey"] = "id"
    diff = diff_plans(dr_plan, after)
    [replaced] = diff.replacements
    assert replaced.name == "app-table" and replaced.replaced_by == [
        "hashKey: the key schema (partition key): a new, empty table"
    ]
    assert "REPLACED because of hashKey" in render_diff(diff)
    assert diff.added == diff.removed == [] and diff.dr_budget == {}


def test_the_diff_names_property_changes_budget_changes_and_in_place_updates(dr_plan):

    faster = json.loads(json.dumps(plan.plan_document(cached_stack("dr", healthCheckFailureThreshold=2, rtoBudgetSeconds=80))))
    diff = diff_plans(dr_plan, faster)
    checks = [c for c in diff.changed if c.type == "aws:route53/healthCheck:HealthCheck"]
    assert checks and all([p.path for p in c.changes] == ["failureThreshold"] for c in checks)
    assert diff.replacements == []
    before_rto, after_rto = diff.dr_budget["api_rto_seconds"]
    assert before_rto - after_rto == dr_plan["dr"]["detection_seconds"] // 3
    assert diff.dr_budget["rto_budget_seconds"] == (dr_plan["dr"]["rto_budget_seconds"], 80)


# make soak: a checkout of the ref costs a git worktree and a whole plan; the diff's own logic is
# held in make test by test_the_diff_names_property_changes_budget_changes_and_in_place_updates.
@pytest.mark.soak
def test_a_git_ref_is_planned_from_its_own_checkout():
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    base = plan_at_ref("HEAD", "dev")
    assert base["stack"] == "dev" and base["resources"]
    assert not any(str(ROOT) in json.dumps(r) for r in base["resources"][:50])
    with pytest.raises(ValueError, match="no-such-ref"):
        plan_at_ref("no-such-ref", "dev")
