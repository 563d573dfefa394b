"""The GitHub workflows: valid against the workflow schema, and doing what the README promises."""

import subprocess
import sys
from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML reads the key `on` as true
    return document


def test_every_workflow_is_valid_against_the_github_workflow_schema():
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n        with: 3\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
    )
    assert result.returncode != 0


def test_pull_requests_test_then_preview_both_stacks_with_the_policy_pack():
    pr = load("pull-request.yml")
    assert pr["on"] == {"pull_request": {"branches": ["main"]}}
    assert any(step.get("run") == "make test" or "make test" in step.get("run", "") for step in pr["jobs"]["test"]["steps"])
    preview = pr["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "dr"]
    assert preview["uses"] == "./.github/workflows/pulumi-stack.yml"
    assert preview["with"]["command"] == "preview" and preview["with"]["role-variable"] == "AWS_PREVIEW_ROLE_ARN"
    assert preview["permissions"]["id-token"] == "write"


def test_main_deploys_dev_then_dr_behind_its_environment():
    deploy = load("deploy.yml")
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    jobs = deploy["jobs"]
    assert jobs["up-dev"]["needs"] == "test" and jobs["up-dr"]["needs"] == "up-dev"
    assert (jobs["up-dev"]["with"]["stack"], jobs["up-dr"]["with"]["stack"]) == ("dev", "dr")
    assert jobs["up-dr"]["with"]["environment"] == "dr" and jobs["up-dr"]["with"]["command"] == "up"
    assert deploy["concurrency"]["cancel-in-progress"] is False


def test_the_shared_job_uses_oidc_the_policy_pack_and_the_layer():
    shared = load("pulumi-stack.yml")
    steps = shared["jobs"]["pulumi"]["steps"]
    aws = next(s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials"))
    assert aws["with"]["role-to-assume"] == "${{ vars[inputs.role-variable] }}"
    assert "aws-access-key-id" not in aws["with"]
    pulumi = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions"))
    assert pulumi["with"]["policyPacks"] == "policy" and pulumi["with"]["command"] == "${{ inputs.command }}"
    setup = next(s for s in steps if "tools.build_layer" in s.get("run", ""))
    assert "policy/requirements.txt" in setup["run"]
    assert shared["permissions"]["id-token"] == "write"
