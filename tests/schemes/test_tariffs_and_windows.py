"""Tariff history by period, and claim windows generated from the frequency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.calculation import ClaimLine, LocalClaim, Period, calculate_local_claim
from claims_portal.schemes import services
from claims_portal.schemes.models import ClaimFrequency, SchemeStatus
from claims_portal.schemes.services import SchemeError
from tests.factories.schemes import (
    ClaimWindowFactory,
    ComponentFactory,
    SchemeFactory,
    ready_scheme,
)

D = dt.date


@pytest.fixture
def component(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb)
    return ComponentFactory(scheme=scheme, code="HC1")


def test_tariff_history_prices_each_period_from_its_effective_date(db_session, ours, component):
    services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="25.00", effective_from=D(2026, 4, 1)
    )
    services.add_tariff(
        db_session,
        component,
        actor=ours.admin,
        unit_value=Decimal("30"),
        effective_from=D(2026, 10, 1),
    )
    services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="32.50", effective_from=D(2027, 1, 15)
    )
    price = {
        start: services.tariff_for_period(component, start).unit_value
        for start in (D(2026, 4, 1), D(2026, 9, 1), D(2026, 10, 1), D(2027, 1, 1), D(2027, 2, 1))
    }
    assert price == {
        D(2026, 4, 1): Decimal("25.00"),
        D(2026, 9, 1): Decimal("25.00"),
        D(2026, 10, 1): Decimal("30.00"),
        # A tariff taking effect inside a period prices the periods after it.
        D(2027, 1, 1): Decimal("30.00"),
        D(2027, 2, 1): Decimal("32.50"),
    }
    assert services.tariff_for_period(component, D(2026, 3, 1)) is None


def test_the_calculation_core_prices_with_the_same_history(db_session, ours, component):
    services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="25.00", effective_from=D(2026, 4, 1)
    )
    services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="30.00", effective_from=D(2026, 10, 1)
    )
    component.max_units_per_claim = 10
    terms = services.component_terms(component)
    september = calculate_local_claim(
        LocalClaim(period=Period(D(2026, 9, 1), D(2026, 9, 30)), lines=(ClaimLine(terms, 4),))
    )
    october = calculate_local_claim(
        LocalClaim(period=Period(D(2026, 10, 1), D(2026, 10, 31)), lines=(ClaimLine(terms, 12),))
    )
    assert september.total == Decimal("100.00")
    assert october.total == Decimal("300.00")  # capped at 10 units a claim


def test_tariffs_are_validated(db_session, ours, component):
    with pytest.raises(SchemeError) as raised:
        services.add_tariff(
            db_session, component, actor=ours.admin, unit_value="-1", effective_from=D(2025, 1, 1)
        )
    assert len(raised.value.problems) == 2
    with pytest.raises(SchemeError, match="pounds and pence"):
        services.add_tariff(
            db_session,
            component,
            actor=ours.admin,
            unit_value="1.005",
            effective_from=D(2026, 4, 1),
        )
    with pytest.raises(SchemeError, match="amount in pounds"):
        services.add_tariff(
            db_session, component, actor=ours.admin, unit_value="ten", effective_from=D(2026, 4, 1)
        )
    services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="10", effective_from=D(2026, 4, 1)
    )
    with pytest.raises(SchemeError, match="already has a tariff from 1 April 2026"):
        services.add_tariff(
            db_session, component, actor=ours.admin, unit_value="11", effective_from=D(2026, 4, 1)
        )


def test_tariffs_are_history_once_published(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    component = scheme.components[0]
    (first,) = component.tariffs
    assert services.update_tariff(
        db_session, first, actor=ours.admin, unit_value="26.00", effective_from=first.effective_from
    )
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="add a new tariff"):
        services.update_tariff(
            db_session,
            first,
            actor=ours.admin,
            unit_value="27.00",
            effective_from=first.effective_from,
        )
    with pytest.raises(SchemeError, match="kept as history"):
        services.remove_tariff(db_session, first, actor=ours.admin)
    later = services.add_tariff(
        db_session, component, actor=ours.admin, unit_value="28.00", effective_from=D(2026, 12, 1)
    )
    assert services.tariff_for_period(component, D(2026, 11, 1)) is first
    assert services.tariff_for_period(component, D(2026, 12, 1)) is later
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "scheme_tariff").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["scheme_tariff.updated", "scheme_tariff.added"]
    assert events[0].before == {"unit_value": "25.00"}
    assert events[0].after == {"unit_value": "26.00"}


def test_generate_windows_monthly_then_regenerated_as_quarterly(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, window_days=45)
    assert services.generate_windows(db_session, scheme, actor=ours.admin) == (12, 0)
    october = scheme.windows[6]
    assert (october.period_start, october.period_end, october.opens_on, october.closes_on) == (
        D(2026, 10, 1),
        D(2026, 10, 31),
        D(2026, 11, 1),
        D(2026, 12, 15),
    )
    assert services.generate_windows(db_session, scheme, actor=ours.admin) == (0, 0)
    services.update_scheme(
        db_session, scheme, actor=ours.admin, claim_frequency=ClaimFrequency.QUARTERLY
    )
    assert services.generate_windows(db_session, scheme, actor=ours.admin) == (4, 12)
    assert [w.period_label for w in scheme.windows] == [
        "1 April 2026 to 30 June 2026",
        "1 July 2026 to 30 September 2026",
        "1 October 2026 to 31 December 2026",
        "1 January 2027 to 31 March 2027",
    ]


def test_edited_windows_survive_regeneration(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, claim_frequency=ClaimFrequency.QUARTERLY)
    services.generate_windows(db_session, scheme, actor=ours.admin)
    first = scheme.windows[0]
    services.update_window(
        db_session, first, actor=ours.admin, opens_on=D(2026, 6, 20), closes_on=D(2026, 7, 31)
    )
    services.generate_windows(db_session, scheme, actor=ours.admin)
    assert scheme.windows[0].opens_on == D(2026, 6, 20)


def test_windows_of_a_published_scheme_move_but_keep_their_periods(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    window = scheme.windows[0]
    assert services.update_window(
        db_session, window, actor=ours.admin, opens_on=D(2026, 5, 1), closes_on=D(2026, 6, 15)
    )
    with pytest.raises(SchemeError, match="claim periods can no longer change"):
        services.update_window(
            db_session,
            window,
            actor=ours.admin,
            opens_on=D(2026, 5, 1),
            closes_on=D(2026, 6, 15),
            period_end=D(2026, 5, 15),
        )
    with pytest.raises(SchemeError, match="can no longer be removed"):
        services.remove_window(db_session, window, actor=ours.admin)
    assert scheme.status is SchemeStatus.PUBLISHED


def test_window_rules(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, claim_frequency=ClaimFrequency.AD_HOC)
    ClaimWindowFactory(
        scheme=scheme,
        period_start=D(2026, 4, 1),
        period_end=D(2026, 6, 30),
        opens_on=D(2026, 7, 1),
        closes_on=D(2026, 7, 31),
    )
    with pytest.raises(SchemeError) as raised:
        services.add_window(
            db_session,
            scheme,
            actor=ours.admin,
            period_start=D(2026, 6, 1),
            period_end=D(2027, 4, 30),
            opens_on=D(2027, 5, 1),
            closes_on=D(2027, 4, 1),
        )
    assert len(raised.value.problems) == 3
    window = services.add_window(
        db_session, scheme, actor=ours.admin, period_start=D(2026, 7, 1), period_end=D(2026, 9, 30)
    )
    assert (window.opens_on, window.closes_on) == (D(2026, 10, 1), D(2026, 10, 30))
