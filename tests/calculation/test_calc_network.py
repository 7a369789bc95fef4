"""Network (PCN) achievement: aggregation over membership dates, then the same rules."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    Achievement,
    AchievementSubmission,
    DuplicateEntryError,
    FinancialYear,
    IncompleteNetworkDataError,
    Indicator,
    IndicatorKindError,
    IndicatorSet,
    InvalidDateRangeError,
    InvalidValueError,
    NetworkMembership,
    ReferenceData,
    TickBoxAnswer,
    YearlyReference,
    aggregate_network,
    calculate_network_achievement,
)

FY = FinancialYear(2024)
YEAR_END = date(2025, 3, 31)
IIF = ReferenceData(
    "IIF", (YearlyReference(FY, Decimal("198.00"), 50_000, None, {"HYP": Decimal("0.15")}),)
)
FLU = Indicator("VI-01", Decimal(40), Decimal("0.80"), Decimal("0.86"))
HYP = Indicator("HI-03", Decimal(10), Decimal("0.40"), Decimal("0.80"), "HYP")
TICK = Indicator("NCD009", Decimal(20), tick_box=True)
SET = IndicatorSet("IIF", FY, (FLU, HYP, TICK))
MEMBERS = (
    NetworkMembership("A", date(2019, 7, 1)),
    NetworkMembership("B", date(2019, 7, 1), date(2024, 12, 31)),
    NetworkMembership("C", date(2025, 1, 1)),
)


def practice(
    code: str,
    list_size: int,
    hyp: int,
    flu: tuple[int, int],
    hi: tuple[int, int],
    on: date | None = YEAR_END,
) -> AchievementSubmission:
    return AchievementSubmission(
        code,
        list_size,
        {"HYP": hyp},
        (Achievement("VI-01", *flu), Achievement("HI-03", *hi)),
        on,
    )


A = practice("A", 20_000, 3_000, (1_700, 2_000), (300, 500))
B = practice("B", 12_000, 1_800, (1_000, 1_000), (100, 100))
C = practice("C", 30_000, 4_500, (2_700, 3_000), (420, 700))
D = practice("D", 9_000, 900, (0, 10), (0, 10))


@pytest.mark.parametrize(
    ("membership", "day", "covered"),
    [
        pytest.param(MEMBERS[1], date(2024, 12, 31), True, id="end-inclusive"),
        pytest.param(MEMBERS[1], date(2025, 1, 1), False, id="after-end"),
        pytest.param(MEMBERS[2], date(2025, 1, 1), True, id="start-inclusive"),
        pytest.param(MEMBERS[2], date(2024, 12, 31), False, id="before-start"),
        pytest.param(MEMBERS[0], date(2099, 1, 1), True, id="open-ended"),
    ],
)
def test_membership_covers(membership: NetworkMembership, day: date, covered: bool) -> None:
    assert membership.covers(day) is covered


def test_membership_dates_must_be_in_order() -> None:
    with pytest.raises(InvalidDateRangeError):
        NetworkMembership("A", date(2025, 1, 1), date(2024, 12, 31))


def test_aggregation_counts_only_members_on_the_achievement_date() -> None:
    aggregate = aggregate_network("PCN1", YEAR_END, MEMBERS, (A, B, C, D))
    assert aggregate.included == ("A", "C")
    assert aggregate.excluded == (
        ("B", "not a member on 2025-03-31 (membership 2019-07-01 to 2024-12-31)"),
        ("D", "not a member of PCN1"),
    )
    assert aggregate.is_complete
    assert aggregate.list_size == 50_000
    assert aggregate.registers["HYP"] == 7_500
    submission = aggregate.as_submission()
    flu = submission.record_for("VI-01")
    assert flu == Achievement("VI-01", 4_400, 5_000)


def test_network_payment_uses_the_network_list_size_and_prevalence() -> None:
    aggregate = aggregate_network(
        "PCN1", YEAR_END, MEMBERS, (A, C), (TickBoxAnswer("NCD009", True),)
    )
    result = calculate_network_achievement(aggregate, SET, IIF)
    # VI-01: 4,400 / 5,000 = 88% >= 86%: 40 points x 198 x (50,000 / 50,000) = 7,920.00
    # HI-03: 720 / 1,200 = 60%: 10 x (0.6 - 0.4) / 0.4 = 5 points; prevalence
    #        7,500 / 50,000 = 15% = national: 5 x 198 x 1 x 1 = 990.00
    # NCD009: Yes, 20 x 198 = 3,960.00
    assert [str(p) for p in result.result.payments] == ["7920.00", "990.00", "3960.00"]
    assert str(result.total) == "12870.00"
    rules = [step.rule for step in result.explanation.steps]
    assert rules[:2] == ["Network aggregation", "Network list size"]
    assert rules[-1] == "Achievement payment"


def test_network_waits_for_all_members() -> None:
    aggregate = aggregate_network("PCN1", YEAR_END, MEMBERS, (A,))
    assert aggregate.missing_members == ("C",)
    assert not aggregate.is_complete
    text = aggregate.explanation.render()
    assert "C = member, data not yet in" in text
    with pytest.raises(IncompleteNetworkDataError, match="awaiting network achievement"):
        calculate_network_achievement(aggregate, SET, IIF)


def test_network_without_members_on_the_date() -> None:
    aggregate = aggregate_network("PCN2", YEAR_END, (), (D,))
    assert not aggregate.is_complete
    with pytest.raises(IncompleteNetworkDataError, match="no member practices"):
        aggregate.as_submission()


def test_submission_without_achievement_date_is_accepted() -> None:
    undated = practice("A", 20_000, 3_000, (1_700, 2_000), (300, 500), on=None)
    aggregate = aggregate_network("PCN1", YEAR_END, MEMBERS[:1], (undated,))
    assert aggregate.included == ("A",)


@pytest.mark.parametrize(
    ("submissions", "error", "message"),
    [
        pytest.param((A, A), DuplicateEntryError, "two submissions", id="duplicate-practice"),
        pytest.param(
            (practice("A", 10, 1, (1, 1), (1, 1), on=date(2025, 2, 28)),),
            InvalidValueError,
            "not 2025-03-31",
            id="other-achievement-date",
        ),
        pytest.param(
            (AchievementSubmission("A", 10, records=(TickBoxAnswer("NCD009", True),)),),
            IndicatorKindError,
            "answered by the network",
            id="practice-answers-tick-box",
        ),
    ],
)
def test_aggregation_errors(
    submissions: tuple[AchievementSubmission, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        aggregate_network("PCN1", YEAR_END, MEMBERS, submissions)


def test_membership_str() -> None:
    assert str(MEMBERS[0]) == "2019-07-01 to open"
