import os

# Imported now, before any test starts Pulumi's runtime threads: hypothesis's pytest plugin would
# otherwise import (and assertion-rewrite) it at session end, and CPython 3.11.7's AST validator
# keeps its recursion counter per interpreter, not per thread ("AST constructor recursion depth
# mismatch" when another thread compiles at the same moment).
import hypothesis
import hypothesis.internal.observability  # noqa: F401
import pytest

# botocore >= 1.44 resolves DynamoDB Streams to an account-id endpoint that moto does not know.
os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
# Never reach a real account from a test, whatever the developer's shell has.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

# Every moto world makes new sessions; botocore's models are parsed once per process instead.
from verify.moto_speed import memoize_moto_lookups, share_service_models  # noqa: E402

share_service_models()
memoize_moto_lookups()


@pytest.fixture(scope="session", autouse=True)
def _shared_stack_runs(tmp_path_factory):
    """Every offline run of the session through one store (tests/helpers.shared_run); under
    pytest-xdist the session's temporary directory (the parent of each worker's) holds it, and it
    goes with the session's."""
    from ops import offline_run
    from tests import helpers

    if os.environ.get("PYTEST_XDIST_WORKER"):
        helpers.SHARED_RUNS = tmp_path_factory.getbasetemp().parent / "stack-runs"
        helpers.SHARED_RUNS.mkdir(exist_ok=True)
    offline_run.share_runs(helpers.shared_run)
    yield
    offline_run.share_runs(None)
    helpers.SHARED_RUNS = None


# --- the local run's smoke test, started in the background -------------------------------------
# `python -m verify.local --smoke` spends most of its ~17 s waiting for a write lease to expire.
# When its test is selected, one process of the run (the first xdist worker, or the only process)
# starts it as soon as collection ends; the test (tests/verify/test_local.py), wherever it is
# scheduled, waits for the report it writes. The other tests run meanwhile.
SMOKE_TEST = "tests/verify/test_local.py::test_the_smoke_run_passes_from_a_fresh_process_and_leaves_nothing_running"
_smoke: list = []


def smoke_report_path():
    import tempfile
    from pathlib import Path

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
    return Path(tempfile.gettempdir()) / f"sdr-local-smoke-{run}.json"


def smoke_files():
    """The smoke run's report, the file naming its process, and its output (read when it fails)."""
    report = smoke_report_path()
    return report, report.with_suffix(".pid"), report.with_suffix(".log")


def pytest_collection_finish(session):
    import subprocess
    import sys
    from pathlib import Path

    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0" or not any(i.nodeid == SMOKE_TEST for i in session.items):
        return
    report, pid_file, log = smoke_files()
    report.unlink(missing_ok=True)
    # Not niced: it needs little CPU, but on a slow machine with both cores taken by test workers a
    # niced process got so little that it wrote no report in 200 s (CI, stop 43).
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "verify.local", "--smoke", "--lag", "0.2", "--report", str(report)],
            cwd=Path(__file__).resolve().parents[1],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the test checks none of it is left
        )
    _smoke.append(process)
    pid_file.write_text(str(process.pid))


def pytest_unconfigure(config):
    for process in _smoke:
        if process.poll() is None:
            process.kill()
        process.wait()
        for path in smoke_files():
            path.unlink(missing_ok=True)
