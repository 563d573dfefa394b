"""The relational store's writer moves with the write primary (ops/database_promotion.py,
shared/database_primary.py), against a fake RDS with the lease tests' clock: moto implements
neither switchover_global_cluster nor failover_global_cluster, and starts instances at once.

What is pinned: the order (a headless target's instance is available before anything is fenced;
the switchover runs only once the lease is the target's), a failed switchover (the lease stays
with the target, the database's writer where it was, and promote again finishes the move), the
refusal of a failover without the allow-data-loss choice (nothing changed), and the lag printed
as what a failover may lose.
"""

from __future__ import annotations

import botocore.exceptions
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.functions.test_lease import SERVING, cluster, world  # noqa: F401 - world is a fixture

ARNS = {r: f"arn:aws:rds:{r}:123456789012:cluster:relational-{r}" for r in SERVING}
INSTANCE_START_SECONDS = 420.0
SWITCH_SECONDS = 75.0


def _refused(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, "SwitchoverGlobalCluster")


class FakeAurora:
    """A global database over SERVING: which cluster writes, each cluster's instances and when they
    become available, a switchover or failover that completes (or rolls back) after a while, and
    regions whose RDS endpoint does not answer. `seen` records each action with the lease's
    holder and whether the old primary was fenced at that moment."""

    def __init__(self, lease_world, *, writer: str = "us-east-1", headless: tuple[str, ...] = ("us-west-2",)):
        self.world, self.writer = lease_world, writer
        self.instances: dict[str, list[tuple[str, float]]] = {r: [] if r in headless else [(f"{r}-writer", 0.0)] for r in SERVING}
        self.down: set[str] = set()
        self.moving: tuple[str, float, bool] | None = None  # (to region, done at, rolls back)
        self.fail_next_switch = False
        self.lag_ms = 850.0
        self.seen: list[tuple[str, str | None, bool]] = []

    @property
    def now(self) -> float:
        return self.world.clocks.true

    def _advance(self) -> None:
        if self.moving and self.now >= self.moving[1]:
            to, _, rolls_back = self.moving
            self.moving = None
            if not rolls_back:
                self.writer = to

    def _witness(self, action: str) -> None:
        latest = self.world.latest()
        control = self.world.control("us-east-1") if "us-east-1" not in self.down else None
        self.seen.append((action, latest.holder if latest else None, bool(control and control.get("revoked"))))

    def client(self, region: str):
        return _FakeRdsClient(self, region)


class _FakeRdsClient:
    def __init__(self, aurora: FakeAurora, region: str):
        self.aurora, self.region = aurora, region

    def _answer(self):
        if self.region in self.aurora.down:
            raise botocore.exceptions.EndpointConnectionError(endpoint_url=f"https://rds.{self.region}.amazonaws.com")
        self.aurora._advance()
        return self.aurora

    def describe_global_clusters(self, GlobalClusterIdentifier):
        a = self._answer()
        moving = a.moving
        return {
            "GlobalClusters": [
                {
                    "GlobalClusterIdentifier": GlobalClusterIdentifier,
                    "Status": "switching-over" if moving else "available",
                    "GlobalClusterMembers": [{"DBClusterArn": ARNS[r], "IsWriter": r == a.writer} for r in SERVING],
                    **({"FailoverState": {"Status": "failing-over", "ToDbClusterArn": ARNS[moving[0]]}} if moving else {}),
                }
            ]
        }

    def describe_db_instances(self, Filters):
        a = self._answer()
        region = next(r for r, arn in ARNS.items() if arn == Filters[0]["Values"][0])
        return {
            "DBInstances": [
                {"DBInstanceIdentifier": name, "DBInstanceStatus": "available" if a.now >= ready else "creating"}
                for name, ready in a.instances[region]
            ]
        }

    def create_db_instance(self, DBInstanceIdentifier, DBClusterIdentifier, DBInstanceClass, Engine, **_):
        a = self._answer()
        assert DBInstanceClass == "db.serverless" and Engine == "aurora-postgresql"
        assert DBClusterIdentifier == f"relational-{self.region}"
        a._witness("create-instance")
        a.instances[self.region].append((DBInstanceIdentifier, a.now + INSTANCE_START_SECONDS))

    def switchover_global_cluster(self, GlobalClusterIdentifier, TargetDbClusterIdentifier):
        a = self._answer()
        a._witness("switchover")
        if a.down:
            raise _refused("InvalidGlobalClusterStateFault")
        a.moving = (self.region, a.now + SWITCH_SECONDS, a.fail_next_switch)
        assert TargetDbClusterIdentifier == ARNS[self.region]

    def failover_global_cluster(self, GlobalClusterIdentifier, TargetDbClusterIdentifier, AllowDataLoss=False, **_):
        a = self._answer()
        assert AllowDataLoss is True, "a failover past an unreachable writer must allow data loss"
        a._witness("failover")
        a.moving = (self.region, a.now + SWITCH_SECONDS, False)

    def get_metric_statistics(self, **kwargs):
        import datetime as dt

        assert kwargs["MetricName"] == "AuroraGlobalDBReplicationLag"
        return {"Datapoints": [{"Timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "Maximum": self._answer().lag_ms}]}


def _database(aurora: FakeAurora):
    from ops.database_promotion import GlobalDatabase

    return GlobalDatabase("relational-global", ARNS, aurora.client, aurora.client)


def _promote(world, aurora, target="us-west-2", **kwargs):  # noqa: F811
    from ops import promotion

    return promotion.promote(
        kwargs.pop("cluster", None) or cluster(world),
        target,
        now_ms=lambda: int(world.clocks.true * 1000),
        sleep=world.clocks.sleep,
        database=_database(aurora),
        **kwargs,
    )


def test_a_planned_promotion_starts_the_instance_before_fencing_and_switches_once_the_lease_moved(world):  # noqa: F811
    world.tick("us-east-1")
    aurora = FakeAurora(world)
    started = world.clocks.true
    report = _promote(world, aurora)
    # The instance was asked for while us-east-1 still held the lease, unfenced; the switchover
    # once the lease was us-west-2's and us-east-1's control item revoked.
    assert aurora.seen == [("create-instance", "us-east-1", False), ("switchover", "us-west-2", True)]
    assert aurora.writer == "us-west-2" and world.latest().holder == "us-west-2"
    move = report.database
    assert move.action == "switchover" and move.instance_created
    assert INSTANCE_START_SECONDS <= move.instance_seconds < INSTANCE_START_SECONDS + 2 * 10
    assert SWITCH_SECONDS <= move.switch_seconds < SWITCH_SECONDS + 2 * 10
    assert world.clocks.true - started < INSTANCE_START_SECONDS + SWITCH_SECONDS + 60
    text = "\n".join(report.lines())
    assert "did switchover the writer from us-east-1 to us-west-2" in text and "created an instance in headless us-west-2" in text


def test_a_warm_target_switches_without_an_instance(world):  # noqa: F811
    world.tick("us-east-1")
    aurora = FakeAurora(world, headless=())
    report = _promote(world, aurora)
    assert [action for action, *_ in aurora.seen] == ["switchover"] and not report.database.instance_created


def test_a_failed_switchover_leaves_the_lease_moved_the_writer_in_place_and_promote_again_finishes(world):  # noqa: F811
    from ops import promotion

    world.tick("us-east-1")
    aurora = FakeAurora(world, headless=())
    aurora.fail_next_switch = True
    with pytest.raises(promotion.PromotionRefused) as refused:
        _promote(world, aurora)
    message = str(refused.value)
    assert "\n" not in message
    assert "did not happen (the writer is still us-east-1)" in message and "stay deferred (nothing is lost)" in message
    # Writes to the table go to the new primary; the ledger's are deferred until its database writes.
    assert world.latest().holder == "us-west-2" and aurora.writer == "us-east-1"
    world.tick("us-west-2")  # the new primary renews its lease meanwhile, as its failover tick does
    epoch = world.latest().epoch
    aurora.fail_next_switch = False
    again = _promote(world, aurora)
    assert not again.lease_moved and again.epoch == epoch and aurora.writer == "us-west-2"
    assert "us-west-2 already holds the write lease" in again.lines()[0]
    world.tick("us-west-2")
    with pytest.raises(promotion.PromotionRefused, match="already primary"):
        _promote(world, aurora)


def test_an_unreachable_writer_needs_the_allow_data_loss_choice_and_then_fails_over_printing_the_lag(world):  # noqa: F811
    from ops import promotion

    world.tick("us-east-1")
    aurora = FakeAurora(world, headless=())
    aurora.down.add("us-east-1")
    down = cluster(world, down=frozenset({"us-east-1"}))
    with pytest.raises(promotion.PromotionRefused) as refused:
        _promote(world, aurora, cluster=down, force=True)
    assert "needs the allow-data-loss choice (--allow-data-loss)" in str(refused.value)
    assert aurora.seen == [] and world.latest().holder == "us-east-1"  # nothing changed
    report = _promote(world, aurora, cluster=down, force=True, allow_data_loss=True)
    assert aurora.writer == "us-west-2" and [a for a, *_ in aurora.seen] == ["failover"]
    assert "last replication lag seen 850 ms" in "\n".join(report.lines())


def test_aurora_refusing_the_switchover_is_one_line_naming_its_code(world):  # noqa: F811
    from ops import promotion

    world.tick("us-east-1")
    aurora = FakeAurora(world, headless=())
    real = _FakeRdsClient.switchover_global_cluster

    def refuse(self, **kwargs):
        raise _refused("InvalidDBClusterStateFault")

    _FakeRdsClient.switchover_global_cluster = refuse
    try:
        with pytest.raises(
            promotion.PromotionRefused, match=r"switchover to us-west-2 was refused \(InvalidDBClusterStateFault\)"
        ):
            _promote(world, aurora)
    finally:
        _FakeRdsClient.switchover_global_cluster = real
    assert aurora.writer == "us-east-1"


def test_a_dry_run_creates_nothing_and_says_what_comes_first(world):  # noqa: F811
    world.tick("us-east-1")
    aurora = FakeAurora(world)
    report = _promote(world, aurora, dry_run=True)
    assert aurora.seen == [] and aurora.instances["us-west-2"] == [] and world.latest().holder == "us-east-1"
    text = "\n".join(report.lines())
    assert "would switchover the writer" in text and "first: us-west-2 is headless" in text


# --- the decision, over every combination of member states ---------------------------------------

_member = st.tuples(st.booleans(), st.integers(0, 2), st.integers(0, 2))  # answered, instances, available


@given(st.lists(_member, min_size=2, max_size=3), st.integers(0, 2), st.booleans(), st.booleans())
def test_no_switchover_past_a_silent_member_and_no_failover_without_the_choice(members, writer_index, allow, moving):
    from shared import database_primary as db

    regions = ["us-east-1", "us-west-2", "eu-west-1"][: len(members)]
    writer = regions[writer_index % len(regions)]
    state = db.GlobalState(
        "g",
        "available",
        {
            r: db.Member(r, f"arn:aws:rds:{r}:1:cluster:c-{r}", r == writer, answered, n, min(available, n))
            for r, (answered, n, available) in zip(regions, members, strict=True)
        },
        moving_to=f"arn:aws:rds:{regions[0]}:1:cluster:c" if moving else None,
    )
    for target in regions:
        step = db.next_step(state, target, allow_data_loss=allow)
        silent = any(not m.answered for m in state.members.values())
        if step.action == "switchover":
            assert not silent and not moving
        if step.action == "failover":
            assert allow and silent and not moving
        if step.action in ("switchover", "failover"):
            assert state.members[target].available_instances > 0
        if step.action == "done":
            assert target == writer


def test_drill_status_shows_each_regions_database_role(world):  # noqa: F811
    from ops.drill import database_status, render_status

    aurora = FakeAurora(world)
    status = database_status(_database(aurora), "us-west-2")
    assert status == {"status": "available", "moving_to": None, "roles": {"us-east-1": "writer", "us-west-2": "headless"}}
    aurora.down.add("us-east-1")
    status = database_status(_database(aurora), "us-west-2")
    assert status["roles"] == {"us-east-1": "unreachable", "us-west-2": "headless"}
    text = render_status({"region": "us-west-2", "drain_parameter": "false", "database": status})
    assert "database: available; us-east-1 unreachable, us-west-2 headless" in text
    aurora.down.add("us-west-2")
    assert "no region's RDS endpoint describes" in database_status(_database(aurora), "us-west-2")["error"]
