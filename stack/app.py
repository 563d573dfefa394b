"""Builds the whole stack from a validated StackConfig: providers, then components per region."""

from __future__ import annotations

import pulumi

from components import GlobalTable, GlobalTableArgs, IdempotencyTable, IdempotencyTableArgs
from stack import data_model
from stack.budget import compute_budget
from stack.config import StackConfig
from stack.providers import build_providers


def build(cfg: StackConfig) -> None:
    providers = build_providers(cfg)

    table = GlobalTable(
        "app",
        GlobalTableArgs(
            regions=cfg.regions,
            providers=providers.regional,
            hash_key=data_model.HASH_KEY,
            range_key=data_model.RANGE_KEY,
            attributes=data_model.ATTRIBUTES,
            indexes=data_model.INDEXES,
            ttl_attribute=data_model.TTL_ATTRIBUTE,
            consistency=cfg.consistency,
            witness_region=cfg.witness_region,
            encryption=cfg.table_encryption,
            deletion_protection=cfg.deletion_protection,
        ),
    )

    idempotency = {
        region: IdempotencyTable(
            f"idempotency-{region}",
            IdempotencyTableArgs(deletion_protection=cfg.deletion_protection),
            opts=pulumi.ResourceOptions(provider=providers.regional[region]),
        )
        for region in cfg.regions
    }

    pulumi.export("regions", list(cfg.regions))
    pulumi.export("homeRegion", cfg.home_region)
    pulumi.export("tableName", table.name)
    pulumi.export("tableArns", table.arns)
    pulumi.export("tableStreamArns", table.stream_arns)
    pulumi.export("idempotencyTableNames", {r: t.name for r, t in idempotency.items()})
    pulumi.export("drBudget", compute_budget(cfg).to_dict())
