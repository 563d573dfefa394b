"""What every batch consumer shares: Powertools batch processing with partial failures and
idempotency backed by the region-local table.

Only failing records are reported back (`batchItemFailures`); SQS redelivers them until the
queue's maxReceiveCount moves them to the DLQ, streams retry them (bisecting) until the mapping
sends them to its on-failure destination. A poisoned record therefore costs a bounded number of
attempts and never blocks the records behind it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function

# Idempotency records outlive the longest redelivery window of any source (SQS retention 4 days).
IDEMPOTENCY_SECONDS = 4 * 24 * 3600


def persistence() -> DynamoDBPersistenceLayer:
    """A new persistence layer: Powertools binds each one to the first config it is used with,
    so every idempotent function gets its own (each consumer caches the function it wraps)."""
    return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"])


def idempotent_on_first_use(
    function: Callable[..., Any], *, data_keyword_argument: str, config: IdempotencyConfig
) -> Callable[..., Any]:
    """`function` made idempotent by Powertools, built on its first call: the persistence layer
    creates its DynamoDB client then, not at import (cold-start cost)."""

    @functools.cache
    def wrapped() -> Callable[..., Any]:
        return idempotent_function(data_keyword_argument=data_keyword_argument, config=config, persistence_store=persistence())(
            function
        )

    return lambda **kwargs: wrapped()(**kwargs)


def idempotency_config(key_path: str) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=key_path, expires_after_seconds=IDEMPOTENCY_SECONDS, raise_on_no_idempotency_key=True
    )
