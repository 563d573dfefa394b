"""What a function needs to use the global table under the stack's write mode: IAM and environment.

Reads go to the function's own replica. Writes go where the write mode sends them: with a single
primary, to whichever region is primary (runtime state that moves without a deploy), so every
function that writes may write every replica, fenced by a ConditionCheck on the control item
(transactions need the item-level actions they contain: there is no TransactWriteItems IAM
action); with any-region, to its own replica. With customer-managed keys, the keys of those
replicas come with them: DynamoDB uses the caller's permissions on the key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import AuroraGlobal, GlobalTable, LeaseVoters, allow
from stack.config import StackConfig

# DynamoDB's calls to KMS for a table under a customer-managed key, made with the caller's rights.
# What DynamoDB asks of KMS with the caller's rights on a table under a customer-managed key:
# decrypt the table key to read, a data key to write. Only through DynamoDB (kms:ViaService).
TABLE_KEY_READS = ("kms:Decrypt",)
TABLE_KEY_WRITES = ("kms:Decrypt", "kms:GenerateDataKey")


def table_key_grant(keys: Sequence[Any], regions: Sequence[str], sid: str, *, write: bool) -> dict[str, Any]:
    statement = allow(list(TABLE_KEY_WRITES if write else TABLE_KEY_READS), list(keys), sid)
    via = sorted({f"dynamodb.{r}.amazonaws.com" for r in regions})
    return {**statement, "Condition": {"StringEquals": {"kms:ViaService": via}}}


REQUEST_RECORD_DAYS = "7"


@dataclass(frozen=True)
class TableAccess:
    table: GlobalTable
    cfg: StackConfig
    voters: LeaseVoters | None = None  # the write lease's voters (single-primary across regions)
    # The purchases ledger (relationalDb): written by the same writers, in the write primary's cluster.
    relational: AuroraGlobal | None = None
    database_name: str = "blog"

    def environment(self) -> dict[str, Any]:
        return {
            **self.ledger_environment(),
            "TABLE_NAME": self.table.name,
            "WRITE_MODE": self.cfg.write_mode,
            "HOME_REGION": self.cfg.home_region,
            # MRSC tables have no TTL: request records and tombstones are kept.
            "RECORD_TTL_DAYS": "0" if self.cfg.consistency == "strong" else REQUEST_RECORD_DAYS,
            **self.lease_environment(),
        }

    def ledger_environment(self) -> dict[str, Any]:
        """The Data API's endpoints in every region (shared/ledger.py picks the write primary's)."""
        if self.relational is None:
            return {}
        store = self.relational
        endpoints = pulumi.Output.all(clusters=store.cluster_arns, secrets=store.secret_arns).apply(
            lambda a: json.dumps(
                {r: {"resourceArn": arn, "secretArn": a["secrets"][r]} for r, arn in a["clusters"].items()}, sort_keys=True
            )
        )
        return {"RELATIONAL_DATA_API": endpoints, "RELATIONAL_DATABASE": self.database_name}

    def ledger_statements(self, sid: str = "PurchasesLedger") -> list[dict[str, Any]]:
        """Statements on every region's cluster (any may hold the writer after a promotion), and the
        secret the Data API reads with the caller's rights, in each region."""
        if self.relational is None:
            return []
        store = self.relational
        return [
            allow(["rds-data:ExecuteStatement"], list(store.cluster_arns.values()), sid),
            allow(["secretsmanager:GetSecretValue"], list(store.secret_arns.values()), f"{sid}Secret"),
        ]

    def lease_environment(self) -> dict[str, Any]:
        """What a writer needs of the lease: that there is one, and its voters (shared/confirm.py)."""
        if self.voters is None:
            return {"WRITE_LEASE": "off"}
        return {
            "WRITE_LEASE": "on",
            "LEASE_VOTERS": pulumi.Output.all(**self.voters.table_names).apply(lambda names: json.dumps(names, sort_keys=True)),
            "LEASE_SECONDS": str(self.cfg.lease_seconds),
            # A complete in-sync set: these, less the evacuated (shared/control.py).
            "SERVING_REGIONS": json.dumps(list(self.cfg.regions)),
            "EVACUATED_REGIONS": json.dumps(list(self.cfg.evacuated_regions)),
        }

    def lease_writes(self, sid: str = "LeaseInSyncSet") -> list[dict[str, Any]]:
        """A writer that cannot confirm a region takes it out of the lease's in-sync set."""
        if self.voters is None:
            return []
        return [
            allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], list(self.voters.arns.values()), sid),
            *self.voter_key_use(sid),
        ]

    def voter_key_use(self, sid: str) -> list[dict[str, Any]]:
        """The voters' customer-managed keys, where the stack chose them (DynamoDB uses the
        caller's rights on a table's key)."""
        if self.voters is None or not self.voters.key_arns:
            return []
        regions = list(self.voters.key_arns)
        return [table_key_grant([self.voters.key_arns[r] for r in regions], regions, f"{sid}Keys", write=True)]

    def write_regions(self, region: str) -> list[str]:
        return list(self.cfg.regions) if self.cfg.write_mode == "single-primary" else [region]

    def reads(self, region: str, *, query: bool = False, sid: str = "LocalReplicaReads") -> list[dict[str, Any]]:
        arn = self.table.arns[region]
        statements = [allow(["dynamodb:GetItem", *(["dynamodb:Query"] if query else [])], [arn], sid)]
        if query:  # GetItem has no meaning on an index; Query reads through them
            statements.append(allow(["dynamodb:Query"], [pulumi.Output.concat(arn, "/index/*")], f"{sid}Indexes"))
        return [*statements, *self.key_use([region], f"{sid}Key", write=False)]

    def writes(self, region: str, actions: Sequence[str], *, sid: str = "TableWrites") -> list[dict[str, Any]]:
        regions = self.write_regions(region)
        fenced = ["dynamodb:ConditionCheckItem"] if self.cfg.write_mode == "single-primary" else []
        statement = allow([*actions, *fenced], [self.table.arns[r] for r in regions], sid)
        return [statement, *self.key_use(regions, f"{sid}Keys"), *self._control_reads(region, sid)]

    def _control_reads(self, region: str, sid: str) -> list[dict[str, Any]]:
        """A writer the fence refused reads the control item at the primary's replica (its own
        copy may lag): that item only, in the other replicas."""
        if self.voters is None:
            return []
        others = [self.table.arns[r] for r in self.cfg.regions if r != region]
        statement = allow(["dynamodb:GetItem"], others, f"{sid}ControlAtPrimary")
        return [{**statement, "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["CONTROL#writer"]}}}]

    def local_writes(self, region: str, actions: Sequence[str], *, sid: str) -> list[dict[str, Any]]:
        """Writes to items only this region writes (view counters): its own replica, any mode."""
        return [allow(list(actions), [self.table.arns[region]], sid), *self.key_use([region], f"{sid}Key")]

    def key_use(self, regions: Sequence[str], sid: str, *, write: bool = True) -> list[dict[str, Any]]:
        if not self.table.key_arns:
            return []
        return [table_key_grant([self.table.key_arns[r] for r in regions], regions, sid, write=write)]
