"""Wall-clock time and waiting, in one place so the partition simulation can drift and drive them.

The write lease compares times written by one region's clock with another region's clock: those
are wall-clock readings (epoch milliseconds), not the monotonic clock the deadline uses. In Lambda
they are the host's clock, kept by the Amazon Time Sync Service (microseconds of error); the
lease assumes any two regions' clocks differ by at most DRIFT_SECONDS and keeps that margin on
both sides (shared/lease.py).

`sleep` is what the write path waits with while a write replicates (shared/confirm.py); the
simulation replaces both with its virtual, per-region drifted clock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

_now: Callable[[], float] = time.time
_sleep: Callable[[float], None] = time.sleep


def now() -> float:
    """Seconds since the epoch, by this region's clock."""
    return _now()


def now_ms() -> int:
    return int(_now() * 1000)


def sleep(seconds: float) -> None:
    _sleep(max(0.0, seconds))


@contextlib.contextmanager
def use(now: Callable[[], float], sleep: Callable[[float], None] | None = None) -> Iterator[None]:
    global _now, _sleep
    previous = _now, _sleep
    _now, _sleep = now, sleep or _sleep
    try:
        yield
    finally:
        _now, _sleep = previous
