"""A log group the way every component makes one: a retention period, and the log key when given."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def log_group(
    name: str,
    retention_days: int,
    key_arn: pulumi.Input[str] | None,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    group_name: pulumi.Input[str] | None = None,
) -> aws.cloudwatch.LogGroup:
    """`key_arn` None: CloudWatch Logs' own encryption. `group_name` None: Pulumi names it."""
    return aws.cloudwatch.LogGroup(
        name,
        name=group_name,
        retention_in_days=retention_days,
        kms_key_id=key_arn,
        tags=dict(tags),
        opts=opts,
    )
