"""Backups of what replication cannot undo: the home replica of the table and the home media
bucket, on the stack's schedule, each recovery point copied to another region (Backups)."""

from __future__ import annotations

from components import AuroraGlobal, Backups, BackupsArgs, GlobalTable, ReplicatedBuckets
from stack.config import StackConfig
from stack.consumers import Region
from stack.providers import Providers


def backups(
    cfg: StackConfig,
    providers: Providers,
    table: GlobalTable,
    media: ReplicatedBuckets,
    regions: dict[str, Region],
    relational: AuroraGlobal | None = None,
) -> Backups | None:
    if not cfg.backups:
        return None
    home = cfg.home_region
    return Backups(
        "backups",
        BackupsArgs(
            regions=cfg.regions,
            providers=providers.regional,
            home=home,
            # The table's home replica and the home media bucket: replicas hold the same data,
            # and a mistake replicated everywhere is undone from these recovery points.
            # A relational store without a global database (backup-copy) relies on these copies too.
            resources=[
                table.arns[home],
                media.arns[home],
                *([relational.cluster_arns[home]] if relational is not None and not cfg.relational.is_global else []),
            ],
            copy_region=cfg.backup_copy_region,
            schedule=cfg.backup_schedule,
            retention_days=cfg.backup_retention_days,
            vault_lock=cfg.backup_vault_lock,
            alert_topic_arn=regions[home].alert_topic_arn,
        ),
    )
