"""QOF-style indicators: achievement, points, CPI, prevalence factor, payment, tick-box."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from claims_portal.calculation import (
    Achievement,
    AchievementSubmission,
    AdjustmentsExceedDenominatorError,
    DuplicateEntryError,
    FinancialYear,
    Indicator,
    IndicatorKindError,
    IndicatorSet,
    InvalidValueError,
    MissingReferenceValueError,
    NegativeValueError,
    NumeratorExceedsDenominatorError,
    ReferenceData,
    ThresholdOrderError,
    TickBoxAnswer,
    UnknownFinancialYearError,
    UnknownIndicatorError,
    YearlyReference,
    achievement_rate,
    calculate_achievement,
    calculate_achievements,
    contractor_population_index,
    indicator_payment,
    points_for,
    prevalence_factor,
    qof_reference_defaults,
)

FY = FinancialYear(2024)
# Round figures so that expected payments can be worked by hand: 220.62 per point,
# national average list size 10,000, national prevalence 2% for register "AF".
REFERENCE = ReferenceData(
    "TEST",
    (YearlyReference(FY, Decimal("220.62"), 10_000, Decimal("0.80"), {"AF": Decimal("0.02")}),),
)
COUNTED = Indicator("CNT001", Decimal(20), Decimal("0.40"), Decimal("0.90"))
WEIGHTED = Indicator("AF001", Decimal(10), Decimal("0.40"), Decimal("0.90"), "AF")
TICK = Indicator("TB001", Decimal(5), tick_box=True)
SET = IndicatorSet("QOF", FY, (COUNTED, WEIGHTED, TICK))


def submission(
    *records: Achievement | TickBoxAnswer, list_size: int = 10_000, af: int = 200
) -> AchievementSubmission:
    return AchievementSubmission("P1", list_size, {"AF": af}, records)


@pytest.mark.parametrize(
    ("numerator", "denominator", "pcas", "exclusions", "achievement", "points"),
    [
        pytest.param(0, 100, 0, 0, "0", "0", id="nothing-achieved"),
        pytest.param(40, 100, 0, 0, "0.4", "0", id="lower-threshold-exactly-hit"),
        pytest.param(41, 100, 0, 0, "0.41", "0.4", id="just-above-lower"),
        pytest.param(65, 100, 0, 0, "0.65", "10", id="midway"),
        pytest.param(89, 100, 0, 0, "0.89", "19.6", id="just-below-upper"),
        pytest.param(90, 100, 0, 0, "0.9", "20", id="upper-threshold-exactly-hit"),
        pytest.param(99, 100, 0, 0, "0.99", "20", id="above-upper"),
        pytest.param(0, 0, 0, 0, None, "0", id="empty-cohort"),
        pytest.param(0, 10, 6, 4, None, "0", id="denominator-reduced-to-zero-by-adjustments"),
        pytest.param(45, 100, 10, 0, "0.5", "4", id="pcas-reduce-denominator"),
        pytest.param(45, 100, 5, 5, "0.5", "4", id="pcas-and-exclusions"),
        pytest.param(90, 100, 10, 0, "1", "20", id="everyone-left-achieved"),
        pytest.param(1, 3, 0, 0, "0.3333333333333333333333333333", "0", id="third-below-lower"),
        pytest.param(
            2,
            3,
            0,
            0,
            "0.6666666666666666666666666667",
            "10.66666666666666666666666667",
            id="two-thirds-points-shown-to-28-digits",
        ),
    ],
)
def test_achievement_and_points(
    numerator: int,
    denominator: int,
    pcas: int,
    exclusions: int,
    achievement: str | None,
    points: str,
) -> None:
    rate = achievement_rate(numerator, denominator, pcas, exclusions)
    assert rate == (None if achievement is None else Decimal(achievement))
    assert points_for(COUNTED, rate) == Decimal(points)
    record = Achievement("CNT001", numerator, denominator, pcas, exclusions)
    result = calculate_achievement(submission(record), SET, REFERENCE).result_for("CNT001")
    assert result.points == Decimal(points)
    assert result.achievement == rate
    assert result.cohort == denominator - pcas - exclusions


@pytest.mark.parametrize(
    ("lower", "upper", "achievement", "points"),
    [
        pytest.param("0", "1", "0", "0", id="lower-zero-nothing-achieved"),
        pytest.param("0", "1", "1", "20", id="upper-one-all-achieved"),
        pytest.param("0", "1", "0.25", "5", id="full-range"),
        pytest.param("0.455", "0.725", "0.59", "10", id="fractional-thresholds"),
        pytest.param("0.455", "0.725", "0.455", "0", id="fractional-lower-hit"),
        pytest.param("0.455", "0.725", "0.725", "20", id="fractional-upper-hit"),
    ],
)
def test_points_thresholds(lower: str, upper: str, achievement: str, points: str) -> None:
    indicator = Indicator("X", Decimal(20), Decimal(lower), Decimal(upper))
    assert points_for(indicator, Decimal(achievement)) == Decimal(points)


def test_points_for_tick_box_and_range_checks() -> None:
    assert points_for(TICK, Decimal(1)) == Decimal(5)
    assert points_for(TICK, Decimal(0)) == Decimal(0)
    assert points_for(COUNTED, None) == Decimal(0)
    with pytest.raises(InvalidValueError):
        points_for(COUNTED, Decimal("1.01"))
    with pytest.raises(InvalidValueError):
        points_for(COUNTED, Decimal("-0.01"))


@pytest.mark.parametrize(
    ("list_size", "af_register", "counted", "weighted", "expected"),
    [
        # CPI 1: 20 points x 220.62 = 4,412.40
        pytest.param(10_000, 200, (90, 100), None, {"CNT001": "4412.40"}, id="cpi-one"),
        # payment is proportional to list size: CPI 2
        pytest.param(20_000, 400, (90, 100), None, {"CNT001": "8824.80"}, id="cpi-two"),
        # 10 points x 220.62 x CPI 2 x APDF (600/20,000 = 3%) / 2% = 1.5  = 6,618.60
        pytest.param(20_000, 600, None, (90, 100), {"AF001": "6618.60"}, id="prevalence-1-5"),
        # half the points: 5 x 220.62 x 1 x (100/10,000)/0.02 = 0.5 -> 551.55
        pytest.param(10_000, 100, None, (65, 100), {"AF001": "551.55"}, id="half-points-low-prev"),
        # register empty: prevalence factor 0, no payment despite points
        pytest.param(10_000, 0, None, (90, 100), {"AF001": "0.00"}, id="empty-register"),
        # 0.4 points x 220.62 x 0.5 CPI = 44.124 -> 44.12
        pytest.param(5_000, 0, (41, 100), None, {"CNT001": "44.12"}, id="rounded-down"),
        # 0.4 points x 220.62 x 1.5 CPI = 132.372 -> 132.37 ; 19.6 x 220.62 x 1.5 = 6486.228
        pytest.param(15_000, 0, (89, 100), None, {"CNT001": "6486.23"}, id="rounded-up"),
    ],
)
def test_payment(
    list_size: int,
    af_register: int,
    counted: tuple[int, int] | None,
    weighted: tuple[int, int] | None,
    expected: dict[str, str],
) -> None:
    records: list[Achievement | TickBoxAnswer] = []
    if counted:
        records.append(Achievement("CNT001", *counted))
    if weighted:
        records.append(Achievement("AF001", *weighted))
    result = calculate_achievement(
        submission(*records, list_size=list_size, af=af_register), SET, REFERENCE
    )
    for code, payment in expected.items():
        assert str(result.result_for(code).payment) == payment
    assert result.total == sum(result.payments, Decimal("0.00"))
    assert result.total == sum((r.payment for r in result.results), Decimal("0.00"))


def test_an_exact_half_penny_is_rounded_up_not_lost_to_intermediate_rounding() -> None:
    # points 1/3 x 0.03 per point x CPI 1/2 = exactly 0.005 -> 0.01. With 28-digit decimals
    # the 1/3 would become 0.333...3 and the payment 0.00499... -> 0.00.
    indicator = Indicator("T", Decimal(1), Decimal(0), Decimal("0.75"))
    reference = ReferenceData("T", (YearlyReference(FY, Decimal("0.03"), 10),))
    result = calculate_achievement(
        AchievementSubmission("P", 5, records=(Achievement("T", 1, 4),)),
        IndicatorSet("T", FY, (indicator,)),
        reference,
    )
    assert result.results[0].unrounded_payment == Fraction(1, 200)
    assert str(result.total) == "0.01"


@pytest.mark.parametrize(
    ("answer", "points", "payment"),
    [
        pytest.param(True, "5", "1103.10", id="yes-all-points"),
        pytest.param(False, "0", "0.00", id="no-none"),
        pytest.param(None, "0", "0.00", id="unset-counts-as-no"),
    ],
)
def test_tick_box(answer: bool | None, points: str, payment: str) -> None:
    result = calculate_achievement(submission(TickBoxAnswer("TB001", answer)), SET, REFERENCE)
    tick = result.result_for("TB001")
    assert tick.points == Decimal(points)
    assert str(tick.payment) == payment
    assert tick.cohort is None
    assert tick.achievement is None
    assert "Tick-box indicator" in tick.explanation.render()


def test_indicators_without_data_earn_nothing() -> None:
    result = calculate_achievement(submission(), SET, REFERENCE)
    assert [r.points for r in result.results] == [Decimal(0)] * 3
    assert str(result.total) == "0.00"
    assert result.total_points == Decimal(0)
    assert result.results[0].explanation.steps[0].rule == "No data"
    assert result.results[2].explanation.steps[0].inputs[0] == ("answer", None)


def test_result_views_and_totals() -> None:
    result = calculate_achievement(
        submission(
            Achievement("CNT001", 65, 100),
            Achievement("AF001", 90, 100),
            TickBoxAnswer("TB001", True),
        ),
        SET,
        REFERENCE,
    )
    assert result.organisation_code == "P1"
    assert result.year == FY
    assert result.results == result.results  # built afresh, same content
    assert result.total_points == Decimal(25)  # 10 + 10 + 5
    assert [r.code for r in result.results] == ["CNT001", "AF001", "TB001"]
    weighted = result.result_for("AF001")
    assert weighted.contractor_population_index == Decimal(1)
    assert weighted.prevalence_factor == Decimal(1)
    assert result.result_for("CNT001").prevalence_factor is None
    text = result.explanation.render()
    assert "CNT001 = 2206.20" in text
    assert "AF001 = 2206.20" in text
    assert "TB001 = 1103.10" in text
    with pytest.raises(UnknownIndicatorError):
        result.result_for("NOPE")


@pytest.mark.parametrize(
    ("record", "rules"),
    [
        pytest.param(
            Achievement("AF001", 30, 100),
            [
                "Cohort",
                "Achievement",
                "Points",
                "Contractor population index",
                "Prevalence factor",
                "Payment",
            ],
            id="below-lower",
        ),
        pytest.param(
            Achievement("AF001", 65, 100),
            [
                "Cohort",
                "Achievement",
                "Points",
                "Contractor population index",
                "Prevalence factor",
                "Payment",
            ],
            id="between",
        ),
        pytest.param(
            Achievement("AF001", 0, 5, 5),
            [
                "Cohort",
                "Empty cohort",
                "Contractor population index",
                "Prevalence factor",
                "Payment",
            ],
            id="empty-cohort",
        ),
    ],
)
def test_explanation_steps(record: Achievement, rules: list[str]) -> None:
    result = calculate_achievement(submission(record), SET, REFERENCE).result_for("AF001")
    explanation = result.explanation
    assert [step.rule for step in explanation.steps] == rules
    assert all(step.source for step in explanation.steps)
    assert explanation.subject.startswith("P1 AF001 (2024/25)")
    data = explanation.as_dict()
    assert isinstance(data["steps"], list)


@pytest.mark.parametrize(
    ("achievement", "formula"),
    [
        pytest.param((40, 100), "at or below the lower threshold: 0 points", id="low"),
        pytest.param(
            (65, 100), "maximum points x (achievement - lower) / (upper - lower)", id="mid"
        ),
        pytest.param((90, 100), "at or above the upper threshold: maximum points", id="high"),
    ],
)
def test_points_step_names_the_branch(achievement: tuple[int, int], formula: str) -> None:
    result = calculate_achievement(
        submission(Achievement("CNT001", *achievement)), SET, REFERENCE
    ).result_for("CNT001")
    points_step = next(s for s in result.explanation.steps if s.rule == "Points")
    assert points_step.formula == formula
    payment_step = result.explanation.steps[-1]
    assert payment_step.rule == "Payment"
    assert payment_step.result == result.payment


def test_single_rules() -> None:
    assert contractor_population_index(16_000, 9_374) == Decimal("1.706848730531256667377853638")
    assert prevalence_factor(305, 10_000, Decimal("0.021")) == Decimal(
        "1.452380952380952380952380952"
    )
    assert indicator_payment(Decimal(29), Decimal("207.56"), Decimal("1.71"), Decimal("1.45")) == (
        Decimal("14924.71")
    )
    assert indicator_payment(Decimal(10), Decimal("220.62"), Decimal(1)) == Decimal("2206.20")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda: contractor_population_index(0, 9_964), InvalidValueError, id="cpi-0"),
        pytest.param(lambda: contractor_population_index(1, 0), InvalidValueError, id="avg-0"),
        pytest.param(
            lambda: prevalence_factor(1, 0, Decimal("0.1")), InvalidValueError, id="apdf-list-0"
        ),
        pytest.param(
            lambda: prevalence_factor(1, 10, Decimal("0")), InvalidValueError, id="apdf-nat-0"
        ),
        pytest.param(
            lambda: indicator_payment(Decimal(-1), Decimal(1), Decimal(1)),
            NegativeValueError,
            id="negative-points",
        ),
        pytest.param(lambda: achievement_rate(5, 4), NumeratorExceedsDenominatorError, id="n>d"),
        pytest.param(lambda: achievement_rate(-1, 4), NegativeValueError, id="negative-count"),
    ],
)
def test_single_rule_errors(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        pytest.param(
            lambda: Achievement("X", -1, 10),
            NegativeValueError,
            "numerator",
            id="negative-numerator",
        ),
        pytest.param(
            lambda: Achievement("X", 1, -10),
            NegativeValueError,
            "denominator",
            id="negative-denominator",
        ),
        pytest.param(
            lambda: Achievement("X", 1, 10, -1),
            NegativeValueError,
            "personalised",
            id="negative-pcas",
        ),
        pytest.param(
            lambda: Achievement("X", 11, 10),
            NumeratorExceedsDenominatorError,
            "11",
            id="numerator-above-denominator",
        ),
        pytest.param(
            lambda: Achievement("X", 9, 10, 1, 1),
            NumeratorExceedsDenominatorError,
            "after adjustments",
            id="numerator-above-cohort",
        ),
        pytest.param(
            lambda: Achievement("X", 0, 10, 6, 5),
            AdjustmentsExceedDenominatorError,
            "exceed",
            id="adjustments-above-denominator",
        ),
        pytest.param(
            lambda: Achievement("X", 1.0, 10),  # type: ignore[arg-type]
            InvalidValueError,
            "float",
            id="float-count",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), Decimal("0.9"), Decimal("0.4")),
            ThresholdOrderError,
            "below",
            id="thresholds-reversed",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), Decimal("0.5"), Decimal("0.5")),
            ThresholdOrderError,
            "below",
            id="thresholds-equal",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), Decimal(40), Decimal(90)),
            InvalidValueError,
            "fractions",
            id="thresholds-as-percent",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), Decimal("0.4")),
            InvalidValueError,
            "required",
            id="missing-upper",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), Decimal("0.4"), tick_box=True),
            InvalidValueError,
            "no thresholds",
            id="tick-box-with-threshold",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(-1), tick_box=True),
            NegativeValueError,
            "points",
            id="negative-points",
        ),
        pytest.param(
            lambda: Indicator("", Decimal(1), tick_box=True),
            InvalidValueError,
            "code",
            id="no-code",
        ),
        pytest.param(
            lambda: Indicator("X", Decimal(1), tick_box=True, prevalence_register=""),
            InvalidValueError,
            "register",
            id="empty-register-code",
        ),
        pytest.param(
            lambda: Indicator("X", 1.5, tick_box=True),  # type: ignore[arg-type]
            InvalidValueError,
            "float",
            id="float-points",
        ),
        pytest.param(
            lambda: TickBoxAnswer("X", "yes"),  # type: ignore[arg-type]
            InvalidValueError,
            "Yes, No",
            id="answer-not-bool",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", 0),
            InvalidValueError,
            "positive",
            id="list-size-zero",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", -5),
            NegativeValueError,
            "list size",
            id="list-size-negative",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", 10, prevalence_list_size=0),
            InvalidValueError,
            "prevalence list",
            id="prevalence-list-zero",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", 10, {"AF": 11}),
            InvalidValueError,
            "exceeds",
            id="register-above-list",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", 10, {"AF": -1}),
            NegativeValueError,
            "register",
            id="register-negative",
        ),
        pytest.param(
            lambda: AchievementSubmission(
                "P", 10, records=(TickBoxAnswer("A"), TickBoxAnswer("A"))
            ),
            DuplicateEntryError,
            "two records",
            id="duplicate-records",
        ),
        pytest.param(
            lambda: AchievementSubmission("P", 10, records=("A",)),  # type: ignore[arg-type]
            InvalidValueError,
            "not an achievement record",
            id="not-a-record",
        ),
        pytest.param(
            lambda: IndicatorSet("Q", FY, (TICK, TICK)),
            DuplicateEntryError,
            "repeats",
            id="duplicate-indicator",
        ),
    ],
)
def test_bad_input_raises_a_specific_error(
    build: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("records", "reference", "error", "message"),
    [
        pytest.param(
            (Achievement("NOPE", 1, 1),),
            REFERENCE,
            UnknownIndicatorError,
            "NOPE",
            id="unknown-indicator",
        ),
        pytest.param(
            (Achievement("TB001", 1, 1),),
            REFERENCE,
            IndicatorKindError,
            "tick-box",
            id="counts-for-tick-box",
        ),
        pytest.param(
            (TickBoxAnswer("CNT001", True),),
            REFERENCE,
            IndicatorKindError,
            "counted",
            id="answer-for-counted",
        ),
        pytest.param(
            (),
            ReferenceData("T", ()),
            UnknownFinancialYearError,
            "2024/25",
            id="unknown-financial-year",
        ),
        pytest.param(
            (),
            ReferenceData("T", (YearlyReference(FY, Decimal(1), 10_000),)),
            MissingReferenceValueError,
            "AF",
            id="missing-national-prevalence",
        ),
        pytest.param(
            (),
            ReferenceData("T", (YearlyReference(FY, Decimal(1)),)),
            MissingReferenceValueError,
            "average list size",
            id="missing-average-list-size",
        ),
    ],
)
def test_calculation_errors(
    records: tuple[Achievement | TickBoxAnswer, ...],
    reference: ReferenceData,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        calculate_achievement(submission(*records), SET, reference)


def test_missing_register_size_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="no size given for register 'AF'"):
        calculate_achievement(AchievementSubmission("P1", 10_000), SET, REFERENCE)


def test_2025_26_needs_the_national_average_list_size_supplied() -> None:
    year = FinancialYear(2025)
    indicators = IndicatorSet("QOF", year, (COUNTED,))
    defaults = qof_reference_defaults()
    with pytest.raises(MissingReferenceValueError, match="not published"):
        calculate_achievement(submission(), indicators, defaults)
    supplied = defaults.with_year(defaults.for_year(year).with_national_average_list_size(10_000))
    result = calculate_achievement(submission(Achievement("CNT001", 9, 10)), indicators, supplied)
    assert str(result.total) == "4509.80"  # 20 x 225.49


def test_indicator_set_lookup_and_points() -> None:
    assert SET.get("AF001") is WEIGHTED
    assert SET.max_points == Decimal(35)
    with pytest.raises(UnknownIndicatorError):
        SET.get("NOPE")


def test_prevalence_uses_its_own_list_size_when_given() -> None:
    sub = AchievementSubmission(
        "P1", 10_000, {"AF": 200}, (Achievement("AF001", 90, 100),), prevalence_list_size=5_000
    )
    result = calculate_achievement(sub, SET, REFERENCE).result_for("AF001")
    assert result.prevalence_factor == Decimal(2)  # 200 / 5,000 = 4% vs 2%
    assert str(result.payment) == "4412.40"  # 10 x 220.62 x CPI 1 x 2


def test_batch_equals_single() -> None:
    subs = [
        AchievementSubmission(f"P{i}", 1_000 * i, {"AF": 10 * i}, (Achievement("AF001", i, 10),))
        for i in range(1, 8)
    ]
    batch = calculate_achievements(subs, SET, REFERENCE)
    assert [r.total for r in batch] == [
        calculate_achievement(s, SET, REFERENCE).total for s in subs
    ]


def test_submission_accessors() -> None:
    sub = AchievementSubmission(
        "P", 10, {"AF": 1}, (TickBoxAnswer("TB001", True),), date(2025, 3, 31)
    )
    assert sub.record_for("TB001") == TickBoxAnswer("TB001", True)
    assert sub.record_for("NONE") is None
    assert sub.list_for_prevalence == 10
    assert sub.register_size("AF") == 1
