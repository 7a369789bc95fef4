"""Item of service (vaccination and immunisation): count x fee for the period.

Rule (source: GMS Statement of Financial Entitlements, V&I item-of-service fees, as set out
in NHS England's GP contract letters): value = number of doses (items) x the fee in force for
the period, rounded half up to the penny per line; total = sum of lines. Fees are data with
effective dates (``RateSchedule``); the fee in force on the period's first day prices the
whole period, as for local claims.

Public fees held as defaults: 10.06 pounds per dose from 1 April 2024 (2024/25); from
1 April 2025 routine childhood immunisations 12.06, other programmes unchanged at 10.06.
Earlier years are not loaded: asking for them raises
:class:`~claims_portal.calculation.errors.NoTariffInForceError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import DuplicateEntryError, InvalidValueError
from .explanation import Explanation, Step
from .money import ZERO_MONEY, Money, as_count, round_money
from .rates import Rate, RateSchedule
from .reference import Period
from .sources import ROUNDING_SOURCE, VI_SOURCE

__all__ = [
    "VI_ROUTINE_CHILDHOOD_FEES",
    "VI_STANDARD_FEES",
    "ItemCount",
    "ItemLineResult",
    "ItemOfService",
    "ItemOfServiceClaim",
    "ItemOfServiceResult",
    "calculate_items_of_service",
]

VI_STANDARD_FEES = RateSchedule(
    (Rate(Decimal("10.06"), date(2024, 4, 1), "GP contract 2024/25: V&I fee per dose"),)
)
"""V&I item-of-service fee per dose for programmes other than routine childhood ones."""

VI_ROUTINE_CHILDHOOD_FEES = RateSchedule(
    (
        Rate(Decimal("10.06"), date(2024, 4, 1), "GP contract 2024/25: V&I fee per dose"),
        Rate(
            Decimal("12.06"),
            date(2025, 4, 1),
            "GP contract 2025/26: routine childhood immunisation fee per dose",
        ),
    )
)
"""V&I item-of-service fee per dose for routine childhood immunisations."""


@dataclass(frozen=True, slots=True)
class ItemOfService:
    """A payable item (e.g. a vaccine dose in a programme) and its fees over time."""

    code: str
    description: str
    fees: RateSchedule

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidValueError("an item of service needs a code")


@dataclass(frozen=True, slots=True)
class ItemCount:
    """How many of an item were given in the period."""

    item: ItemOfService
    count: int

    def __post_init__(self) -> None:
        as_count(self.count, f"count of {self.item.code}")


@dataclass(frozen=True, slots=True)
class ItemOfServiceClaim:
    """Counts of items for one period."""

    period: Period
    lines: tuple[ItemCount, ...]

    def __post_init__(self) -> None:
        codes = [line.item.code for line in self.lines]
        if len(set(codes)) != len(codes):
            raise DuplicateEntryError("an item appears twice in the same claim")


@dataclass(frozen=True, slots=True)
class ItemLineResult:
    """One priced item line."""

    item_code: str
    period: Period
    count: int
    fee: Rate
    value: Money

    @property
    def explanation(self) -> Explanation:
        """Count x fee, with the fee's effective date."""
        step = Step(
            rule="Item of service",
            formula="count x fee in force on the first day of the period, rounded half up",
            inputs=(
                ("count", self.count),
                ("fee", self.fee.amount),
                ("fee effective from", self.fee.effective_from),
            ),
            result=self.value,
            source=f"{VI_SOURCE}; {ROUNDING_SOURCE}",
        )
        return Explanation(f"{self.item_code}: {self.count} x £{self.fee.amount}", (step,))


@dataclass(frozen=True, slots=True)
class ItemOfServiceResult:
    """Priced item lines and their total."""

    period: Period
    lines: tuple[ItemLineResult, ...]
    total: Money

    @property
    def explanation(self) -> Explanation:
        """The total as the sum of the lines."""
        step = Step(
            rule="Total",
            formula="sum of the line values",
            inputs=tuple((line.item_code, line.value) for line in self.lines),
            result=self.total,
            source=ROUNDING_SOURCE,
        )
        return Explanation(f"Items of service for {self.period}: £{self.total}", (step,))


def calculate_items_of_service(claim: ItemOfServiceClaim) -> ItemOfServiceResult:
    """Price each item as count x fee for the period and total the lines.

    Source: GMS SFE V&I item-of-service fees. Raises
    :class:`~claims_portal.calculation.errors.NoTariffInForceError` if an item has no fee in
    force on the period's first day.
    """
    lines = tuple(
        ItemLineResult(
            item_code=line.item.code,
            period=claim.period,
            count=line.count,
            fee=(fee := line.item.fees.for_period(claim.period)),
            value=round_money(line.count * fee.amount),
        )
        for line in claim.lines
    )
    return ItemOfServiceResult(claim.period, lines, sum((x.value for x in lines), ZERO_MONEY))
