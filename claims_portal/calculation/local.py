"""Local claims (CQRS Local style): units x tariff, caps, claim totals.

Rules (source: the commissioner's local scheme specification, which sets tariffs and caps):

- Line value = units x the tariff in force for the claim period (see ``rates.py``: the tariff
  in force on the period's first day prices the whole period), rounded half up to the penny.
- Caps are set per component, each on one scope - per claim, per period or per financial
  year - and one measure - units or money. What was already claimed in the period and in the
  financial year (units and money) is an input. The allowance left under a cap is
  ``limit - already claimed`` (never below zero).
- Unit caps apply first and reduce the units that are paid; the value is then priced from
  the capped units. Money caps apply next and reduce the value only; the units stay as paid
  by the unit caps. Within a measure caps apply narrowest scope first (claim, period, year).
- Each line reports requested units, the tariff used and its effective date, the gross
  value, the capped units and value, every cap that bit and why.
- Claim total = sum of the (rounded) line values. A participation-only scheme has no
  payment lines: its claim total is 0.00 and lines given for it are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from .errors import (
    DuplicateEntryError,
    InvalidValueError,
    NegativeValueError,
    ParticipationOnlyError,
)
from .explanation import Explanation, Figure, Step
from .money import ZERO_MONEY, Money, as_count, as_decimal, as_money_amount, round_money
from .rates import Rate, RateSchedule
from .reference import Period
from .sources import LOCAL_SCHEME_SOURCE, ROUNDING_SOURCE

__all__ = [
    "Cap",
    "CapApplication",
    "CapMeasure",
    "CapScope",
    "ClaimLine",
    "ClaimLineResult",
    "ComponentTerms",
    "LocalClaim",
    "LocalClaimResult",
    "PriorClaims",
    "calculate_local_claim",
    "price_claim_line",
]


class CapScope(StrEnum):
    """What a cap counts over."""

    CLAIM = "claim"
    PERIOD = "period"
    FINANCIAL_YEAR = "financial year"


class CapMeasure(StrEnum):
    """What a cap limits."""

    UNITS = "units"
    MONEY = "money"


_SCOPE_ORDER = {CapScope.CLAIM: 0, CapScope.PERIOD: 1, CapScope.FINANCIAL_YEAR: 2}


@dataclass(frozen=True, slots=True)
class Cap:
    """A limit on one component: ``limit`` units (whole) or pounds (whole pence) per scope."""

    scope: CapScope
    measure: CapMeasure
    limit: Decimal

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "scope", CapScope(self.scope))
            object.__setattr__(self, "measure", CapMeasure(self.measure))
        except ValueError as error:
            raise InvalidValueError(f"not a cap scope or measure: {error}") from None
        if self.measure is CapMeasure.MONEY:
            object.__setattr__(self, "limit", as_money_amount(self.limit, "money cap"))
            return
        limit = as_decimal(self.limit, "unit cap")
        if limit < 0:
            raise NegativeValueError(f"a unit cap must not be negative, got {limit}")
        if limit != limit.to_integral_value():
            raise InvalidValueError(f"a unit cap must be a whole number of units, got {limit}")
        object.__setattr__(self, "limit", Decimal(int(limit)))

    def describe(self) -> str:
        """``"per-period unit cap of 100"`` / ``"per-claim money cap of £500.00"``."""
        what = "unit" if self.measure is CapMeasure.UNITS else "money"
        amount = f"£{self.limit:,}" if self.measure is CapMeasure.MONEY else f"{self.limit}"
        return f"per-{self.scope.value.replace(' ', '-')} {what} cap of {amount}"


@dataclass(frozen=True, slots=True)
class ComponentTerms:
    """A scheme component: its code, unit label, tariffs over time and caps."""

    code: str
    unit_label: str
    tariffs: RateSchedule
    caps: tuple[Cap, ...] = ()

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidValueError("a component needs a code")
        keys = [(cap.scope, cap.measure) for cap in self.caps]
        if len(set(keys)) != len(keys):
            raise DuplicateEntryError(f"{self.code}: two caps with the same scope and measure")
        ordered = sorted(
            self.caps, key=lambda c: (c.measure != CapMeasure.UNITS, _SCOPE_ORDER[c.scope])
        )
        object.__setattr__(self, "caps", tuple(ordered))


@dataclass(frozen=True, slots=True)
class PriorClaims:
    """Units and value of this component already claimed in the period and financial year."""

    units_in_period: int = 0
    value_in_period: Decimal = ZERO_MONEY
    units_in_year: int = 0
    value_in_year: Decimal = ZERO_MONEY

    def __post_init__(self) -> None:
        as_count(self.units_in_period, "units already claimed in the period")
        as_count(self.units_in_year, "units already claimed in the financial year")
        for name in ("value_in_period", "value_in_year"):
            value = as_money_amount(getattr(self, name), name.replace("_", " "))
            object.__setattr__(self, name, value)

    def used(self, cap: Cap) -> Decimal:
        """What already counts against ``cap`` (nothing for a per-claim cap)."""
        if cap.scope is CapScope.CLAIM:
            return Decimal(0)
        in_period = cap.scope is CapScope.PERIOD
        if cap.measure is CapMeasure.UNITS:
            return Decimal(self.units_in_period if in_period else self.units_in_year)
        return self.value_in_period if in_period else self.value_in_year


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """Units claimed for one component, with what was claimed before."""

    component: ComponentTerms
    units: int
    prior: PriorClaims = field(default_factory=PriorClaims)

    def __post_init__(self) -> None:
        as_count(self.units, f"units for {self.component.code}")


@dataclass(frozen=True, slots=True)
class LocalClaim:
    """A claim for one period under one scheme (or several, in a multi-service claim)."""

    period: Period
    lines: tuple[ClaimLine, ...]
    participation_only: bool = False

    def __post_init__(self) -> None:
        if self.participation_only and self.lines:
            raise ParticipationOnlyError("a participation-only scheme has no payment lines")
        codes = [line.component.code for line in self.lines]
        if len(set(codes)) != len(codes):
            raise DuplicateEntryError("a component appears on two lines of the same claim")


@dataclass(frozen=True, slots=True)
class CapApplication:
    """One cap that reduced a line: its allowance and the figure before and after."""

    cap: Cap
    already_claimed: Decimal
    allowance: Decimal
    before: Decimal
    after: Decimal

    @property
    def reason(self) -> str:
        """Why the line was reduced, in words a practice can check."""
        money = self.cap.measure is CapMeasure.MONEY

        def show(value: Decimal) -> str:
            return f"£{value:,}" if money else f"{value} units"

        scope = {
            CapScope.CLAIM: "",
            CapScope.PERIOD: f"{show(self.already_claimed)} already claimed this period, ",
            CapScope.FINANCIAL_YEAR: (
                f"{show(self.already_claimed)} already claimed this financial year, "
            ),
        }[self.cap.scope]
        return (
            f"Reduced by the {self.cap.describe()}: {scope}{show(self.allowance)} left; "
            f"paid {show(self.after)} of the {show(self.before)} claimed."
        )


@dataclass(frozen=True, slots=True)
class ClaimLineResult:
    """A priced claim line."""

    component_code: str
    unit_label: str
    period: Period
    requested_units: int
    tariff: Rate
    tariff_changes_in_period: tuple[Rate, ...]
    gross_value: Money
    payable_units: int
    value: Money
    cap_applications: tuple[CapApplication, ...]

    @property
    def capped(self) -> bool:
        """Whether any cap reduced the line."""
        return bool(self.cap_applications)

    @property
    def binding_cap(self) -> Cap | None:
        """The last cap that bit (the one that set the paid value), if any."""
        return self.cap_applications[-1].cap if self.cap_applications else None

    @property
    def capped_amount(self) -> Money:
        """How much the caps took off the gross value."""
        return self.gross_value - self.value

    @property
    def cap_reason(self) -> str | None:
        """The reasons of every cap that bit, or ``None``."""
        return " ".join(a.reason for a in self.cap_applications) or None

    @property
    def explanation(self) -> Explanation:
        """Every step from units to the paid value."""
        note = ""
        if self.tariff_changes_in_period:
            changes = ", ".join(
                f"£{r.amount} from {r.effective_from.isoformat()}"
                for r in self.tariff_changes_in_period
            )
            note = (
                f"a new tariff takes effect inside this period ({changes}); "
                "it applies from the next period"
            )
        steps = [
            Step(
                rule="Tariff in force",
                formula="tariff in force on the first day of the claim period",
                inputs=(
                    ("period start", self.period.start),
                    ("tariff effective from", self.tariff.effective_from),
                ),
                result=self.tariff.amount,
                source=LOCAL_SCHEME_SOURCE,
                note=note,
            ),
            Step(
                rule="Gross value",
                formula="units x tariff, rounded half up to the penny",
                inputs=(("units", self.requested_units), ("tariff", self.tariff.amount)),
                result=self.gross_value,
                source=ROUNDING_SOURCE,
            ),
        ]
        for application in self.cap_applications:
            inputs: tuple[tuple[str, Figure], ...] = (
                ("limit", application.cap.limit),
                ("already claimed", application.already_claimed),
                ("allowance left", application.allowance),
                ("before the cap", application.before),
            )
            steps.append(
                Step(
                    rule=f"Cap: {application.cap.describe()}",
                    formula="min(figure, max(0, limit - already claimed))",
                    inputs=inputs,
                    result=application.after,
                    source=LOCAL_SCHEME_SOURCE,
                    note=application.reason,
                )
            )
        if self.cap_applications:
            steps.append(
                Step(
                    rule="Line value",
                    formula="paid units x tariff, rounded, then any money cap",
                    inputs=(("paid units", self.payable_units), ("tariff", self.tariff.amount)),
                    result=self.value,
                    source=ROUNDING_SOURCE,
                )
            )
        return Explanation(
            f"{self.component_code}: {self.requested_units} {self.unit_label} -> £{self.value}",
            tuple(steps),
        )


@dataclass(frozen=True, slots=True)
class LocalClaimResult:
    """A priced claim: its lines and their total."""

    period: Period
    lines: tuple[ClaimLineResult, ...]
    total: Money
    participation_only: bool

    @property
    def explanation(self) -> Explanation:
        """The total as the sum of the lines (each line explains itself)."""
        if self.participation_only:
            step = Step(
                rule="Participation only",
                formula="a participation-only scheme has no payment lines",
                inputs=(),
                result=self.total,
                source=LOCAL_SCHEME_SOURCE,
            )
        else:
            step = Step(
                rule="Claim total",
                formula="sum of the line values",
                inputs=tuple((line.component_code, line.value) for line in self.lines),
                result=self.total,
                source=ROUNDING_SOURCE,
            )
        return Explanation(f"Claim for {self.period}: £{self.total}", (step,))


def _cap_allowance(cap: Cap, prior: PriorClaims) -> tuple[Decimal, Decimal]:
    used = prior.used(cap)
    return used, max(Decimal(0), cap.limit - used)


def price_claim_line(line: ClaimLine, period: Period) -> ClaimLineResult:
    """Price one line: tariff for the period, unit caps, value, money caps."""
    component = line.component
    tariff = component.tariffs.for_period(period)
    gross_value = round_money(line.units * tariff.amount)
    units = Decimal(line.units)
    applications: list[CapApplication] = []
    value = gross_value
    for cap in component.caps:
        used, allowance = _cap_allowance(cap, line.prior)
        if cap.measure is CapMeasure.UNITS:
            if units > allowance:
                applications.append(CapApplication(cap, used, allowance, units, allowance))
                units = allowance
                value = round_money(units * tariff.amount)
        elif value > allowance:
            applications.append(CapApplication(cap, used, allowance, value, allowance))
            value = allowance
    return ClaimLineResult(
        component_code=component.code,
        unit_label=component.unit_label,
        period=period,
        requested_units=line.units,
        tariff=tariff,
        tariff_changes_in_period=component.tariffs.changes_within(period),
        gross_value=gross_value,
        payable_units=int(units),
        value=value,
        cap_applications=tuple(applications),
    )


def calculate_local_claim(claim: LocalClaim) -> LocalClaimResult:
    """Price every line of a local claim and total them.

    Source: the commissioner's local scheme specification (tariffs, caps); rounding per
    ``money.py``. Raises :class:`~claims_portal.calculation.errors.NoTariffInForceError` when
    a component has no tariff in force on the period's first day.
    """
    lines = tuple(price_claim_line(line, claim.period) for line in claim.lines)
    total = sum((line.value for line in lines), ZERO_MONEY)
    return LocalClaimResult(claim.period, lines, total, claim.participation_only)
