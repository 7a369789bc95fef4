"""Rates with effective dates: local tariffs (unit values) and item-of-service fees.

A :class:`RateSchedule` holds every rate a component or item has had, each with the date it
takes effect. The rate in force on a day is the latest one whose effective date is on or
before that day.

PRICING RULE (local claims and items of service alike): a period is priced at the rate in
force on the period's first day, for the whole period. A rate that takes effect inside a
period applies from the next period, and the explanation says so. Why: units are reported
per period, not per day, so a split would have to guess how units fall across the dates;
the domain prices "units x the tariff in force for the claim period", and a practice can see
the price of a period the moment it opens.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .errors import DuplicateEntryError, InvalidValueError, NegativeValueError, NoTariffInForceError
from .money import as_decimal
from .reference import Period

__all__ = ["Rate", "RateSchedule"]


@dataclass(frozen=True, slots=True)
class Rate:
    """A unit value in pounds (may hold fractions of a penny) in force from a date."""

    amount: Decimal
    effective_from: date
    source: str = ""

    def __post_init__(self) -> None:
        amount = as_decimal(self.amount, "rate")
        if amount < 0:
            raise NegativeValueError(f"a rate must not be negative, got {amount}")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, slots=True)
class RateSchedule:
    """All the rates of one component or item, kept in effective-date order."""

    rates: tuple[Rate, ...]
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rates:
            raise InvalidValueError("a rate schedule needs at least one rate")
        ordered = tuple(sorted(self.rates, key=lambda rate: rate.effective_from))
        starts = tuple(rate.effective_from for rate in ordered)
        if len(set(starts)) != len(starts):
            raise DuplicateEntryError("two rates take effect on the same date")
        object.__setattr__(self, "rates", ordered)
        object.__setattr__(self, "_starts", starts)

    def in_force_on(self, day: date) -> Rate:
        """The rate in force on ``day``; :class:`NoTariffInForceError` if none is yet."""
        index = bisect_right(self._starts, day)
        if index == 0:
            raise NoTariffInForceError(
                f"no rate is in force on {day.isoformat()}; the first takes effect "
                f"{self._starts[0].isoformat()}"
            )
        return self.rates[index - 1]

    def for_period(self, period: Period) -> Rate:
        """The rate that prices ``period``: the one in force on its first day."""
        return self.in_force_on(period.start)

    def changes_within(self, period: Period) -> tuple[Rate, ...]:
        """Rates taking effect after the first day of ``period`` and on or before its last."""
        return tuple(r for r in self.rates if period.start < r.effective_from <= period.end)
