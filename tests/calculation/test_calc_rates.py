"""Rates with effective dates."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    DuplicateEntryError,
    InvalidValueError,
    NegativeValueError,
    NoTariffInForceError,
    Period,
    Rate,
    RateSchedule,
)

SCHEDULE = RateSchedule(
    (
        Rate(Decimal("12.50"), date(2024, 10, 1)),  # given out of order on purpose
        Rate(Decimal("10.00"), date(2024, 4, 1)),
    )
)


@pytest.mark.parametrize(
    ("day", "amount"),
    [
        pytest.param(date(2024, 4, 1), "10.00", id="first-effective-day"),
        pytest.param(date(2024, 9, 30), "10.00", id="day-before-change"),
        pytest.param(date(2024, 10, 1), "12.50", id="change-day"),
        pytest.param(date(2030, 1, 1), "12.50", id="long-after"),
    ],
)
def test_rate_in_force_on(day: date, amount: str) -> None:
    assert SCHEDULE.in_force_on(day).amount == Decimal(amount)


def test_no_rate_before_the_first() -> None:
    with pytest.raises(NoTariffInForceError, match="2024-04-01"):
        SCHEDULE.in_force_on(date(2024, 3, 31))


def test_period_uses_rate_on_first_day_and_reports_changes_inside() -> None:
    period = Period(date(2024, 9, 1), date(2024, 12, 31))
    assert SCHEDULE.for_period(period).amount == Decimal("10.00")
    assert [r.amount for r in SCHEDULE.changes_within(period)] == [Decimal("12.50")]
    starting_on_change = Period(date(2024, 10, 1), date(2024, 12, 31))
    assert SCHEDULE.changes_within(starting_on_change) == ()


@pytest.mark.parametrize(
    ("rates", "error"),
    [
        pytest.param((), InvalidValueError, id="empty"),
        pytest.param(
            (Rate(Decimal(1), date(2024, 4, 1)), Rate(Decimal(2), date(2024, 4, 1))),
            DuplicateEntryError,
            id="same-date",
        ),
    ],
)
def test_schedule_errors(rates: tuple[Rate, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        RateSchedule(rates)


def test_negative_rate_refused() -> None:
    with pytest.raises(NegativeValueError):
        Rate(Decimal("-0.01"), date(2024, 4, 1))
