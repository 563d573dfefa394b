"""What a function needs to use the global table under the stack's write mode: IAM and environment.

Reads go to the function's own replica. Writes go where the write mode sends them: with a single
primary, to whichever region is primary (runtime state that moves without a deploy), so every
function that writes may write every replica, fenced by a ConditionCheck on the control item
(transactions need the item-level actions they contain: there is no TransactWriteItems IAM
action); with any-region, to its own replica. With customer-managed keys, the keys of those
replicas come with them: DynamoDB uses the caller's permissions on the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import GlobalTable, allow
from stack.config import StackConfig

# DynamoDB's calls to KMS for a table under a customer-managed key, made with the caller's rights.
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
REQUEST_RECORD_DAYS = "7"


@dataclass(frozen=True)
class TableAccess:
    table: GlobalTable
    cfg: StackConfig

    def environment(self) -> dict[str, Any]:
        return {
            "TABLE_NAME": self.table.name,
            "WRITE_MODE": self.cfg.write_mode,
            "HOME_REGION": self.cfg.home_region,
            # MRSC tables have no TTL: request records and tombstones are kept.
            "RECORD_TTL_DAYS": "0" if self.cfg.consistency == "strong" else REQUEST_RECORD_DAYS,
        }

    def write_regions(self, region: str) -> list[str]:
        return list(self.cfg.regions) if self.cfg.write_mode == "single-primary" else [region]

    def reads(self, region: str, *, query: bool = False, sid: str = "LocalReplicaReads") -> list[dict[str, Any]]:
        arn = self.table.arns[region]
        actions = ["dynamodb:GetItem", *(["dynamodb:Query"] if query else [])]
        resources = [arn, *([pulumi.Output.concat(arn, "/index/*")] if query else [])]
        return [allow(actions, resources, sid), *self._key_use([region], f"{sid}Key")]

    def writes(self, region: str, actions: Sequence[str], *, sid: str = "TableWrites") -> list[dict[str, Any]]:
        regions = self.write_regions(region)
        fenced = ["dynamodb:ConditionCheckItem"] if self.cfg.write_mode == "single-primary" else []
        statement = allow([*actions, *fenced], [self.table.arns[r] for r in regions], sid)
        return [statement, *self._key_use(regions, f"{sid}Keys")]

    def local_writes(self, region: str, actions: Sequence[str], *, sid: str) -> list[dict[str, Any]]:
        """Writes to items only this region writes (view counters): its own replica, any mode."""
        return [allow(list(actions), [self.table.arns[region]], sid), *self._key_use([region], f"{sid}Key")]

    def _key_use(self, regions: Sequence[str], sid: str) -> list[dict[str, Any]]:
        if not self.table.key_arns:
            return []
        return [allow(list(TABLE_KEY_ACTIONS), [self.table.key_arns[r] for r in regions], sid)]
