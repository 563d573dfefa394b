"""GlobalTable: one DynamoDB global table (version 2019.11.21) replicated to every serving region.

Creates
- `{name}-table`: an `aws.dynamodb.Table` in the home region (first of `regions`) with one
  `replicas` entry per other region. Never combine with `aws.dynamodb.TableReplica` for the same
  table: both would manage the replica set.
- `{name}-key-<region>`: a rotating KMS key per region, only with `encryption="customer-managed"`.

Inputs (`GlobalTableArgs`)
- `regions`, `providers` (`{region: aws.Provider}`, one per region)
- key schema: `hash_key`, `range_key`, `attributes`, `indexes` (global secondary indexes)
- `ttl_attribute` (None: no TTL; strong consistency refuses one: MRSC tables do not support TTL),
  `consistency` (`eventual` | `strong`), `witness_region`
- `encryption` (`aws-owned` | `customer-managed`), `deletion_protection` (default True), `tags`

Outputs
- `name`: the table name (identical in every region)
- `arns`, `stream_arns`: `{region: Output[str]}`
- `key_arns`: `{region: Output[str]}` of the customer-managed keys (empty with AWS-owned keys):
  callers of the table under a CMK need kms:Decrypt (reads) and kms:GenerateDataKey (writes) on their region's key, through DynamoDB

Secure defaults: on-demand billing, stream NEW_AND_OLD_IMAGES (the consumers of the welcome
email path read it in every region), point-in-time recovery on the table and on every replica,
encryption at rest on every replica (AWS-owned key unless a CMK per region is asked for),
deletion protection on table and replicas, tags propagated to replicas.

Strong consistency (MRSC) is fixed at creation and needs 3 regions, or 2 plus a witness region;
the stack config refuses other shapes before this component is reached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from ._blocks.kms import rotating_key

_ATTRIBUTE_TYPES = ("S", "N", "B")


@dataclass(frozen=True, kw_only=True)
class SecondaryIndex:
    name: str
    hash_key: str
    range_key: str | None = None
    projection_type: Literal["ALL", "KEYS_ONLY"] = "ALL"


@dataclass(frozen=True, kw_only=True)
class GlobalTableArgs:
    regions: Sequence[str]
    providers: Mapping[str, aws.Provider]
    hash_key: str = "pk"
    range_key: str | None = "sk"
    attributes: Mapping[str, Literal["S", "N", "B"]] = field(default_factory=lambda: {"pk": "S", "sk": "S"})
    indexes: Sequence[SecondaryIndex] = ()
    ttl_attribute: str | None = None
    consistency: Literal["eventual", "strong"] = "eventual"
    witness_region: str | None = None
    encryption: Literal["aws-owned", "customer-managed"] = "aws-owned"
    deletion_protection: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.regions:
            raise ValueError("GlobalTableArgs.regions: at least one region is required")
        if len(set(self.regions)) != len(self.regions):
            raise ValueError(f"GlobalTableArgs.regions: each region once, got {list(self.regions)}")
        missing = [r for r in self.regions if r not in self.providers]
        if missing:
            raise ValueError(f"GlobalTableArgs.providers: no provider for region(s) {', '.join(missing)}")
        if self.consistency not in ("eventual", "strong"):
            raise ValueError(f"GlobalTableArgs.consistency: {self.consistency!r} is not one of eventual, strong")
        if self.encryption not in ("aws-owned", "customer-managed"):
            raise ValueError(f"GlobalTableArgs.encryption: {self.encryption!r} is not one of aws-owned, customer-managed")
        if self.consistency == "strong":
            shape_ok = (len(self.regions) == 3 and not self.witness_region) or (
                len(self.regions) == 2 and bool(self.witness_region)
            )
            if not shape_ok:
                raise ValueError("GlobalTableArgs.consistency: strong needs 3 regions, or 2 regions plus witness_region")
            if self.ttl_attribute:
                raise ValueError(
                    "GlobalTableArgs.ttl_attribute: MRSC (consistency='strong') tables do not support TTL; pass None"
                )
        elif self.witness_region:
            raise ValueError("GlobalTableArgs.witness_region: only valid with consistency='strong'")
        if self.witness_region in self.regions:
            raise ValueError(f"GlobalTableArgs.witness_region: {self.witness_region} is also a replica region")
        keys = [self.hash_key, self.range_key] + [k for i in self.indexes for k in (i.hash_key, i.range_key)]
        undeclared = sorted({k for k in keys if k and k not in self.attributes})
        if undeclared:
            raise ValueError(f"GlobalTableArgs.attributes: key attribute(s) {', '.join(undeclared)} not declared")
        bad_types = {k: t for k, t in self.attributes.items() if t not in _ATTRIBUTE_TYPES}
        if bad_types:
            raise ValueError(f"GlobalTableArgs.attributes: types must be S, N or B, got {bad_types}")
        # DynamoDB rejects attribute definitions that no key uses.
        unused = sorted(set(self.attributes) - set(keys))
        if unused:
            raise ValueError(f"GlobalTableArgs.attributes: {', '.join(unused)} declared but used by no key")


class GlobalTable(pulumi.ComponentResource):
    name: pulumi.Output[str]
    arns: dict[str, pulumi.Output[str]]
    stream_arns: dict[str, pulumi.Output[str]]
    key_arns: dict[str, pulumi.Output[str]]
    home_region: str

    def __init__(self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:GlobalTable", name, None, opts)
        tags = dict(args.tags)
        home, *others = args.regions
        self.home_region = home

        def in_region(region: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, provider=args.providers[region])

        keys: dict[str, aws.kms.Key] = {}
        if args.encryption == "customer-managed":
            # A replica can only use a key of its own region.
            keys = {
                region: rotating_key(f"{name}-key-{region}", f"{name} global table replica in {region}", tags, in_region(region))
                for region in args.regions
            }
        strong = args.consistency == "strong"

        table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode="PAY_PER_REQUEST",
            hash_key=args.hash_key,
            range_key=args.range_key,
            attributes=[aws.dynamodb.TableAttributeArgs(name=k, type=t) for k, t in args.attributes.items()],
            global_secondary_indexes=[
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    projection_type=index.projection_type,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=attr, key_type=kind)
                        for attr, kind in ((index.hash_key, "HASH"), (index.range_key, "RANGE"))
                        if attr
                    ],
                )
                for index in args.indexes
            ]
            or None,
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=bool(keys), kms_key_arn=keys[home].arn if keys else None
            ),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=args.ttl_attribute, enabled=True) if args.ttl_attribute else None,
            deletion_protection_enabled=args.deletion_protection,
            replicas=[
                aws.dynamodb.TableReplicaArgs(
                    region_name=region,
                    point_in_time_recovery=True,
                    deletion_protection_enabled=args.deletion_protection,
                    kms_key_arn=keys[region].arn if keys else None,
                    consistency_mode="STRONG" if strong else "EVENTUAL",
                    propagate_tags=True,
                )
                for region in others
            ]
            or None,
            global_table_witness=aws.dynamodb.TableGlobalTableWitnessArgs(region_name=args.witness_region)
            if args.witness_region
            else None,
            tags=tags,
            # Changing the key schema replaces the table and its data; make that a deliberate act.
            opts=pulumi.ResourceOptions.merge(in_region(home), pulumi.ResourceOptions(protect=args.deletion_protection)),
        )

        def replica_field(region: str, attribute: str) -> pulumi.Output[str]:
            return table.replicas.apply(
                lambda replicas: next(getattr(r, attribute) for r in (replicas or []) if r.region_name == region)
            )

        self.name = table.name
        self.arns = {home: table.arn, **{r: replica_field(r, "arn") for r in others}}
        self.stream_arns = {home: table.stream_arn, **{r: replica_field(r, "stream_arn") for r in others}}
        self.key_arns = {region: key.arn for region, key in keys.items()}
        self.register_outputs({"name": self.name, "arns": self.arns, "stream_arns": self.stream_arns, "key_arns": self.key_arns})
