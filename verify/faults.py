"""Fault injection below botocore, on a virtual clock: what the guarantee tests break things with.

`FaultInjector` sits where moto receives the HTTP requests the SDK sends (moto's `before-send`
stub): for every request it may answer instead of moto (throttling, 500, 503, a 502 with an HTML
body, a 504 with an empty body), raise a connect or read timeout before the request reaches
moto, let moto apply the request and then raise a read timeout (the write happened, the response
was lost), stall for a whole attempt (connect and read timeouts both spent), or answer 503 with
an `x-amz-retry-after` header (the SDK then waits longer than its own back-off). Requests it
answers never reach moto, exactly as with a real outage. What it does is decided by rules
(`Rule`: which service, operation and table, which fault, how often, from which request on),
seeded, so a run is reproducible.

Nothing sleeps: `VirtualClock` is what shared/deadline.py reads, injected timeouts advance it by
the client's timeout, every request by a few milliseconds, and botocore's retry back-off sleeps
are redirected to it. The handlers' wall clock and SQS's timers follow it too, so a message sent
with a delay becomes visible when the virtual clock passes it. "Over the deadline" is measured
on that clock.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import botocore.endpoint
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

REQUEST_SECONDS = 0.005  # what one answered request costs on the virtual clock

FAULT_KINDS = (
    "throttle",
    "http500",
    "http503",
    "http502_html",
    "http504_empty",
    "read_timeout_before",
    "read_timeout_after",
    "connect_timeout",
    "stall",
    "http503_retry_after",
)
# A 503 asking the SDK to wait (botocore raises its back-off to this, up to 5 s more).
RETRY_AFTER_MS = 5000


class VirtualClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        if self._body:
            yield self._body


def _response(request, status: int, body: bytes, content_type: str) -> AWSResponse:
    headers = {"Content-Type": content_type, "x-amzn-RequestId": "fault-injected"}
    return AWSResponse(request.url, status, headers, _Raw(body))


XML_SERVICES = frozenset({"sns", "s3"})  # query / rest-xml protocols; the others here speak JSON


def _error(request, service: str, status: int, code: str, message: str) -> AWSResponse:
    if service in XML_SERVICES:
        body = (
            f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
        )
        return _response(request, status, body.encode(), "text/xml")
    body = json.dumps({"__type": f"com.amazonaws.{service}#{code}", "message": message}).encode()
    return _response(request, status, body, "application/x-amz-json-1.0")


def table_names(request) -> set[str]:
    """The DynamoDB tables a request touches (from its JSON body)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, TypeError):
        return set()
    names = {body.get("TableName")} if body.get("TableName") else set()
    for item in body.get("TransactItems", []):
        names |= {part.get("TableName") for part in item.values() if isinstance(part, dict)}
    names |= set(body.get("RequestItems", {}))
    return {n for n in names if n}


@dataclass
class Rule:
    """Inject `fault` into matching requests with probability `rate` (1.0: every one)."""

    fault: str
    rate: float = 1.0
    service: str = "dynamodb"
    operations: frozenset[str] | None = None  # None: every operation
    tables: frozenset[str] | None = None  # None: any table
    region: str | None = None  # None: any region
    limit: int | None = None  # stop after this many injections
    skip: int = 0  # let this many matching requests through first (a fault from the n-th step on)
    body_contains: str | None = None  # only requests whose body holds this text

    def matches(self, service: str, operation: str, request) -> bool:
        if service != self.service or (self.operations is not None and operation not in self.operations):
            return False
        if self.body_contains is not None and self.body_contains.encode() not in (request.body or b""):
            return False
        if self.region is not None and f".{self.region}." not in request.url:
            return False
        return self.tables is None or bool(table_names(request) & self.tables)


@dataclass
class FaultInjector:
    clock: VirtualClock
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    connect_timeout: float = 1.0
    read_timeout: float = 2.0
    # What an answered request costs on the clock (0: the local run, whose clock is the wall's).
    request_seconds: float = REQUEST_SECONDS
    injected: Counter = field(default_factory=Counter)
    _used: Counter = field(default_factory=Counter)
    _seen: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def handle(self, forward: Callable[[], AWSResponse | None], request, event_name: str) -> AWSResponse | None:
        """Answer `request` with a fault, or `forward()` it to moto."""
        _, service, operation = event_name.split(".", 2)
        for index, rule in enumerate(self.rules):
            if rule.limit is not None and self._used[index] >= rule.limit:
                continue
            if not rule.matches(service, operation, request):
                continue
            if self._seen[index] < rule.skip:
                self._seen[index] += 1
                continue
            if self.random.random() < rule.rate:
                self._used[index] += 1
                self.injected[(operation, rule.fault)] += 1
                return self._inject(rule.fault, service, request, forward)
        self.clock.advance(self.request_seconds)
        return forward()

    def _inject(self, fault: str, service: str, request, forward: Callable[[], AWSResponse | None]) -> AWSResponse | None:
        if fault == "throttle":
            self.clock.advance(REQUEST_SECONDS)
            code = self.random.choice(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"])
            return _error(request, service, 400, code, "injected throttling")
        if fault == "http500":
            self.clock.advance(REQUEST_SECONDS)
            return _error(request, service, 500, "InternalServerError", "injected 500")
        if fault == "http503":
            self.clock.advance(REQUEST_SECONDS)
            return _error(request, service, 503, "ServiceUnavailableException", "injected 503")
        if fault == "http502_html":
            self.clock.advance(REQUEST_SECONDS)
            return _response(request, 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        if fault == "http504_empty":
            self.clock.advance(REQUEST_SECONDS)
            return _response(request, 504, b"", "text/plain")
        if fault == "validation":
            # Not load: DynamoDB refusing the request itself (what a bug in our request would get).
            self.clock.advance(REQUEST_SECONDS)
            return _error(request, service, 400, "ValidationException", "injected: the request is invalid")
        if fault == "http503_retry_after":
            self.clock.advance(REQUEST_SECONDS)
            response = _error(request, service, 503, "ServiceUnavailableException", "injected 503, retry later")
            response.headers["x-amz-retry-after"] = str(RETRY_AFTER_MS)
            return response
        if fault == "stall":
            # Connected at the last moment, then no answer: the most one attempt can cost.
            self.clock.advance(self.connect_timeout + self.read_timeout)
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault == "connect_timeout":
            self.clock.advance(self.connect_timeout)
            raise ConnectTimeoutError(endpoint_url=request.url)
        if fault == "read_timeout_before":
            self.clock.advance(self.connect_timeout / 10 + self.read_timeout)
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault == "read_timeout_after":
            forward()  # the request is applied...
            self.clock.advance(self.read_timeout)
            raise ReadTimeoutError(endpoint_url=request.url)  # ...and its answer is lost
        raise ValueError(f"unknown fault {fault}")


@contextlib.contextmanager
def injected(injector: FaultInjector) -> Iterator[FaultInjector]:
    """Put `injector` in front of moto for every request, and the SDK's back-off sleeps and the
    handlers' deadline on its virtual clock."""
    import moto.sqs.models as sqs_models
    from moto.core.botocore_stubber import BotocoreStubber
    from shared import aws, clock, deadline

    moto_call = BotocoreStubber.__call__

    def call(stubber, event_name: str, request, **kwargs: Any):
        if not stubber.enabled:
            return None
        return injector.handle(lambda: moto_call(stubber, event_name, request, **kwargs), request, event_name)

    # Wall-clock time moves with the virtual clock from now on: the handlers' (shared/clock.py)
    # and SQS's, whose message delays and visibility timeouts then pass without sleeping.
    base, start = time.time(), injector.clock.now

    def wall() -> float:
        return base + injector.clock.now - start

    aws.reset(keep_session=True)
    try:
        with (
            mock.patch.object(BotocoreStubber, "__call__", call),
            deadline.use_clock(injector.clock),
            clock.use(now=wall, sleep=injector.clock.advance),
            mock.patch.object(sqs_models, "unix_time", wall),
            mock.patch.object(sqs_models, "unix_time_millis", lambda: wall() * 1000),
            mock.patch.object(botocore.endpoint.time, "sleep", side_effect=injector.clock.advance),
        ):
            yield injector
    finally:
        aws.reset(keep_session=True)


def weather(kind: str, rate: float, **scope: Any) -> list[Rule]:
    """The rules of one fault kind at `rate` (scope: operations, tables, region, service)."""
    return [Rule(fault=kind, rate=rate, **scope)]


def rule_setter(injector: FaultInjector) -> Callable[[list[Rule]], None]:
    def set_rules(rules: list[Rule]) -> None:
        injector.rules = list(rules)

    return set_rules


@contextlib.contextmanager
def powertools_on(clock: VirtualClock) -> Iterator[None]:
    """Powertools idempotency reads the wall clock for record expiry; put it on `clock` (offset by
    the virtual time elapsed), so a redelivery the simulation delays by minutes meets expired
    in-progress records the way a real one would."""
    import datetime as dt
    import types

    import aws_lambda_powertools.utilities.idempotency.base as base
    import aws_lambda_powertools.utilities.idempotency.persistence.base as persistence_base
    import aws_lambda_powertools.utilities.idempotency.persistence.datarecord as datarecord
    import aws_lambda_powertools.utilities.idempotency.persistence.dynamodb as dynamodb

    start = clock.now

    class ShiftedDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(seconds=clock.now - start)

    shim = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")})
    shim.datetime = ShiftedDatetime
    with contextlib.ExitStack() as stack:
        for module in (base, persistence_base, datarecord, dynamodb):
            stack.enter_context(mock.patch.object(module, "dt", shim))
        yield
