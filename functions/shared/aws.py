"""AWS clients, created once per cold start and only when first used (import stays cheap)."""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def _boto3():
    import boto3

    return boto3


@functools.cache
def client(service: str, **kwargs: Any):
    from botocore.config import Config

    # Standard retry mode: exponential backoff with jitter, 3 attempts; what remains after these
    # retries is handed to the write-retry path instead of failing the request.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, **kwargs)
    return _boto3().client(service, region_name=os.environ["AWS_REGION"], config=config)


@functools.cache
def table(name: str):
    return _boto3().resource("dynamodb", region_name=os.environ["AWS_REGION"]).Table(name)


def reset() -> None:
    """Forget cached clients (tests switch between mocked accounts and regions)."""
    client.cache_clear()
    table.cache_clear()
