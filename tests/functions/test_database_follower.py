"""The relational store's writer follows the write primary without an operator: the lease holder's
failover tick takes one step per tick (shared/database_follower.py) against a fake RDS on the
lease tests' clock (tests/fake_aurora.py; moto implements neither switchover nor failover)."""

from __future__ import annotations

import json

import pytest

from tests.fake_aurora import ARNS, INSTANCE_START_SECONDS, SWITCH_SECONDS, FakeAurora
from tests.functions.test_lease import LEASE, world  # noqa: F401 - world is a fixture

TICK = LEASE / 2  # a holder ticks every half lease


@pytest.fixture
def aurora(world, monkeypatch):  # noqa: F811
    from shared import aws

    fake = FakeAurora(world)
    real = aws.client
    monkeypatch.setattr(
        aws, "client", lambda service, region=None, **kw: fake.client(region) if service == "rds" else real(service, region, **kw)
    )
    monkeypatch.setenv("RELATIONAL_GLOBAL_CLUSTER", "relational-global")
    monkeypatch.setenv("RELATIONAL_DATA_API", json.dumps({r: {"resourceArn": a, "secretArn": "s"} for r, a in ARNS.items()}))
    monkeypatch.setenv("RELATIONAL_AUTOMATIC_FAILOVER", "false")
    fake.describes = 0
    describe = fake.client("us-east-1").__class__.describe_global_clusters

    def counted(self, **kwargs):
        fake.describes += 1
        return describe(self, **kwargs)

    monkeypatch.setattr(fake.client("us-east-1").__class__, "describe_global_clusters", counted)
    return fake


def _take_over(world) -> object:  # noqa: F811
    """us-east-1 held the lease and stopped ticking; us-west-2 takes it over."""
    world.tick("us-east-1")
    world.pass_time(LEASE + 5)
    report = world.tick("us-west-2")
    assert report.action == "acquired"
    return report


def _tick_west_until(world, aurora, done, limit_seconds: float) -> list[str]:  # noqa: F811
    said = []
    waited = 0.0
    while not done() and waited < limit_seconds:
        world.pass_time(TICK)
        waited += TICK
        report = world.tick("us-west-2")
        assert report.action == "renewed", report  # the database never costs the lease
        if report.database:
            said.append(report.database)
    return said


def test_a_settled_holder_leaves_the_database_alone_and_rereads_it_only_every_five_minutes(world, aurora):  # noqa: F811
    assert world.tick("us-east-1").database is None
    reads = aurora.describes
    for _ in range(4):
        world.pass_time(TICK)
        assert world.tick("us-east-1").database is None
    assert aurora.describes == reads and aurora.seen == []


def test_a_new_holder_starts_an_instance_then_switches_over_when_the_old_writer_answers(world, aurora):  # noqa: F811
    report = _take_over(world)
    assert report.database.startswith("database create-instance: us-west-2 is headless")
    said = _tick_west_until(world, aurora, lambda: aurora.writer == "us-west-2", INSTANCE_START_SECONDS + SWITCH_SECONDS + 120)
    assert aurora.writer == "us-west-2"
    assert [action for action, *_ in aurora.seen] == ["create-instance", "switchover"]
    assert any("instance is starting" in line for line in said) and any(line.startswith("database switchover") for line in said)
    world.pass_time(TICK)
    assert world.tick("us-west-2").database is None  # settled


def test_an_unanswering_old_writer_waits_for_an_operator_unless_the_stack_allows_the_failover(world, aurora, monkeypatch):  # noqa: F811
    _take_over(world)
    aurora.down.add("us-east-1")
    said = _tick_west_until(world, aurora, lambda: False, INSTANCE_START_SECONDS + 5 * TICK)
    assert aurora.writer == "us-east-1" and [a for a, *_ in aurora.seen] == ["create-instance"]
    assert "database waits for an operator" in said[-1] and "--allow-data-loss" in said[-1]
    monkeypatch.setenv("RELATIONAL_AUTOMATIC_FAILOVER", "true")
    _tick_west_until(world, aurora, lambda: aurora.writer == "us-west-2", SWITCH_SECONDS + 4 * TICK)
    assert aurora.writer == "us-west-2" and [a for a, *_ in aurora.seen] == ["create-instance", "failover"]


def test_an_rds_error_is_reported_and_never_costs_the_lease(world, aurora):  # noqa: F811
    _take_over(world)
    aurora.down.update(ARNS)  # no region's RDS answers
    world.pass_time(TICK)
    report = world.tick("us-west-2")
    assert report.action == "renewed" and report.database.startswith("database unreadable or refused")


def test_a_follower_takes_no_database_step(world, aurora):  # noqa: F811
    world.tick("us-east-1")
    reads = aurora.describes
    report = world.tick("us-west-2")
    assert report.action == "following" and report.database is None and aurora.describes == reads
