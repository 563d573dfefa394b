"""Handlers run as plain functions against moto (verify/harness.py); one moto world per test."""

from __future__ import annotations

import pytest

from verify.harness import configure, make_regional_resources, reset_handler_state

configure()


@pytest.fixture
def regional():
    from moto import mock_aws

    configure()  # every test starts from the handlers' default environment
    with mock_aws():
        reset_handler_state()
        yield make_regional_resources()
        reset_handler_state()


@pytest.fixture(autouse=True)
def _answers_keep_the_api_contract(request):
    """Every answer a handler test gets through `call_api` is one the OpenAPI document declares,
    with the body it declares (verify/api_contract.py). A test that breaks the API on purpose
    (its mutants answer 5xx) is marked `breaks_the_api`."""
    from verify import harness

    harness.contract_problems = problems = []
    yield
    harness.contract_problems = None
    if request.node.get_closest_marker("breaks_the_api") is None:
        assert problems == [], problems[:5]
