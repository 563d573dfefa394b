"""Writes without an operator, over histories (verify/partition_sim.py): regions crash, partition
and drift, clients keep writing, and a checker reads what happened.

Here, one short schedule of the primary lost at 1 s of replication lag (the other scenarios that
move the lease, one scenario each, in test_two_regions and test_lease), and the checker shown
able to fail; `make soak` runs a thousand seeded schedules
over every scenario (partitions of a pair, one way and of a minority too) and a two-hour outage.
"""

from __future__ import annotations

from unittest import mock

import pytest
from shared.failover_timing import write_rto_seconds

from verify import partition_sim as sim

# The bound the DR budget prints (stack/budget.py), from the simulated stack's lease.
WRITE_RTO_MAX_SECONDS = write_rto_seconds(sim.LEASE_SECONDS)


# The partitions that leave the primary a majority (pair, one way, minority) move nothing; they run
# in `make soak` with every other scenario. Seed 7 draws three serving regions, seed 3 two: the
# crash and the operators' race run with three (two operators can pick different survivors).
LEASE_MOVING = {"primary_crash": 7, "primary_isolated": 3, "promoter_crash": 3, "operators_race": 7}
THREE_REGIONS = {"primary_crash", "operators_race"}


def test_every_lease_moving_scenario_is_a_scenario_of_the_simulation():
    assert set(LEASE_MOVING) < set(sim.SCENARIOS)


# Every lease-moving history runs in `make soak` (with the thousand-schedule simulation). make
# test holds one scenario each elsewhere: test_two_regions's
# test_a_cut_off_primary_is_replaced_without_an_operator_and_without_overlap, and test_lease's
# test_two_operators_promoting_at_once_one_wins_the_other_is_told_who and
# test_a_promoter_that_dies_after_taking_the_lease_is_finished_by_its_next_tick; the checker's
# own power stays here (the two tests below break the lease and the confirmation on purpose).
IN_MAKE_TEST: set[str] = set()


@pytest.mark.parametrize("scenario", [s if s in IN_MAKE_TEST else pytest.param(s, marks=pytest.mark.soak) for s in LEASE_MOVING])
def test_no_acknowledged_write_is_lost_and_no_two_leases_overlap(scenario):
    schedule = sim.schedule_of(LEASE_MOVING[scenario], lag=1.0, scenario=scenario, short=True)
    assert len(schedule.serving) == (3 if scenario in THREE_REGIONS else 2)
    verdict = sim.run_schedule(schedule)
    assert verdict.ok, verdict.failures[:5]
    assert verdict.acknowledged > 20
    # Every 202 reached a state its client could read once the faults healed and the queues drained.
    assert (verdict.undecided, verdict.dead_lettered) == (0, 0)
    if scenario in ("primary_crash", "primary_isolated", "promoter_crash"):
        assert verdict.write_rto_seconds is not None and verdict.write_rto_seconds <= WRITE_RTO_MAX_SECONDS
    if scenario == "operators_race":
        winner, refused = sorted(verdict.operators, key=lambda line: line.startswith("refused"))
        assert winner.startswith("promoted ") and refused.startswith("refused: ") and "won the promotion" in refused


# The checker's two negative controls (the lease unenforced, writes acknowledged before they
# replicate) each run a whole history: make soak, beside the thousand schedules they vouch for.
@pytest.mark.soak
def test_the_checker_sees_two_primaries_when_the_lease_is_not_enforced():
    """Without the lease (writers and the fence ignore its expiry) a cut-off primary keeps taking
    writes after another took over: the checker counts interleaved epochs."""
    from shared import control

    real = control.fence_condition

    def without_lease(primary):
        condition, values = real(primary)
        if ":now" not in values:
            return condition, values
        return condition.replace(" AND lease_until > :now", ""), {k: v for k, v in values.items() if k != ":now"}

    with (
        mock.patch.object(control, "fence_condition", without_lease),
        mock.patch.object(control.Primary, "usable", lambda *_: True),
    ):
        verdict = sim.run_schedule(sim.schedule_of(1, lag=1.0, scenario="primary_isolated", short=True, fault_seconds=90))
    assert verdict.overlapping_leases > 0


@pytest.mark.soak
def test_the_checker_sees_lost_writes_when_writes_are_acknowledged_before_they_replicate():
    from shared import confirm

    with mock.patch.object(confirm, "confirm", lambda *_args, **_kwargs: None):
        verdict = sim.run_schedule(sim.schedule_of(3, lag=3.0, scenario="primary_crash", short=True))
    assert verdict.lost + verdict.overwritten > 0
