"""The one place that builds AWS clients: bounded timeouts, a bounded retry budget, a deadline.

Every client and DynamoDB table here is created once per cold start (and region), lazily, so
import stays cheap. Each gets:
- connect and read timeouts of a few seconds (botocore's defaults are 60 s each), so one attempt
  costs at most ATTEMPT_SECONDS;
- the SDK's standard retry mode with a small number of attempts;
- two hooks that hold every call to the invocation's deadline (shared/deadline.py): no attempt
  starts, and no back-off sleep begins, unless it can finish in time. A call that cannot
  fails with `DeadlineExceeded` at once.

`is_transient(error)` is the one answer to "worth trying again later?": throttling, any 5xx,
timeouts and connection failures, a deadline reached, and the conflicts DynamoDB resolves by
itself (transaction and multi-Region write conflicts). The write path defers those instead of
failing the request.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from shared import deadline

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
ATTEMPT_SECONDS = CONNECT_TIMEOUT + READ_TIMEOUT
MAX_ATTEMPTS = 3
# The standard retry mode waits up to base x 2^(attempt-1) seconds, at most 20 s: base 1 s after
# throttling, 50 ms after other errors (25 ms for DynamoDB).
MAX_BACKOFF_SECONDS = 20.0
THROTTLED_BACKOFF_BASE = 1.0
OTHER_BACKOFF_BASE = 0.05

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
    }
)
# Refusals DynamoDB resolves by itself: another transaction or another Region touched the item.
CONFLICT_CODES = frozenset({"TransactionConflictException", "ReplicatedWriteConflictException", "TransactionInProgressException"})


def _error_code(parsed: Any) -> str:
    return (parsed or {}).get("Error", {}).get("Code", "") if isinstance(parsed, dict) else ""


def _throttled(response: Any) -> bool:
    return bool(response) and (response[0].status_code == 429 or _error_code(response[1]) in THROTTLING_CODES)


def _retryable(response: Any, caught_exception: BaseException | None) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import HTTPClientError

    if caught_exception is not None:
        return isinstance(caught_exception, (BotoConnectionError, HTTPClientError))
    if not response:
        return False
    http, parsed = response
    return http.status_code >= 500 or http.status_code == 429 or _error_code(parsed) in THROTTLING_CODES


def _before_attempt(request: Any = None, event_name: str = "", **_: Any) -> None:
    if deadline.remaining() < ATTEMPT_SECONDS:
        raise deadline.DeadlineExceeded(operation=event_name.split(".")[-1], detail=f"{deadline.remaining():.1f} s left")


def _before_retry(
    attempts: int = 1, response: Any = None, caught_exception: BaseException | None = None, operation: Any = None, **_: Any
) -> None:
    if attempts >= MAX_ATTEMPTS or not _retryable(response, caught_exception):
        return  # the SDK will not retry: let its own error surface
    base = THROTTLED_BACKOFF_BASE if _throttled(response) else OTHER_BACKOFF_BASE
    longest_sleep = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempts - 1))
    if deadline.remaining() < longest_sleep + ATTEMPT_SECONDS:
        cause = caught_exception or _error_code(response[1]) or f"HTTP {response[0].status_code}"
        raise deadline.DeadlineExceeded(
            operation=getattr(operation, "name", "call"), detail=f"attempt {attempts} failed: {cause}"
        ) from (caught_exception if isinstance(caught_exception, BaseException) else None)


@functools.cache
def _session():
    import boto3

    return boto3.session.Session()


def _config(**overrides: Any):
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        tcp_keepalive=True,
        **overrides,
    )


def _hold_to_deadline(events: Any) -> None:
    # First: the check must come before anything that would send (or stub) the request.
    events.register_first("before-send", _before_attempt, unique_id="sdr-deadline-attempt")
    events.register_first("needs-retry", _before_retry, unique_id="sdr-deadline-retry")


def local_region() -> str:
    return os.environ["AWS_REGION"]


def client(service: str, region: str | None = None, **config: Any):
    """A client of `service` in `region` (default: this function's region)."""
    return _client(service, region or local_region(), tuple(sorted(config.items())))


def table(name: str, region: str | None = None):
    """A DynamoDB table (boto3 resource) in `region` (default: this function's), same limits."""
    return _table(name, region or local_region())


@functools.cache
def _client(service: str, region: str, config: tuple):
    made = _session().client(service, region_name=region, config=_config(**dict(config)))
    _hold_to_deadline(made.meta.events)
    return made


@functools.cache
def _table(name: str, region: str):
    resource = _session().resource("dynamodb", region_name=region, config=_config())
    _hold_to_deadline(resource.meta.client.meta.events)
    return resource.Table(name)


def error_code(error: BaseException) -> str:
    from botocore.exceptions import ClientError

    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def is_transient(error: BaseException) -> bool:
    """Worth trying again later (deferral, redelivery) rather than failing for good."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, BotoCoreError):
        return True  # timeouts, connection failures, the deadline, unparseable responses
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = error_code(error)
        return status >= 500 or status == 429 or code in THROTTLING_CODES or code in CONFLICT_CODES
    return False


def reset(*, keep_session: bool = False) -> None:
    """Forget clients, and the session unless `keep_session` (tests switch between mocked
    worlds, regions and faults; the session only holds loaded API models and credentials, which
    a test harness with fixed fake credentials may keep: loading them is most of a client's cost)."""
    if not keep_session:
        _session.cache_clear()
    _client.cache_clear()
    _table.cache_clear()
