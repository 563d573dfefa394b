"""The API against its own contract, driven by a schema-based fuzzer (schemathesis) through what
API Gateway does before the function (verify/gateway.py, over the document it imports).

Every operation gets schema-valid and schema-violating requests; the stateful run follows the
document's links (create a post, read it, edit it, delete it; a 202, then GET /writes/{token}).
schemathesis' checks hold every answer: no 5xx, a declared status with its declared body and
headers, valid data accepted, invalid data refused, a keyed route refused without its key.
`make test` runs a modest number of examples, `make soak` a large one.

Two things the schema cannot say are held by the fuzzer's driver instead: a list cursor is
opaque (only one this API issued is valid; a made-up one's 400 is in tests/functions/test_api.py)
and an Idempotency-Key names one request (a reused key with another body is 422, as
tests/functions/test_writes.py shows), so each request here gets a fresh key.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from verify.harness import ENVIRONMENT, FakeContext, configure, make_regional_resources, reset_handler_state

configure()

from stack import api_contract  # noqa: E402  (after configure: the handler's environment)
from verify.gateway import Gateway  # noqa: E402

API_KEY = "local-admin-key-0123456789abcdef"
ORIGIN = ENVIRONMENT["ALLOWED_ORIGIN"]
MAX_UPLOAD_BYTES = int(ENVIRONMENT["MAX_UPLOAD_BYTES"])
QUICK_EXAMPLES = 4  # per operation and phase in make test
SOAK_EXAMPLES = 150  # per operation and phase; schemathesis keeps ~2 MB per case until its test ends: ~3 GB

REFUSALS = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "415",
    "422",
    "428",
    "429",
    "5xx",
]  # schemathesis' default (5xx: its own check)
SETTINGS = {
    "auth": {"openapi": {"admin_api_key": {"api_key": API_KEY}}},
    # Invalid data may also be refused as too large (413: an upload over maxUploadBytes that
    # reaches the function), besides schemathesis' usual 4xx.
    "checks": {"negative_data_rejection": {"expected-statuses": [*REFUSALS, "413"]}},
}
DOCUMENT = api_contract.published_document(["http://localhost"], MAX_UPLOAD_BYTES)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_dict(SETTINGS))
# make test's pass over every operation: a few generated examples each, without the boundary-value
# phase (make soak runs that, and more examples).
quick_schema = schemathesis.openapi.from_dict(
    DOCUMENT, config=SchemathesisConfig.from_dict({**SETTINGS, "phases": {"coverage": {"enabled": False}}})
)
_gateway: list[Gateway] = []
CONTAINER = "through the gateway to the container"


def forward_to_container(_function, event):
    """API Gateway's HTTP proxy to the container backend instead of a Lambda invocation."""
    from verify.container_proxy import forward

    return forward(event)


schema.app = quick_schema.app = lambda environ, start_response: _gateway[0](environ, start_response)
issued_cursors: set[str] = set()


@pytest.fixture(scope="module", params=["through the gateway", "straight to the function", CONTAINER])
def region(request):
    """One region in moto behind its gateway, for the whole module (state accumulates, as in a
    deployed API under a fuzzer): with the gateway's request validation, without it (what
    the gateway would refuse reaches the function, which must refuse it within the contract), and
    through the gateway to the container backend (the same handlers behind HTTP)."""
    from moto import mock_aws

    configure()
    with mock_aws():
        reset_handler_state()
        make_regional_resources()
        from api.app import handler
        from api.health_app import handler as health

        _gateway[:] = [
            Gateway(
                api_contract.document(allowed_origin=ORIGIN, max_upload_bytes=MAX_UPLOAD_BYTES),
                {"*": handler, "health/GET": health},
                invoke=forward_to_container
                if request.param == CONTAINER
                else lambda function, event: function(event, FakeContext()),
                api_key=API_KEY,
                allowed_origin=ORIGIN,
                validate_requests=request.param != "straight to the function",
            )
        ]
        yield _gateway[0]
        _gateway.clear()
        reset_handler_state()
    configure()


def prepare(case) -> None:
    """A fresh Idempotency-Key per request; a cursor only if this API issued it."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if case.query and "cursor" in case.query and case.query["cursor"] not in issued_cursors:
        del case.query["cursor"]


def remember(response, case) -> None:
    if case.operation.label == "GET /posts" and response.status_code == 200 and case.method == "GET":
        cursor = response.json().get("next_cursor")
        if cursor:
            issued_cursors.add(cursor)


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )


def _call(case):
    prepare(case)
    response = case.call_and_validate()
    remember(response, case)


@pytest.mark.parametrize("region", ["through the gateway", CONTAINER], indirect=True)
@quick_schema.parametrize()
@fuzz_settings(QUICK_EXAMPLES)
def test_every_operation_keeps_the_contract(case, region):
    _call(case)


@pytest.mark.soak
@schema.parametrize()
@fuzz_settings(SOAK_EXAMPLES)
def test_every_operation_keeps_the_contract_at_length(case, region):
    _call(case)


def wipe_tables() -> None:
    """Every scenario starts from empty tables: the links a scenario can follow depend on what
    the API holds (a list with a next page, say), and Hypothesis replays a scenario expecting
    the same choices."""
    import boto3

    for name in ("app-table", "idempotency-table"):
        table = boto3.resource("dynamodb", region_name=ENVIRONMENT["AWS_REGION"]).Table(name)
        keys = [k["AttributeName"] for k in table.key_schema]
        with table.batch_writer() as batch:
            for item in table.scan(
                ProjectionExpression=", ".join(f"#{i}" for i in range(len(keys))),
                ExpressionAttributeNames={f"#{i}": k for i, k in enumerate(keys)},
            )["Items"]:
                batch.delete_item(Key=item)
    issued_cursors.clear()


class _Scenarios(schema.as_state_machine()):
    def setup(self) -> None:
        wipe_tables()

    def before_call(self, case) -> None:
        prepare(case)

    def after_call(self, response, case) -> None:
        super().after_call(response, case)
        remember(response, case)


def _run_scenarios(examples: int, steps: int) -> None:
    _Scenarios.run(
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


@pytest.mark.parametrize("region", ["through the gateway", CONTAINER], indirect=True)
def test_linked_scenarios_keep_the_contract(region):
    _run_scenarios(examples=12, steps=6)


@pytest.mark.soak
def test_linked_scenarios_keep_the_contract_at_length(region):
    _run_scenarios(examples=40, steps=6)  # and ~20 MB per scenario: ~1 GB


@pytest.mark.parametrize("region", ["through the gateway"], indirect=True)
def test_the_fuzzers_checks_fail_on_an_undeclared_status_and_on_a_server_error(region, monkeypatch):
    """The checks can fail: a document that leaves out the 404 of GET /posts/{id}, and a handler
    that answers 500, each make a call fail its validation."""
    import copy

    from schemathesis.core.failures import FailureGroup

    document = copy.deepcopy(api_contract.published_document(["http://localhost"], MAX_UPLOAD_BYTES))
    del document["paths"]["/posts/{id}"]["get"]["responses"]["404"]
    loose = schemathesis.openapi.from_dict(document)
    loose.app = schema.app
    case = loose["/posts/{id}"]["GET"].Case(path_parameters={"id": "f" * 32})
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.call_and_validate()

    monkeypatch.setitem(region.functions, "*", lambda event, context: {"statusCode": 500, "body": "{}"})
    case = schema["/posts"]["GET"].Case()
    with pytest.raises(FailureGroup, match="Server error"):
        case.call_and_validate()
