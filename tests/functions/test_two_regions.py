"""Two regions, their real handlers, a last-writer-wins replica model (verify/two_region_sim.py).

Single-primary writes lose no update across regions and side effects happen once; the same
scenarios with every region writing its own eventually consistent replica (what the program did
before, and what `any-region` would be without strong consistency) lose updates: the
simulation is shown able to see the hazard it guards against.
"""

from unittest import mock

import boto3
import pytest
from shared.failover_timing import DRIFT_SECONDS

from verify import two_region_sim as sim_module
from verify.two_region_sim import REGIONS, world

OLD, NEW = REGIONS


def test_concurrent_edits_in_two_regions_lose_nothing_with_a_single_primary():
    with world(lag=1.0, seed=1) as sim:
        result = sim_module.scenario_concurrent_edits(sim, trials=6)
    assert result == {"trials": 6, "lost": 0, "answered_200": 6, "answered_409": 6}


def test_the_same_edits_written_locally_in_each_region_lose_one_every_time():
    with world(lag=1.0, seed=1, write_mode="any-region") as sim:
        result = sim_module.scenario_concurrent_edits(sim, trials=6)
    assert result["lost"] == 6 and result["answered_200"] == 12


def test_edit_against_delete_keeps_whichever_was_acknowledged():
    with world(lag=1.0, seed=2) as sim:
        assert sim_module.scenario_edit_vs_delete(sim, trials=6)["lost"] == 0
    with world(lag=1.0, seed=2, write_mode="any-region") as sim:
        assert sim_module.scenario_edit_vs_delete(sim, trials=6)["lost"] == 6


def test_one_address_subscribing_in_both_regions_gets_one_welcome():
    with world(lag=1.0, seed=3) as sim:
        assert sim_module.scenario_double_subscription(sim, subscribers=15) == {"subscribers": 15, "welcome_emails": 15}


def test_complaints_handled_in_both_regions_are_all_counted():
    with world(lag=1.0, seed=4) as sim:
        assert sim_module.scenario_complaints_in_both_regions(sim, addresses=10) == {"complaints": 20, "counted": 20}


def test_side_effects_are_exact_when_the_idempotency_store_fails_after_them():
    with world(lag=1.0, seed=5) as sim:
        result = sim_module.scenario_store_failures(sim, subscribers=25, complaints=30, views=120, rate=0.2)
    assert result["store_failures_injected"] >= 10
    assert result["welcome_emails"] == result["subscribers"] == 25
    assert result["complaints_counted"] == result["complaints"] == 30
    assert result["views_counted"] == result["views"] == 120


@pytest.mark.soak  # the negative control of the test above: a whole two-region run
def test_without_the_guards_in_the_data_a_failing_store_duplicates_side_effects():
    from shared import writes

    def unguarded(key, *, update, condition, names=None, values=None):
        table = boto3.resource("dynamodb", region_name=OLD).Table("app-table")
        kwargs = {"Key": key, "UpdateExpression": update}
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = {k: v for k, v in values.items() if k in update}
        table.update_item(**kwargs)
        return writes.Guarded(applied=True)

    with world(lag=1.0, seed=5) as sim, mock.patch.object(writes, "guarded_update", unguarded):
        result = sim_module.scenario_store_failures(sim, subscribers=15, complaints=20, views=0, rate=0.3)
    assert result["welcome_emails"] > result["subscribers"] or result["complaints_counted"] > result["complaints"]


@pytest.mark.parametrize("lag", [1.0])  # make soak: 0.5, 1, 2 and 5 s
def test_a_planned_promotion_loses_nothing_and_overlaps_nothing(lag):
    with world(lag=lag, seed=6) as sim:
        result = sim_module.scenario_promotion(sim, writes=30)
    assert result["lost"] == 0 and result["acknowledged_by_the_old_primary_after"] == 0, result
    assert result["epoch"] == 2  # the handover happened (the home region held epoch 1)


@pytest.mark.parametrize("lag", [2.0])  # make soak: 0.5, 1, 2 and 5 s
def test_a_cut_off_primary_is_replaced_without_an_operator_and_without_overlap(lag):
    """The primary's region keeps serving its clients but reaches neither the other region nor
    the witness. It stops acknowledging edits before its lease runs out; the other region takes
    the lease after it, and nothing either acknowledged is lost once the partition heals."""
    with world(lag=lag, seed=7) as sim:
        result = sim_module.scenario_primary_isolated(sim, writes=24)
    assert result["lost"] == 0 and result["acknowledged_by_the_old_primary_after"] == 0, result
    # Detection is bounded by the lease, a tick period and the takeover's drift margin.
    assert result["write_rto_seconds"] <= sim_module.LEASE_SECONDS * 1.5 + 2 * sim_module.LEASE_SECONDS / 2, result


def test_while_the_primary_is_down_writes_wait_and_land_at_the_region_that_took_over():
    with world(lag=1.0, seed=8) as sim:
        result = sim_module.scenario_primary_down(sim, writes=8)
    assert result["promoted_after_seconds"] <= 2 * sim_module.LEASE_SECONDS, result
    del result["promoted_after_seconds"]
    assert result == {"writes": 8, "deferred": 8, "written_locally_before_promotion": 0, "applied_after_promotion": 8}


def test_random_writes_from_both_regions_lose_nothing():
    with world(lag=1.5, seed=9) as sim:
        assert sim_module.random_writes(sim, writes=30)["lost"] == 0


# --- the operator's side: promote and status -----------------------------------------------------


def test_status_and_promotion_move_the_primary_and_raise_the_epoch():
    from ops import promotion

    with world(lag=0.5, seed=10) as sim:
        reading, regions = promotion.status(sim.cluster())
        assert (reading.latest.holder, reading.latest.epoch) == (OLD, 1)
        sim.converge()
        assert [(s.region, s.primary, s.epoch) for s in promotion.status(sim.cluster())[1]] == [(OLD, OLD, 1), (NEW, OLD, 1)]
        report = sim.promote(NEW)
        assert (report.previous.holder, report.target, report.epoch, report.fenced) == (OLD, NEW, 2, True)
        sim.converge()
        reading, regions = promotion.status(sim.cluster())
        assert (reading.latest.holder, reading.latest.epoch) == (NEW, 2)
        assert {(s.primary, s.epoch) for s in regions} == {(NEW, 2)}
        assert sim.promote(OLD).epoch == 3


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"evacuated": (NEW,)}, "evacuated by config"),
        ({"drained": lambda region: region == NEW}, "drained"),
        ({"write_mode": "any-region"}, "has no primary"),
        ({"reachable": (NEW,)}, "only 1 of 3 lease voters answered; a majority is needed"),
    ],
)
def test_promotion_is_refused_to_an_unusable_region_or_without_a_majority(kwargs, reason):
    from ops import promotion

    with world(lag=0.5, seed=11) as sim, pytest.raises(promotion.PromotionRefused, match=reason):
        sim.promote(NEW, **kwargs)


def test_promotion_to_the_current_primary_or_an_unknown_region_is_refused():
    from ops import promotion

    with world(lag=0.5, seed=12) as sim:
        with pytest.raises(promotion.PromotionRefused, match="already primary"):
            sim.promote(OLD)
        with pytest.raises(promotion.PromotionRefused, match="not a region of this stack"):
            sim.promote("eu-west-1")


@pytest.mark.parametrize("automatic", [False, True])
def test_an_unreachable_primary_is_not_promoted_over_unless_forced_and_then_only_after_its_lease(automatic):
    """writeFailover manual: the operator's forced promotion waits out the old lease. Automatic:
    the target's own tick takes the lease first, and the operator is told so."""
    from ops import promotion

    with world(lag=0.5, seed=14, automatic=automatic) as sim:
        with pytest.raises(promotion.PromotionRefused, match="cannot be fenced"):
            sim.promote(NEW, reachable=(NEW, sim_module.WITNESS))
        sim.isolate(OLD)  # the old primary stops renewing: it cannot reach a majority
        began = sim.clock.now
        if automatic:
            with pytest.raises(promotion.PromotionRefused, match=f"^{NEW} won the promotion at epoch 2; nothing changed$"):
                sim.promote(NEW, reachable=(NEW, sim_module.WITNESS), force=True)
        else:
            report = sim.promote(NEW, reachable=(NEW, sim_module.WITNESS), force=True)
            assert not report.fenced and report.waited_for_expiry_seconds > 0 and report.epoch == 2
        # The lease, the drift margin, and the operator's reads meeting connect timeouts at OLD.
        assert sim.clock.now - began <= sim_module.LEASE_SECONDS + DRIFT_SECONDS + 3 * sim.injector.connect_timeout
        reading, _ = promotion.status(sim.cluster(reachable=(NEW, sim_module.WITNESS)))
        assert (reading.latest.holder, reading.latest.epoch) == (NEW, 2)


def test_a_write_under_a_stale_epoch_is_refused_and_redone_at_the_new_primary():
    from shared import control, writes
    from shared.intent import WriteIntent

    with world(lag=0.5, seed=13) as sim:
        post = sim_module._new_post(sim)
        with sim.region(OLD):
            stale = control.at_primary(OLD)  # what the old region had cached
        sim.promote(NEW)
        sim.converge()
        intent = WriteIntent(
            write_id="w-stale-epoch",
            route="PUT /posts/{id}",
            body_hash="h" * 64,
            kind="update",
            key={"pk": f"POST#{post}", "sk": "POST"},
            item={"title": "late"},
            expected_version=1,
            accepted_region=OLD,
            accepted_at="2026-11-26T00:00:00.000Z",
        )
        with sim.region(OLD), pytest.raises(writes.StaleEpoch):
            writes._apply_at(intent, writes.Target(OLD, stale))
        status, body, headers = sim.api(OLD, "PUT", f"/posts/{post}", body={"version": 1, "title": "fresh"})
        assert (status, body["version"]) == (200, 2)
        assert sim_module._epoch_of(NEW, headers["X-Write-Id"]) == 2


def test_a_subscriber_written_just_before_a_promotion_still_gets_one_welcome():
    """The cause of a missing email: the subscriber item was written at the old primary, the
    primary moved before it replicated, and the welcome claim at the new primary found no item.
    That refusal was read as 'already welcomed' and nothing was ever sent. The in-sync set now
    refuses such a promotion unless the operator accepts it (--out-of-sync); then the record is
    retried until the item is there, and exactly one email goes out."""
    from ops import promotion

    with world(lag=5.0, seed=21) as sim:  # slower than the confirmation: NEW leaves the in-sync set
        status, _, _ = sim.api(OLD, "POST", "/subscribers", body={"email": "early@example.com"})
        assert status == 201
        with pytest.raises(promotion.PromotionRefused, match="not in the in-sync set"):
            sim.promote(NEW)
        sim.promote(NEW, out_of_sync=True)  # before the subscriber item reached NEW's replica
        deliveries = 0
        for region in REGIONS:
            deliveries += sim.run_welcome(region)
        assert sim_module.sent_welcomes() == 1
        assert deliveries >= 2  # the first claim met no item at the new primary and was retried


def test_welcomes_and_view_counts_are_exact_over_a_few_hundred_shuffled_duplicated_deliveries():
    """make soak runs it with 150 subscribers and 400 views (over 1,000 deliveries)."""
    with world(lag=2.0, seed=22) as sim:
        result = sim_module.scenario_shuffled_deliveries(sim, subscribers=30, views=80)
    assert result["deliveries"] >= 200, result
    assert result["welcome_emails"] == result["subscribers"] == 30
    assert result["views_counted"] == result["views"] == 80
