"""AuroraGlobal: Aurora Serverless v2 (PostgreSQL) as the blog's relational store, in one region or
as a global database over several, reached through the Data API by functions outside any VPC.

Creates
- in every region with a cluster: an isolated two-AZ VPC (no route out: the Data API needs no
  network path), a subnet group and a security group without any rule;
- `{name}-global` (global): the global cluster (encrypted, deletion protection as given);
- `{name}-{home}`: the primary cluster (Data API on, Serverless v2 scaling, backups kept
  `backup_retention_days`, a final snapshot on delete) and its `db.serverless` writer;
- `{name}-{region}` (global, every other region): a secondary cluster (no credentials: it
  replicates the primary's), Data API on so it answers once promoted; a `db.serverless` reader
  only when `secondary` is warm (headless: storage only, no compute charge);
- `{name}-master`: the master credentials as a secret (username and the generated password given
  by the caller), replicated to every other region: after a failover the Data API call in the new
  region needs the secret there;
- alarms: replication lag of each secondary, and capacity at its maximum.

Membership of the global cluster moves at run time (`sdr drill promote` switches over or fails
over): every member ignores changes to its global cluster and replication source, so the next
`pulumi up` does not undo a promotion.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from ._blocks.small_vpc import small_vpc

ENGINE = "aurora-postgresql"
INSTANCE_CLASS = "db.serverless"
MASTER_USERNAME = "blog_admin"
# The instance a promotion creates in a headless cluster is named after its cluster
# (functions/shared/database_primary.py creates it; the failover function is granted it by name).
PROMOTED_INSTANCE_SUFFIX = "-promoted"
# Membership that a switchover or failover rewrites outside the program.
MOVED_BY_PROMOTION = ["globalClusterIdentifier", "replicationSourceIdentifier"]
REPLICATION_LAG_ALARM_MS = 60_000


@dataclass(frozen=True, kw_only=True)
class AuroraGlobalArgs:
    regions: Sequence[str]  # home first; one region: a plain cluster
    providers: Mapping[str, aws.Provider]
    engine_version: str
    database_name: str
    master_password: pulumi.Input[str]
    min_capacity: float
    max_capacity: float
    seconds_until_auto_pause: int = 300
    is_global: bool = True  # False: one cluster in the home region only (backup-copy)
    secondary: str = "headless"  # headless | warm
    backup_retention_days: int = 7
    deletion_protection: bool = False
    kms_key_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)  # by region; absent: aws/rds
    alert_topic_arns: Mapping[str, pulumi.Input[str] | None] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def home(self) -> str:
        return self.regions[0]

    @property
    def cluster_regions(self) -> list[str]:
        return list(self.regions) if self.is_global else [self.home]

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("AuroraGlobalArgs.regions: at least one region")
        missing = [r for r in self.cluster_regions if r not in self.providers]
        if missing:
            raise ValueError(f"AuroraGlobalArgs.providers: no provider for {', '.join(missing)}")
        if self.secondary not in ("headless", "warm"):
            raise ValueError(f"AuroraGlobalArgs.secondary: {self.secondary!r} is neither headless nor warm")
        if self.is_global and len(self.regions) > 1 and self.min_capacity == 0:
            raise ValueError("AuroraGlobalArgs.min_capacity: a global primary cannot pause (0); at least 0.5")
        if not 0 <= self.min_capacity <= self.max_capacity <= 256:
            raise ValueError(
                f"AuroraGlobalArgs: needs 0 <= min_capacity <= max_capacity <= 256 ({self.min_capacity}, {self.max_capacity})"
            )
        if not 1 <= self.backup_retention_days <= 35:
            raise ValueError(f"AuroraGlobalArgs.backup_retention_days: {self.backup_retention_days} is outside 1-35")


class AuroraGlobal(pulumi.ComponentResource):
    cluster_arns: dict[str, pulumi.Output[str]]  # by region: the Data API's resourceArn
    secret_arns: dict[str, pulumi.Output[str]]  # by region: the secret or its replica
    global_cluster_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: AuroraGlobalArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:AuroraGlobal", name, None, opts)
        tags = dict(args.tags)
        home = args.home
        others = [r for r in args.cluster_regions if r != home]

        def child(region: str, **kwargs) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region], **kwargs)

        secret = aws.secretsmanager.Secret(
            f"{name}-master",
            description="Aurora master credentials for the Data API (replicated to every region of the global database)",
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=r) for r in others],
            recovery_window_in_days=7,
            tags=tags,
            opts=child(home),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-master",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.from_input(args.master_password).apply(
                    lambda password: json.dumps({"username": MASTER_USERNAME, "password": password})
                )
            ),
            opts=child(home),
        )

        global_cluster = None
        if args.is_global and others:
            global_cluster = aws.rds.GlobalCluster(
                f"{name}-global",
                global_cluster_identifier=f"{name}-global",
                engine=ENGINE,
                engine_version=args.engine_version,
                storage_encrypted=True,
                deletion_protection=args.deletion_protection,
                opts=child(home),
            )

        self.cluster_arns, self.secret_arns = {}, {}
        # Every instance a cluster may have, by region: its own, or (headless) the one a promotion creates.
        self.instance_arns: dict[str, list[pulumi.Output[str]]] = {}
        self.promoted_instance_arns: dict[str, pulumi.Output[str]] = {}
        primary_writer = None
        for region in [home, *others]:
            primary = region == home
            instance = None
            network = small_vpc(f"{name}-{region}", network="isolated", interface_endpoints=(), tags=tags, opts=child(region))
            subnets = aws.rds.SubnetGroup(
                f"{name}-{region}-subnets", subnet_ids=network.subnet_ids, tags=tags, opts=child(region)
            )
            # No rule at all: nothing connects to the database over the network (the Data API is AWS's path).
            group = aws.ec2.SecurityGroup(
                f"{name}-{region}-sg",
                vpc_id=network.vpc_id,
                description="Aurora: no ingress, no egress (reached through the Data API only)",
                tags=tags,
                opts=child(region),
            )
            credentials = {"master_username": MASTER_USERNAME, "master_password": args.master_password} if primary else {}
            cluster = aws.rds.Cluster(
                f"{name}-{region}",
                engine=ENGINE,
                engine_mode="provisioned",
                engine_version=args.engine_version,
                global_cluster_identifier=global_cluster.id if global_cluster is not None else None,
                database_name=args.database_name if primary else None,
                **credentials,
                db_subnet_group_name=subnets.name,
                vpc_security_group_ids=[group.id],
                storage_encrypted=True,
                # A secondary of an encrypted global database names a key of its own region.
                kms_key_id=args.kms_key_arns.get(region) or (None if primary else "alias/aws/rds"),
                enable_http_endpoint=True,
                serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                    min_capacity=args.min_capacity,
                    max_capacity=args.max_capacity,
                    seconds_until_auto_pause=args.seconds_until_auto_pause if args.min_capacity == 0 else None,
                ),
                backup_retention_period=args.backup_retention_days,
                copy_tags_to_snapshot=True,
                deletion_protection=args.deletion_protection,
                skip_final_snapshot=False,
                final_snapshot_identifier=f"{name}-{region}-final",
                tags=tags,
                opts=child(
                    region,
                    ignore_changes=MOVED_BY_PROMOTION if global_cluster is not None else [],
                    depends_on=[primary_writer] if primary_writer is not None else [],
                ),
            )
            if primary or args.secondary == "warm":
                instance = aws.rds.ClusterInstance(
                    f"{name}-{region}-{'writer' if primary else 'reader'}",
                    cluster_identifier=cluster.id,
                    engine=ENGINE,
                    engine_version=args.engine_version,
                    instance_class=INSTANCE_CLASS,
                    promotion_tier=0 if primary else 1,
                    publicly_accessible=False,
                    auto_minor_version_upgrade=True,
                    performance_insights_enabled=True,
                    performance_insights_retention_period=7,  # the free tier
                    tags=tags,
                    opts=child(region),
                )
                if primary:
                    primary_writer = instance
            self.cluster_arns[region] = cluster.arn
            self.promoted_instance_arns[region] = pulumi.Output.all(cluster.arn, cluster.cluster_identifier).apply(
                lambda a: _instance_arn(a[0], a[1] + PROMOTED_INSTANCE_SUFFIX)
            )
            # A cluster without an instance of its own gets one only from a promotion.
            self.instance_arns[region] = [instance.arn] if instance else [self.promoted_instance_arns[region]]
            self.secret_arns[region] = secret.arn if primary else secret.arn.apply(lambda arn, r=region: _in_region(arn, r))
            topic = args.alert_topic_arns.get(region)
            dimensions = {"DBClusterIdentifier": cluster.cluster_identifier}
            if not primary:
                metric_alarm(
                    f"{name}-{region}-replication-lag",
                    description=f"{name} {region}: global replication more than {REPLICATION_LAG_ALARM_MS // 1000} s behind",
                    namespace="AWS/RDS",
                    metric="AuroraGlobalDBReplicationLag",
                    dimensions=dimensions,
                    threshold=REPLICATION_LAG_ALARM_MS,
                    topic_arn=topic,
                    tags=tags,
                    opts=child(region),
                )
            metric_alarm(
                f"{name}-{region}-capacity-at-max",
                description=f"{name} {region}: Serverless v2 capacity at its maximum ({args.max_capacity:g} ACU)",
                namespace="AWS/RDS",
                metric="ServerlessDatabaseCapacity",
                dimensions=dimensions,
                threshold=args.max_capacity,
                comparison="GreaterThanOrEqualToThreshold",
                topic_arn=topic,
                tags=tags,
                opts=child(region),
            )
        self.global_cluster_id = global_cluster.id if global_cluster is not None else None
        self.global_cluster_arn = global_cluster.arn if global_cluster is not None else None
        self.register_outputs({"cluster_arns": self.cluster_arns, "secret_arns": self.secret_arns})


def _instance_arn(cluster_arn: str, name: str) -> str:
    """The ARN of the instance `name` beside a cluster: its partition, region and account."""
    return ":".join(cluster_arn.split(":")[:5]) + f":db:{name}"


def _in_region(arn: str, region: str) -> str:
    """A secret's replica keeps its name and suffix in another region."""
    parts = arn.split(":")
    return ":".join([*parts[:3], region, *parts[4:]])
