"""A private S3 bucket with every protection on: the one bucket shape this program creates.

All four public-access-block flags, ACLs disabled (BucketOwnerEnforced), default encryption
(SSE-S3, which cross-region replication and CloudFront OAC read without extra key grants),
versioning, a policy that denies any request not made over TLS plus the caller's statements,
a lifecycle that expires old versions and aborts stale multipart uploads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..policies import deny_insecure_transport, policy_document

# How long an overwritten or deleted object's old version is kept: the window in which a bucket
# prefix can be put back as it was (ops/restore_test.py restores from these versions).
NONCURRENT_VERSION_DAYS = 30


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning | None
    public_access_block: aws.s3.BucketPublicAccessBlock

    @property
    def name(self) -> pulumi.Output[str]:
        return self.bucket.bucket

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.bucket.arn


def private_bucket(
    name: str,
    opts: pulumi.ResourceOptions,
    tags: Mapping[str, str],
    noncurrent_version_days: int = NONCURRENT_VERSION_DAYS,
    force_destroy: bool = False,
    with_policy: bool = True,
    object_ownership: str = "BucketOwnerEnforced",
    versioned: bool = True,
    expire_objects_after_days: int | None = None,
) -> PrivateBucket:
    """The bucket and its protections; its policy too unless `with_policy=False`, for callers whose
    policy names a resource that needs the bucket first (a CloudFront distribution): they call
    `attach_policy` once that resource exists. `object_ownership`, `versioned` and
    `expire_objects_after_days` exist for log buckets (the log-delivery ACL, write-once
    objects; the policy pack lists the buckets allowed to differ) and for data kept for a time
    (analytics: versioned, expiring)."""
    bucket = aws.s3.Bucket(name, force_destroy=force_destroy, tags=dict(tags), opts=opts)
    block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=opts,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=opts,
    )
    versioning = (
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=opts,
        )
        if versioned
        else None
    )
    expiry = aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-objects",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_objects_after_days),
    )
    old_versions = aws.s3.BucketLifecycleConfigurationRuleArgs(
        id="expire-old-versions",
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=noncurrent_version_days
        ),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=7
        ),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-lifecycle",
        bucket=bucket.id,
        # A versioned bucket whose objects expire keeps its old versions for the usual window too;
        # an unversioned one (logs) has none.
        rules=([expiry, old_versions] if versioned else [expiry]) if expire_objects_after_days else [old_versions],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[versioning] if versioning else [])),
    )
    made = PrivateBucket(bucket=bucket, versioning=versioning, public_access_block=block)
    if with_policy:
        attach_policy(name, made, opts)
    return made


def cloudfront_reads(
    made: PrivateBucket, distribution_arn: pulumi.Input[str], prefix: str = "", sid: str = "CloudFrontReadsThroughOAC"
) -> dict[str, Any]:
    """The statement admitting one CloudFront distribution (through its origin access control,
    which signs as the CloudFront service) to read the objects under `prefix`."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": made.arn.apply(lambda arn: f"{arn}/{prefix}*"),
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def attach_policy(
    name: str, made: PrivateBucket, opts: pulumi.ResourceOptions, statements: Sequence[dict[str, Any]] = ()
) -> aws.s3.BucketPolicy:
    """The bucket's one policy: the caller's statements plus a denial of every non-TLS request."""
    objects = made.arn.apply(lambda arn: f"{arn}/*")
    return aws.s3.BucketPolicy(
        f"{name}-policy",
        bucket=made.bucket.id,
        policy=policy_document([*statements, deny_insecure_transport("s3:*", [made.arn, objects])]),
        # A policy saved before the block is in place could be judged public.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[made.public_access_block])),
    )
