"""The write lease and its failover ticks against moto: voters in three regions, two serving
regions, clocks set by the test (shared/lease.py, shared/failover.py, ops/promotion.py).

The partition simulation checks the same code over histories (test_partitions.py); these pin
each rule on its own: who may take the lease and when, what the drift margin buys, what a race,
a removal from the in-sync set, a drained or fenced holder and a crashed promoter lead to.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

from verify.harness import configure, create_voter_tables, make_regional_resources, reset_handler_state

SERVING = ("us-east-1", "us-west-2")
WITNESS = "us-east-2"
VOTERS = {r: f"lease-voter-{r}" for r in (*SERVING, WITNESS)}
LEASE = 30.0
START = 1_790_000_000.0


class Clocks:
    """One true time; each region's clock offset from it."""

    def __init__(self):
        self.true = START
        self.offset: dict[str, float] = {}

    def of(self, region: str):
        return lambda: self.true + self.offset.get(region, 0.0)

    def sleep(self, seconds: float) -> None:
        self.true += seconds


@pytest.fixture
def world():
    configure()
    with mock_aws():
        reset_handler_state()
        create_voter_tables(VOTERS)
        environments = {r: make_regional_resources(r).environment for r in SERVING}
        yield World(environments, Clocks())
        reset_handler_state()
    configure()


class World:
    def __init__(self, environments, clocks: Clocks):
        self.environments, self.clocks = environments, clocks
        self.drained: set[str] = set()

    def settings(self, region: str, **changes):
        from shared import failover

        values = {
            "region": region,
            "regions": SERVING,
            "evacuated": frozenset(),
            "automatic": True,
            "lease_seconds": LEASE,
            "table": "app-table",
            **changes,
        }
        return failover.Settings(**values)

    def tick(self, region: str, **changes):
        from shared import clock, failover

        saved = dict(os.environ)
        os.environ.update(
            {
                **self.environments[region],
                "WRITE_LEASE": "on",
                "LEASE_VOTERS": json.dumps(VOTERS),
                "LEASE_SECONDS": str(int(LEASE)),
            }
        )
        try:
            with clock.use(now=self.clocks.of(region), sleep=self.clocks.sleep):
                return failover.tick(self.settings(region, **changes), drained=lambda: region in self.drained)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def voters(self):
        from shared.lease import Voters

        return Voters(VOTERS, lambda r: boto3.client("dynamodb", region_name=r))

    def latest(self):
        return self.voters().read().latest

    def control(self, region: str) -> dict | None:
        from shared import failover

        return failover.read_control(boto3.client("dynamodb", region_name=region), "app-table")

    def pass_time(self, seconds: float) -> None:
        self.clocks.true += seconds


def test_a_new_stack_gives_its_first_lease_to_the_home_region_and_nobody_else(world):
    assert world.tick("us-west-2").action == "ineligible"
    report = world.tick("us-east-1")
    assert (report.action, report.epoch) == ("acquired", 1)
    lease = world.latest()
    assert (lease.holder, lease.in_sync) == ("us-east-1", frozenset(SERVING))
    control = world.control("us-east-1")
    assert control["primary_region"]["S"] == "us-east-1" and int(control["epoch"]["N"]) == 1
    # Valid for the lease minus the drift margin, by the holder's clock.
    assert int(control["lease_until"]["N"]) == int((START + LEASE - 1.0) * 1000)
    assert world.tick("us-west-2").action == "following"


def test_a_held_lease_is_renewed_and_never_taken_while_it_runs(world):
    world.tick("us-east-1")
    for _ in range(6):
        world.pass_time(LEASE / 2)
        assert world.tick("us-east-1").action == "renewed"
        assert world.tick("us-west-2").action == "following"
    assert world.latest().epoch == 1


def test_an_expired_lease_is_taken_only_after_expiry_plus_the_drift_margin(world):
    # GIVEN the holder's last renewal, and the candidate's clock ahead of it by the whole bound
    world.tick("us-east-1")
    expires = world.latest().expires_at_ms / 1000
    world.clocks.offset["us-west-2"] = 1.0
    # WHEN the candidate ticks just before expiry + margin by its own clock, THEN it may not
    world.clocks.true = expires - 1.0 + 1.0 - 0.2  # its clock reads expiry + 0.8
    assert world.tick("us-west-2", automatic=False).action == "following"
    # ... and with automatic failover it waits for that moment and takes it then, not earlier
    report = world.tick("us-west-2")
    assert (report.action, report.epoch) == ("acquired", 2)
    taken_at = world.clocks.true + world.clocks.offset["us-west-2"]
    assert taken_at > expires + 1.0  # by its own clock: expiry + drift margin
    # The holder's own clock (offset 0) passed its validity (expiry - margin) before that.
    holder_valid_until = int(world.control("us-east-1")["lease_until"]["N"]) / 1000
    assert holder_valid_until < world.clocks.true - 1.0
    assert world.latest().in_sync == frozenset({"us-west-2"})  # the old holder may lack what comes next


def test_with_manual_failover_an_expired_lease_waits_for_an_operator(world):
    world.tick("us-east-1")
    world.pass_time(LEASE + 5)
    report = world.tick("us-west-2", automatic=False)
    assert report.action == "waiting" and "manual" in report.detail
    assert world.latest().holder == "us-east-1"


def test_a_region_out_of_the_in_sync_set_never_takes_the_lease(world):
    world.tick("us-east-1")
    assert len(world.voters().shrink("us-east-1", 1, "us-west-2").granted) == 3
    world.pass_time(LEASE + 5)
    assert world.tick("us-west-2").action == "ineligible"
    assert world.latest().holder == "us-east-1"


def test_a_region_back_in_step_rejoins_the_in_sync_set_first_in_the_control_item_then_on_the_voters(world):
    # GIVEN us-west-2 out of the set, and a post only the primary's replica holds
    world.tick("us-east-1")
    world.voters().shrink("us-east-1", 1, "us-west-2")
    east = boto3.client("dynamodb", region_name="us-east-1")
    control = {"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}}
    east.update_item(
        TableName="app-table",
        Key=control,
        UpdateExpression="DELETE in_sync :r",
        ExpressionAttributeValues={":r": {"SS": ["us-west-2"]}},
    )
    post = {"pk": {"S": "POST#" + "a" * 32}, "sk": {"S": "POST"}, "version": {"N": "3"}, "write_id": {"S": "w3"}}
    east.put_item(TableName="app-table", Item=post)
    # WHEN the holder ticks while us-west-2 lacks it, THEN it stays out
    world.pass_time(LEASE / 2)
    assert "back in sync" not in world.tick("us-east-1").detail
    # WHEN us-west-2's replica holds it too (as the primary holds it), THEN it is back, in both places
    boto3.client("dynamodb", region_name="us-west-2").put_item(TableName="app-table", Item=post)
    world.pass_time(LEASE / 2)
    assert "back in sync: us-west-2" in world.tick("us-east-1").detail
    assert set(world.control("us-east-1")["in_sync"]["SS"]) == set(SERVING)
    assert world.latest().in_sync == frozenset(SERVING)


def _out_of_sync(world, region: str = "us-west-2"):
    """`region` taken out of the in-sync set, on the voters and in the primary's control item."""
    world.voters().shrink("us-east-1", 1, region)
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName="app-table",
        Key=CONTROL,
        UpdateExpression="DELETE in_sync :r ADD #rev :one",
        ExpressionAttributeNames={"#rev": "rev"},
        ExpressionAttributeValues={":r": {"SS": [region]}, ":one": {"N": "1"}},
    )


CONTROL = {"pk": {"S": "CONTROL#writer"}, "sk": {"S": "CONTROL"}}


def _checked_while(world, write_during_check):
    """One holder tick whose replica check runs `write_during_check()` first (a write landing
    while the region is being checked); the tick's report."""
    from unittest import mock

    from shared import failover

    real = failover._replica_holds_everything

    def check_with_a_write(settings, region):
        write_during_check()
        return real(settings, region)

    world.pass_time(LEASE / 2)
    with mock.patch.object(failover, "_replica_holds_everything", check_with_a_write):
        return world.tick("us-east-1")


def test_a_region_rejoins_while_writes_it_confirms_keep_landing(world):
    # GIVEN us-west-2 out of the set, and a write to both replicas during its check (as a write
    # confirmed at a joining region lands): steady writes must not keep a region out for ever
    world.tick("us-east-1")
    _out_of_sync(world)
    version = iter(range(1, 100))

    def confirmed_write():
        post = {
            "pk": {"S": "POST#" + "b" * 32},
            "sk": {"S": "POST"},
            "version": {"N": str(next(version))},
            "write_id": {"S": "w"},
        }
        for region in SERVING:
            boto3.client("dynamodb", region_name=region).put_item(TableName="app-table", Item=post)

    assert "back in sync: us-west-2" in _checked_while(world, confirmed_write).detail
    assert world.latest().in_sync == frozenset(SERVING)
    assert "joining" not in world.control("us-east-1")


def test_a_write_the_joining_region_misses_keeps_it_out(world):
    from shared.confirm import turn_away
    from shared.control import Primary

    world.tick("us-east-1")
    _out_of_sync(world)
    # WHEN a writer turns the joining region away (it did not confirm a write in time)
    primary = Primary("us-east-1", 1, lease_until_ms=0, in_sync=frozenset({"us-east-1"}), joining=frozenset({"us-west-2"}))
    report = _checked_while(world, lambda: turn_away(primary, "us-west-2"))
    # THEN it is back neither in the control item nor on the voters, and joins again next tick
    assert "back in sync" not in report.detail
    assert world.latest().in_sync == frozenset({"us-east-1"})
    assert set(world.control("us-east-1")["in_sync"]["SS"]) == {"us-east-1"}
    world.pass_time(LEASE / 2)
    assert "back in sync: us-west-2" in world.tick("us-east-1").detail


def test_a_joining_region_is_waited_for_by_writes_and_never_eligible(world):
    from unittest import mock

    from boto3.dynamodb.types import TypeDeserializer
    from shared import control

    world.tick("us-east-1")
    _out_of_sync(world)
    # a post only the primary holds keeps us-west-2 joining, not in sync
    post = {"pk": {"S": "POST#" + "c" * 32}, "sk": {"S": "POST"}, "version": {"N": "1"}, "write_id": {"S": "w1"}}
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName="app-table", Item=post)
    world.pass_time(LEASE / 2)
    world.tick("us-east-1")
    item = world.control("us-east-1")
    assert item["joining"]["SS"] == ["us-west-2"] and item["in_sync"]["SS"] == ["us-east-1"]
    with mock.patch.dict(os.environ, {"WRITE_LEASE": "on"}):
        primary = control.from_item({k: TypeDeserializer().deserialize(v) for k, v in item.items()})
    assert primary.confirming == frozenset({"us-west-2"})
    world.pass_time(LEASE + 5)
    assert world.tick("us-west-2").action == "ineligible"


def test_an_evacuated_region_never_takes_the_lease(world):
    world.tick("us-east-1")
    world.pass_time(LEASE + 5)
    assert world.tick("us-west-2", evacuated=frozenset({"us-west-2"})).action == "ineligible"
    assert world.latest().holder == "us-east-1"


def test_two_candidates_racing_leave_one_holder(world):
    from shared.lease import Lease

    world.tick("us-east-1")
    world.pass_time(LEASE + 5)
    seen = world.latest()
    now = int(world.clocks.true * 1000)
    voters = world.voters()
    first = voters.acquire(Lease("us-west-2", 2, now + 30_000, now, frozenset(SERVING)), seen, now)
    second = voters.acquire(Lease("us-east-1", 2, now + 30_000, now, frozenset(SERVING)), seen, now)
    assert (len(first.granted), len(second.granted)) == (3, 0)
    assert world.latest().holder == "us-west-2"


def test_a_drained_holder_fences_itself_and_lets_go(world):
    world.tick("us-east-1")
    world.drained.add("us-east-1")
    world.pass_time(LEASE / 2)
    assert world.tick("us-east-1").action == "released"
    assert world.control("us-east-1")["revoked"]["BOOL"] is True
    world.pass_time(1.5)  # the release left the lease expired: only the margin to wait
    assert world.tick("us-west-2").action == "acquired"


def test_a_promoter_that_dies_after_taking_the_lease_is_finished_by_its_next_tick(world):
    from unittest import mock

    from shared import failover

    world.tick("us-east-1")
    world.pass_time(LEASE + 5)
    with mock.patch.object(failover, "activate", side_effect=RuntimeError("crashed")), pytest.raises(RuntimeError):
        world.tick("us-west-2")
    assert world.latest().holder == "us-west-2" and world.control("us-west-2") is None
    world.pass_time(LEASE / 2)
    assert world.tick("us-west-2").action == "activated"
    assert int(world.control("us-west-2")["epoch"]["N"]) == 2


# --- the operator's promotion ------------------------------------------------------------------


def cluster(world, *, down: frozenset[str] = frozenset()):
    from ops import promotion

    def client(region: str):
        if region in down:
            raise ConnectionError(f"{region} unreachable")
        return boto3.client("dynamodb", region_name=region)

    return promotion.Cluster(
        table="app-table",
        regions=SERVING,
        voter_tables=VOTERS,
        dynamodb=client,
        drained=lambda r: r in world.drained,
        lease_seconds=LEASE,
    )


def promote(world, target: str, **kwargs):
    from ops import promotion

    return promotion.promote(
        kwargs.pop("cluster", None) or cluster(world),
        target,
        now_ms=lambda: int(world.clocks.true * 1000),
        sleep=world.clocks.sleep,
        **kwargs,
    )


def test_a_planned_promotion_fences_the_holder_first_then_moves_the_lease(world):
    world.tick("us-east-1")
    report = promote(world, "us-west-2")
    assert report.fenced and report.epoch == 2 and report.activated
    assert world.control("us-east-1")["revoked"]["BOOL"] is True
    assert world.latest().holder == "us-west-2"
    assert "promoted us-west-2 to primary at epoch 2 (was us-east-1 at epoch 1)" in report.lines()[0]


def test_an_unreachable_holder_is_not_promoted_past_unless_forced_and_then_only_after_expiry(world):
    from ops import promotion

    world.tick("us-east-1")
    down = cluster(world, down=frozenset({"us-east-1"}))
    with pytest.raises(promotion.PromotionRefused, match=r"us-east-1 cannot be fenced .*--force waits up to 30 s"):
        promote(world, "us-west-2", cluster=down)
    expires = world.latest().expires_at_ms / 1000
    report = promote(world, "us-west-2", cluster=down, force=True)
    assert world.clocks.true > expires + 1.0 and report.waited_for_expiry_seconds > 0
    assert world.latest().holder == "us-west-2"


def test_refusals_are_one_line_and_change_nothing(world):
    from ops import promotion

    world.tick("us-east-1")
    world.voters().shrink("us-east-1", 1, "us-west-2")
    cases = {
        "us-east-1": "us-east-1 is already primary at epoch 1",
        "eu-west-1": "eu-west-1 is not a region of this stack",
        "us-west-2": "us-west-2 is not in the in-sync set",
    }
    for target, message in cases.items():
        with pytest.raises(promotion.PromotionRefused) as refused:
            promote(world, target)
        assert message in str(refused.value) and "\n" not in str(refused.value)
    world.drained.add("us-west-2")
    with pytest.raises(promotion.PromotionRefused, match="drained"):
        promote(world, "us-west-2", out_of_sync=True)
    assert world.latest().holder == "us-east-1" and world.control("us-east-1").get("revoked") is None


def test_two_operators_promoting_at_once_one_wins_the_other_is_told_who(world):
    from unittest import mock

    from shared.lease import Voters

    from ops import promotion

    world.tick("us-east-1")
    real = Voters.take_over
    outcomes, raced = [], []

    def second_operator_first(voters, *args, **kwargs):
        if not raced:  # the second operator runs between the first's reading and its first write
            raced.append(True)
            outcomes.append(promote(world, "us-west-2").lines()[0])
        return real(voters, *args, **kwargs)

    with mock.patch.object(Voters, "take_over", second_operator_first), pytest.raises(promotion.PromotionRefused) as refused:
        promote(world, "us-west-2")
    assert outcomes == ["promoted us-west-2 to primary at epoch 2 (was us-east-1 at epoch 1)"]
    assert str(refused.value) == "us-west-2 won the promotion at epoch 2; nothing changed"
    # Never every replica fenced: the winner's control item is active.
    control = world.control("us-west-2")
    assert int(control["epoch"]["N"]) == 2 and "revoked" not in control
