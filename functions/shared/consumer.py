"""What every batch consumer shares: Powertools batch processing with partial failures and
idempotency backed by the region-local table.

Only failing records are reported back (`batchItemFailures`); SQS redelivers them until the
queue's maxReceiveCount moves them to the DLQ, streams retry them (bisecting) until the mapping
sends them to its on-failure destination. A poisoned record therefore costs a bounded number of
attempts and never blocks the records behind it.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

# Idempotency records outlive the longest redelivery window of any source (SQS retention 4 days).
IDEMPOTENCY_SECONDS = 4 * 24 * 3600


def persistence() -> DynamoDBPersistenceLayer:
    """A new persistence layer: Powertools binds each one to the first config it is used with,
    so every idempotent function gets its own (each consumer caches the function it wraps)."""
    return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])


def idempotency_config(key_path: str) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=key_path, expires_after_seconds=IDEMPOTENCY_SECONDS, raise_on_no_idempotency_key=True
    )
