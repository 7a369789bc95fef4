"""Financial years, periods and the yearly reference values the calculations use.

Reference values (pounds per point, national average list size, national prevalence per
register, aspiration share) are data with a financial year, never constants in the rules.
:func:`qof_reference_defaults` and :func:`iif_reference_defaults` hold the public figures
from the domain brief; callers replace or extend them with :meth:`ReferenceData.with_year`.

Public figures (QOF, NHS England / CQRS FAQ and GP contract letters):

=========  ================  =============================  ================
Year       Pounds per point  National average list size     Aspiration share
=========  ================  =============================  ================
2022/23    207.56            9,374                          70%
2023/24    213.43            9,639                          70%
2024/25    220.62            9,964                          80%
2025/26    225.49            not published: must be given   80%
=========  ================  =============================  ================

National prevalence per register is published after each year end, so it is always passed
in (``YearlyReference.national_prevalence``). A figure that is needed but missing raises
:class:`~claims_portal.calculation.errors.MissingReferenceValueError`; nothing is invented.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from .errors import (
    DuplicateEntryError,
    InvalidDateRangeError,
    InvalidFinancialYearError,
    InvalidValueError,
    MissingReferenceValueError,
    UnknownFinancialYearError,
)
from .money import as_count, as_decimal, as_money_amount

__all__ = [
    "FinancialYear",
    "Period",
    "ReferenceData",
    "YearlyReference",
    "iif_reference_defaults",
    "qof_reference_defaults",
]

_LABEL = re.compile(r"^(\d{4})/(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class FinancialYear:
    """An NHS financial year, 1 April to 31 March, named like ``2024/25``."""

    start_year: int

    def __post_init__(self) -> None:
        if type(self.start_year) is not int or not 1900 <= self.start_year <= 9998:
            raise InvalidFinancialYearError(f"not a financial year start: {self.start_year!r}")

    @classmethod
    def from_label(cls, label: str) -> FinancialYear:
        """Parse ``"2024/25"``; raises :class:`InvalidFinancialYearError` otherwise."""
        match = _LABEL.match(label)
        if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
            raise InvalidFinancialYearError(f"financial year must look like 2024/25: {label!r}")
        return cls(int(match[1]))

    @classmethod
    def from_date(cls, day: date) -> FinancialYear:
        """The financial year that contains ``day``."""
        return cls(day.year if day.month >= 4 else day.year - 1)

    @property
    def label(self) -> str:
        """``"2024/25"``."""
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        """1 April."""
        return date(self.start_year, 4, 1)

    @property
    def end(self) -> date:
        """31 March of the following calendar year."""
        return date(self.start_year + 1, 3, 31)

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls in this financial year."""
        return self.start <= day <= self.end

    def previous(self) -> FinancialYear:
        """The year before."""
        return FinancialYear(self.start_year - 1)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Period:
    """A claim or achievement period, both ends inclusive, inside one financial year."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidDateRangeError(f"period ends {self.end} before it starts {self.start}")
        if not FinancialYear.from_date(self.start).contains(self.end):
            raise InvalidDateRangeError(
                f"period {self.start} to {self.end} spans two financial years; split it"
            )

    @property
    def financial_year(self) -> FinancialYear:
        """The financial year the period falls in."""
        return FinancialYear.from_date(self.start)

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _fraction(value: object, name: str) -> Decimal:
    number = as_decimal(value, name)
    if not 0 < number <= 1:
        raise InvalidValueError(f"{name} must be above 0 and at most 1, got {number}")
    return number


@dataclass(frozen=True, slots=True)
class YearlyReference:
    """The reference values of one scheme for one financial year.

    ``pounds_per_point`` is in pounds; ``national_average_list_size`` a whole number of
    patients (``None`` when not published); ``aspiration_share`` a fraction (``0.80``);
    ``national_prevalence`` maps a register code to a fraction (``Decimal("0.0213")``).
    """

    year: FinancialYear
    pounds_per_point: Decimal
    national_average_list_size: int | None = None
    aspiration_share: Decimal | None = None
    national_prevalence: Mapping[str, Decimal] = field(default_factory=dict, hash=False)
    source: str = ""

    def __post_init__(self) -> None:
        ppp = as_money_amount(self.pounds_per_point, "pounds per point")
        if ppp <= 0:
            raise InvalidValueError(f"pounds per point must be positive, got {ppp}")
        object.__setattr__(self, "pounds_per_point", ppp)
        if self.national_average_list_size is not None:
            size = as_count(self.national_average_list_size, "national average list size")
            if size == 0:
                raise InvalidValueError("national average list size must be positive")
        if self.aspiration_share is not None:
            share = _fraction(self.aspiration_share, "aspiration share")
            object.__setattr__(self, "aspiration_share", share)
        prevalence = {
            register: _fraction(value, f"national prevalence of {register}")
            for register, value in self.national_prevalence.items()
        }
        object.__setattr__(self, "national_prevalence", MappingProxyType(prevalence))

    def average_list_size(self) -> int:
        """The national average list size; raises if it has not been supplied."""
        if self.national_average_list_size is None:
            raise MissingReferenceValueError(
                f"the national average list size for {self.year} is not known (not published);"
                " supply it with with_national_average_list_size()"
            )
        return self.national_average_list_size

    def prevalence_for(self, register: str) -> Decimal:
        """National prevalence of ``register``; raises if it has not been supplied."""
        try:
            return self.national_prevalence[register]
        except KeyError:
            raise MissingReferenceValueError(
                f"no national prevalence for register {register!r} in {self.year}"
            ) from None

    def share_for_aspiration(self) -> Decimal:
        """The aspiration share; raises if the scheme has none for this year."""
        if self.aspiration_share is None:
            raise MissingReferenceValueError(f"no aspiration share is set for {self.year}")
        return self.aspiration_share

    def with_national_average_list_size(self, size: int) -> YearlyReference:
        """A copy with the national average list size set."""
        return replace(self, national_average_list_size=size)

    def with_prevalence(self, prevalence: Mapping[str, Decimal]) -> YearlyReference:
        """A copy with these national prevalences added (replacing any of the same register)."""
        return replace(self, national_prevalence={**self.national_prevalence, **prevalence})


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Yearly reference values for one scheme (QOF, IIF ...), looked up by financial year."""

    scheme: str
    years: tuple[YearlyReference, ...]
    _by_year: Mapping[FinancialYear, YearlyReference] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_year: dict[FinancialYear, YearlyReference] = {}
        for reference in self.years:
            if reference.year in by_year:
                raise DuplicateEntryError(f"{self.scheme}: two sets of values for {reference.year}")
            by_year[reference.year] = reference
        object.__setattr__(self, "years", tuple(sorted(by_year.values(), key=lambda r: r.year)))
        object.__setattr__(self, "_by_year", MappingProxyType(by_year))

    def for_year(self, year: FinancialYear) -> YearlyReference:
        """The values for ``year``; raises :class:`UnknownFinancialYearError` if absent."""
        try:
            return self._by_year[year]
        except KeyError:
            known = ", ".join(str(y) for y in self._by_year) or "none"
            raise UnknownFinancialYearError(
                f"{self.scheme}: no reference values for {year} (known: {known})"
            ) from None

    def with_year(self, reference: YearlyReference) -> ReferenceData:
        """A copy holding ``reference`` for its year (added, or replacing the old values)."""
        kept: Iterable[YearlyReference] = (r for r in self.years if r.year != reference.year)
        return ReferenceData(self.scheme, (*kept, reference))


def qof_reference_defaults() -> ReferenceData:
    """QOF public figures from the domain brief (national prevalence to be added per year)."""
    source = "NHS England QOF guidance, CQRS QOF FAQ and GP contract letters"
    rows = (
        (2022, "207.56", 9374, "0.70"),
        (2023, "213.43", 9639, "0.70"),
        (2024, "220.62", 9964, "0.80"),
        (2025, "225.49", None, "0.80"),
    )
    return ReferenceData(
        "QOF",
        tuple(
            YearlyReference(
                year=FinancialYear(start),
                pounds_per_point=Decimal(ppp),
                national_average_list_size=size,
                aspiration_share=Decimal(share),
                source=source,
            )
            for start, ppp, size, share in rows
        ),
    )


def iif_reference_defaults() -> ReferenceData:
    """Network (IIF) public figures: 2024/25 pounds per point 198.00.

    The national mean PCN list size and prevalences are not in the domain brief, so they
    must be supplied before a payment can be calculated.
    """
    return ReferenceData(
        "IIF",
        (
            YearlyReference(
                year=FinancialYear(2024),
                pounds_per_point=Decimal("198.00"),
                source="Network Contract DES 2024/25, Investment and Impact Fund guidance",
            ),
        ),
    )
