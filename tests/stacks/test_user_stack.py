"""A user's own stack, as the README tells them to make it: a real domain and three regions in a
new Pulumi.acme.yaml, and their own domain in dr. The stack tests run on a copy of the project
with those files and pass: nothing in them expects the shipped values."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ACME = """\
# A team's production stack: their zone, three regions, failover-grade checks.
config:
  serverless-dr:regions:
    - eu-west-1
    - eu-central-1
    - us-east-1
  serverless-dr:domain: acme-blog.io
  serverless-dr:healthCheckIntervalSeconds: 10
  serverless-dr:healthCheckFailureThreshold: 2
  serverless-dr:rtoBudgetSeconds: 120
  serverless-dr:tableEncryption: customer-managed
  serverless-dr:deletionProtection: true
  serverless-dr:costCenter: blog-7
"""


@pytest.mark.soak  # a copy of the project and a pytest in a subprocess: make soak
def test_the_stack_tests_pass_on_a_users_own_stack_files(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", ".pytest_cache", ".ruff_cache", ".hypothesis", "*.egg-info"),
    )
    (project / "Pulumi.acme.yaml").write_text(ACME)
    dr = project / "Pulumi.dr.yaml"
    dr.write_text(dr.read_text().replace("serverless-dr:domain: example.com", "serverless-dr:domain: acme-blog.io"))
    assert "acme-blog.io" in dr.read_text()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:xdist", "tests/stacks/test_project_stacks.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # The user's file was picked up beside the shipped ones.
    for stack in ("acme", "dev", "dr"):
        assert f"test_the_project_stack_keeps_every_invariant[{stack}] PASSED" in result.stdout
