"""LeaseVoters: the independent stores that grant a write lease by majority, one per voter region.

A single-primary application that moves its primary without a person needs leadership that two
regions cut off from each other can never both hold: a lease granted by a majority of voters that
do not replicate into each other. Each voter is one small DynamoDB table in its own region (never
a global table: a voter that replicated its grants would let both sides of a partition count it).
For an even number of serving regions, one more voter lives in a region that serves nothing (a
witness), so a majority always exists on at most one side. The protocol itself is the caller's
(the blog's is functions/shared/lease.py); the tables hold one item each.

Creates `{name}-{region}` per voter region: an `aws.dynamodb.Table` with partition key `pk`,
on-demand billing (no standing charge), point-in-time recovery, encryption at rest (AWS-owned, or
the region's key from `kms_key_arns`), deletion protection from the args.

Inputs (`LeaseVotersArgs`): `regions` (the voter regions, at least 1; an odd number is the useful
case), `providers` ({region: provider} for each), `deletion_protection` (default True),
`kms_key_arns` ({region: key ARN}, optional per region), `tags`.
Outputs: `table_names`, `arns` and `key_arns` (the regions given a key), dicts keyed by region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

KEY_ATTRIBUTE = "pk"


@dataclass(frozen=True, kw_only=True)
class LeaseVotersArgs:
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    deletion_protection: bool = True
    kms_key_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("LeaseVotersArgs.regions: at least one voter region")
        if len(set(self.regions)) != len(self.regions):
            raise ValueError(f"LeaseVotersArgs.regions: each region once, got {list(self.regions)}")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"LeaseVotersArgs.providers: no provider for {', '.join(missing)}")
        strays = sorted(set(self.kms_key_arns) - set(self.regions))
        if strays:
            raise ValueError(f"LeaseVotersArgs.kms_key_arns: not voter regions: {', '.join(strays)}")


class LeaseVoters(pulumi.ComponentResource):
    table_names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]
    key_arns: dict[str, pulumi.Input[str]]

    def __init__(self, name: str, args: LeaseVotersArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:LeaseVoters", name, None, opts)
        self.table_names, self.arns = {}, {}
        self.key_arns = dict(args.kms_key_arns)
        for region in args.regions:
            key = args.kms_key_arns.get(region)
            table = aws.dynamodb.Table(
                f"{name}-{region}",
                billing_mode="PAY_PER_REQUEST",
                hash_key=KEY_ATTRIBUTE,
                attributes=[aws.dynamodb.TableAttributeArgs(name=KEY_ATTRIBUTE, type="S")],
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=key is not None, kms_key_arn=key),
                deletion_protection_enabled=args.deletion_protection,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, provider=args.providers[region]),
            )
            self.table_names[region] = table.name
            self.arns[region] = table.arn
        self.register_outputs({"table_names": self.table_names, "arns": self.arns})
