"""Financial years, periods and yearly reference data."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    DuplicateEntryError,
    FinancialYear,
    InvalidDateRangeError,
    InvalidFinancialYearError,
    InvalidValueError,
    MissingReferenceValueError,
    NegativeValueError,
    Period,
    ReferenceData,
    UnknownFinancialYearError,
    YearlyReference,
    iif_reference_defaults,
    qof_reference_defaults,
)

FY2024 = FinancialYear(2024)


@pytest.mark.parametrize(
    ("label", "start_year"),
    [
        pytest.param("2024/25", 2024, id="2024-25"),
        pytest.param("1999/00", 1999, id="century-wrap"),
        pytest.param("2099/00", 2099, id="century-wrap-2099"),
    ],
)
def test_financial_year_labels(label: str, start_year: int) -> None:
    year = FinancialYear.from_label(label)
    assert year.start_year == start_year
    assert year.label == label
    assert str(year) == label


@pytest.mark.parametrize(
    "label", ["2024/26", "2024-25", "24/25", "2024/2025", "", "abcd/ef"], ids=repr
)
def test_financial_year_refuses_bad_labels(label: str) -> None:
    with pytest.raises(InvalidFinancialYearError):
        FinancialYear.from_label(label)


@pytest.mark.parametrize("start", [1899, 9999, "2024"], ids=repr)
def test_financial_year_refuses_bad_start(start: object) -> None:
    with pytest.raises(InvalidFinancialYearError):
        FinancialYear(start)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "label"),
    [
        pytest.param(date(2024, 4, 1), "2024/25", id="first-day"),
        pytest.param(date(2025, 3, 31), "2024/25", id="last-day"),
        pytest.param(date(2025, 4, 1), "2025/26", id="next-year"),
        pytest.param(date(2025, 1, 1), "2024/25", id="january"),
    ],
)
def test_financial_year_from_date(day: date, label: str) -> None:
    assert FinancialYear.from_date(day).label == label


def test_financial_year_bounds_and_order() -> None:
    assert FY2024.start == date(2024, 4, 1)
    assert FY2024.end == date(2025, 3, 31)
    assert FY2024.contains(date(2024, 12, 25))
    assert not FY2024.contains(date(2024, 3, 31))
    assert FY2024.previous() == FinancialYear(2023)
    assert FinancialYear(2023) < FY2024


def test_period() -> None:
    period = Period(date(2024, 4, 1), date(2024, 6, 30))
    assert period.financial_year == FY2024
    assert str(period) == "2024-04-01 to 2024-06-30"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(date(2024, 5, 1), date(2024, 4, 30), id="ends-before-start"),
        pytest.param(date(2025, 3, 1), date(2025, 4, 30), id="spans-two-years"),
    ],
)
def test_period_errors(start: date, end: date) -> None:
    with pytest.raises(InvalidDateRangeError):
        Period(start, end)


@pytest.mark.parametrize(
    ("year", "ppp", "size", "share"),
    [
        pytest.param(2022, "207.56", 9374, "0.70", id="2022-23"),
        pytest.param(2023, "213.43", 9639, "0.70", id="2023-24"),
        pytest.param(2024, "220.62", 9964, "0.80", id="2024-25"),
        pytest.param(2025, "225.49", None, "0.80", id="2025-26-list-size-unpublished"),
    ],
)
def test_qof_defaults_are_the_public_figures(
    year: int, ppp: str, size: int | None, share: str
) -> None:
    reference = qof_reference_defaults().for_year(FinancialYear(year))
    assert reference.pounds_per_point == Decimal(ppp)
    assert reference.national_average_list_size == size
    assert reference.aspiration_share == Decimal(share)


def test_missing_reference_values_raise_instead_of_inventing() -> None:
    reference = qof_reference_defaults().for_year(FinancialYear(2025))
    with pytest.raises(MissingReferenceValueError, match="not published"):
        reference.average_list_size()
    with pytest.raises(MissingReferenceValueError, match="DEM"):
        reference.prevalence_for("DEM")
    iif = iif_reference_defaults().for_year(FY2024)
    assert iif.pounds_per_point == Decimal("198.00")
    with pytest.raises(MissingReferenceValueError, match="aspiration"):
        iif.share_for_aspiration()


def test_supplied_values_are_used() -> None:
    reference = (
        qof_reference_defaults()
        .for_year(FinancialYear(2025))
        .with_national_average_list_size(10_100)
        .with_prevalence({"DEM": Decimal("0.0078")})
        .with_prevalence({"AF": Decimal("0.021")})
    )
    assert reference.average_list_size() == 10_100
    assert reference.prevalence_for("DEM") == Decimal("0.0078")
    assert reference.prevalence_for("AF") == Decimal("0.021")
    assert reference.share_for_aspiration() == Decimal("0.80")


def test_unknown_financial_year() -> None:
    with pytest.raises(UnknownFinancialYearError, match="2019/20"):
        qof_reference_defaults().for_year(FinancialYear(2019))
    with pytest.raises(UnknownFinancialYearError, match="known: none"):
        ReferenceData("EMPTY", ()).for_year(FY2024)


def test_with_year_adds_and_replaces() -> None:
    data = qof_reference_defaults()
    added = data.with_year(YearlyReference(FinancialYear(2020), Decimal("194.83"), 8799))
    assert added.for_year(FinancialYear(2020)).national_average_list_size == 8799
    assert [r.year.start_year for r in added.years] == [2020, 2022, 2023, 2024, 2025]
    replaced = added.with_year(YearlyReference(FinancialYear(2020), Decimal("1.00"), 1))
    assert replaced.for_year(FinancialYear(2020)).pounds_per_point == Decimal("1.00")
    assert len(replaced.years) == len(added.years)


def test_duplicate_years_are_refused() -> None:
    row = YearlyReference(FY2024, Decimal("1.00"))
    with pytest.raises(DuplicateEntryError):
        ReferenceData("X", (row, row))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"pounds_per_point": Decimal("0")}, InvalidValueError, id="zero-ppp"),
        pytest.param({"pounds_per_point": Decimal("-1")}, NegativeValueError, id="negative-ppp"),
        pytest.param({"pounds_per_point": 207.56}, InvalidValueError, id="float-ppp"),
        pytest.param({"national_average_list_size": 0}, InvalidValueError, id="zero-list"),
        pytest.param({"national_average_list_size": -5}, NegativeValueError, id="negative-list"),
        pytest.param({"aspiration_share": Decimal("1.2")}, InvalidValueError, id="share-above-1"),
        pytest.param({"aspiration_share": Decimal("0")}, InvalidValueError, id="share-zero"),
        pytest.param(
            {"national_prevalence": {"AF": Decimal("0")}}, InvalidValueError, id="prevalence-0"
        ),
    ],
)
def test_yearly_reference_validation(kwargs: dict[str, object], error: type[Exception]) -> None:
    values: dict[str, object] = {"year": FY2024, "pounds_per_point": Decimal("220.62")}
    values.update(kwargs)
    with pytest.raises(error):
        YearlyReference(**values)  # type: ignore[arg-type]
