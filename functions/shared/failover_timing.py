"""The times write failover is made of, in one place: the handlers wait by them, and the stack's
DR budget (stack/budget.py) adds them up, so the budget it prints is the code's, not a guess.

No imports beyond the standard library: the Pulumi program reads this module too.
"""

from __future__ import annotations

# Any two regions' clocks differ by at most this (Amazon Time Sync keeps Lambda hosts within
# microseconds); the lease keeps the margin on both sides (shared/lease.py).
DRIFT_SECONDS = 1.0
DEFAULT_LEASE_SECONDS = 30
# The n-th eligible region in the stack's order waits n steps more before taking an expired
# lease, so that two rarely race (shared/failover.py).
PRIORITY_STEP_SECONDS = 2.0
# How long a region trusts what it last read of the control item (shared/control.py).
CONTROL_CACHE_SECONDS = 5.0
# A deferred write waits for a primary in its region's retry queue, looked at again at most this
# often (SQS allows delays up to 900 s; a minute bounds how late a new primary releases it) ...
DEFERRED_WRITE_MAX_DELAY_SECONDS = 60
# ... and for at most this long before it is recorded dead-lettered (SQS keeps a message 14 days).
DEFERRED_WRITE_MAX_WAIT_DAYS = 14


def renew_every_seconds(lease_seconds: float) -> float:
    """The holder renews at half the lease: one renewal may fail without losing it."""
    return lease_seconds / 2


def write_rto_seconds(lease_seconds: float) -> float:
    """Worst case from the primary's loss to another region accepting writes, when no operator
    acts: its last renewal is at most the whole lease old when it expires; the next region takes
    it over once it has expired by every clock (the drift margin), at its next tick, which may come
    one renewal period late if one tick is lost; the other regions learn the new primary when
    their cached control item expires."""
    return lease_seconds + renew_every_seconds(lease_seconds) + DRIFT_SECONDS + CONTROL_CACHE_SECONDS
