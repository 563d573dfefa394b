"""Where the relational store's writer is (relationalDb, an Aurora global database), and the next
step that moves it to a region: the decision both the operator's promotion (ops/database_promotion.py)
and any later automatic follower take, kept free of waiting so each caller paces it.

The steps, in order, for a target region:
1. its cluster has no instance (a headless secondary): create one (db.serverless), since the Data
   API only answers on a cluster with a writer instance;
2. that instance is not available yet: wait (minutes);
3. every member answers: a switchover (planned, no data lost: Aurora waits for the target to
   catch up);
4. a member does not answer (its region is down): a failover, which loses what had not
   replicated, so it is taken only with an explicit allow-data-loss choice; otherwise refused;
5. a switchover or failover in progress: wait; the target is writer and the global cluster
   available: done.

moto implements neither switchover nor failover, so the tests drive this against a fake RDS client
with a clock (tests/ops/test_database_promotion.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

INSTANCE_CLASS = "db.serverless"
ENGINE = "aurora-postgresql"
# The metric the drill prints as what an unplanned failover may lose (milliseconds).
LAG_METRIC = "AuroraGlobalDBReplicationLag"
PROMOTED_INSTANCE_SUFFIX = "-promoted"

Action = Literal["done", "create-instance", "wait", "switchover", "failover", "refuse"]


@dataclass(frozen=True)
class Member:
    region: str
    arn: str
    writer: bool
    answered: bool  # its region's RDS endpoint described the cluster
    instances: int = 0
    available_instances: int = 0

    @property
    def headless(self) -> bool:
        return self.answered and self.instances == 0


@dataclass(frozen=True)
class GlobalState:
    identifier: str
    status: str  # the global cluster's status (available, failing-over, switching-over, ...)
    members: Mapping[str, Member]
    moving_to: str | None = None  # FailoverState: a switchover or failover in progress, to this ARN

    @property
    def writer(self) -> str | None:
        return next((m.region for m in self.members.values() if m.writer), None)

    def role(self, region: str) -> str:
        member = self.members.get(region)
        if member is None:
            return "not a member"
        if not member.answered:
            return "unreachable"
        if member.writer:
            return "writer"
        return "headless" if member.headless else "reader"


@dataclass(frozen=True)
class Step:
    action: Action
    detail: str


def cluster_id(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def read_state(identifier: str, cluster_arns: Mapping[str, str], rds: Callable[[str], Any], ask_first: str) -> GlobalState:
    """The global cluster as any answering region's endpoint describes it (`ask_first` first), and
    each member's instances as its own region describes them (a region that does not answer is
    `answered=False`). Raises when no region describes the global cluster."""
    described = None
    order = [ask_first, *(r for r in cluster_arns if r != ask_first)]
    for region in order:
        try:
            described = rds(region).describe_global_clusters(GlobalClusterIdentifier=identifier)["GlobalClusters"][0]
            break
        except Exception:
            continue
    if described is None:
        raise LookupError(f"no region's RDS endpoint describes the global cluster {identifier}")
    writers = {m["DBClusterArn"] for m in described.get("GlobalClusterMembers", []) if m.get("IsWriter")}
    members = {}
    for region, arn in cluster_arns.items():
        try:
            instances = _instances(rds(region), arn)
        except Exception:
            members[region] = Member(region, arn, arn in writers, answered=False)
            continue
        available = sum(1 for i in instances if i.get("DBInstanceStatus") == "available")
        members[region] = Member(region, arn, arn in writers, True, len(instances), available)
    moving = (described.get("FailoverState") or {}).get("ToDbClusterArn")
    return GlobalState(identifier, described.get("Status", "unknown"), members, moving)


def _instances(client: Any, cluster_arn: str) -> list[dict[str, Any]]:
    """The cluster's instances, each described by name (IAM grants name them: no `db:*`)."""
    (cluster,) = client.describe_db_clusters(DBClusterIdentifier=cluster_arn)["DBClusters"]
    return [
        client.describe_db_instances(DBInstanceIdentifier=member["DBInstanceIdentifier"])["DBInstances"][0]
        for member in cluster.get("DBClusterMembers", [])
    ]


def promoted_instance_id(cluster_arn: str) -> str:
    """The name of the instance a promotion creates in a headless cluster (the stack grants its
    creation by this name: components/aurora_global.py PROMOTED_INSTANCE_SUFFIX)."""
    return f"{cluster_id(cluster_arn)}{PROMOTED_INSTANCE_SUFFIX}"


def next_step(state: GlobalState, target: str, *, allow_data_loss: bool) -> Step:
    member = state.members.get(target)
    if member is None:
        return Step("refuse", f"{target} has no cluster in the global database {state.identifier}")
    if state.moving_to is not None:
        return Step("wait", f"a switchover or failover to {region_of(state.moving_to)} is in progress")
    if member.writer:
        if state.status == "available":
            return Step("done", f"{target} is the writer")
        return Step("wait", f"{target} is the writer; the global cluster is {state.status}")
    if not member.answered:
        return Step("refuse", f"{target}'s cluster does not answer: it cannot become the writer now")
    if member.instances == 0:
        return Step("create-instance", f"{target} is headless: an instance ({INSTANCE_CLASS}) comes first")
    if member.available_instances == 0:
        return Step("wait", f"{target}'s instance is starting")
    silent = sorted(r for r, m in state.members.items() if not m.answered)
    if not silent:
        return Step("switchover", f"switch the writer from {state.writer} to {target} (planned: nothing lost)")
    if allow_data_loss:
        return Step(
            "failover", f"fail over to {target} while {', '.join(silent)} does not answer (what had not replicated is lost)"
        )
    return Step(
        "refuse",
        f"{', '.join(silent)} does not answer, so a switchover cannot run; a failover loses what had not "
        "replicated and needs the allow-data-loss choice (--allow-data-loss)",
    )


def take(step: Step, state: GlobalState, target: str, rds: Callable[[str], Any]) -> None:
    """Start `step` (create-instance, switchover or failover); the caller waits and reads again."""
    member = state.members[target]
    if step.action == "create-instance":
        rds(target).create_db_instance(
            DBInstanceIdentifier=promoted_instance_id(member.arn),
            DBClusterIdentifier=cluster_id(member.arn),
            DBInstanceClass=INSTANCE_CLASS,
            Engine=ENGINE,
            PromotionTier=0,
            PubliclyAccessible=False,
        )
    elif step.action == "switchover":
        rds(target).switchover_global_cluster(GlobalClusterIdentifier=state.identifier, TargetDbClusterIdentifier=member.arn)
    elif step.action == "failover":
        rds(target).failover_global_cluster(
            GlobalClusterIdentifier=state.identifier, TargetDbClusterIdentifier=member.arn, AllowDataLoss=True
        )
    else:
        raise ValueError(f"{step.action} is not an action to take")


def last_seen_lag_ms(cloudwatch: Any, cluster_arn: str, now_s: float) -> float | None:
    """The target's last reported replication lag over the past 15 minutes (what an unplanned
    failover may lose), or None when CloudWatch has no datapoint."""
    end = dt.datetime.fromtimestamp(now_s, dt.UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName=LAG_METRIC,
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id(cluster_arn)}],
        StartTime=end - dt.timedelta(minutes=15),
        EndTime=end,
        Period=60,
        Statistics=["Maximum"],
    )
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
    return float(points[-1]["Maximum"]) if points else None
