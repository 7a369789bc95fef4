"""Errors raised by the calculation core.

Every rule refuses bad input with a specific error instead of returning a wrong number. All
errors derive from :class:`CalculationError` (itself a ``ValueError``), so a caller can catch
the family at once and still tell the cases apart:

- :class:`InvalidValueError` - a value outside its allowed domain (wrong type, not a whole
  number of pence, zero list size, share outside 0-1 ...). Subclasses name the common cases:
  :class:`FloatNotAllowedError`, :class:`NegativeValueError`,
  :class:`NumeratorExceedsDenominatorError`, :class:`AdjustmentsExceedDenominatorError`,
  :class:`ThresholdOrderError`, :class:`InvalidDateRangeError`,
  :class:`InvalidFinancialYearError`, :class:`DuplicateEntryError`,
  :class:`ParticipationOnlyError`, :class:`IndicatorKindError`.
- :class:`UnknownFinancialYearError` - no reference values are held for the year asked for.
- :class:`MissingReferenceValueError` - the year is known but a needed figure is not (for
  example the 2025/26 national average practice list size, which is not published).
- :class:`NoTariffInForceError` - no tariff or fee is in force on the date that prices a claim.
- :class:`UnknownIndicatorError` - achievement data name an indicator the service lacks.
- :class:`IncompleteNetworkDataError` - a network (PCN) calculation was asked for before every
  member practice's data were in ("Awaiting Network Achievement" in CQRS).
"""

from __future__ import annotations

__all__ = [
    "AdjustmentsExceedDenominatorError",
    "CalculationError",
    "DuplicateEntryError",
    "FloatNotAllowedError",
    "IncompleteNetworkDataError",
    "IndicatorKindError",
    "InvalidDateRangeError",
    "InvalidFinancialYearError",
    "InvalidValueError",
    "MissingReferenceValueError",
    "NegativeValueError",
    "NoTariffInForceError",
    "NumeratorExceedsDenominatorError",
    "ParticipationOnlyError",
    "ThresholdOrderError",
    "UnknownFinancialYearError",
    "UnknownIndicatorError",
]


class CalculationError(ValueError):
    """Base class of every error the calculation core raises."""


class InvalidValueError(CalculationError):
    """A value is outside its allowed domain (type, range or precision)."""


class FloatNotAllowedError(InvalidValueError, TypeError):
    """A binary float was given where money or a rate is expected; pass a ``Decimal``."""


class NegativeValueError(InvalidValueError):
    """A count, amount or rate that cannot be negative was negative."""


class NumeratorExceedsDenominatorError(InvalidValueError):
    """An indicator numerator is larger than its denominator after adjustments."""


class AdjustmentsExceedDenominatorError(InvalidValueError):
    """Personalised care adjustments plus exclusions are larger than the denominator."""


class ThresholdOrderError(InvalidValueError):
    """An indicator's lower threshold is not strictly below its upper threshold."""


class InvalidDateRangeError(InvalidValueError):
    """A period ends before it starts, or spans two financial years where it may not."""


class InvalidFinancialYearError(InvalidValueError):
    """A financial year label is not of the form ``2024/25``."""


class DuplicateEntryError(InvalidValueError):
    """The same indicator, component, rate date or year was given twice."""


class ParticipationOnlyError(InvalidValueError):
    """Payment lines were given for a participation-only scheme."""


class IndicatorKindError(InvalidValueError):
    """Counts were given for a tick-box indicator, or a Yes/No for a counted one."""


class UnknownFinancialYearError(CalculationError):
    """No reference values (pounds per point, list size ...) are held for the year."""


class MissingReferenceValueError(CalculationError):
    """The year is known, but a reference figure the calculation needs is not supplied."""


class NoTariffInForceError(CalculationError):
    """No tariff or fee is in force on the date that prices the claim."""


class UnknownIndicatorError(CalculationError):
    """Achievement data name an indicator that the indicator set does not contain."""


class IncompleteNetworkDataError(CalculationError):
    """A network calculation was requested while member practices' data are missing."""
