"""The one rounding rule and the money helpers."""

from decimal import Decimal

import pytest

from claims_portal.calculation import (
    CalculationError,
    FloatNotAllowedError,
    InvalidValueError,
    NegativeValueError,
    round_money,
    round_ratio,
)
from claims_portal.calculation.money import (
    as_count,
    as_decimal,
    as_money_amount,
    pennies_to_money,
    round_ratio_to_pennies,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Decimal("1.005"), "1.01", id="half-penny-goes-up"),
        pytest.param(Decimal("1.0049999"), "1.00", id="below-half-goes-down"),
        pytest.param(Decimal("2.675"), "2.68", id="binary-float-trap-value-exact-here"),
        pytest.param(Decimal("-1.005"), "-1.01", id="negative-half-goes-away-from-zero"),
        pytest.param(Decimal("-0.004"), "0.00", id="negative-rounding-to-zero-is-plain-zero"),
        pytest.param(Decimal("10"), "10.00", id="whole-pounds-get-two-places"),
        pytest.param(7, "7.00", id="int-accepted"),
        pytest.param(Decimal("123456789012345678.125"), "123456789012345678.13", id="large"),
    ],
)
def test_round_money_rounds_half_up_to_the_penny(value: Decimal | int, expected: str) -> None:
    result = round_money(value)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        pytest.param(1, 3, "0.33", id="third"),
        pytest.param(2, 3, "0.67", id="two-thirds"),
        pytest.param(1, 200, "0.01", id="exact-half-penny-up"),
        pytest.param(-1, 200, "-0.01", id="negative-half-penny-away-from-zero"),
        pytest.param(-1, 300, "0.00", id="tiny-negative-is-zero"),
        pytest.param(0, 7, "0.00", id="zero"),
        pytest.param(100_603, 10_000, "10.06", id="above-half"),
    ],
)
def test_round_ratio_applies_the_same_rule_to_exact_fractions(
    numerator: int, denominator: int, expected: str
) -> None:
    assert str(round_ratio(numerator, denominator)) == expected


def test_round_ratio_refuses_a_non_positive_denominator() -> None:
    with pytest.raises(InvalidValueError, match="denominator must be positive"):
        round_ratio(1, 0)


def test_pennies_helpers() -> None:
    assert str(pennies_to_money(1006)) == "10.06"
    assert str(pennies_to_money(0)) == "0.00"
    assert round_ratio_to_pennies(1, 200) == 1


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param(1.5, FloatNotAllowedError, id="float"),
        pytest.param("1.50", InvalidValueError, id="string"),
        pytest.param(True, InvalidValueError, id="bool"),
        pytest.param(Decimal("NaN"), InvalidValueError, id="nan"),
        pytest.param(Decimal("Infinity"), InvalidValueError, id="infinity"),
    ],
)
def test_round_money_refuses_what_is_not_an_exact_number(
    value: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        round_money(value)  # type: ignore[arg-type]


def test_float_error_is_also_a_type_error_and_a_calculation_error() -> None:
    with pytest.raises(TypeError):
        as_decimal(0.1, "rate")
    assert issubclass(FloatNotAllowedError, CalculationError)


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "message"),
    [
        pytest.param(Decimal("-1.00"), {}, NegativeValueError, "negative", id="negative"),
        pytest.param(Decimal("1.001"), {}, InvalidValueError, "whole number of pence", id="mil"),
        pytest.param(0.5, {}, FloatNotAllowedError, "float", id="float"),
    ],
)
def test_as_money_amount_errors(
    value: object, kwargs: dict[str, bool], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        as_money_amount(value, "amount", **kwargs)


def test_as_money_amount_accepts_negative_when_allowed_and_normalises_places() -> None:
    assert str(as_money_amount(Decimal("-2.5"), "x", allow_negative=True)) == "-2.50"
    assert str(as_money_amount(3, "x")) == "3.00"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        pytest.param(-1, NegativeValueError, id="negative"),
        pytest.param(1.0, FloatNotAllowedError, id="float"),
        pytest.param(True, InvalidValueError, id="bool"),
        pytest.param(Decimal(1), InvalidValueError, id="decimal"),
    ],
)
def test_as_count_errors(value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        as_count(value, "count")


def test_as_count_accepts_zero() -> None:
    assert as_count(0, "count") == 0
