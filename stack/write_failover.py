"""Writes without an operator: the lease voters, and each region's failover function and schedule.

With single-primary writes across regions, the primary holds a write lease granted by a majority
of voters (components/lease_voters.py; functions/shared/lease.py). Each serving region has a
failover function (api/failover_app.py) that renews the lease it holds or takes over one that
expired. What calls it:
- the region's health function, asynchronously, at most every half lease while Route 53's health
  checkers call /health (about once a second from their locations): the lease is kept at their
  pace, with no standing charge of its own;
- an EventBridge Scheduler schedule every five minutes, as a backstop when the checks stop.
Ticks are idempotent and short: the async invocation and the schedule neither retry nor queue
an old tick (a missed one is replaced by the next).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import LambdaFunction, LambdaFunctionArgs, LeaseVoters, allow, rotating_key
from components.lease_voters import LeaseVotersArgs
from components.policies import assume_role_policy, policy_document
from stack.config import StackConfig
from stack.consumers import Region
from stack.packaging import code_archive
from stack.table_access import TableAccess

# A backstop only: the health checks keep the lease at their pace; should they stop triggering
# ticks, this one still lets a region take the lease (and writes resume) within minutes.
SCHEDULE = "rate(5 minutes)"
# Long enough to wait for an expiring lease (at most half a lease) and then take it over.
FUNCTION_TIMEOUT_SECONDS = 25
FUNCTION_MEMORY_MB = 128
CONTROL_ITEM = "CONTROL#writer"


def lease_voters(cfg: StackConfig, providers: dict[str, aws.Provider], table_key_arns: dict) -> LeaseVoters | None:
    """One voter table per voter region; under customer-managed table keys, each with its region's
    table key (the witness region, holding no replica, gets a key of its own)."""
    if not cfg.write_lease:
        return None
    keys: dict = {}
    if cfg.table_encryption == "customer-managed":
        for region in cfg.lease_voter_regions:
            keys[region] = (
                table_key_arns.get(region)
                or rotating_key(
                    f"lease-voter-{region}", f"{region} write-lease voter", {}, pulumi.ResourceOptions(provider=providers[region])
                ).arn
            )
    return LeaseVoters(
        "lease-voters",
        LeaseVotersArgs(
            regions=cfg.lease_voter_regions,
            providers=providers,
            deletion_protection=cfg.deletion_protection,
            kms_key_arns=keys,
        ),
    )


@dataclass(frozen=True)
class FailoverFunction:
    function: LambdaFunction

    def health_environment(self, cfg: StackConfig) -> dict:
        return {"FAILOVER_FUNCTION": self.function.function_name, "LEASE_SECONDS": str(cfg.lease_seconds)}

    def health_statements(self) -> list[dict]:
        return [allow(["lambda:InvokeFunction"], [self.function.arn], "TriggerFailoverTick")]


def _control_item_only(statement: dict) -> dict:
    return {**statement, "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [CONTROL_ITEM]}}}


def _global_store(cfg: StackConfig, access: TableAccess):
    return access.relational if access.relational is not None and cfg.relational.is_global else None


def _database_environment(cfg: StackConfig, access: TableAccess) -> dict:
    """What the holder's tick needs to move the database's writer (shared/database_follower.py)."""
    store = _global_store(cfg, access)
    if store is None:
        return {}
    return {
        "RELATIONAL_GLOBAL_CLUSTER": store.global_cluster_id,
        "RELATIONAL_AUTOMATIC_FAILOVER": "true" if cfg.relational.automatic_failover else "false",
    }


def _database_statements(cfg: StackConfig, access: TableAccess, region: str) -> list[dict]:
    """Read the global database from here; start an instance in, and move the writer to, this
    region's cluster only; fail over only when the stack lets the automatic promotion lose data."""
    store = _global_store(cfg, access)
    if store is None:
        return []
    own = store.cluster_arns[region]
    moves = ["rds:SwitchoverGlobalCluster", *(["rds:FailoverGlobalCluster"] if cfg.relational.automatic_failover else [])]
    return [
        allow(["rds:DescribeGlobalClusters"], [store.global_cluster_arn], "DatabaseGlobalCluster"),
        allow(["rds:DescribeDBClusters"], list(store.cluster_arns.values()), "DatabaseClusters"),
        allow(
            ["rds:DescribeDBInstances"],
            [arn for r in cfg.regions for arn in store.instance_arns[r]],
            "DatabaseInstances",
        ),
        *(
            # A headless cluster's instance, which a promotion creates here, by its name.
            [allow(["rds:CreateDBInstance"], [store.promoted_instance_arns[region], own], "DatabaseInstanceHere")]
            if region != cfg.home_region and cfg.relational.secondary == "headless"
            else []
        ),
        allow(moves, [store.global_cluster_arn, own], "DatabaseWriterHere"),
    ]


def failover_function(
    cfg: StackConfig, region: Region, access: TableAccess, drain_parameter_name: str, layer_arn: pulumi.Input[str]
) -> FailoverFunction:
    assert access.voters is not None, "a failover function needs the lease voters"
    name = region.name
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=region.provider)).account_id
    drain_parameter_arn = pulumi.Output.concat("arn:aws:ssm:", name, ":", account, ":parameter", drain_parameter_name)
    others = [access.table.arns[r] for r in cfg.regions if r != name]
    function = LambdaFunction(
        f"failover-{name}",
        LambdaFunctionArgs(
            handler="api.failover_app.handler",
            code=code_archive("api"),
            layers=[layer_arn],
            alert_topic_arn=region.alert_topic_arn,
            throttle_alarm=False,
            log_retention_days=cfg.log_retention_days,
            timeout=FUNCTION_TIMEOUT_SECONDS,
            memory_size=FUNCTION_MEMORY_MB,
            system_log_level="WARN",
            environment={
                **access.environment(),
                **_database_environment(cfg, access),
                "WRITE_FAILOVER": cfg.write_failover,
                "DRAIN_PARAMETER": drain_parameter_name,
                "POWERTOOLS_SERVICE_NAME": "failover",
                # Routine ticks (renewed, following) log nothing; takeovers and failures do.
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            },
            statements=[
                allow(
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    list(access.voters.arns.values()),
                    "LeaseVoters",
                ),
                *access.voter_key_use("LeaseVoters"),
                # Its own replica's control item: activated, extended, revoked by this region.
                _control_item_only(
                    allow(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [access.table.arns[name]], "OwnControl"
                    )
                ),
                # A region back in step rejoins the in-sync set once its replica is compared with
                # this one, item by item (shared/failover.py).
                allow(["dynamodb:Scan"], [access.table.arns[name]], "CompareFromHere"),
                *([allow(["dynamodb:BatchGetItem"], others, "CompareThere")] if others else []),
                *access.key_use(list(cfg.regions), "ControlKeys"),
                allow(["ssm:GetParameter"], [drain_parameter_arn], "DrainFlag"),
                *_database_statements(cfg, access, name),
            ],
            hardening=region.hardening,
        ),
        opts=region.opts(),
    )
    # A tick that waited is worth nothing: the next one replaces it.
    aws.lambda_.FunctionEventInvokeConfig(
        f"failover-{name}-async",
        function_name=function.function_name,
        maximum_retry_attempts=0,
        maximum_event_age_in_seconds=60,
        opts=region.opts(),
    )
    role = aws.iam.Role(
        f"failover-{name}-schedule-role",
        assume_role_policy=assume_role_policy("scheduler.amazonaws.com", source_account=account),
        opts=region.opts(),
    )
    aws.iam.RolePolicy(
        f"failover-{name}-schedule-policy",
        role=role.id,
        policy=policy_document([allow(["lambda:InvokeFunction"], [function.arn], "TickFailover")]),
        opts=region.opts(),
    )
    aws.scheduler.Schedule(
        f"failover-{name}-schedule",
        description=f"write failover tick in {name} (backstop to the health checks' pace)",
        schedule_expression=SCHEDULE,
        flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
        target=aws.scheduler.ScheduleTargetArgs(
            arn=function.arn,
            role_arn=role.arn,
            retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0, maximum_event_age_in_seconds=60),
        ),
        opts=region.opts(),
    )
    return FailoverFunction(function)
