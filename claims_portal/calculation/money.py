"""Money and the one rounding rule.

THE ROUNDING RULE (stated here once; every module uses these functions):

    An amount of money is the exact value of its formula, rounded once to the penny,
    half up: a remainder of exactly half a penny goes away from zero (1.005 -> 1.01,
    -1.005 -> -1.01). Figures that are not money (achievement, points, CPI, prevalence,
    prevalence factor) are never rounded inside a calculation. A total is the sum of
    already-rounded lines, so lines always add up exactly to their total.

``round_money`` applies the rule to a ``Decimal``; ``round_ratio`` applies the same rule to an
exact fraction given as two integers, which is how QOF payments are computed so that no
intermediate figure is ever rounded. Binary floats are refused everywhere
(:class:`~claims_portal.calculation.errors.FloatNotAllowedError`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from typing import TypeAlias

from .errors import FloatNotAllowedError, InvalidValueError, NegativeValueError

__all__ = [
    "DISPLAY_CONTEXT",
    "PENNY",
    "ZERO_MONEY",
    "Money",
    "as_count",
    "as_decimal",
    "as_money_amount",
    "pennies_to_money",
    "round_money",
    "round_ratio",
    "round_ratio_to_pennies",
]

Money: TypeAlias = Decimal
"""Pounds as a ``Decimal`` with exactly two places once rounded (``Decimal('10.06')``)."""

PENNY = Decimal("0.01")
_PENNY_EXACT = Decimal("0.01")  # x whole pence: exact below 10**28 pence in any context
ZERO_MONEY = Decimal("0.00")

# Used to quantize: 60 digits so that no realistic amount can overflow the quantize step.
_MONEY_CONTEXT = Context(
    prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)

DISPLAY_CONTEXT = Context(prec=28, traps=[InvalidOperation, DivisionByZero, Overflow])
"""Context used only to show non-money figures (achievement, points, CPI) in results and
explanations: 28 significant digits. Payments never depend on it."""


def as_decimal(value: object, name: str) -> Decimal:
    """Return ``value`` as a finite ``Decimal``.

    Accepts ``Decimal`` and ``int`` (not ``bool``). Raises :class:`FloatNotAllowedError` for a
    float and :class:`InvalidValueError` for anything else or a NaN/infinity.
    """
    if isinstance(value, float):
        raise FloatNotAllowedError(f"{name} must be a Decimal, not the float {value!r}")
    if type(value) is int:
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise InvalidValueError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise InvalidValueError(f"{name} must be a finite number, got {value}")
    return value


def as_money_amount(value: object, name: str, *, allow_negative: bool = False) -> Money:
    """Return ``value`` as an amount of money in whole pence (two places).

    Raises :class:`NegativeValueError` for a negative amount (unless ``allow_negative``) and
    :class:`InvalidValueError` for fractions of a penny, besides the errors of ``as_decimal``.
    """
    amount = as_decimal(value, name)
    if amount < 0 and not allow_negative:
        raise NegativeValueError(f"{name} must not be negative, got {amount}")
    rounded = amount.quantize(PENNY, context=_MONEY_CONTEXT)
    if rounded != amount:
        raise InvalidValueError(f"{name} must be a whole number of pence, got {amount}")
    return rounded


def as_count(value: object, name: str) -> int:
    """Return ``value`` as a non-negative whole count.

    Raises :class:`FloatNotAllowedError` for a float, :class:`InvalidValueError` for another
    non-integer (``bool`` included) and :class:`NegativeValueError` below zero.
    """
    if isinstance(value, float):
        raise FloatNotAllowedError(f"{name} must be a whole number, not the float {value!r}")
    if type(value) is not int:
        raise InvalidValueError(f"{name} must be a whole number, got {type(value).__name__}")
    if value < 0:
        raise NegativeValueError(f"{name} must not be negative, got {value}")
    return value


def round_money(value: Decimal | int) -> Money:
    """Round an exact amount to the penny, half up (away from zero). THE rounding rule."""
    rounded = as_decimal(value, "amount").quantize(PENNY, context=_MONEY_CONTEXT)
    # -0.004 rounds to zero: show it as 0.00, never as -0.00.
    return rounded if rounded else ZERO_MONEY


def pennies_to_money(pennies: int) -> Money:
    """Turn a whole number of pence into pounds (``1006`` -> ``Decimal('10.06')``)."""
    return Decimal(pennies) * _PENNY_EXACT


def round_ratio_to_pennies(numerator: int, denominator: int) -> int:
    """The rounding rule on an exact, non-negative fraction of pounds, giving whole pence.

    ``numerator`` >= 0 and ``denominator`` > 0 (callers guarantee it; this runs once per
    indicator in a national run, so it does not check).
    """
    return (200 * numerator + denominator) // (2 * denominator)


def round_ratio(numerator: int, denominator: int) -> Money:
    """Round the exact fraction ``numerator / denominator`` pounds to the penny, half up.

    The same rule as :func:`round_money`, applied without first turning the fraction into a
    (possibly inexact) decimal. ``denominator`` must be positive.
    """
    if denominator <= 0:
        raise InvalidValueError(f"denominator must be positive, got {denominator}")
    if numerator < 0:
        return pennies_to_money(-round_ratio_to_pennies(-numerator, denominator))
    return pennies_to_money(round_ratio_to_pennies(numerator, denominator))
