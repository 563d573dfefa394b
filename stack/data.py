"""The blog's stores that span regions: the global table (stack/data_model.py is its shape) and
the media buckets, replicated both ways."""

from __future__ import annotations

import pulumi

from components import GlobalTable, GlobalTableArgs, ReplicatedBuckets, ReplicatedBucketsArgs
from stack import data_model
from stack.config import StackConfig
from stack.providers import Providers


def global_table(cfg: StackConfig, providers: Providers) -> GlobalTable:
    return GlobalTable(
        "app",
        GlobalTableArgs(
            regions=cfg.regions,
            providers=providers.regional,
            hash_key=data_model.HASH_KEY,
            range_key=data_model.RANGE_KEY,
            attributes=data_model.ATTRIBUTES,
            indexes=data_model.INDEXES,
            # MRSC tables do not support TTL: request records and tombstones are then kept.
            ttl_attribute=None if cfg.consistency == "strong" else data_model.TTL_ATTRIBUTE,
            consistency=cfg.consistency,
            witness_region=cfg.witness_region,
            encryption=cfg.table_encryption,
            deletion_protection=cfg.deletion_protection,
        ),
    )


def media_buckets(cfg: StackConfig, providers: Providers, site_origin: pulumi.Input[str]) -> ReplicatedBuckets:
    """Photo uploads and their thumbnails; browsers POST to them from the site's origin only."""
    return ReplicatedBuckets(
        "media",
        ReplicatedBucketsArgs(regions=cfg.regions, providers=providers.regional, cors_origins=[site_origin]),
    )
