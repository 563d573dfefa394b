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
    """Under pytest-xdist, the session's temporary directory (the parent of each worker's) holds
    the offline runs `cached_stack` shares between workers; it goes with the session's."""
    from tests import helpers

    if os.environ.get("PYTEST_XDIST_WORKER"):
        helpers.SHARED_RUNS = tmp_path_factory.getbasetemp().parent / "stack-runs"
        helpers.SHARED_RUNS.mkdir(exist_ok=True)
    yield
    helpers.SHARED_RUNS = None
