"""AlertTopic: the region's alert topic every alarm of that region notifies.

Creates `{name}-key` (a rotating KMS key that CloudWatch may use: alarms cannot publish to a topic
under the AWS-managed SNS key), `{name}-topic` (SNS encrypted with it), `{name}-policy` (publish
only by CloudWatch alarms of this account, TLS only) and, when `email` is set, an email
subscription (it stays pending until the recipient confirms).
Inputs (`AlertTopicArgs`): `email` (None for no subscription), `kms_key_arn` (a key the caller
shares with other topics of the region, whose policy admits CloudWatch; None creates
`{name}-key`), `tags`.
Outputs: `arn`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ._blocks.kms import rotating_key
from .policies import deny_insecure_transport


@dataclass(frozen=True, kw_only=True)
class AlertTopicArgs:
    email: str | None = None
    kms_key_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class AlertTopic(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key_arn = args.kms_key_arn
        if key_arn is None:
            key_arn = rotating_key(
                f"{name}-key", f"{name} alert topic", args.tags, child, service_principals=["cloudwatch.amazonaws.com"]
            ).arn
        topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=key_arn, tags=dict(args.tags), opts=child)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account).apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudWatchAlarmsPublish",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Resource": a[0],
                                "Condition": {"StringEquals": {"aws:SourceAccount": a[1]}},
                            },
                            deny_insecure_transport("sns:Publish", a[0]),
                        ],
                    }
                )
            ),
            opts=child,
        )
        if args.email:
            aws.sns.TopicSubscription(f"{name}-email", topic=topic.arn, protocol="email", endpoint=args.email, opts=child)
        self.arn = topic.arn
        self.register_outputs({"arn": self.arn})
