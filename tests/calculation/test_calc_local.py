"""Local claims: tariffs, caps, totals, participation-only schemes."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    Cap,
    CapMeasure,
    CapScope,
    ClaimLine,
    ComponentTerms,
    DuplicateEntryError,
    FloatNotAllowedError,
    InvalidValueError,
    LocalClaim,
    NegativeValueError,
    NoTariffInForceError,
    ParticipationOnlyError,
    Period,
    PriorClaims,
    Rate,
    RateSchedule,
    calculate_local_claim,
)

Q1 = Period(date(2024, 4, 1), date(2024, 6, 30))
TARIFF = RateSchedule((Rate(Decimal("25.00"), date(2024, 4, 1)),))


def component(*caps: Cap, tariffs: RateSchedule = TARIFF, code: str = "HC") -> ComponentTerms:
    return ComponentTerms(code, "health checks completed", tariffs, caps)


def units_cap(scope: CapScope, limit: int) -> Cap:
    return Cap(scope, CapMeasure.UNITS, Decimal(limit))


def money_cap(scope: CapScope, limit: str) -> Cap:
    return Cap(scope, CapMeasure.MONEY, Decimal(limit))


@pytest.mark.parametrize(
    ("caps", "units", "prior", "paid_units", "value", "capped_by"),
    [
        pytest.param((), 10, PriorClaims(), 10, "250.00", None, id="no-caps"),
        pytest.param((), 0, PriorClaims(), 0, "0.00", None, id="zero-units"),
        pytest.param(
            (units_cap(CapScope.CLAIM, 100),),
            100,
            PriorClaims(),
            100,
            "2500.00",
            None,
            id="claim-unit-cap-exactly-reached-does-not-bite",
        ),
        pytest.param(
            (units_cap(CapScope.CLAIM, 100),),
            120,
            PriorClaims(),
            100,
            "2500.00",
            "per-claim unit cap of 100",
            id="claim-unit-cap-bites",
        ),
        pytest.param(
            (units_cap(CapScope.PERIOD, 100),),
            35,
            PriorClaims(units_in_period=80),
            20,
            "500.00",
            "per-period unit cap of 100",
            id="period-unit-cap-with-prior",
        ),
        pytest.param(
            (units_cap(CapScope.PERIOD, 100),),
            20,
            PriorClaims(units_in_period=80),
            20,
            "500.00",
            None,
            id="period-unit-cap-exactly-reached",
        ),
        pytest.param(
            (units_cap(CapScope.FINANCIAL_YEAR, 400),),
            50,
            PriorClaims(units_in_year=420),
            0,
            "0.00",
            "per-financial-year unit cap of 400",
            id="year-cap-already-exceeded",
        ),
        pytest.param(
            (money_cap(CapScope.CLAIM, "1000.00"),),
            50,
            PriorClaims(),
            50,
            "1000.00",
            "per-claim money cap of £1,000.00",
            id="claim-money-cap-units-stay",
        ),
        pytest.param(
            (money_cap(CapScope.FINANCIAL_YEAR, "5000.00"),),
            14,
            PriorClaims(value_in_year=Decimal("4800.00")),
            14,
            "200.00",
            "per-financial-year money cap of £5,000.00",
            id="year-money-cap-with-prior",
        ),
        pytest.param(
            (money_cap(CapScope.PERIOD, "600.00"),),
            24,
            PriorClaims(value_in_period=Decimal("0.00")),
            24,
            "600.00",
            None,
            id="period-money-cap-exactly-reached",
        ),
        pytest.param(
            (money_cap(CapScope.PERIOD, "600.00"), units_cap(CapScope.CLAIM, 30)),
            40,
            PriorClaims(value_in_period=Decimal("100.00")),
            30,
            "500.00",
            "per-period money cap of £600.00",
            id="unit-cap-first-then-money-cap",
        ),
    ],
)
def test_claim_line_caps(
    caps: tuple[Cap, ...],
    units: int,
    prior: PriorClaims,
    paid_units: int,
    value: str,
    capped_by: str | None,
) -> None:
    result = calculate_local_claim(LocalClaim(Q1, (ClaimLine(component(*caps), units, prior),)))
    line = result.lines[0]
    assert line.requested_units == units
    assert line.gross_value == Decimal(units) * Decimal("25.00")
    assert line.payable_units == paid_units
    assert line.value == Decimal(value)
    assert result.total == Decimal(value)
    assert line.capped_amount == line.gross_value - line.value
    if capped_by is None:
        assert not line.capped
        assert line.binding_cap is None
        assert line.cap_reason is None
    else:
        assert line.capped
        assert line.binding_cap is not None
        assert line.binding_cap.describe() == capped_by
        assert line.cap_reason is not None
        assert capped_by in line.cap_reason


def test_both_caps_reported_with_reasons() -> None:
    caps = (units_cap(CapScope.PERIOD, 100), money_cap(CapScope.FINANCIAL_YEAR, "5000.00"))
    prior = PriorClaims(units_in_period=80, value_in_year=Decimal("4800.00"))
    line = calculate_local_claim(LocalClaim(Q1, (ClaimLine(component(*caps), 35, prior),))).lines[0]
    assert [a.cap.measure for a in line.cap_applications] == [CapMeasure.UNITS, CapMeasure.MONEY]
    assert line.cap_reason == (
        "Reduced by the per-period unit cap of 100: 80 units already claimed this period, "
        "20 units left; paid 20 units of the 35 units claimed. "
        "Reduced by the per-financial-year money cap of £5,000.00: £4,800.00 already claimed "
        "this financial year, £200.00 left; paid £200.00 of the £500.00 claimed."
    )
    text = line.explanation.render()
    assert "Cap: per-period unit cap of 100" in text
    assert "Line value" in text
    assert line.value == Decimal("200.00")
    assert line.payable_units == 20


def test_claim_scope_reason_has_no_prior() -> None:
    line = calculate_local_claim(
        LocalClaim(Q1, (ClaimLine(component(units_cap(CapScope.CLAIM, 5)), 6),))
    ).lines[0]
    assert line.cap_reason == (
        "Reduced by the per-claim unit cap of 5: 5 units left; paid 5 units of the 6 units claimed."
    )


@pytest.mark.parametrize(
    ("units", "tariff", "value"),
    [
        pytest.param(3, "0.125", "0.38", id="fractional-penny-tariff-half-up"),
        pytest.param(1, "0.005", "0.01", id="half-penny"),
        pytest.param(7, "33.333", "233.33", id="many-places"),
    ],
)
def test_each_line_is_rounded_half_up(units: int, tariff: str, value: str) -> None:
    schedule = RateSchedule((Rate(Decimal(tariff), date(2024, 4, 1)),))
    line = calculate_local_claim(
        LocalClaim(Q1, (ClaimLine(component(tariffs=schedule), units),))
    ).lines[0]
    assert str(line.value) == value


def test_claim_total_is_sum_of_rounded_lines() -> None:
    schedule = RateSchedule((Rate(Decimal("0.125"), date(2024, 4, 1)),))
    lines = tuple(
        ClaimLine(component(tariffs=schedule, code=f"C{i}"), 3) for i in range(3)
    )  # each 0.375 -> 0.38; the total is 1.14, not round(1.125) = 1.13
    result = calculate_local_claim(LocalClaim(Q1, lines))
    assert result.total == Decimal("1.14")
    assert "Claim total" in result.explanation.render()


def test_tariff_changing_inside_the_period_applies_from_the_next_period() -> None:
    schedule = RateSchedule(
        (Rate(Decimal("25.00"), date(2024, 4, 1)), Rate(Decimal("30.00"), date(2024, 5, 15)))
    )
    line = calculate_local_claim(
        LocalClaim(Q1, (ClaimLine(component(tariffs=schedule), 10),))
    ).lines[0]
    assert line.tariff.amount == Decimal("25.00")
    assert line.tariff.effective_from == date(2024, 4, 1)
    assert line.value == Decimal("250.00")
    assert [r.amount for r in line.tariff_changes_in_period] == [Decimal("30.00")]
    assert "it applies from the next period" in line.explanation.render()
    next_quarter = Period(date(2024, 7, 1), date(2024, 9, 30))
    later = calculate_local_claim(
        LocalClaim(next_quarter, (ClaimLine(component(tariffs=schedule), 10),))
    )
    assert later.total == Decimal("300.00")
    assert later.lines[0].tariff_changes_in_period == ()


def test_no_tariff_in_force_for_the_period() -> None:
    schedule = RateSchedule((Rate(Decimal("25.00"), date(2024, 5, 1)),))
    with pytest.raises(NoTariffInForceError):
        calculate_local_claim(LocalClaim(Q1, (ClaimLine(component(tariffs=schedule), 1),)))


def test_participation_only_scheme_has_no_payment_lines() -> None:
    result = calculate_local_claim(LocalClaim(Q1, (), participation_only=True))
    assert result.lines == ()
    assert str(result.total) == "0.00"
    assert "Participation only" in result.explanation.render()
    with pytest.raises(ParticipationOnlyError):
        LocalClaim(Q1, (ClaimLine(component(), 1),), participation_only=True)


def test_explanation_of_an_uncapped_line() -> None:
    line = calculate_local_claim(LocalClaim(Q1, (ClaimLine(component(), 4),))).lines[0]
    explanation = line.explanation
    assert explanation.subject == "HC: 4 health checks completed -> £100.00"
    assert [s.rule for s in explanation.steps] == ["Tariff in force", "Gross value"]
    data = explanation.as_dict()
    assert data["subject"] == explanation.subject
    assert str(explanation) == explanation.render()


@pytest.mark.parametrize(
    ("build", "error"),
    [
        pytest.param(lambda: ClaimLine(component(), -1), NegativeValueError, id="negative-units"),
        pytest.param(
            lambda: ClaimLine(component(), 1.0),  # type: ignore[arg-type]
            FloatNotAllowedError,
            id="float-units",
        ),
        pytest.param(
            lambda: LocalClaim(Q1, (ClaimLine(component(), 1), ClaimLine(component(), 2))),
            DuplicateEntryError,
            id="component-twice",
        ),
        pytest.param(
            lambda: component(units_cap(CapScope.CLAIM, 1), units_cap(CapScope.CLAIM, 2)),
            DuplicateEntryError,
            id="two-caps-same-scope-and-measure",
        ),
        pytest.param(lambda: ComponentTerms("", "u", TARIFF), InvalidValueError, id="no-code"),
        pytest.param(
            lambda: Cap(CapScope.CLAIM, CapMeasure.UNITS, Decimal("-1")),
            NegativeValueError,
            id="negative-unit-cap",
        ),
        pytest.param(
            lambda: Cap(CapScope.CLAIM, CapMeasure.UNITS, Decimal("1.5")),
            InvalidValueError,
            id="fractional-unit-cap",
        ),
        pytest.param(
            lambda: Cap(CapScope.CLAIM, CapMeasure.MONEY, Decimal("1.005")),
            InvalidValueError,
            id="money-cap-fraction-of-penny",
        ),
        pytest.param(
            lambda: Cap("weekly", CapMeasure.MONEY, Decimal(1)),  # type: ignore[arg-type]
            InvalidValueError,
            id="unknown-scope",
        ),
        pytest.param(lambda: PriorClaims(units_in_period=-1), NegativeValueError, id="prior-neg"),
        pytest.param(
            lambda: PriorClaims(value_in_year=Decimal("-0.01")),
            NegativeValueError,
            id="prior-value-negative",
        ),
    ],
)
def test_bad_local_input_is_refused(build: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        build()  # type: ignore[operator]


def test_cap_accepts_strings_of_enum_values_and_ints() -> None:
    cap = Cap("period", "units", 10)  # type: ignore[arg-type]
    assert cap.scope is CapScope.PERIOD
    assert cap.measure is CapMeasure.UNITS
    assert cap.limit == Decimal(10)
