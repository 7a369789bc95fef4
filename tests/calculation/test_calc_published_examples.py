"""Independent published examples reproduced to the penny through the public API.

Each example names its source. Where a source rounds CPI or the prevalence factor before
multiplying, the example goes through ``indicator_payment`` with those rounded factors;
where it keeps them exact, it goes through ``calculate_achievement`` end to end.
"""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    VI_ROUTINE_CHILDHOOD_FEES,
    VI_STANDARD_FEES,
    Achievement,
    AchievementSubmission,
    FinancialYear,
    Indicator,
    IndicatorSet,
    ItemCount,
    ItemOfService,
    ItemOfServiceClaim,
    NetworkMembership,
    Period,
    ReferenceData,
    TickBoxAnswer,
    YearlyReference,
    achievement_rate,
    aggregate_network,
    calculate_achievement,
    calculate_aspiration,
    calculate_items_of_service,
    calculate_network_achievement,
    contractor_population_index,
    iif_reference_defaults,
    indicator_payment,
    points_for,
    prevalence_factor,
    qof_reference_defaults,
    reconcile_year_end,
)


def full_achievement(code: str, points: int, register: str | None = None) -> Indicator:
    return Indicator(code, Decimal(points), Decimal("0.40"), Decimal("0.90"), register)


# Ardens support article "QOF point value and prevalence" (support-ew.ardens.org.uk,
# article 31000158571), 2020/21 figures: £194.83 per point, national average list size
# 8,799, practice list 10,000, dementia national prevalence 0.78%, 44 dementia points.
# Published: register 53 -> point value £150.45, domain value £6,619.98;
#            register 72 -> point value £204.39, domain value £8,993.18.
@pytest.mark.parametrize(
    ("register", "points", "payment"),
    [
        pytest.param(53, 1, "150.45", id="ardens-dementia-53-point-value"),
        pytest.param(53, 44, "6619.98", id="ardens-dementia-53-domain"),
        pytest.param(72, 1, "204.39", id="ardens-dementia-72-point-value"),
        pytest.param(72, 44, "8993.18", id="ardens-dementia-72-domain"),
    ],
)
def test_ardens_dementia_prevalence_example(register: int, points: int, payment: str) -> None:
    year = FinancialYear(2020)
    reference = ReferenceData(
        "QOF",
        (YearlyReference(year, Decimal("194.83"), 8_799, None, {"DEM": Decimal("0.0078")}),),
    )
    indicator = full_achievement("DEM", points, "DEM")
    submission = AchievementSubmission(
        "ARDENS", 10_000, {"DEM": register}, (Achievement("DEM", register, register),)
    )
    result = calculate_achievement(submission, IndicatorSet("QOF", year, (indicator,)), reference)
    assert str(result.total) == payment


# Lincolnshire LMC "QOF point value and prevalence" (lincslmc.co.uk), 2022/23: AF, 29 points,
# 16,000 patients, CPI 16,000 / 9,374 shown as 1.71, APDF 3.05% / 2.1% shown as 1.45:
# 29 x £207.56 x 1.71 x 1.45 = £14,924.71 (the published figure uses the rounded factors).
def test_lincs_lmc_af_example_with_published_rounded_factors() -> None:
    reference = qof_reference_defaults().for_year(FinancialYear(2022))
    assert reference.pounds_per_point == Decimal("207.56")
    assert reference.national_average_list_size == 9_374
    cpi = contractor_population_index(16_000, 9_374)
    apdf = prevalence_factor(488, 16_000, Decimal("0.021"))  # 488 / 16,000 = 3.05%
    assert round(cpi, 2) == Decimal("1.71")
    assert round(apdf, 2) == Decimal("1.45")
    payment = indicator_payment(
        Decimal(29), reference.pounds_per_point, round(cpi, 2), round(apdf, 2)
    )
    assert str(payment) == "14924.71"
    # Kept exact (as this engine does), the same practice earns £14,921.66.
    year = FinancialYear(2022)
    defaults = qof_reference_defaults()
    data = defaults.with_year(defaults.for_year(year).with_prevalence({"AF": Decimal("0.021")}))
    exact = calculate_achievement(
        AchievementSubmission("LINCS", 16_000, {"AF": 488}, (Achievement("AF", 488, 488),)),
        IndicatorSet("QOF", year, (full_achievement("AF", 29, "AF"),)),
        data,
    )
    assert str(exact.total) == "14921.66"


# Ardens support article (2021/22 version): £201.16 x 1.10 x (0.53 / 0.7) = £167.54 per point.
def test_ardens_2021_22_point_value_with_rounded_cpi() -> None:
    apdf = prevalence_factor(53, 10_000, Decimal("0.007"))
    assert str(indicator_payment(Decimal(1), Decimal("201.16"), Decimal("1.10"), apdf)) == "167.54"


# Pulse Intelligence "QOF: how payments are calculated - and why prevalence matters"
# (pulse-intelligence.co.uk), 2021/22: an average-sized practice (9,103 patients) earning all
# 74 Quality Improvement points (not prevalence-weighted) receives £201.16 x 74 = £14,885.84.
def test_pulse_quality_improvement_average_practice() -> None:
    year = FinancialYear(2021)
    reference = ReferenceData("QOF", (YearlyReference(year, Decimal("201.16"), 9_103),))
    qi = IndicatorSet("QOF", year, (Indicator("QI", Decimal(74), tick_box=True),))
    submission = AchievementSubmission("AVG", 9_103, records=(TickBoxAnswer("QI", True),))
    assert str(calculate_achievement(submission, qi, reference).total) == "14885.84"


# Department of Health FOI release DH_4111080 (2004/05): 70 patient experience points at
# £77.50 per point give a raw payment of £5,425.00 before the list size adjustment.
def test_dh_foi_2004_05_raw_payment() -> None:
    assert str(indicator_payment(Decimal(70), Decimal("77.50"), Decimal(1))) == "5425.00"


# Pulse Intelligence "Investment and Impact Fund - flu vaccination targets", IIF 2021/22:
# a PCN with 1,000 patients aged 65+, 600 vaccinated, 100 declined and 100 for whom the
# vaccine was clinically inappropriate performs at 75% (600 / 800), not 60% (600 / 1,000).
# VI-01 thresholds are 80%-86%, so 75% earns no points.
def test_pulse_iif_vi01_personalised_care_adjustment_example() -> None:
    assert achievement_rate(600, 1_000, 100, 100) == Decimal("0.75")
    assert achievement_rate(600, 1_000) == Decimal("0.6")
    year = FinancialYear(2021)
    vi01 = Indicator("VI-01", Decimal(40), Decimal("0.80"), Decimal("0.86"))
    assert points_for(vi01, Decimal("0.75")) == Decimal(0)
    # The same through network aggregation: two member practices summing to those counts.
    members = (NetworkMembership("P1", date(2021, 4, 1)), NetworkMembership("P2", date(2021, 4, 1)))
    practices = (
        AchievementSubmission("P1", 20_000, records=(Achievement("VI-01", 350, 600, 60, 60),)),
        AchievementSubmission("P2", 25_000, records=(Achievement("VI-01", 250, 400, 40, 40),)),
    )
    aggregate = aggregate_network("PCN", date(2022, 3, 31), members, practices)
    reference = ReferenceData("IIF", (YearlyReference(year, Decimal("200.00"), 45_000),))
    result = calculate_network_achievement(aggregate, IndicatorSet("IIF", year, (vi01,)), reference)
    flu = result.result.results[0]
    assert flu.achievement == Decimal("0.75")
    assert flu.points == Decimal(0)
    assert str(result.total) == "0.00"


# Primary Care IT "IIF funding structure" (support.primarycareit.co.uk), 2024/25: each PCN can
# earn at most 58 IIF points at £198.00 a point, adjusted for list size and prevalence; for a
# PCN of exactly national-mean size and prevalence the maximum is 58 x 198 = £11,484.00.
def test_iif_2024_25_average_pcn_maximum() -> None:
    year = FinancialYear(2024)
    defaults = iif_reference_defaults()
    reference = defaults.with_year(
        defaults.for_year(year)
        .with_national_average_list_size(50_000)
        .with_prevalence({"HYP": Decimal("0.15")})
    )
    indicators = IndicatorSet(
        "IIF",
        year,
        (
            Indicator("CAN-04", Decimal(20), Decimal("0.40"), Decimal("0.60")),
            Indicator("HYP", Decimal(38), Decimal("0.40"), Decimal("0.80"), "HYP"),
        ),
    )
    members = (NetworkMembership("P1", date(2020, 1, 1)), NetworkMembership("P2", date(2020, 1, 1)))
    practices = (
        AchievementSubmission(
            "P1",
            30_000,
            {"HYP": 4_500},
            (Achievement("CAN-04", 70, 100), Achievement("HYP", 3_600, 4_500)),
        ),
        AchievementSubmission(
            "P2",
            20_000,
            {"HYP": 3_000},
            (Achievement("CAN-04", 60, 100), Achievement("HYP", 2_400, 3_000)),
        ),
    )
    aggregate = aggregate_network("PCN", date(2025, 3, 31), members, practices)
    result = calculate_network_achievement(aggregate, indicators, reference)
    assert str(result.total) == "11484.00"


# V&I item of service (domain brief, from NHS England GP contract letters): £10.06 a dose in
# 2024/25; from 2025/26 routine childhood immunisations £12.06, other programmes unchanged.
@pytest.mark.parametrize(
    ("fees", "start", "doses", "value"),
    [
        pytest.param(VI_STANDARD_FEES, date(2024, 10, 1), 250, "2515.00", id="2024-25-flu-like"),
        pytest.param(VI_ROUTINE_CHILDHOOD_FEES, date(2025, 4, 1), 250, "3015.00", id="2025-26"),
        pytest.param(VI_STANDARD_FEES, date(2025, 4, 1), 250, "2515.00", id="2025-26-other"),
    ],
)
def test_vi_item_of_service_fees(fees: object, start: date, doses: int, value: str) -> None:
    item = ItemOfService("VAX", "a vaccine", fees)  # type: ignore[arg-type]
    period = Period(start, start.replace(day=28))
    result = calculate_items_of_service(ItemOfServiceClaim(period, (ItemCount(item, doses),)))
    assert str(result.total) == value


# Aspiration (domain brief / GP contract 2024/25): 80% of the previous year's payment from
# 2024/25, reconciled at year end against what was paid.
def test_aspiration_then_reconciliation() -> None:
    aspiration = calculate_aspiration(
        Decimal("120000.00"), FinancialYear(2024), qof_reference_defaults()
    )
    assert str(aspiration.annual_amount) == "96000.00"
    assert str(aspiration.instalments[0]) == "8000.00"
    balance = reconcile_year_end(Decimal("90000.00"), aspiration.annual_amount)
    assert str(balance.balance) == "-6000.00"
