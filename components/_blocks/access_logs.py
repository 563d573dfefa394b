"""S3 server access logs for one bucket, into a log bucket of its own in the same region.

Server access logs stay in the source's region and account. The log bucket is private, SSE-S3 (the
log delivery cannot use SSE-KMS by default), unversioned (logs are written once), its objects
expire after `days`, and only the logging service may write to it, for this source bucket and
this account (aws:SourceArn / aws:SourceAccount). Logging is switched on only after that policy
exists: S3 checks that the service may write to the target when logging is enabled.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .private_bucket import PrivateBucket, attach_policy, private_bucket

ACCESS_LOG_PREFIX = "s3-access/"


def log_access(
    name: str, source: PrivateBucket, opts: pulumi.ResourceOptions, tags: Mapping[str, str], days: int
) -> PrivateBucket:
    """`{name}-access-logs` receiving `source`'s access logs under ACCESS_LOG_PREFIX."""
    # The source's tags but its content mark (content=premium): what the logs hold is logs.
    logs_tags = {k: v for k, v in tags.items() if k != "content"}
    logs = private_bucket(
        f"{name}-access-logs", opts, logs_tags, with_policy=False, versioned=False, expire_objects_after_days=days
    )
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent, provider=opts.provider))
    delivery = attach_policy(
        f"{name}-access-logs",
        logs,
        opts,
        [
            {
                "Sid": "ServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": logs.arn.apply(lambda arn: f"{arn}/{ACCESS_LOG_PREFIX}*"),
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source.arn},
                    "StringEquals": {"aws:SourceAccount": account.account_id},
                },
            }
        ],
    )
    aws.s3.BucketLogging(
        f"{name}-access-logging",
        bucket=source.bucket.id,
        target_bucket=logs.bucket.id,
        target_prefix=ACCESS_LOG_PREFIX,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[delivery])),
    )
    return logs
