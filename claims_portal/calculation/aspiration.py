"""Aspiration payments and year-end reconciliation.

Rules (source: GMS Statement of Financial Entitlements, QOF aspiration payments; share 70%
up to 2023/24 and 80% from 2024/25, GP contract 2024/25):

- annual aspiration = the year's aspiration share x the previous year's unadjusted
  achievement payment, rounded half up to the penny. The share is reference data for the
  year (``YearlyReference.aspiration_share``).
- it is paid in 12 monthly instalments (April to March). The amount paid by the end of
  month k is annual x k / 12, rounded half up to the penny; each instalment is the increase
  over the month before. So every instalment is within a penny of annual / 12, none is
  negative, and together they add up exactly to the annual amount.
- year-end reconciliation = achievement payment - aspiration already paid. A negative
  balance is money the contractor pays back (or that is deducted from later payments).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .explanation import Explanation, Step
from .money import Money, as_money_amount, round_money, round_ratio
from .reference import FinancialYear, ReferenceData
from .sources import QOF_ASPIRATION_SOURCE, ROUNDING_SOURCE

__all__ = [
    "AspirationResult",
    "ReconciliationResult",
    "calculate_aspiration",
    "reconcile_year_end",
]

MONTHS = 12
_MONTH_NAMES = ("Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar")


@dataclass(frozen=True, slots=True)
class AspirationResult:
    """A year's aspiration: the annual amount and its twelve monthly instalments."""

    year: FinancialYear
    previous_year_payment: Money
    share: Decimal
    annual_amount: Money
    instalments: tuple[Money, ...]

    @property
    def explanation(self) -> Explanation:
        """Share x previous payment, and how it is split into months."""
        steps = (
            Step(
                rule="Annual aspiration",
                formula="aspiration share x previous year's unadjusted achievement payment",
                inputs=(
                    ("aspiration share", self.share),
                    ("previous year's payment", self.previous_year_payment),
                ),
                result=self.annual_amount,
                source=f"{QOF_ASPIRATION_SOURCE}; {ROUNDING_SOURCE}",
            ),
            Step(
                rule="Monthly instalments",
                formula="paid by month k = annual x k / 12 rounded; instalment = the increase",
                inputs=tuple(zip(_MONTH_NAMES, self.instalments, strict=True)),
                result=self.annual_amount,
                source=QOF_ASPIRATION_SOURCE,
            ),
        )
        return Explanation(f"Aspiration {self.year}: £{self.annual_amount}", steps)


@dataclass(frozen=True, slots=True)
class ReconciliationResult:
    """Year-end balance: achievement payment less aspiration already paid."""

    achievement_payment: Money
    aspiration_paid: Money
    balance: Money

    @property
    def explanation(self) -> Explanation:
        """The subtraction, with what a negative balance means."""
        step = Step(
            rule="Year-end reconciliation",
            formula="achievement payment - aspiration already paid",
            inputs=(
                ("achievement payment", self.achievement_payment),
                ("aspiration paid", self.aspiration_paid),
            ),
            result=self.balance,
            source=QOF_ASPIRATION_SOURCE,
            note="a negative balance is recovered from the contractor" if self.balance < 0 else "",
        )
        return Explanation(f"Year-end balance: £{self.balance}", (step,))


def calculate_aspiration(
    previous_year_payment: Decimal, year: FinancialYear, reference_data: ReferenceData
) -> AspirationResult:
    """Annual aspiration and monthly instalments for ``year``.

    Source: GMS SFE, QOF aspiration payments. Raises
    :class:`~claims_portal.calculation.errors.UnknownFinancialYearError` for a year without
    reference values and :class:`~claims_portal.calculation.errors.MissingReferenceValueError`
    when the year has no aspiration share.
    """
    previous = as_money_amount(previous_year_payment, "previous year's achievement payment")
    share = reference_data.for_year(year).share_for_aspiration()
    annual = round_money(share * previous)
    annual_num, annual_den = annual.as_integer_ratio()
    paid_by = [round_ratio(annual_num * month, annual_den * MONTHS) for month in range(MONTHS + 1)]
    instalments = tuple(paid_by[m + 1] - paid_by[m] for m in range(MONTHS))
    return AspirationResult(year, previous, share, annual, instalments)


def reconcile_year_end(
    achievement_payment: Decimal, aspiration_paid: Decimal
) -> ReconciliationResult:
    """achievement payment - aspiration already paid (negative = to be recovered).

    Source: GMS SFE, QOF aspiration and achievement payments. Both amounts must be whole
    pence and not negative.
    """
    achieved = as_money_amount(achievement_payment, "achievement payment")
    paid = as_money_amount(aspiration_paid, "aspiration paid")
    return ReconciliationResult(achieved, paid, achieved - paid)
