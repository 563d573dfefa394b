"""The one place that builds AWS clients: bounded timeouts, a bounded retry budget, a deadline.

Every client and DynamoDB table here is created once per cold start (and region), lazily, so
import stays cheap. Each gets:
- connect and read timeouts of a few seconds (botocore's defaults are 60 s each), so one attempt
  costs at most ATTEMPT_SECONDS;
- the SDK's standard retry mode with a small number of attempts;
- two hooks that hold every call to the invocation's deadline (shared/deadline.py): no attempt
  starts unless ATTEMPT_SECONDS remain, and no back-off sleep begins unless the delay the SDK
  chose (its jitter and any `x-amz-retry-after` included) plus one attempt fits. A call that
  cannot fails with `DeadlineExceeded` at once.

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


def _before_attempt(request: Any = None, event_name: str = "", **_: Any) -> None:
    if deadline.remaining() < ATTEMPT_SECONDS:
        raise deadline.DeadlineExceeded(operation=event_name.split(".")[-1], detail=f"{deadline.remaining():.1f} s left")


def _deadline_bound_retries(sdk_needs_retry: Any) -> Any:
    """The SDK's own retry decision, held to the deadline by the delay it really chose.

    Predicting the SDK's back-off misses what it adds on its own: an `x-amz-retry-after` header
    raises the delay by up to 5 s, and its throttling detector knows more codes than any list kept
    here. So the SDK decides (retry or not, and the jittered delay), and a retry whose sleep plus
    one more attempt would end past the deadline fails now with `DeadlineExceeded` instead."""

    def needs_retry(**kwargs: Any) -> Any:
        delay = sdk_needs_retry(**kwargs)
        if delay and deadline.remaining() < delay + ATTEMPT_SECONDS:
            caught, response = kwargs.get("caught_exception"), kwargs.get("response")
            cause = caught or (response and response[1].get("Error", {}).get("Code")) or "a retryable answer"
            operation = getattr(kwargs.get("operation"), "name", "call")
            raise deadline.DeadlineExceeded(
                operation=operation, detail=f"attempt {kwargs.get('attempts', 1)} failed: {cause}; back-off {delay:.2f} s"
            ) from (caught if isinstance(caught, BaseException) else None)
        return delay

    return needs_retry


@functools.cache
def _session():
    import boto3

    return boto3.session.Session()


def _config(attempts: int = MAX_ATTEMPTS, **overrides: Any):
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": attempts},
        tcp_keepalive=True,
        **overrides,
    )


def _hold_to_deadline(client: Any) -> None:
    events = client.meta.events
    # First: the check must come before anything that would send (or stub) the request.
    events.register_first("before-send", _before_attempt, unique_id="sdr-deadline-attempt")
    # botocore registers its standard retry handler under this id (botocore/retries/standard.py);
    # it is replaced by itself wrapped, so there is still exactly one retry decision per answer.
    service = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{service}"
    emitter = getattr(events, "_emitter", events)
    sdk_handler = emitter._unique_id_handlers[unique_id]["handler"]
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)
    events.register(f"needs-retry.{service}", _deadline_bound_retries(sdk_handler), unique_id=unique_id)


def local_region() -> str:
    return os.environ["AWS_REGION"]


def client(service: str, region: str | None = None, *, attempts: int = MAX_ATTEMPTS, **config: Any):
    """A client of `service` in `region` (default: this function's region). `attempts=1` for a
    request whose parameters must be rebuilt for each attempt (a fence that reads the clock)."""
    return _client(service, region or local_region(), tuple(sorted({**config, "attempts": attempts}.items())))


def table(name: str, region: str | None = None):
    """A DynamoDB table (boto3 resource) in `region` (default: this function's), same limits."""
    return _table(name, region or local_region())


@functools.cache
def _client(service: str, region: str, config: tuple):
    made = _session().client(service, region_name=region, config=_config(**dict(config)))
    _hold_to_deadline(made)
    return made


@functools.cache
def _table(name: str, region: str):
    resource = _session().resource("dynamodb", region_name=region, config=_config())
    _hold_to_deadline(resource.meta.client)
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
