"""What every batch consumer shares: Powertools batch processing with partial failures and
idempotency backed by the region-local table.

Only failing records are reported back (`batchItemFailures`); SQS redelivers them until the
queue's maxReceiveCount moves them to the DLQ, streams retry them (bisecting) until the mapping
sends them to its on-failure destination. A poisoned record therefore costs a bounded number of
attempts and never blocks the records behind it. A batch that fails whole (a dependency down) is
reported item by item too, not raised: the outcome is the same redelivery, without counting as a
function error.

Idempotency records are the first line against redelivery, not the last: a store that fails
after the side effect would let a redelivery repeat it, so every side effect also carries its
own guard in the data (shared/writes.py `guarded_update`, the welcome claim, the counters'
sequence numbers).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from shared import aws

# Idempotency records outlive the longest redelivery window of any source (SQS retention 4 days).
IDEMPOTENCY_SECONDS = 4 * 24 * 3600


def batch_processor(event_type: EventType) -> BatchProcessor:
    return BatchProcessor(event_type=event_type, raise_on_entire_batch_failure=False)


def persistence() -> DynamoDBPersistenceLayer:
    """A new persistence layer on this module's DynamoDB client (timeouts, deadline). Powertools
    binds each layer to the first config it is used with, so every idempotent function gets its
    own (each consumer caches the function it wraps)."""
    return DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE"], boto3_client=aws.client("dynamodb"))


def idempotent_on_first_use(
    function: Callable[..., Any], *, data_keyword_argument: str, config: IdempotencyConfig
) -> Callable[..., Any]:
    """`function` made idempotent by Powertools, built on its first call in a region: the
    persistence layer creates its DynamoDB client then, not at import (cold-start cost). One per
    region: the store is region-local (one region per Lambda process; several in the simulation)."""

    @functools.cache
    def wrapped(_region: str, _table: str) -> Callable[..., Any]:
        return idempotent_function(data_keyword_argument=data_keyword_argument, config=config, persistence_store=persistence())(
            function
        )

    return lambda **kwargs: wrapped(aws.local_region(), os.environ["IDEMPOTENCY_TABLE"])(**kwargs)


def idempotency_config(key_path: str) -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=key_path, expires_after_seconds=IDEMPOTENCY_SECONDS, raise_on_no_idempotency_key=True
    )
