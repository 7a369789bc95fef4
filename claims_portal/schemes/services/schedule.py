"""Claim periods and windows: pure date arithmetic, no database.

Periods follow the scheme's claim frequency inside the scheme's dates (which lie in one
financial year, 1 April to 31 March):

- monthly: calendar months; quarterly: April-June, July-September, October-December,
  January-March; annual and ad hoc: one period for the whole scheme.
- The first and last periods are cut to the scheme's start and end dates.

The default window of a period opens the day after the period ends and closes
``window_days`` days after the period ends (both dates inclusive). Each window can be edited.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from claims_portal.schemes.models import ClaimFrequency

_MONTHS_PER_PERIOD = {ClaimFrequency.MONTHLY: 1, ClaimFrequency.QUARTERLY: 3}


@dataclass(frozen=True, slots=True)
class PeriodDates:
    start: dt.date
    end: dt.date


def _month_start(day: dt.date, months: int) -> dt.date:
    """The first day of the block of ``months`` months containing ``day``.

    Calendar quarters (Jan, Apr, Jul, Oct) coincide with the NHS financial-year quarters.
    """
    index = (day.month - 1) // months * months
    return dt.date(day.year, index + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def claim_periods(frequency: ClaimFrequency, start: dt.date, end: dt.date) -> list[PeriodDates]:
    """The claim periods of a scheme running from ``start`` to ``end`` (inclusive)."""
    if end < start:
        return []
    months = _MONTHS_PER_PERIOD.get(frequency)
    if months is None:
        return [PeriodDates(start, end)]
    periods = []
    block = _month_start(start, months)
    while block <= end:
        following = _add_months(block, months)
        periods.append(PeriodDates(max(block, start), min(following - dt.timedelta(days=1), end)))
        block = following
    return periods


def default_window(period_end: dt.date, window_days: int) -> tuple[dt.date, dt.date]:
    """(opens on, closes on) for a period ending on ``period_end``."""
    return period_end + dt.timedelta(days=1), period_end + dt.timedelta(days=window_days)


class WindowState(enum.StrEnum):
    """A claim window as the provider sees it on a given day."""

    UPCOMING = "Upcoming"
    OPEN = "Open"
    CLAIMED = "Claimed"
    MISSED = "Missed"


def window_state(
    opens_on: dt.date, closes_on: dt.date, today: dt.date, *, claimed: bool
) -> WindowState:
    if claimed:
        return WindowState.CLAIMED
    if today < opens_on:
        return WindowState.UPCOMING
    if today <= closes_on:
        return WindowState.OPEN
    return WindowState.MISSED
