"""The relational store (relationalDb): an AuroraGlobal over the stack's regions, its master
password generated here (kept in the state as a secret, and in Secrets Manager for the Data API).
The API and the write-retry consumer write the purchases ledger in it (functions/shared/ledger.py,
through stack/table_access.py's ledger grants); `sdr drill promote` moves its writer."""

from __future__ import annotations

import pulumi_random as random

from components import AuroraGlobal, AuroraGlobalArgs
from stack.config import StackConfig
from stack.consumers import Region
from stack.providers import Providers

DATABASE_NAME = "blog"


def relational_store(cfg: StackConfig, providers: Providers, regions: dict[str, Region]) -> AuroraGlobal | None:
    """Storage encrypted with each region's aws/rds key (a customer-managed key is a later choice)."""
    store = cfg.relational
    if not store.enabled:
        return None
    password = random.RandomPassword("relational-master-password", length=40, special=False)
    return AuroraGlobal(
        "relational",
        AuroraGlobalArgs(
            regions=list(cfg.regions),
            providers=providers.regional,
            engine_version=store.engine_version,
            database_name=DATABASE_NAME,
            master_password=password.result,
            min_capacity=store.min_capacity,
            max_capacity=store.max_capacity,
            seconds_until_auto_pause=store.seconds_until_auto_pause,
            is_global=store.is_global,
            secondary=store.secondary,
            deletion_protection=cfg.deletion_protection,
            alert_topic_arns={name: region.alert_topic_arn for name, region in regions.items()},
        ),
    )
