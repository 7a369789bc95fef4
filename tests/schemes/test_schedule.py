"""Claim periods and windows from a scheme's frequency (pure date arithmetic)."""

from __future__ import annotations

import datetime as dt

import pytest

from claims_portal.schemes.models import ClaimFrequency
from claims_portal.schemes.services.schedule import (
    PeriodDates,
    WindowState,
    claim_periods,
    default_window,
    window_state,
)

D = dt.date


def test_monthly_periods_are_calendar_months_of_the_financial_year():
    periods = claim_periods(ClaimFrequency.MONTHLY, D(2026, 4, 1), D(2027, 3, 31))
    assert len(periods) == 12
    assert periods[0] == PeriodDates(D(2026, 4, 1), D(2026, 4, 30))
    assert periods[10] == PeriodDates(D(2027, 2, 1), D(2027, 2, 28))
    assert periods[-1] == PeriodDates(D(2027, 3, 1), D(2027, 3, 31))


def test_quarterly_periods_follow_the_nhs_quarters():
    periods = claim_periods(ClaimFrequency.QUARTERLY, D(2026, 4, 1), D(2027, 3, 31))
    assert periods == [
        PeriodDates(D(2026, 4, 1), D(2026, 6, 30)),
        PeriodDates(D(2026, 7, 1), D(2026, 9, 30)),
        PeriodDates(D(2026, 10, 1), D(2026, 12, 31)),
        PeriodDates(D(2027, 1, 1), D(2027, 3, 31)),
    ]


def test_first_and_last_periods_are_cut_to_the_scheme_dates():
    periods = claim_periods(ClaimFrequency.QUARTERLY, D(2026, 5, 15), D(2026, 11, 10))
    assert periods == [
        PeriodDates(D(2026, 5, 15), D(2026, 6, 30)),
        PeriodDates(D(2026, 7, 1), D(2026, 9, 30)),
        PeriodDates(D(2026, 10, 1), D(2026, 11, 10)),
    ]


@pytest.mark.parametrize("frequency", [ClaimFrequency.ANNUAL, ClaimFrequency.AD_HOC])
def test_annual_and_ad_hoc_schemes_have_one_period(frequency):
    assert claim_periods(frequency, D(2026, 6, 1), D(2027, 1, 31)) == [
        PeriodDates(D(2026, 6, 1), D(2027, 1, 31))
    ]


def test_no_periods_when_the_dates_are_reversed():
    assert claim_periods(ClaimFrequency.MONTHLY, D(2026, 6, 1), D(2026, 5, 1)) == []


def test_default_window_opens_after_the_period_and_stays_open_n_days():
    assert default_window(D(2026, 10, 31), 30) == (D(2026, 11, 1), D(2026, 11, 30))
    assert default_window(D(2027, 3, 31), 1) == (D(2027, 4, 1), D(2027, 4, 1))


@pytest.mark.parametrize(
    ("today", "claimed", "state"),
    [
        (D(2026, 10, 31), False, WindowState.UPCOMING),
        (D(2026, 11, 1), False, WindowState.OPEN),
        (D(2026, 11, 30), False, WindowState.OPEN),
        (D(2026, 12, 1), False, WindowState.MISSED),
        (D(2026, 12, 1), True, WindowState.CLAIMED),
        (D(2026, 11, 5), True, WindowState.CLAIMED),
    ],
)
def test_window_state(today, claimed, state):
    assert window_state(D(2026, 11, 1), D(2026, 11, 30), today, claimed=claimed) is state
