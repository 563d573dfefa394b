"""Backups: replication copies a mistake everywhere within a second; a backup keeps the past.

Creates in every region a vault `{name}-<region>` encrypted with its own rotating key (copies
arrive in each region's vault under that region's key), and, in the region that holds the data,
a plan `{name}-plan` whose one rule backs the selected resources up on `schedule`, keeps each
recovery point `retention_days`, and copies every recovery point to the vault of `copy_region`
with the same retention (a region lost takes its vault with it; the copy survives). One service
role (`AWSBackupServiceRolePolicyFor{Backup,Restores,S3Backup,S3Restore}`, the AWS managed
policies AWS Backup documents) backs up and restores. With `vault_lock`, each vault gets a lock
in compliance mode: recovery points cannot be deleted before `retention_days`, not even by the
account root, once `lock_changeable_for_days` have passed (the grace period in which the lock can
still be removed). Alarms (AWS/Backup) on failed backup and copy jobs in the data's region.

Not managed here, because each is one setting per account and region that other stacks share:
AWS Backup's opt-in for DynamoDB and S3, and the advanced DynamoDB features that cross-region
copies of DynamoDB backups need (`sdr preflight --stack <stack>` checks both).

Inputs (`BackupsArgs`): `regions` (vault regions; `home` holds the data), `providers`, `home`,
`resources` (ARNs in `home` to protect), `copy_region` (None: no copy, a single-region stack),
`schedule` (AWS Backup cron), `retention_days`, `vault_lock`, `lock_changeable_for_days`,
`alert_topic_arn`, `tags`. Outputs: `vault_arns` (`{region: Output[str]}`), `plan_id`, `role_arn`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import aws_cron
from ._blocks.alarms import metric_alarm
from ._blocks.kms import rotating_key
from .policies import assume_role_policy

SERVICE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)
# A job may start this late after its scheduled time (part of the backup RPO) and must finish within
# the completion window: a day, so a large first S3 backup completes instead of failing (AWS
# Backup's default is 7 days; a job that overruns is failed and raises the alarm below).
START_WINDOW_MINUTES = 60
COMPLETION_WINDOW_MINUTES = 24 * 60


@dataclass(frozen=True, kw_only=True)
class BackupsArgs:
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    home: str
    resources: Sequence[pulumi.Input[str]]
    copy_region: str | None
    schedule: str = "cron(0 5 * * ? *)"  # daily at 05:00 UTC
    retention_days: int = 35
    vault_lock: bool = False
    lock_changeable_for_days: int = 3
    alert_topic_arn: pulumi.Input[str] | None = None  # None: no alarms
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if self.home not in self.regions:
            raise ValueError(f"BackupsArgs.home: {self.home} is not one of the regions {list(self.regions)}")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"BackupsArgs.providers: no provider for region(s) {', '.join(missing)}")
        if self.copy_region is not None and (self.copy_region == self.home or self.copy_region not in self.regions):
            raise ValueError(f"BackupsArgs.copy_region: {self.copy_region} must be another of the regions {list(self.regions)}")
        if not 1 <= self.retention_days <= 36500:
            raise ValueError(f"BackupsArgs.retention_days: {self.retention_days} is outside 1-36500")
        try:
            aws_cron.parse(self.schedule)
        except aws_cron.CronError as error:
            raise ValueError(f"BackupsArgs.schedule: {error}") from None
        if self.vault_lock and not 3 <= self.lock_changeable_for_days <= 36500:
            raise ValueError("BackupsArgs.lock_changeable_for_days: at least 3 (AWS Backup's minimum grace period)")
        if not self.resources:
            raise ValueError("BackupsArgs.resources: at least one resource ARN to protect")


class Backups(pulumi.ComponentResource):
    vault_arns: dict[str, pulumi.Output[str]]
    plan_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:Backups", name, None, opts)
        tags = dict(args.tags)

        def in_region(region: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region])

        vaults: dict[str, aws.backup.Vault] = {}
        for region in args.regions:
            key = rotating_key(f"{name}-{region}-key", f"{name} backup vault in {region}", tags, in_region(region))
            vaults[region] = aws.backup.Vault(f"{name}-{region}", kms_key_arn=key.arn, tags=tags, opts=in_region(region))
            if args.vault_lock:
                aws.backup.VaultLockConfiguration(
                    f"{name}-{region}-lock",
                    backup_vault_name=vaults[region].name,
                    min_retention_days=args.retention_days,
                    max_retention_days=args.retention_days,
                    changeable_for_days=args.lock_changeable_for_days,
                    opts=in_region(region),
                )

        role = aws.iam.Role(
            f"{name}-role", assume_role_policy=assume_role_policy("backup.amazonaws.com"), tags=tags, opts=in_region(args.home)
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{arn.rsplit('/', 1)[1]}", role=role.name, policy_arn=arn, opts=in_region(args.home)
            )
            for arn in SERVICE_POLICIES
        ]
        lifecycle = aws.backup.PlanRuleLifecycleArgs(delete_after=args.retention_days)
        copies = (
            [
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=vaults[args.copy_region].arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=args.retention_days),
                )
            ]
            if args.copy_region
            else []
        )
        plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[
                aws.backup.PlanRuleArgs(
                    rule_name="scheduled",
                    target_vault_name=vaults[args.home].name,
                    schedule=args.schedule,
                    start_window=START_WINDOW_MINUTES,
                    completion_window=COMPLETION_WINDOW_MINUTES,
                    lifecycle=lifecycle,
                    copy_actions=copies,
                )
            ],
            tags=tags,
            opts=in_region(args.home),
        )
        aws.backup.Selection(
            f"{name}-selection",
            iam_role_arn=role.arn,
            plan_id=plan.id,
            resources=list(args.resources),
            # The role must carry its policies before AWS Backup assumes it for the first job.
            opts=pulumi.ResourceOptions.merge(in_region(args.home), pulumi.ResourceOptions(depends_on=attachments)),
        )
        for metric, what in (
            ("NumberOfBackupJobsFailed", "a backup job failed"),
            ("NumberOfCopyJobsFailed", "a copy to another region failed"),
        ):
            metric_alarm(
                f"{name}-{metric.lower()}",
                description=f"{name}: {what}",
                namespace="AWS/Backup",
                metric=metric,
                dimensions={},
                statistic="Sum",
                threshold=1,
                comparison="GreaterThanOrEqualToThreshold",
                evaluation_periods=1,
                datapoints_to_alarm=1,
                topic_arn=args.alert_topic_arn,
                tags=tags,
                opts=in_region(args.home),
            )

        self.vault_arns = {r: v.arn for r, v in vaults.items()}
        self.vault_names = {r: v.name for r, v in vaults.items()}
        self.plan_id = plan.id
        self.role_arn = role.arn
        self.register_outputs({"vault_arns": self.vault_arns, "plan_id": self.plan_id, "role_arn": self.role_arn})
