"""Recalculating achievement from the figures in the database (national/services/calculate.py
and core_inputs.py): published worked examples to the penny through the tables, changed
figures recalculated, unchanged ones seen as such, and bad data refused with nothing stored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from claims_portal.extensions import db
from claims_portal.national.models import CalculatedAchievement, IndicatorPurpose
from claims_portal.national.services import calculate, core_inputs
from claims_portal.rules import RuleError
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.national.calc_helpers import (
    counts,
    group,
    indicator,
    list_size,
    make_service,
    register,
    submit,
    year_end,
)


def stored(service, provider):
    return db.session.scalar(
        select(CalculatedAchievement).where(
            CalculatedAchievement.service_id == service.id,
            CalculatedAchievement.provider_id == provider.id,
        )
    )


def stored_count(service) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(CalculatedAchievement)
        .where(CalculatedAchievement.service_id == service.id)
    )


@pytest.fixture
def ardens(db_session):
    """Ardens, "QOF point value and prevalence" (2020/21): £194.83 a point, national average
    list 8,799, dementia national prevalence 0.78%, 44 dementia points (40%-90%)."""
    service = make_service(2020, "194.83", 8_799, {"DEM": "0.0078"}, code="QOF")
    dementia = group(service, "DEM")
    indicator(dementia, "DEM004", 44, register="DEM")
    return service


def test_ardens_dementia_examples_to_the_penny_through_the_database(ardens):
    icb = IcbFactory()
    small, large, partial = (PracticeFactory(parent=icb) for _ in range(3))
    submit(ardens, small, list_size(10_000) | register("DEM", 53) | counts("DEM004", 53, 53))
    submit(ardens, large, list_size(10_000) | register("DEM", 72) | counts("DEM004", 72, 72))
    # docs/calculation.md's explanation: 40 of 53, 2 PCAs, 1 exclusion -> 35.2 points.
    submit(
        ardens, partial, list_size(10_000) | register("DEM", 53) | counts("DEM004", 40, 53, 2, 1)
    )

    assert (
        calculate.recalculate(db.session, service_id=ardens.id, achievement_date=year_end(ardens))
        == 3
    )

    assert stored(ardens, small).total == Decimal("6619.98")
    assert stored(ardens, large).total == Decimal("8993.18")
    result = stored(ardens, partial)
    assert result.total == Decimal("5295.98")
    assert result.points == Decimal("35.2")
    assert result.list_size == 10_000
    assert result.contractor_population_index == Decimal("1.13649278")
    [entry] = result.indicators
    assert entry["code"] == "DEM004"
    assert entry["points"] == "35.2"
    assert entry["payment"] == "5295.98"
    assert entry["achievement"] == "0.8"
    assert (entry["numerator"], entry["denominator"], entry["pcas"], entry["exclusions"]) == (
        40,
        53,
        2,
        1,
    )
    assert entry["prevalence_factor"] == "0.6794871794871794871794871795"
    assert result.explanation["figures"]["contractor_population_index"].startswith("1.136492783")
    assert result.explanation["steps"][0]["rule"] == "Achievement payment"


def test_lincolnshire_af_example_kept_exact(db_session):
    """Lincolnshire LMC (2022/23): AF 29 points, 16,000 patients, register 488, national
    prevalence 2.1%: £14,921.66 with the factors exact (docs/calculation.md)."""
    service = make_service(2022, "207.56", 9_374, {"AF": "0.021"})
    indicator(group(service, "AF"), "AF001", 29, register="AF")
    practice = PracticeFactory()
    submit(service, practice, list_size(16_000) | register("AF", 488) | counts("AF001", 488, 488))
    calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
    assert stored(service, practice).total == Decimal("14921.66")


def test_a_tick_box_indicator_pays_all_or_nothing(db_session):
    """Pulse Intelligence (2021/22): an average practice (9,103) earning all 74 quality
    improvement points at £201.16 receives £14,885.84; No earns nothing."""
    service = make_service(2021, "201.16", 9_103)
    indicator(group(service, "QI", domain="QI"), "QI001", 74, thresholds=None, manual=True)
    yes, no = PracticeFactory(), PracticeFactory()
    submit(service, yes, list_size(9_103) | {("QI001", "ANSWER"): 1})
    submit(service, no, list_size(9_103) | {("QI001", "ANSWER"): 0})
    calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
    assert stored(service, yes).total == Decimal("14885.84")
    assert stored(service, yes).indicators[0]["answer"] is True
    assert stored(service, no).total == Decimal("0.00")
    assert stored(service, no).indicators[0]["answer"] is False


def test_an_empty_cohort_earns_no_points_and_no_data_earns_none(ardens):
    indicator(ardens.groups[0], "DEM005", 10)
    practice = PracticeFactory()
    submit(
        ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 0, 10, 6, 4)
    )
    calculate.recalculate(db.session, service_id=ardens.id, achievement_date=year_end(ardens))
    result = stored(ardens, practice)
    by_code = {entry["code"]: entry for entry in result.indicators}
    assert (by_code["DEM004"]["denominator"], by_code["DEM004"]["pcas"]) == (10, 6)
    assert "achievement" not in by_code["DEM004"]
    assert by_code["DEM004"]["points"] == "0"
    assert "numerator" not in by_code["DEM005"]
    assert by_code["DEM005"]["points"] == "0"
    assert result.total == Decimal("0.00")


def test_a_practice_only_service_without_any_network(db_session):
    """A practice-level service for practices directly under their ICB: no PCN is needed."""
    service = make_service(2024, "220.62", 9_964)
    indicator(group(service, "CAN"), "CAN001", 10)
    practice = PracticeFactory(parent=IcbFactory())
    submit(service, practice, list_size(9_964) | counts("CAN001", 90, 100))
    assert (
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
        == 1
    )
    assert stored(service, practice).total == Decimal("2206.20")  # 10 x 220.62 x 1


def test_management_information_indicators_earn_nothing_and_are_left_out(db_session):
    service = make_service(2024, "220.62", 9_964)
    cancer = group(service, "CAN")
    indicator(cancer, "CAN001", 10)
    indicator(cancer, "CAN002", 5, purpose=IndicatorPurpose.MANAGEMENT_INFORMATION)
    assert [i.code for i in core_inputs.indicator_set_for(db.session, service).indicators] == [
        "CAN001"
    ]


def test_changed_figures_recalculate_and_unchanged_ones_keep_the_hash(ardens):
    practice = PracticeFactory()
    day = year_end(ardens)
    submit(ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 53, 53))
    first = calculate.recalculate_changes(db.session, service_id=ardens.id, achievement_date=day)
    assert first.changed == [practice.id]
    row = stored(ardens, practice)
    digest, at = row.inputs_sha256, row.calculated_at

    again = calculate.recalculate_changes(db.session, service_id=ardens.id, achievement_date=day)
    assert again.calculated == 1
    assert again.changed == []
    db.session.refresh(row)
    assert (row.inputs_sha256, row.calculated_at) == (digest, at)

    submit(ardens, practice, register("DEM", 72) | counts("DEM004", 72, 72))
    assert (
        calculate.recalculate(
            db.session, service_id=ardens.id, achievement_date=day, provider_ids=[practice.id]
        )
        == 1
    )
    row = stored(ardens, practice)
    assert row.total == Decimal("8993.18")
    assert row.inputs_sha256 != digest
    assert stored_count(ardens) == 1


def test_a_changed_reference_value_changes_the_hash(ardens):
    practice = PracticeFactory()
    day = year_end(ardens)
    submit(ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 53, 53))
    calculate.recalculate(db.session, service_id=ardens.id, achievement_date=day)
    from claims_portal.national.models import ServiceReference

    reference = db.session.scalar(
        select(ServiceReference).where(ServiceReference.service_id == ardens.id)
    )
    reference.pounds_per_point = Decimal("200.00")
    db.session.commit()
    changes = calculate.recalculate_changes(db.session, service_id=ardens.id, achievement_date=day)
    assert changes.changed == [practice.id]
    assert stored(ardens, practice).total != Decimal("6619.98")


def test_only_the_current_values_count(ardens):
    practice = PracticeFactory()
    day = year_end(ardens)
    submit(ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 10, 53))
    submit(ardens, practice, counts("DEM004", 53, 53))
    calculate.recalculate(db.session, service_id=ardens.id, achievement_date=day)
    assert stored(ardens, practice).total == Decimal("6619.98")


def test_bad_data_is_refused_naming_provider_and_indicator_and_nothing_is_stored(
    ardens, monkeypatch
):
    monkeypatch.setattr(calculate, "CHUNK", 1)  # the good practice's chunk is written first
    good, bad = PracticeFactory(), PracticeFactory()
    submit(ardens, good, list_size(10_000) | register("DEM", 53) | counts("DEM004", 53, 53))
    submit(ardens, bad, list_size(10_000) | register("DEM", 53) | counts("DEM004", 60, 53))
    with pytest.raises(RuleError, match=rf"{bad.ods_code} DEM004: numerator 60 exceeds"):
        calculate.recalculate(db.session, service_id=ardens.id, achievement_date=year_end(ardens))
    assert stored_count(ardens) == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param(register("DEM", 53) | counts("DEM004", 1, 2), "no list size", id="no-list"),
        pytest.param(
            list_size(100) | counts("DEM004", 1, 2),
            "DEM004: no size has been submitted for register DEM",
            id="no-register",
        ),
        pytest.param(
            list_size(100) | register("DEM", 5) | {("DEM004", "NUMERATOR"): 1},
            "DEM004: the denominator is missing",
            id="half",
        ),
        pytest.param(
            list_size(100) | register("DEM", 5) | {("DEM004", "ANSWER"): 1},
            "DEM004: a counted indicator takes counts",
            id="answer",
        ),
        pytest.param(
            list_size(100) | register("DEM", 500) | counts("DEM004", 1, 2),
            "register DEM \\(500\\) exceeds",
            id="register-too-big",
        ),
        pytest.param(
            list_size(100) | register("DEM", 5) | counts("DEM004", 1, 2, 2, 1),
            "exceed the denominator",
            id="adjustments",
        ),
    ],
)
def test_bad_figures_are_refused(ardens, values, message):
    practice = PracticeFactory()
    submit(ardens, practice, values)
    with pytest.raises(RuleError, match=message) as raised:
        calculate.recalculate(db.session, service_id=ardens.id, achievement_date=year_end(ardens))
    assert practice.ods_code in str(raised.value)
    assert stored_count(ardens) == 0


def test_a_tick_box_answer_must_be_yes_or_no(db_session):
    service = make_service(2021, "201.16", 9_103)
    indicator(group(service, "QI"), "QI001", 74, thresholds=None)
    practice = PracticeFactory()
    submit(service, practice, list_size(9_103) | {("QI001", "ANSWER"): 2})
    with pytest.raises(RuleError, match="QI001: a tick-box answer is 1"):
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
    submit(service, practice, counts("QI001", 1, 1) | {("QI001", "ANSWER"): 1})
    with pytest.raises(RuleError, match="QI001: a tick-box indicator takes a Yes or No"):
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))


def test_missing_reference_values_are_refused_naming_the_indicator(db_session):
    service = make_service(2025, "225.49", None, {"AF": "0.021"})
    indicator(group(service, "HYP"), "HYP001", 10, register="HYP")
    with pytest.raises(RuleError, match="national average list size"):
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
    from claims_portal.national.models import ServiceReference

    reference = db.session.scalar(
        select(ServiceReference).where(ServiceReference.service_id == service.id)
    )
    reference.national_average_list_size = 9_964
    db.session.commit()
    with pytest.raises(RuleError, match="HYP001 is weighted by register HYP"):
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))


def test_a_service_without_pounds_per_point_is_refused(db_session):
    service = make_service(2025, "225.49", 9_964)
    from claims_portal.national.models import ServiceReference

    reference = db.session.scalar(
        select(ServiceReference).where(ServiceReference.service_id == service.id)
    )
    reference.pounds_per_point = None
    db.session.commit()
    with pytest.raises(RuleError, match="no pounds per point"):
        calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))


def test_no_providers_with_figures_calculates_nothing(ardens):
    assert (
        calculate.recalculate(db.session, service_id=ardens.id, achievement_date=year_end(ardens))
        == 0
    )


def test_submission_for_one_provider(ardens):
    practice = PracticeFactory()
    submit(
        ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 40, 53, 2, 1)
    )
    submission = core_inputs.submission_for(db.session, ardens, practice, year_end(ardens))
    assert submission.organisation_code == practice.ods_code
    assert submission.list_size == 10_000
    assert submission.registers == {"DEM": 53}
    assert submission.record_for("DEM004").cohort == 50


def test_a_changed_indicator_definition_recalculates(ardens):
    practice = PracticeFactory()
    day = year_end(ardens)
    submit(ardens, practice, list_size(10_000) | register("DEM", 53) | counts("DEM004", 53, 53))
    calculate.recalculate(db.session, service_id=ardens.id, achievement_date=day)
    dementia = ardens.groups[0].indicators[0]
    dementia.points = Decimal(1)
    db.session.commit()
    changes = calculate.recalculate_changes(db.session, service_id=ardens.id, achievement_date=day)
    assert changes.changed == [practice.id]
    assert stored(ardens, practice).total == Decimal("150.45")  # Ardens' value of a point


def test_a_named_provider_without_figures_is_refused(ardens):
    practice = PracticeFactory()
    with pytest.raises(RuleError, match=f"{practice.ods_code}: no list size"):
        calculate.recalculate(
            db.session,
            service_id=ardens.id,
            achievement_date=year_end(ardens),
            provider_ids=[practice.id],
        )
