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
