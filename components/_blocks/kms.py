"""A customer-managed KMS key with rotation: the one shape every component that needs a CMK uses.

The key policy is always explicit. Without `service_principals` it is AWS's default one written
out (the account root administers and uses the key, IAM policies grant the rest). With them, it
keeps that root statement and lets those AWS services use the key (for this account only where the service
supports aws:SourceAccount on its KMS calls): the case of
CloudWatch alarms publishing to an encrypted SNS topic, which the AWS-managed SNS key cannot
allow. CloudWatch Logs (`logs.<region>.amazonaws.com`) gets the statement its guide documents:
encrypt and decrypt only under the encryption context of this account's log groups in that
region. No `*` principal either way. No alias: alias names are unique per account and region, and
two stacks of this project may share an account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

# Services whose calls to KMS on a topic's behalf carry aws:SourceAccount (CloudWatch alarms, per
# the SNS guide on encrypted topics and AWS event sources). Others (SES) are not documented to:
# a condition on it would silently drop every event, so their statement is scoped by the key
# itself, which encrypts one topic only.
SOURCE_ACCOUNT_SERVICES = frozenset({"cloudwatch.amazonaws.com"})


_LOGS_SERVICE = re.compile(r"^logs\.([a-z0-9-]+)\.amazonaws\.com$")


def _logs_statement(service: str, region: str, account_id: str) -> dict:
    """CloudWatch Logs encrypts each log group's data under its ARN as encryption context."""
    return {
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_id}:log-group:*"}},
    }


def _key_policy(account_id: str, service_principals: Sequence[str]) -> str:
    statements = [
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    for service in sorted(service_principals):
        if logs := _LOGS_SERVICE.match(service):
            statements.append(_logs_statement(service, logs.group(1), account_id))
            continue
        statement = {
            "Sid": "Publisher" + "".join(part.title() for part in service.split(".")[0].split("-")),
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
        if service in SOURCE_ACCOUNT_SERVICES:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
        statements.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def rotating_key(
    name: str,
    description: str,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    service_principals: Sequence[str] = (),
) -> aws.kms.Key:
    # Always an explicit policy, even when it only says what AWS's default would: a key policy
    # that is written down is reviewed, diffed and checked by the policy pack (CKV2_AWS_64).
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=opts.parent, provider=opts.provider))
    policy = account.account_id.apply(lambda account_id: _key_policy(account_id, service_principals))
    return aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        tags=dict(tags),
        opts=opts,
    )
