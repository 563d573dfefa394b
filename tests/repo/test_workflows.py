"""The GitHub workflows: valid against the workflow schema, and doing what the README promises."""

import subprocess
import sys
from pathlib import Path

import pytest
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
    setup = next(s for s in steps if "-m ops layer" in s.get("run", ""))
    assert "policy/requirements.txt" in setup["run"]
    assert shared["permissions"]["id-token"] == "write"


def _config_step():
    steps = load("pulumi-stack.yml")["jobs"]["pulumi"]["steps"]
    return next(s for s in steps if s.get("id") == "config"), steps


def test_operations_wait_for_a_stack_config_a_real_preview_accepts():
    config, steps = _config_step()
    gated = [s for s in steps if s.get("uses", "").startswith(("aws-actions/", "pulumi/actions"))]
    assert gated and all(s["if"] == "steps.config.outputs.ready == 'true'" for s in gated)
    assert steps.index(config) < min(steps.index(s) for s in gated)
    pr = load("pull-request.yml")["jobs"]["preview"]["with"]
    assert pr["domain-variable"] == "${{ matrix.stack == 'dr' && 'DR_DOMAIN' || '' }}"
    assert load("deploy.yml")["jobs"]["up-dr"]["with"]["domain-variable"] == "DR_DOMAIN"


@pytest.mark.parametrize("command", ["preview", "up"])
def test_the_config_step_skips_a_preview_and_fails_a_deploy_the_stack_file_cannot_serve(tmp_path, command):
    """Runs the step's own script on the project's stack files, as the runner would (no domain variable)."""
    from ops.config_file import read_config

    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    shim = tmp_path / ".venv" / "bin" / "python"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    shim.chmod(0o755)
    output = tmp_path / "github-output"
    config, _ = _config_step()
    for stack in ("dev", "dr"):
        output.write_text("")
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(WORKFLOWS.parents[1]),
            "STACK": stack,
            "DOMAIN": "",
            "COMMAND": command,
            "GITHUB_OUTPUT": str(output),
        }
        result = subprocess.run(["bash", "-e", "-c", config["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
        try:
            read_config(stack)
            acceptable = True
        except ValueError:
            acceptable = False
        if acceptable:
            assert result.returncode == 0 and output.read_text() == "ready=true\n", result.stderr
        elif command == "preview":
            assert result.returncode == 0 and output.read_text() == "ready=false\n"
            assert result.stdout.startswith(f"::notice title={stack} preview skipped::sdr config: ")
        else:
            assert result.returncode == 1 and result.stdout.startswith(f"::error title={stack} config::")


def test_pull_requests_get_the_offline_plan_diff_with_cost_as_a_comment():
    job = load("pull-request.yml")["jobs"]["plan-diff"]
    assert job["needs"] == "test" and job["permissions"]["pull-requests"] == "write"
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there to plan it
    script = " ".join(s.get("run", "") for s in job["steps"])
    assert 'sdr diff "$BASE" --stack "$stack"' in script and "-e ./ops" in script and "gh pr comment" in script
