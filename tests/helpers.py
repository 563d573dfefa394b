"""Test helpers around the shared offline run (ops/offline_run.py)."""

from __future__ import annotations

import fcntl
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from ops.offline_run import StackRun, run_program, run_stack
from verify.harness import FakeClock  # noqa: F401  (the tests' clock, imported from here)

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
    checks of shipped values hold whatever a user sets in their own Pulumi.<stack>.yaml. A copy
    of its own: the caller may change it."""
    return run_stack(stack, overrides=overrides or None, stack_file=fixture_file(stack))


_RUNS: dict[str, StackRun] = {}


def cached_stack(stack: str, **overrides: Any) -> StackRun:
    """`fixture_stack` for read-only assertions: one object per test process for each config."""
    # As Pulumi hands config to the program: True and "true" are one config, and one run.
    as_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}
    key = json.dumps([stack, as_config], sort_keys=True)
    if key not in _RUNS:
        _RUNS[key] = fixture_stack(stack, **overrides)
    return _RUNS[key]


# Where the workers of one pytest-xdist session share their runs (tests/conftest.py sets it).
SHARED_RUNS: Path | None = None
_IN_PROCESS: dict[str, bytes] = {}


def shared_run(key: str, run: Callable[[], StackRun]) -> StackRun:
    """The session's store of offline runs (ops.offline_run.share_runs): every run of the program
    with one config, by a test or by a command a test invokes, is computed once per session and
    each caller gets its own copy. Under xdist the run is pickled into the session's temporary
    directory; a worker that asks for a run another is computing waits for it."""
    if SHARED_RUNS is None:
        if key not in _IN_PROCESS:
            _IN_PROCESS[key] = pickle.dumps(run())
        return pickle.loads(_IN_PROCESS[key])
    path = SHARED_RUNS / f"{key}.pickle"
    with open(SHARED_RUNS / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also on an error
        if not path.exists():
            path.write_bytes(pickle.dumps(run()))
        return pickle.loads(path.read_bytes())


def sdr(*args: str, **deps):
    """Run the operator command `sdr` in-process (click's runner): `.exit_code`, `.stdout`,
    `.stderr`. `deps` replace what it reaches the world through (ops.cli.Deps)."""
    from click.testing import CliRunner

    from ops.cli import Deps, cli

    return CliRunner().invoke(cli, list(args), obj=Deps(**deps), catch_exceptions=False, prog_name="sdr")
