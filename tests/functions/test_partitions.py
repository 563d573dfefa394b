"""Writes without an operator, over histories (verify/partition_sim.py): regions crash, partition
and drift, clients keep writing, and a checker reads what happened.

Here, one short schedule per fault scenario at 1 s of replication lag, and the checker shown
able to fail; `make soak` runs a thousand seeded schedules over every lag and a two-hour outage.
"""

from __future__ import annotations

from unittest import mock

import pytest
from shared.failover_timing import write_rto_seconds

from verify import partition_sim as sim

# The bound the DR budget prints (stack/budget.py), from the simulated stack's lease.
WRITE_RTO_MAX_SECONDS = write_rto_seconds(sim.LEASE_SECONDS)


@pytest.mark.parametrize("scenario", sim.SCENARIOS)
def test_no_acknowledged_write_is_lost_and_no_two_leases_overlap(scenario):
    verdict = sim.run_schedule(sim.schedule_of(3, lag=1.0, scenario=scenario, short=True))
    assert verdict.ok, verdict.failures[:5]
    assert verdict.acknowledged > 20
    # Every 202 reached a state its client could read once the faults healed and the queues drained.
    assert (verdict.undecided, verdict.dead_lettered) == (0, 0)
    if scenario in ("primary_crash", "primary_isolated", "promoter_crash"):
        assert verdict.write_rto_seconds is not None and verdict.write_rto_seconds <= WRITE_RTO_MAX_SECONDS
    if scenario == "operators_race":
        winner, refused = sorted(verdict.operators, key=lambda line: line.startswith("refused"))
        assert winner.startswith("promoted ") and refused.startswith("refused: ") and "won the promotion" in refused


def test_three_regions_lose_nothing_when_the_primary_crashes():
    schedule = sim.schedule_of(7, lag=1.0, scenario="primary_crash", short=True)
    assert len(schedule.serving) == 3
    verdict = sim.run_schedule(schedule)
    assert verdict.ok and verdict.undecided == 0 and verdict.write_rto_seconds <= WRITE_RTO_MAX_SECONDS


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


def test_the_checker_sees_lost_writes_when_writes_are_acknowledged_before_they_replicate():
    from shared import confirm

    with mock.patch.object(confirm, "confirm", lambda *_args, **_kwargs: None):
        verdict = sim.run_schedule(sim.schedule_of(3, lag=3.0, scenario="primary_crash", short=True))
    assert verdict.lost + verdict.overwritten > 0
