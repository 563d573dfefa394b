"""MailSender: what one region needs to send mail with SES and hear about bounces.

Creates (region from the provider in `opts`)
- `{name}-config`: a configuration set that requires TLS to the receiving server, with
  reputation metrics, and an event destination sending BOUNCE and COMPLAINT events to
  `feedback_topic_arn`;
- `{name}-identity`: a domain identity with Easy DKIM (2048-bit) and its three DKIM CNAME
  records in the zone when `domain` is set (each region has its own tokens, hence its own
  records); otherwise the sender address as an email identity (SES mails it a verification link).

Inputs (`MailSenderArgs`): `sender` (From address), `domain` (zone) or None, `feedback_topic_arn`,
`tags`. Outputs: `sender`, `configuration_set_name`, `identity_arn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

DKIM_RECORDS = 3


@dataclass(frozen=True, kw_only=True)
class MailSenderArgs:
    sender: str
    feedback_topic_arn: pulumi.Input[str]
    domain: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if "@" not in self.sender:
            raise ValueError(f"MailSenderArgs.sender: {self.sender!r} is not an email address")
        if self.domain and not self.sender.endswith("@" + self.domain):
            raise ValueError(f"MailSenderArgs.sender: {self.sender} is not an address of {self.domain}")


class MailSender(pulumi.ComponentResource):
    sender: str
    configuration_set_name: pulumi.Output[str]
    identity_arn: pulumi.Output[str]

    def __init__(self, name: str, args: MailSenderArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:MailSender", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        config = aws.sesv2.ConfigurationSet(
            f"{name}-config",
            configuration_set_name=f"{name}-{pulumi.get_stack()}",
            delivery_options=aws.sesv2.ConfigurationSetDeliveryOptionsArgs(tls_policy="REQUIRE"),
            reputation_options=aws.sesv2.ConfigurationSetReputationOptionsArgs(reputation_metrics_enabled=True),
            sending_options=aws.sesv2.ConfigurationSetSendingOptionsArgs(sending_enabled=True),
            tags=tags,
            opts=child,
        )
        aws.sesv2.ConfigurationSetEventDestination(
            f"{name}-feedback",
            configuration_set_name=config.configuration_set_name,
            event_destination_name="bounces-and-complaints",
            event_destination=aws.sesv2.ConfigurationSetEventDestinationEventDestinationArgs(
                enabled=True,
                matching_event_types=["BOUNCE", "COMPLAINT"],
                sns_destination=aws.sesv2.ConfigurationSetEventDestinationEventDestinationSnsDestinationArgs(
                    topic_arn=args.feedback_topic_arn
                ),
            ),
            opts=child,
        )
        identity = aws.sesv2.EmailIdentity(
            f"{name}-identity",
            email_identity=args.domain or args.sender,
            configuration_set_name=config.configuration_set_name,
            dkim_signing_attributes=aws.sesv2.EmailIdentityDkimSigningAttributesArgs(next_signing_key_length="RSA_2048_BIT")
            if args.domain
            else None,
            tags=tags,
            opts=child,
        )
        if args.domain:
            zone = aws.route53.get_zone_output(name=args.domain, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self))
            tokens = identity.dkim_signing_attributes.apply(lambda attributes: (attributes.tokens if attributes else None) or [])
            for index in range(DKIM_RECORDS):
                token = tokens.apply(lambda t, i=index: t[i])
                aws.route53.Record(
                    f"{name}-dkim-{index}",
                    zone_id=zone.zone_id,
                    name=token.apply(lambda t: f"{t}._domainkey.{args.domain}"),
                    type="CNAME",
                    ttl=1800,
                    records=[token.apply(lambda t: f"{t}.dkim.amazonses.com")],
                    opts=child,
                )
        self.sender = args.sender
        self.configuration_set_name = config.configuration_set_name
        self.identity_arn = identity.arn
        self.register_outputs({"configuration_set_name": self.configuration_set_name, "identity_arn": self.identity_arn})
