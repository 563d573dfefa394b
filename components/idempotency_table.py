"""IdempotencyTable: the region-local (never replicated) table of Powertools idempotency records.

Idempotency records must not replicate: a record written in one region while the same request
is in flight in another would make both regions believe the other finished the work. Each region
keeps its own; cross-region duplicates are prevented by the data paths themselves (origin-region
stream filters, conditional writes).

Creates `{name}-table`: an `aws.dynamodb.Table` with the layout Powertools'
`DynamoDBPersistenceLayer` expects by default (partition key `id`, TTL on `expiration`),
on-demand billing, PITR, encryption at rest, deletion protection from the args.

Inputs (`IdempotencyTableArgs`): `deletion_protection` (default True), `kms_key_arn` (None means
the AWS-owned key), `tags`. The region comes from the provider in `opts`.
Outputs: `name`, `arn`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# Powertools DynamoDBPersistenceLayer defaults (key_attr, expiry_attr).
KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"


@dataclass(frozen=True, kw_only=True)
class IdempotencyTableArgs:
    deletion_protection: bool = True
    kms_key_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class IdempotencyTable(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: IdempotencyTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:IdempotencyTable", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key=KEY_ATTRIBUTE,
            attributes=[aws.dynamodb.TableAttributeArgs(name=KEY_ATTRIBUTE, type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=EXPIRY_ATTRIBUTE, enabled=True),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=args.kms_key_arn is not None, kms_key_arn=args.kms_key_arn
            ),
            deletion_protection_enabled=args.deletion_protection,
            tags=dict(args.tags),
            opts=child,
        )
        self.name = table.name
        self.arn = table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
