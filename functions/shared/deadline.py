"""The time an invocation may still spend on AWS calls, derived from the Lambda context.

A handler opens `within(context, reserve_seconds)` once per invocation; code that needs part of
the budget for a later step (the API keeps seconds back to publish a deferred write) narrows it
with `narrowed(keep_back)`. The client factory (shared/aws.py) checks the current deadline before
every attempt and before every retry, so an SDK call never runs past it: it fails fast with
`DeadlineExceeded` instead, which the write path treats as transient.

The clock is `time.monotonic` unless a test swaps it (`use_clock`): the fault suite runs on a
virtual clock that injected timeouts and the SDK's back-off sleeps advance.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError

_clock: Callable[[], float] = time.monotonic
_expires_at: contextvars.ContextVar[float] = contextvars.ContextVar("deadline", default=math.inf)


class DeadlineExceeded(BotoCoreError):
    """Not enough time left for another attempt; the caller defers or gives up, never waits."""

    fmt = "deadline reached before {operation} could be tried again ({detail})"


def now() -> float:
    return _clock()


def remaining() -> float:
    return _expires_at.get() - _clock()


@contextlib.contextmanager
def within(context: Any, reserve_seconds: float) -> Iterator[None]:
    """The invocation's budget: the context's remaining time minus what answering needs."""
    millis = context.get_remaining_time_in_millis() if context is not None else None
    budget = math.inf if millis is None else millis / 1000 - reserve_seconds
    token = _expires_at.set(_clock() + budget)
    try:
        yield
    finally:
        _expires_at.reset(token)


@contextlib.contextmanager
def narrowed(keep_back_seconds: float) -> Iterator[None]:
    """The current budget minus `keep_back_seconds` kept for what comes after this block."""
    token = _expires_at.set(_expires_at.get() - keep_back_seconds)
    try:
        yield
    finally:
        _expires_at.reset(token)


@contextlib.contextmanager
def use_clock(clock: Callable[[], float]) -> Iterator[None]:
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous
