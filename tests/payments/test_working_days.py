"""England and Wales working days and the payment run's moments (payments/working_days.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims_portal.clock import ENGLAND
from claims_portal.payments.working_days import (
    bank_holidays,
    cut_off_moment,
    is_working_day,
    next_run_moment,
    next_working_day,
    run_moment,
    working_days_before,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 12, 24), True),  # Thursday
        (D(2026, 12, 25), False),  # Christmas Day, Friday
        (D(2026, 12, 26), False),  # Boxing Day, Saturday
        (D(2026, 12, 28), False),  # Boxing Day's substitute, Monday
        (D(2026, 12, 29), True),
        (D(2027, 1, 1), False),  # New Year's Day, Friday
        (D(2027, 1, 4), True),
        (D(2027, 12, 27), False),  # Christmas Day (a Saturday) moved to Monday
        (D(2027, 12, 28), False),  # Boxing Day (a Sunday) moved to Tuesday
        (D(2027, 12, 29), True),
        (D(2022, 1, 3), False),  # New Year's Day 2022 was a Saturday
        (D(2026, 4, 2), True),  # Maundy Thursday
        (D(2026, 4, 3), False),  # Good Friday
        (D(2026, 4, 6), False),  # Easter Monday
        (D(2026, 4, 7), True),
        (D(2027, 3, 26), False),  # Good Friday 2027
        (D(2027, 3, 29), False),  # Easter Monday 2027
        (D(2026, 5, 4), False),  # early May bank holiday
        (D(2026, 5, 25), False),  # spring bank holiday
        (D(2026, 8, 31), False),  # summer bank holiday
        (D(2026, 8, 28), True),
        (D(2026, 8, 29), False),  # Saturday
        (D(2026, 8, 30), False),  # Sunday
        (D(2023, 5, 8), False),  # the coronation's bank holiday (one-off)
        (D(2026, 3, 17), True),  # St Patrick's Day: a holiday in Northern Ireland only
        (D(2026, 11, 30), True),  # St Andrew's Day: Scotland only
    ],
)
def test_working_days(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_england_has_eight_days_off_for_bank_holidays_in_2026() -> None:
    # Boxing Day 2026 is a Saturday: the calendar has it and its Monday substitute.
    days_off = {day for day in bank_holidays(2026) if day.weekday() < 5}
    assert len(days_off) == 8
    assert D(2026, 12, 26) in bank_holidays(2026)


def test_a_datetime_is_refused() -> None:
    with pytest.raises(TypeError):
        is_working_day(dt.datetime(2026, 12, 24, 12, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 12, 24), D(2026, 12, 29)),
        (D(2026, 12, 31), D(2027, 1, 4)),
        (D(2026, 4, 2), D(2026, 4, 7)),
        (D(2026, 8, 28), D(2026, 9, 1)),
        (D(2026, 6, 1), D(2026, 6, 2)),
    ],
)
def test_next_working_day(day: dt.date, expected: dt.date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("payment_date", "count", "expected"),
    [
        (D(2026, 7, 20), 0, D(2026, 7, 20)),
        (D(2026, 7, 20), 1, D(2026, 7, 17)),  # Monday -> the Friday before
        (D(2026, 7, 20), 8, D(2026, 7, 8)),
        (D(2026, 7, 20), 9, D(2026, 7, 7)),
        # Christmas and New Year: 28 December is Boxing Day's substitute, 1 January a holiday.
        (D(2027, 1, 20), 8, D(2027, 1, 8)),
        (D(2027, 1, 8), 8, D(2026, 12, 24)),
        (D(2027, 1, 8), 9, D(2026, 12, 23)),
        # Easter 2026: Good Friday and Easter Monday skipped.
        (D(2026, 4, 20), 8, D(2026, 4, 8)),
        (D(2026, 4, 15), 8, D(2026, 4, 1)),
        # A payment date on a Sunday: the day itself is not counted.
        (D(2026, 9, 20), 8, D(2026, 9, 9)),
        # Across the summer bank holiday (31 August 2026).
        (D(2026, 9, 9), 8, D(2026, 8, 27)),
    ],
)
def test_working_days_before(payment_date: dt.date, count: int, expected: dt.date) -> None:
    assert working_days_before(payment_date, count) == expected


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        working_days_before(D(2026, 7, 20), -1)


def test_cut_off_is_midnight_at_the_end_of_the_day_england_time() -> None:
    # 8 working days before 20 July 2026 is Wednesday 8 July: midnight BST is 23:00 UTC.
    assert cut_off_moment(D(2026, 7, 20), 8) == dt.datetime(2026, 7, 8, 23, tzinfo=dt.UTC)
    # In winter England is on GMT.
    assert cut_off_moment(D(2027, 1, 20), 8) == dt.datetime(2027, 1, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (D(2026, 3, 27), 15),  # Friday before the spring change: GMT
        (D(2026, 3, 29), 14),  # the spring change (a Sunday): BST from 01:00 UTC
        (D(2026, 3, 30), 14),  # Monday after: BST
        (D(2026, 10, 23), 14),  # Friday before the autumn change: BST
        (D(2026, 10, 25), 15),  # the autumn change: GMT from 01:00 UTC
        (D(2026, 10, 26), 15),  # Monday after: GMT
    ],
)
def test_run_moment_is_fifteen_hundred_england_time(day: dt.date, utc_hour: int) -> None:
    moment = run_moment(day)
    assert moment == dt.datetime(day.year, day.month, day.day, utc_hour, tzinfo=dt.UTC)
    assert moment.utcoffset() == dt.timedelta(0)


def test_run_time_is_configurable() -> None:
    assert run_moment(D(2026, 7, 1), dt.time(16, 30)) == dt.datetime(
        2026, 7, 1, 15, 30, tzinfo=dt.UTC
    )


def test_a_run_time_with_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="wall-clock"):
        run_moment(D(2026, 7, 1), dt.time(15, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Before the run on a working day: that day's run.
        (dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC), dt.datetime(2026, 7, 1, 14, tzinfo=dt.UTC)),
        # Exactly at the run: the next working day's.
        (dt.datetime(2026, 7, 1, 14, tzinfo=dt.UTC), dt.datetime(2026, 7, 2, 14, tzinfo=dt.UTC)),
        # Friday evening before the spring change: Monday 30 March, now BST.
        (
            dt.datetime(2026, 3, 27, 18, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 30, 14, tzinfo=dt.UTC),
        ),
        # Christmas Eve afternoon: Tuesday 29 December.
        (
            dt.datetime(2026, 12, 24, 16, tzinfo=dt.UTC),
            dt.datetime(2026, 12, 29, 15, tzinfo=dt.UTC),
        ),
        # 23:30 UTC on 31 March is already 1 April in England (BST).
        (
            dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC),
            dt.datetime(2026, 4, 1, 14, tzinfo=dt.UTC),
        ),
    ],
)
def test_next_run_moment(after: dt.datetime, expected: dt.datetime) -> None:
    assert next_run_moment(after) == expected


def test_next_run_moment_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_run_moment(dt.datetime(2026, 7, 1, 9))  # noqa: DTZ001 (the point of the test)


days = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


@given(days, st.integers(min_value=1, max_value=30))
def test_working_days_before_counts_exactly_n_working_days(day: dt.date, count: int) -> None:
    earlier = working_days_before(day, count)
    assert is_working_day(earlier)
    between = [earlier + dt.timedelta(days=n) for n in range((day - earlier).days)]
    assert sum(is_working_day(d) for d in between) == count


@given(days)
def test_next_working_day_skips_only_days_off(day: dt.date) -> None:
    following = next_working_day(day)
    assert is_working_day(following)
    gap = [day + dt.timedelta(days=n) for n in range(1, (following - day).days)]
    assert not any(is_working_day(d) for d in gap)
    assert (following - day).days <= 5  # the longest run of days off is four (Easter, Christmas)


@given(days, st.times())
def test_run_moment_reads_back_as_the_wall_clock_time(day: dt.date, at: dt.time) -> None:
    moment = run_moment(day, at)
    back = moment.astimezone(ENGLAND)
    if back.date() == day and back.time() == at:
        return
    # Only a time in the spring change's missing hour cannot read back; it moves an hour on.
    assert back.utcoffset() == dt.timedelta(hours=1)
    assert (back - dt.timedelta(hours=1)).time() == at
