"""Test helpers around the shared offline run (ops/offline_run.py)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
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


# Where the workers of one pytest-xdist session share their runs (tests/conftest.py sets it).
SHARED_RUNS: Path | None = None


_RUNS: dict[str, StackRun] = {}


def cached_stack(stack: str, **overrides: Any) -> StackRun:
    """`fixture_stack` run once per session for read-only assertions: once per test process, and
    under xdist once for all workers (a run is pickled into the session's temporary directory;
    the first worker to finish it writes it, the others read it). A test that patches the
    program, or changes what it returns, runs its own with `fixture_stack`."""
    # As Pulumi hands config to the program: True and "true" are one config, and one run.
    as_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}
    key = hashlib.sha256(json.dumps([stack, as_config], sort_keys=True).encode()).hexdigest()[:24]
    if key not in _RUNS:
        _RUNS[key] = _shared_run(key, lambda: fixture_stack(stack, **overrides))
    return _RUNS[key]


def _shared_run(key: str, run: Callable[[], StackRun]) -> StackRun:
    if SHARED_RUNS is None:
        return run()
    path = SHARED_RUNS / f"{key}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())
    result = run()
    partial = path.with_suffix(f".{os.getpid()}")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(path)  # atomic: a reader sees a whole run or none
    return result


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
