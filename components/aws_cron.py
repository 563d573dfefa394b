"""AWS cron expressions (as AWS Backup and EventBridge read them), and the longest gap between runs.

`cron(minutes hours day-of-month month day-of-week year)`, all in UTC. Day-of-week counts 1-7
from Sunday (SUN-SAT also accepted); one of day-of-month and day-of-week must be `?`. Supported
per field: `*`, `?`, numbers, names, lists (`,`), ranges (`-`) and steps (`/`). `L`, `W` and `#`
are valid AWS syntax this module does not evaluate: they are refused with the reason, so a
schedule whose recovery-point gap cannot be computed is never silently given one.

The backup RPO of a schedule is the longest gap between two consecutive runs (a daily schedule:
24 h); AWS Backup may start a job up to its start window later, which adds to it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, DAYS),
)
# Two years of runs cover every pattern of months and weekdays a schedule without a year can have.
HORIZON_DAYS = 2 * 366


class CronError(ValueError):
    """The expression is not an AWS cron expression this module can evaluate; the message says why."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`, decided by day-of-week
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: `?`, decided by day-of-month

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        aws_weekday = (day.weekday() + 1) % 7 + 1  # Monday is 2, Sunday 1
        return self.days_of_week is None or aws_weekday in self.days_of_week

    def runs(self, start: dt.date, days: int) -> list[dt.datetime]:
        times = []
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            if self.runs_on(day):
                times.extend(
                    dt.datetime(day.year, day.month, day.day, h, m, tzinfo=dt.UTC)
                    for h in sorted(self.hours)
                    for m in sorted(self.minutes)
                )
        return times

    def longest_gap_seconds(self) -> int:
        times = self.runs(dt.date(2028, 1, 1), HORIZON_DAYS)
        if len(times) < 2:
            raise CronError("the schedule runs less than twice in two years")
        return int(max((b - a).total_seconds() for a, b in itertools.pairwise(times)))


def parse(expression: str) -> Schedule:
    text = expression.strip()
    if not (text.startswith("cron(") and text.endswith(")")):
        raise CronError(f"{expression!r} is not of the form cron(minutes hours day-of-month month day-of-week year)")
    parts = text[5:-1].split()
    if len(parts) != 6:
        raise CronError(f"{expression!r} has {len(parts)} fields, not 6 (minutes hours day-of-month month day-of-week year)")
    if parts[5] not in ("*", "?"):
        raise CronError(f"{expression!r}: a year restriction ({parts[5]}) makes the schedule stop; use *")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise CronError(f"{expression!r}: exactly one of day-of-month and day-of-week must be ?")
    values = [_field(part, *spec) for part, spec in zip(parts[:5], FIELDS, strict=True)]
    return Schedule(minutes=values[0], hours=values[1], days_of_month=values[2], months=values[3], days_of_week=values[4])


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    if text == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise CronError(f"? is only allowed for day-of-month or day-of-week, not {name}")
        return None
    chosen: set[int] = set()
    for item in text.split(","):
        if any(c in item.upper() for c in "LW#") and item.upper() not in names:
            raise CronError(f"{name} {item!r}: L, W and # are not evaluated here; list the days instead")
        base, _, step_text = item.partition("/")
        step = _number(step_text, name, names) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _number(a, name, names), _number(b, name, names)
        else:
            first = _number(base, name, names)
            last = high if step_text else first
        if not (low <= first <= high and low <= last <= high and first <= last and step >= 1):
            raise CronError(f"{name} {item!r} is outside {low}-{high}")
        chosen.update(range(first, last + 1, step))
    return frozenset(chosen)


def _number(text: str, name: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise CronError(f"{name} {text!r} is not a number{' or a name' if names else ''}")
    return int(text)
