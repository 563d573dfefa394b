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

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fake_aurora import ARNS, INSTANCE_START_SECONDS, SWITCH_SECONDS, FakeAurora
from tests.functions.test_lease import cluster, world  # noqa: F401 - world is a fixture


def _database(aurora: FakeAurora):
    from ops.database_promotion import GlobalDatabase

    return GlobalDatabase("relational-global", ARNS, aurora.client, aurora.client)


def _promote(world, aurora, target="us-west-2", **kwargs):  # noqa: F811
    """The operator's promote while the regions' failover ticks keep running: every wait is a
    tick of each region whose DynamoDB answers (the holder renews its lease meanwhile)."""
    from ops import promotion

    ticking = [r for r in ("us-east-1", "us-west-2") if r not in kwargs.pop("silent", ())]

    def sleep(seconds: float) -> None:
        world.clocks.sleep(seconds)
        for region in ticking:
            world.tick(region)

    return promotion.promote(
        kwargs.pop("cluster", None) or cluster(world),
        target,
        now_ms=lambda: int(world.clocks.true * 1000),
        sleep=sleep,
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
        _promote(world, aurora, cluster=down, force=True, silent=("us-east-1",))
    assert "needs the allow-data-loss choice (--allow-data-loss)" in str(refused.value)
    assert aurora.seen == [] and world.latest().holder == "us-east-1"  # nothing changed
    report = _promote(world, aurora, cluster=down, force=True, allow_data_loss=True, silent=("us-east-1",))
    assert aurora.writer == "us-west-2" and [a for a, *_ in aurora.seen] == ["failover"]
    assert "last replication lag seen 850 ms" in "\n".join(report.lines())


def test_aurora_refusing_the_switchover_is_one_line_naming_its_code(world):  # noqa: F811
    from ops import promotion

    world.tick("us-east-1")
    aurora = FakeAurora(world, headless=())
    aurora.refuse_switch = "InvalidDBClusterStateFault"
    with pytest.raises(promotion.PromotionRefused, match=r"switchover to us-west-2 was refused \(InvalidDBClusterStateFault\)"):
        _promote(world, aurora)
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


def test_a_refusal_of_the_leases_move_comes_before_any_instance_is_started(world):  # noqa: F811
    from ops import promotion

    world.tick("us-east-1")
    world.drained.add("us-west-2")
    aurora = FakeAurora(world)
    with pytest.raises(promotion.PromotionRefused, match="drained"):
        _promote(world, aurora)
    assert aurora.seen == [] and aurora.instances["us-west-2"] == []
