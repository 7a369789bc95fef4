"""England and Wales working days, and the moments the payment run happens on them.

A working day is Monday to Friday and not a bank holiday in England and Wales. The bank
holidays come from a maintained calendar, the ``holidays`` package (country ``GB``,
subdivision ``ENG``; England and Wales share their bank holidays), which includes substitute
days (Christmas Day on a Saturday moves to the Monday, Boxing Day to the Tuesday) and the
one-off days proclaimed for national events. Upgrading the package is how the calendar is
kept up to date.

Nothing here reads the clock: every function takes the dates and moments it works on
(the application reads the clock in ``claims_portal/clock.py``).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from claims_portal.clock import ENGLAND

__all__ = [
    "DEFAULT_ACKNOWLEDGEMENT_TIME",
    "DEFAULT_RUN_TIME",
    "bank_holidays",
    "cut_off_moment",
    "is_working_day",
    "next_run_moment",
    "next_working_day",
    "run_moment",
    "working_days_before",
]

DEFAULT_RUN_TIME = dt.time(15, 0)
"""The payment run's time of day, England time (public: CQRS Local sends at 15:00)."""

DEFAULT_ACKNOWLEDGEMENT_TIME = dt.time(16, 0)
"""When the run reads the agency's responses, England time (public: 16:00)."""


@cache
def _bank_holidays_in(year: int) -> frozenset[dt.date]:
    # One frozen set per year: the package's own object grows as it is asked about new years,
    # which is not safe to share between threads.
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(calendar.keys())


def _plain_date(day: dt.date) -> dt.date:
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"a date is needed, not {type(day).__name__}")
    return day


def bank_holidays(year: int) -> frozenset[dt.date]:
    """The bank holidays of England and Wales in ``year`` (substitute days included)."""
    return _bank_holidays_in(year)


def is_working_day(day: dt.date) -> bool:
    """Whether ``day`` is a working day: Monday to Friday and not a bank holiday.

    Raises ``TypeError`` for a ``datetime`` (ask about its England date instead).
    """
    day = _plain_date(day)
    return day.weekday() < 5 and day not in _bank_holidays_in(day.year)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day after ``day`` (never ``day`` itself)."""
    day = _plain_date(day) + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def working_days_before(day: dt.date, count: int) -> dt.date:
    """The working day ``count`` working days before ``day``.

    ``day`` itself is not counted, and need not be a working day: 8 working days before a
    payment date is the eighth working day met going back from the day before it.
    ``count`` 0 returns ``day``. Raises ``ValueError`` for a negative ``count``.
    """
    day = _plain_date(day)
    if count < 0:
        raise ValueError("count must be 0 or more")
    while count:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def cut_off_moment(payment_date: dt.date, working_days: int) -> dt.datetime:
    """The cut-off for a payment date: midnight at the end of the working day ``working_days``
    working days before it, England time, as an aware UTC moment.

    (Public: commissioners' changes reach a month's payment when sent by midnight 8 to 9
    working days before the contractual payment date.)
    """
    last_day = working_days_before(payment_date, working_days)
    midnight = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=ENGLAND)
    return midnight.astimezone(dt.UTC)


def run_moment(
    day: dt.date, at: dt.time = DEFAULT_RUN_TIME, zone: dt.tzinfo = ENGLAND
) -> dt.datetime:
    """The moment ``at`` o'clock (wall-clock time in ``zone``) on ``day``, as aware UTC.

    15:00 England time is 15:00 UTC in winter (GMT) and 14:00 UTC in summer (BST); the
    offset is the one in force on ``day``, so clock-change days are right. A time that does
    not exist on the spring change (01:00 to 01:59) is read with the offset before the
    change; one that happens twice on the autumn change is the first of the two.
    Raises ``ValueError`` for an ``at`` that carries its own time zone.
    """
    day = _plain_date(day)
    if at.tzinfo is not None:
        raise ValueError("give the run time as a wall-clock time, without a time zone")
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def next_run_moment(
    after: dt.datetime, at: dt.time = DEFAULT_RUN_TIME, zone: dt.tzinfo = ENGLAND
) -> dt.datetime:
    """The first run moment (``at`` in ``zone`` on a working day) strictly after ``after``.

    Raises ``ValueError`` for a naive ``after``: a moment needs its time zone.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")
    day = after.astimezone(zone).date()
    while True:
        if is_working_day(day):
            moment = run_moment(day, at, zone)
            if moment > after:
                return moment
        day += dt.timedelta(days=1)
