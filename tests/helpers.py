"""Test helpers around the shared offline run (ops/offline_run.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ops.offline_run import StackRun, run_program, run_stack

PROJECT = "serverless-dr"


def providers_for(*regions: str) -> dict[str, aws.Provider]:
    """Explicit providers named like the stack's (`aws-<region>`); call inside a program."""
    return {region: aws.Provider(f"aws-{region}", region=region) for region in regions}


def run_component(build: Callable[[], dict[str, Any] | None], stack: str = "unit") -> StackRun:
    """Run `build()` under the recording mocks; the dict it returns is exported and resolved."""

    def program() -> None:
        exports = build() or {}
        for name, value in exports.items():
            pulumi.export(name, value)

    return run_program(program, stack=stack, config={}, project=PROJECT)


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stacks"


def fixture_file(stack: str) -> Path:
    return FIXTURES / f"Pulumi.{stack}.yaml"


def fixture_stack(stack: str, **overrides) -> StackRun:
    """The program with the reference copy of a shipped stack file (tests/fixtures/stacks), so
    checks of shipped values hold whatever a user sets in their own Pulumi.<stack>.yaml."""
    return run_stack(stack, overrides=overrides or None, stack_file=fixture_file(stack))


@functools.cache
def cached_stack(stack: str) -> StackRun:
    """One run per shipped stack (its reference copy) per test process, for read-only assertions."""
    return fixture_stack(stack)


class FakeClock:
    """A monotonic clock that moves only when slept on: polling loops run instantly in tests."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def sdr(*args: str, **deps):
    """Run the operator command `sdr` in-process (click's runner): `.exit_code`, `.stdout`,
    `.stderr`. `deps` replace what it reaches the world through (ops.cli.Deps)."""
    from click.testing import CliRunner

    from ops.cli import Deps, cli

    return CliRunner().invoke(cli, list(args), obj=Deps(**deps), catch_exceptions=False, prog_name="sdr")
