"""Property tests: bounds, monotonicity, proportionality, caps, exact sums."""

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from claims_portal.calculation import (
    Achievement,
    AchievementSubmission,
    Cap,
    CapMeasure,
    CapScope,
    ClaimLine,
    ComponentTerms,
    FinancialYear,
    Indicator,
    IndicatorSet,
    LocalClaim,
    Period,
    PriorClaims,
    Rate,
    RateSchedule,
    ReferenceData,
    YearlyReference,
    calculate_achievement,
    calculate_aspiration,
    calculate_local_claim,
    points_for,
    qof_reference_defaults,
    round_money,
    round_ratio,
)

SETTINGS = settings(max_examples=200, deadline=None)
FY = FinancialYear(2024)
Q1 = Period(date(2024, 4, 1), date(2024, 6, 30))

pennies = st.integers(min_value=0, max_value=10_000_000)
money = pennies.map(lambda p: Decimal(p) / 100)
permille = st.integers(min_value=0, max_value=1000)


@st.composite
def indicators(draw: st.DrawFn, register: str | None = None) -> Indicator:
    lower, upper = sorted(draw(st.lists(permille, min_size=2, max_size=2, unique=True)))
    points = Decimal(draw(st.integers(min_value=0, max_value=200))) / 2
    return Indicator("I", points, Decimal(lower) / 1000, Decimal(upper) / 1000, register)


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int, int, int]:
    denominator = draw(st.integers(min_value=0, max_value=5_000))
    pcas = draw(st.integers(min_value=0, max_value=denominator))
    exclusions = draw(st.integers(min_value=0, max_value=denominator - pcas))
    numerator = draw(st.integers(min_value=0, max_value=denominator - pcas - exclusions))
    return numerator, denominator, pcas, exclusions


def reference(ppp: Decimal, average: int, prevalence: Decimal = Decimal("0.05")) -> ReferenceData:
    return ReferenceData("T", (YearlyReference(FY, ppp, average, None, {"R": prevalence}),))


@SETTINGS
@given(indicators(), st.integers(min_value=1, max_value=3_000), st.data())
def test_points_stay_within_bounds_and_never_fall_as_numerator_rises(
    indicator: Indicator, cohort: int, data: st.DataObject
) -> None:
    lower, higher = sorted(data.draw(st.lists(st.integers(0, cohort), min_size=2, max_size=2)))
    low_points = points_for(indicator, Decimal(lower) / cohort)
    high_points = points_for(indicator, Decimal(higher) / cohort)
    assert Decimal(0) <= low_points <= high_points <= indicator.max_points
    subs = [
        AchievementSubmission("P", 1_000, records=(Achievement("I", n, cohort),))
        for n in (lower, higher)
    ]
    iset = IndicatorSet("T", FY, (indicator,))
    engine = [calculate_achievement(s, iset, reference(Decimal(1), 1_000)).points[0] for s in subs]
    assert Decimal(0) <= engine[0] <= engine[1] <= indicator.max_points


@SETTINGS
@given(
    indicators(register="R"),
    counts(),
    st.integers(1, 40_000),
    st.data(),
    money.filter(lambda m: m > 0),
    st.integers(1, 20_000),
    st.integers(1, 999),
)
def test_engine_matches_an_exact_fraction_oracle(
    indicator: Indicator,
    figures: tuple[int, int, int, int],
    list_size: int,
    data: st.DataObject,
    ppp: Decimal,
    average: int,
    national_permille: int,
) -> None:
    numerator, denominator, pcas, exclusions = figures
    register = data.draw(st.integers(0, list_size))
    national = Decimal(national_permille) / 1000
    sub = AchievementSubmission("P", list_size, {"R": register}, (Achievement("I", *figures),))
    result = calculate_achievement(
        sub, IndicatorSet("T", FY, (indicator,)), reference(ppp, average, national)
    ).results[0]
    cohort = denominator - pcas - exclusions
    lower = Fraction(indicator.lower_threshold)  # type: ignore[arg-type]
    upper = Fraction(indicator.upper_threshold)  # type: ignore[arg-type]
    maximum = Fraction(indicator.max_points)
    if cohort == 0:
        points = Fraction(0)
    else:
        rate = Fraction(numerator, cohort)
        points = (
            Fraction(0)
            if rate <= lower
            else maximum
            if rate >= upper
            else maximum * (rate - lower) / (upper - lower)
        )
    exact = (
        points
        * Fraction(ppp)
        * Fraction(list_size, average)
        * Fraction(register, list_size)
        / Fraction(national)
    )
    assert result.unrounded_payment == exact
    # The oracle's own rounding of the exact value: half up to the penny (exact >= 0).
    assert result.payment == Decimal(math.floor(exact * 100 + Fraction(1, 2))) / 100
    assert result.points == (Decimal(points.numerator) / Decimal(points.denominator))


@SETTINGS
@given(counts(), st.integers(1, 20_000), st.integers(2, 9), money.filter(lambda m: m > 0))
def test_payment_is_proportional_to_list_size(
    figures: tuple[int, int, int, int], list_size: int, factor: int, ppp: Decimal
) -> None:
    indicator = Indicator("I", Decimal(25), Decimal("0.30"), Decimal("0.80"))
    iset = IndicatorSet("T", FY, (indicator,))
    data = reference(ppp, 9_964)
    small, large = (
        calculate_achievement(
            AchievementSubmission("P", size, records=(Achievement("I", *figures),)), iset, data
        ).results[0]
        for size in (list_size, list_size * factor)
    )
    assert large.unrounded_payment == small.unrounded_payment * factor
    # after rounding each to the penny, they differ from exact proportion by under a penny each
    assert abs(large.payment - small.payment * factor) <= Decimal("0.005") * (factor + 1)


unit_caps = st.builds(
    lambda scope, limit: Cap(scope, CapMeasure.UNITS, Decimal(limit)),
    st.sampled_from(list(CapScope)),
    st.integers(0, 500),
)
money_caps = st.builds(
    lambda scope, limit: Cap(scope, CapMeasure.MONEY, limit),
    st.sampled_from(list(CapScope)),
    money,
)


@st.composite
def capped_lines(draw: st.DrawFn, code: str) -> ClaimLine:
    caps = draw(st.lists(st.one_of(unit_caps, money_caps), max_size=6))
    unique = {(c.scope, c.measure): c for c in caps}
    tariff = Decimal(draw(st.integers(0, 100_000))) / 1000  # fractions of a penny allowed
    component = ComponentTerms(
        code, "units", RateSchedule((Rate(tariff, date(2024, 4, 1)),)), tuple(unique.values())
    )
    prior = PriorClaims(
        draw(st.integers(0, 600)), draw(money), draw(st.integers(0, 600)), draw(money)
    )
    return ClaimLine(component, draw(st.integers(0, 1_000)), prior)


@SETTINGS
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True).flatmap(
        lambda ids: st.tuples(*(capped_lines(f"C{i}") for i in ids))
    )
)
def test_caps_are_never_exceeded_and_lines_sum_exactly_to_the_total(
    lines: tuple[ClaimLine, ...],
) -> None:
    result = calculate_local_claim(LocalClaim(Q1, lines))
    for line, priced in zip(lines, result.lines, strict=True):
        assert 0 <= priced.payable_units <= line.units
        assert Decimal(0) <= priced.value <= priced.gross_value
        assert priced.value == round_money(priced.value)
        for cap in line.component.caps:
            allowance = max(Decimal(0), cap.limit - line.prior.used(cap))
            if cap.measure is CapMeasure.UNITS:
                assert priced.payable_units <= allowance
            else:
                assert priced.value <= allowance
    assert result.total == sum((line.value for line in result.lines), Decimal("0.00"))
    assert result.total.as_tuple().exponent == -2


@SETTINGS
@given(st.lists(st.tuples(counts(), st.integers(1, 30_000)), min_size=1, max_size=8))
def test_indicator_payments_sum_exactly_to_the_total(
    rows: list[tuple[tuple[int, int, int, int], int]],
) -> None:
    indicators = tuple(
        Indicator(f"I{i}", Decimal(i + 1), Decimal("0.2"), Decimal("0.7")) for i in range(len(rows))
    )
    iset = IndicatorSet("T", FY, indicators)
    defaults = qof_reference_defaults()
    for figures, list_size in rows:
        records = tuple(Achievement(f"I{i}", *figures) for i in range(len(rows)))
        result = calculate_achievement(
            AchievementSubmission("P", list_size, records=records), iset, defaults
        )
        assert result.total == sum(result.payments, Decimal("0.00"))


@SETTINGS
@given(pennies, st.sampled_from([2022, 2023, 2024, 2025]))
def test_aspiration_instalments_sum_exactly(previous: int, year: int) -> None:
    result = calculate_aspiration(
        Decimal(previous) / 100, FinancialYear(year), qof_reference_defaults()
    )
    assert sum(result.instalments, Decimal("0.00")) == result.annual_amount
    assert all(i >= 0 for i in result.instalments)


@SETTINGS
@given(st.integers(-(10**12), 10**12), st.integers(0, 6))
def test_round_ratio_agrees_with_round_money(numerator: int, places: int) -> None:
    denominator = 10**places
    exact = Decimal(numerator).scaleb(-places)
    assert round_ratio(numerator, denominator) == round_money(exact)
    assert round_money(exact) == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
