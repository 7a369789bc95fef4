"""Inputs of QOF-style calculations: indicators, indicator sets and achievement data.

Each input validates itself when built (specific errors from ``errors.py``), so the
calculation in ``qof.py`` can trust it. Sources: GMS Statement of Financial Entitlements
(QOF) and NHS England's QOF guidance; Network Contract DES / IIF guidance for networks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from .errors import (
    AdjustmentsExceedDenominatorError,
    DuplicateEntryError,
    InvalidValueError,
    NegativeValueError,
    NumeratorExceedsDenominatorError,
    ThresholdOrderError,
    UnknownIndicatorError,
)
from .money import as_count, as_decimal
from .reference import FinancialYear

__all__ = [
    "Achievement",
    "AchievementSubmission",
    "Indicator",
    "IndicatorSet",
    "Record",
    "TickBoxAnswer",
]


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator of a quality service.

    ``max_points`` is the points available. A counted indicator has ``lower_threshold`` and
    ``upper_threshold`` as fractions (``Decimal("0.40")`` for 40%), lower strictly below
    upper. A tick-box indicator (``tick_box=True``) has no thresholds. A prevalence-weighted
    indicator names the ``prevalence_register`` whose prevalence adjusts its payment.
    """

    code: str
    max_points: Decimal
    lower_threshold: Decimal | None = None
    upper_threshold: Decimal | None = None
    prevalence_register: str | None = None
    tick_box: bool = False
    description: str = ""
    # Exact integer forms used by the calculation, derived from the fields above:
    # max points = _points_num / _points_den; thresholds = _lower / _scale, _upper / _scale.
    _points_num: int = field(init=False, repr=False, compare=False)
    _points_den: int = field(init=False, repr=False, compare=False)
    _scale: int = field(init=False, repr=False, compare=False)
    _lower: int = field(init=False, repr=False, compare=False)
    _upper: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidValueError("an indicator needs a code")
        points = as_decimal(self.max_points, f"{self.code} maximum points")
        if points < 0:
            raise NegativeValueError(f"{self.code}: maximum points must not be negative")
        if self.prevalence_register == "":
            raise InvalidValueError(f"{self.code}: the prevalence register needs a code")
        object.__setattr__(self, "max_points", points)
        points_num, points_den = points.as_integer_ratio()
        object.__setattr__(self, "_points_num", points_num)
        object.__setattr__(self, "_points_den", points_den)
        if self.tick_box:
            if self.lower_threshold is not None or self.upper_threshold is not None:
                raise InvalidValueError(f"{self.code}: a tick-box indicator has no thresholds")
            for name in ("_scale", "_lower", "_upper"):
                object.__setattr__(self, name, 1)
            return
        if self.lower_threshold is None or self.upper_threshold is None:
            raise InvalidValueError(f"{self.code}: lower and upper thresholds are required")
        lower = as_decimal(self.lower_threshold, f"{self.code} lower threshold")
        upper = as_decimal(self.upper_threshold, f"{self.code} upper threshold")
        for value in (lower, upper):
            if not 0 <= value <= 1:
                raise InvalidValueError(
                    f"{self.code}: thresholds are fractions from 0 to 1 (0.40 for 40%), got {value}"
                )
        if lower >= upper:
            raise ThresholdOrderError(
                f"{self.code}: lower threshold {lower} must be below upper threshold {upper}"
            )
        object.__setattr__(self, "lower_threshold", lower)
        object.__setattr__(self, "upper_threshold", upper)
        lower_num, lower_den = lower.as_integer_ratio()
        upper_num, upper_den = upper.as_integer_ratio()
        scale = lower_den * upper_den
        object.__setattr__(self, "_scale", scale)
        object.__setattr__(self, "_lower", lower_num * upper_den)
        object.__setattr__(self, "_upper", upper_num * lower_den)

    def points_ratio(self, numerator: int, cohort: int) -> tuple[int, int]:
        """Points earned for ``numerator`` out of ``cohort`` as an exact fraction (num, den).

        The points rule in one place: 0 for an empty cohort or at/below the lower threshold,
        the maximum at/above the upper threshold, linear in between.
        """
        if cohort == 0:
            return 0, 1
        scaled = numerator * self._scale
        if scaled <= self._lower * cohort:
            return 0, 1
        if scaled >= self._upper * cohort:
            return self._points_num, self._points_den
        return (
            self._points_num * (scaled - self._lower * cohort),
            self._points_den * cohort * (self._upper - self._lower),
        )


@dataclass(frozen=True, slots=True)
class IndicatorSet:
    """The indicators of one quality service for one financial year."""

    service: str
    year: FinancialYear
    indicators: tuple[Indicator, ...]
    _by_code: Mapping[str, Indicator] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        by_code = {indicator.code: indicator for indicator in self.indicators}
        if len(by_code) != len(self.indicators):
            raise DuplicateEntryError(f"{self.service} {self.year}: an indicator code repeats")
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    def get(self, code: str) -> Indicator:
        """The indicator ``code``; raises :class:`UnknownIndicatorError` if absent."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownIndicatorError(
                f"{self.service} {self.year} has no indicator {code!r}"
            ) from None

    @property
    def max_points(self) -> Decimal:
        """Points available across the set."""
        return sum((i.max_points for i in self.indicators), Decimal(0))


@dataclass(frozen=True, slots=True)
class Achievement:
    """Counts for one counted indicator: numerator, denominator, PCAs and exclusions.

    Raises :class:`NegativeValueError` for a negative count,
    :class:`AdjustmentsExceedDenominatorError` when PCAs plus exclusions exceed the
    denominator and :class:`NumeratorExceedsDenominatorError` when the numerator exceeds the
    cohort (denominator less adjustments).
    """

    indicator_code: str
    numerator: int
    denominator: int
    personalised_care_adjustments: int = 0
    exclusions: int = 0
    cohort: int = field(init=False)

    def __post_init__(self) -> None:
        code = self.indicator_code
        numerator = as_count(self.numerator, f"{code} numerator")
        denominator = as_count(self.denominator, f"{code} denominator")
        adjustments = as_count(
            self.personalised_care_adjustments, f"{code} personalised care adjustments"
        ) + as_count(self.exclusions, f"{code} exclusions")
        if adjustments > denominator:
            raise AdjustmentsExceedDenominatorError(
                f"{code}: PCAs and exclusions ({adjustments}) exceed the denominator "
                f"({denominator})"
            )
        cohort = denominator - adjustments
        if numerator > cohort:
            raise NumeratorExceedsDenominatorError(
                f"{code}: numerator {numerator} exceeds the denominator after adjustments "
                f"({cohort})"
            )
        object.__setattr__(self, "cohort", cohort)


@dataclass(frozen=True, slots=True)
class TickBoxAnswer:
    """The Yes/No of a tick-box indicator; ``None`` (unset) counts as No."""

    indicator_code: str
    answer: bool | None = None

    def __post_init__(self) -> None:
        if self.answer is not None and not isinstance(self.answer, bool):
            raise InvalidValueError(f"{self.indicator_code}: the answer must be Yes, No or unset")


Record = Achievement | TickBoxAnswer


@dataclass(frozen=True, slots=True)
class AchievementSubmission:
    """An organisation's (practice's or network's) data for one achievement date.

    ``list_size`` is the registered list used for the CPI (1 January for QOF);
    ``prevalence_list_size`` the list used for prevalence, when it differs (defaults to
    ``list_size``); ``registers`` maps a register code to its size.
    """

    organisation_code: str
    list_size: int
    registers: Mapping[str, int] = field(default_factory=dict, hash=False)
    records: tuple[Record, ...] = ()
    achievement_date: date | None = None
    prevalence_list_size: int | None = None
    _by_code: Mapping[str, Record] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        code = self.organisation_code
        if as_count(self.list_size, f"{code} list size") == 0:
            raise InvalidValueError(f"{code}: the list size must be positive")
        if self.prevalence_list_size is None:
            object.__setattr__(self, "prevalence_list_size", self.list_size)
        elif as_count(self.prevalence_list_size, f"{code} prevalence list size") == 0:
            raise InvalidValueError(f"{code}: the prevalence list size must be positive")
        registers = dict(self.registers)
        for register, size in registers.items():
            if as_count(size, f"{code} register {register}") > self.list_for_prevalence:
                raise InvalidValueError(f"{code}: register {register} exceeds the list size")
        object.__setattr__(self, "registers", MappingProxyType(registers))
        by_code: dict[str, Record] = {}
        for record in self.records:
            if not isinstance(record, Achievement | TickBoxAnswer):
                raise InvalidValueError(f"{code}: not an achievement record: {record!r}")
            if record.indicator_code in by_code:
                raise DuplicateEntryError(f"{code}: two records for {record.indicator_code}")
            by_code[record.indicator_code] = record
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    @property
    def list_for_prevalence(self) -> int:
        """The list size prevalence is measured against."""
        return self.list_size if self.prevalence_list_size is None else self.prevalence_list_size

    def register_size(self, register: str) -> int:
        """The size of ``register``; raises :class:`InvalidValueError` if not supplied."""
        try:
            return self.registers[register]
        except KeyError:
            raise InvalidValueError(
                f"{self.organisation_code}: no size given for register {register!r}"
            ) from None

    def record_for(self, code: str) -> Record | None:
        """The record for indicator ``code``, if any."""
        return self._by_code.get(code)
