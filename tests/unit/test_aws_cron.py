"""AWS cron evaluation: the backup RPO in the DR budget is the longest gap between runs."""

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import aws_cron

HOUR = 3600


@pytest.mark.parametrize(
    ("expression", "gap_hours"),
    [
        ("cron(0 5 * * ? *)", 24),  # daily
        ("cron(0 */6 * * ? *)", 6),
        ("cron(15 1,13 * * ? *)", 12),
        ("cron(30 2 ? * MON-FRI *)", 72),  # Friday to Monday
        ("cron(0 5 ? * 1 *)", 168),  # Sundays (AWS counts SUN as 1)
        ("cron(0 5 1 * ? *)", 31 * 24),  # monthly: the longest month
        ("cron(0 0 1 1,7 ? *)", 184 * 24),  # 1 July to 1 January
    ],
)
def test_longest_gap_between_runs(expression, gap_hours):
    assert aws_cron.parse(expression).longest_gap_seconds() == gap_hours * HOUR


def test_aws_weekday_numbering_starts_on_sunday():
    sundays = aws_cron.parse("cron(0 5 ? * SUN *)").runs(dt.date(2026, 11, 1), 14)
    assert [t.date().isoformat() for t in sundays] == ["2026-11-01", "2026-11-08"]
    assert aws_cron.parse("cron(0 5 ? * 1 *)") == aws_cron.parse("cron(0 5 ? * SUN *)")


@given(st.integers(1, 23).filter(lambda n: 24 % n == 0), st.integers(0, 59))
def test_every_n_hours_has_a_gap_of_n_hours(n, minute):
    assert aws_cron.parse(f"cron({minute} 0/{n} * * ? *)").longest_gap_seconds() == n * HOUR


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 5 * *)", "has 4 fields"),
        ("cron(0 5 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 5 ? * 2#1 *)", "L, W and # are not evaluated"),
        ("cron(0 5 * 13 ? *)", "month '13' is outside 1-12"),
        ("cron(0 5 * * ? 2030)", "a year restriction"),
        ("cron(x 5 * * ? *)", "minutes 'x' is not a number"),
        ("cron(0 ? * * ? *)", "? is only allowed for day-of-month or day-of-week"),
        ("cron(0 5 31 2 ? *)", "runs less than twice"),
    ],
)
def test_what_cannot_be_evaluated_is_refused_with_the_reason(expression, reason):
    with pytest.raises(aws_cron.CronError, match=re.escape(reason)):
        aws_cron.parse(expression).longest_gap_seconds()
