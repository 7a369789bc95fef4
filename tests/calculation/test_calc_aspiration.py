"""Aspiration payments and year-end reconciliation."""

from decimal import Decimal

import pytest

from claims_portal.calculation import (
    FinancialYear,
    FloatNotAllowedError,
    InvalidValueError,
    MissingReferenceValueError,
    NegativeValueError,
    UnknownFinancialYearError,
    calculate_aspiration,
    iif_reference_defaults,
    qof_reference_defaults,
    reconcile_year_end,
)

QOF = qof_reference_defaults()


# Share: 70% of the previous year's achievement payment up to 2023/24, 80% from 2024/25
# (domain brief; GP contract 2024/25).
@pytest.mark.parametrize(
    ("year", "previous", "share", "annual", "first"),
    [
        pytest.param(2023, "50000.00", "0.70", "35000.00", "2916.67", id="2023-24-70pc"),
        pytest.param(2024, "100000.00", "0.80", "80000.00", "6666.67", id="2024-25-80pc"),
        pytest.param(2025, "123456.78", "0.80", "98765.42", "8230.45", id="2025-26-rounded"),
        pytest.param(2024, "0.13", "0.80", "0.10", "0.01", id="tiny-no-negative-instalment"),
        pytest.param(2024, "0.00", "0.80", "0.00", "0.00", id="nothing-last-year"),
    ],
)
def test_aspiration(year: int, previous: str, share: str, annual: str, first: str) -> None:
    result = calculate_aspiration(Decimal(previous), FinancialYear(year), QOF)
    assert result.share == Decimal(share)
    assert str(result.annual_amount) == annual
    assert len(result.instalments) == 12
    assert str(result.instalments[0]) == first
    assert sum(result.instalments, Decimal("0.00")) == result.annual_amount
    monthly = result.annual_amount / 12
    assert all(abs(i - monthly) < Decimal("0.01") for i in result.instalments)
    assert all(i >= 0 for i in result.instalments)
    text = result.explanation.render()
    assert "Annual aspiration" in text
    assert "Mar = " in text


def test_aspiration_instalments_spread_the_pennies() -> None:
    result = calculate_aspiration(Decimal("100000.00"), FinancialYear(2024), QOF)
    assert [str(i) for i in result.instalments[:3]] == ["6666.67", "6666.66", "6666.67"]


@pytest.mark.parametrize(
    ("previous", "year", "reference", "error"),
    [
        pytest.param(Decimal(1), FinancialYear(2019), QOF, UnknownFinancialYearError, id="year"),
        pytest.param(
            Decimal(1),
            FinancialYear(2024),
            iif_reference_defaults(),
            MissingReferenceValueError,
            id="no-share",
        ),
        pytest.param(Decimal(-1), FinancialYear(2024), QOF, NegativeValueError, id="negative"),
        pytest.param(1000.0, FinancialYear(2024), QOF, FloatNotAllowedError, id="float"),
        pytest.param(Decimal("0.001"), FinancialYear(2024), QOF, InvalidValueError, id="mil"),
    ],
)
def test_aspiration_errors(
    previous: Decimal, year: FinancialYear, reference: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        calculate_aspiration(previous, year, reference)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("achieved", "paid", "balance", "note"),
    [
        pytest.param("90000.00", "80000.00", "10000.00", "", id="owed-to-practice"),
        pytest.param("70000.00", "80000.00", "-10000.00", "recovered", id="negative-recovered"),
        pytest.param("80000.00", "80000.00", "0.00", "", id="exactly-paid"),
    ],
)
def test_reconciliation(achieved: str, paid: str, balance: str, note: str) -> None:
    result = reconcile_year_end(Decimal(achieved), Decimal(paid))
    assert str(result.balance) == balance
    step = result.explanation.steps[0]
    assert step.result == result.balance
    assert (note in step.note) if note else step.note == ""


@pytest.mark.parametrize(
    ("achieved", "paid", "error"),
    [
        pytest.param(Decimal(-1), Decimal(0), NegativeValueError, id="negative-achievement"),
        pytest.param(Decimal(1), Decimal("-0.01"), NegativeValueError, id="negative-paid"),
        pytest.param(Decimal("1.001"), Decimal(0), InvalidValueError, id="fraction-of-penny"),
    ],
)
def test_reconciliation_errors(achieved: Decimal, paid: Decimal, error: type[Exception]) -> None:
    with pytest.raises(error):
        reconcile_year_end(achieved, paid)
