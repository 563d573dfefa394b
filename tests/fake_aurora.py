"""A fake RDS for an Aurora global database over the lease tests' regions and clock: which cluster
writes, each cluster's instances and when they become available, a switchover or failover that
completes (or rolls back) after a while, and regions whose RDS endpoint does not answer. moto
implements neither switchover_global_cluster nor failover_global_cluster, and starts instances
at once (tests/ops/test_database_promotion.py, tests/functions/test_database_follower.py)."""

from __future__ import annotations

import botocore.exceptions

from tests.functions.test_lease import SERVING

ARNS = {r: f"arn:aws:rds:{r}:123456789012:cluster:relational-{r}" for r in SERVING}
INSTANCE_START_SECONDS = 420.0
SWITCH_SECONDS = 75.0


def refused_with(code: str) -> botocore.exceptions.ClientError:
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
        self.refuse_switch: str | None = None  # an error code Aurora answers the next switchover with
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
        return FakeRdsClient(self, region)


class FakeRdsClient:
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

    def describe_db_clusters(self, DBClusterIdentifier):
        a = self._answer()
        region = next(r for r, arn in ARNS.items() if arn == DBClusterIdentifier)
        members = [{"DBInstanceIdentifier": name, "IsClusterWriter": region == a.writer} for name, _ in a.instances[region]]
        return {"DBClusters": [{"DBClusterArn": DBClusterIdentifier, "Status": "available", "DBClusterMembers": members}]}

    def describe_db_instances(self, DBInstanceIdentifier):
        a = self._answer()
        ready = next(at for r in SERVING for name, at in a.instances[r] if name == DBInstanceIdentifier)
        return {
            "DBInstances": [
                {"DBInstanceIdentifier": DBInstanceIdentifier, "DBInstanceStatus": "available" if a.now >= ready else "creating"}
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
        if a.refuse_switch:
            raise refused_with(a.refuse_switch)
        if a.down or a.moving:
            raise refused_with("InvalidGlobalClusterStateFault")
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
