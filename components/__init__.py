"""Reusable ComponentResources of serverless-dr, one per module."""

from components.global_table import GlobalTable, GlobalTableArgs, SecondaryIndex
from components.idempotency_table import IdempotencyTable, IdempotencyTableArgs

__all__ = [
    "GlobalTable",
    "GlobalTableArgs",
    "IdempotencyTable",
    "IdempotencyTableArgs",
    "SecondaryIndex",
]
