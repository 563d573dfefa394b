"""ReplicatedBuckets: one private bucket per region, every bucket replicating to every other.

Creates per region `{name}-<region>` (a private bucket: see private_bucket.py), and in
multi-region stacks a replication role and configuration per bucket: one rule per destination,
with Replication Time Control (99.99 % of objects within 15 minutes) and its metrics (RTC
requires them), delete markers replicated. Versioning of every bucket is applied, then
`{name}-versioning-settle` waits `versioning_settle_seconds` before any replication configuration
is created: S3 refuses replication to a bucket whose versioning has not propagated yet
("Destination bucket must have versioning enabled"; S3 documents up to 15 minutes), and the
provider does not retry that error, so a two-way setup otherwise fails its first apply. The wait
runs again only when a bucket's versioning resource is replaced.

With `access_logs` (default on) every bucket writes S3 server access logs to
`{name}-<region>-access-logs` in its own region (see _blocks/access_logs.py), objects expiring
after `access_log_days`. Who uploaded or read what is then on record per region.

Objects S3 writes as replicas carry ReplicationStatus=REPLICA: consumers use it to skip work that
the origin region already did. Replicas are not replicated again.

Inputs (`ReplicatedBucketsArgs`): `regions`, `providers`, `cors_origins` (browsers that may POST
uploads), `cloudfront_reader_arn` (a distribution that may read every bucket through its origin
access control, and nothing else may), `access_logs`, `access_log_days`, `versioning_settle_seconds`, `replication_time_control`
(default on), `expire_objects_after_days` (default: keep), `tags`. Outputs: `names`, `arns`, `domains` (regional domain names) (`{region: Output[str]}`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumiverse_time as time

from ._blocks.access_logs import log_access
from ._blocks.private_bucket import PrivateBucket, attach_policy, cloudfront_reads, private_bucket
from .policies import allow, assume_role_policy, policy_document

RTC_MINUTES = 15


@dataclass(frozen=True, kw_only=True)
class ReplicatedBucketsArgs:
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    cors_origins: Sequence[pulumi.Input[str]] = ()
    cloudfront_reader_arn: pulumi.Input[str] | None = None
    versioning_settle_seconds: int = 120
    access_logs: bool = True
    access_log_days: int = 90
    # RTC's 15-minute SLA and its replication metrics (billed as CloudWatch custom metrics, three
    # per rule); without it S3 replicates "most objects within 15 minutes", with no SLA.
    replication_time_control: bool = True
    expire_objects_after_days: int | None = None  # None: objects are kept until deleted
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("ReplicatedBucketsArgs.regions: at least one region is required")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"ReplicatedBucketsArgs.providers: no provider for region(s) {', '.join(missing)}")
        if not 1 <= self.access_log_days <= 3650:
            raise ValueError(f"ReplicatedBucketsArgs.access_log_days: {self.access_log_days} is outside 1-3650")
        if self.expire_objects_after_days is not None and not 1 <= self.expire_objects_after_days <= 36500:
            raise ValueError(
                f"ReplicatedBucketsArgs.expire_objects_after_days: {self.expire_objects_after_days} is outside 1-36500"
            )
        if not 0 <= self.versioning_settle_seconds <= 1800:
            raise ValueError(
                f"ReplicatedBucketsArgs.versioning_settle_seconds: {self.versioning_settle_seconds} is outside 0-1800"
            )


class ReplicatedBuckets(pulumi.ComponentResource):
    names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]
    domains: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: ReplicatedBucketsArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:ReplicatedBuckets", name, None, opts)
        tags = dict(args.tags)

        def in_region(region: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region])

        reader = args.cloudfront_reader_arn
        buckets: dict[str, PrivateBucket] = {
            region: private_bucket(
                f"{name}-{region}",
                in_region(region),
                tags,
                expire_objects_after_days=args.expire_objects_after_days,
                with_policy=reader is None,
            )
            for region in args.regions
        }
        if reader is not None:
            for region, bucket in buckets.items():
                attach_policy(f"{name}-{region}", bucket, in_region(region), [cloudfront_reads(bucket, reader)])
        if args.cors_origins:
            for region, bucket in buckets.items():
                aws.s3.BucketCorsConfiguration(
                    f"{name}-{region}-cors",
                    bucket=bucket.bucket.id,
                    cors_rules=[
                        aws.s3.BucketCorsConfigurationCorsRuleArgs(
                            allowed_methods=["POST"],
                            allowed_origins=list(args.cors_origins),
                            allowed_headers=["*"],
                            max_age_seconds=600,
                        )
                    ],
                    opts=in_region(region),
                )

        if args.access_logs:
            for region, bucket in buckets.items():
                log_access(f"{name}-{region}", bucket, in_region(region), tags, args.access_log_days)

        versionings = [b.versioning for b in buckets.values() if b.versioning is not None]
        settled: list[pulumi.Resource] = []
        if len(buckets) > 1:
            settled = [
                time.Sleep(
                    f"{name}-versioning-settle",
                    create_duration=f"{args.versioning_settle_seconds}s",
                    triggers={f"versioning-{r}": b.versioning.id for r, b in buckets.items() if b.versioning is not None},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=versionings),
                )
            ]
        for region, source in buckets.items():
            destinations = {r: b for r, b in buckets.items() if r != region}
            if not destinations:
                continue
            role = aws.iam.Role(
                f"{name}-{region}-replication",
                assume_role_policy=assume_role_policy("s3.amazonaws.com"),
                tags=tags,
                opts=in_region(region),
            )
            aws.iam.RolePolicy(
                f"{name}-{region}-replication",
                role=role.id,
                policy=policy_document(
                    [
                        allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], [source.arn], "ReadSourceConfig"),
                        allow(
                            ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
                            [source.arn.apply(lambda a: f"{a}/*")],
                            "ReadSourceVersions",
                        ),
                        allow(
                            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                            [d.arn.apply(lambda a: f"{a}/*") for d in destinations.values()],
                            "WriteReplicas",
                        ),
                    ]
                ),
                opts=in_region(region),
            )
            aws.s3.BucketReplicationConfig(
                f"{name}-{region}-replication",
                bucket=source.bucket.id,
                role=role.arn,
                rules=[
                    aws.s3.BucketReplicationConfigRuleArgs(
                        id=f"to-{target}",
                        status="Enabled",
                        priority=priority,
                        filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                        delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
                        destination=_destination(destination.arn, args.replication_time_control),
                    )
                    for priority, (target, destination) in enumerate(sorted(destinations.items()), start=1)
                ],
                opts=pulumi.ResourceOptions.merge(in_region(region), pulumi.ResourceOptions(depends_on=[*versionings, *settled])),
            )

        self.names = {r: b.name for r, b in buckets.items()}
        self.arns = {r: b.arn for r, b in buckets.items()}
        self.domains = {r: b.bucket.bucket_regional_domain_name for r, b in buckets.items()}
        self.register_outputs({"names": self.names, "arns": self.arns})


def _destination(bucket_arn: pulumi.Input[str], rtc: bool) -> aws.s3.BucketReplicationConfigRuleDestinationArgs:
    if not rtc:
        return aws.s3.BucketReplicationConfigRuleDestinationArgs(bucket=bucket_arn)
    return aws.s3.BucketReplicationConfigRuleDestinationArgs(
        bucket=bucket_arn,
        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
            status="Enabled", time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(minutes=RTC_MINUTES)
        ),
        # RTC requires its metrics (S3 refuses the rule without them).
        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
            status="Enabled",
            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(minutes=RTC_MINUTES),
        ),
    )
