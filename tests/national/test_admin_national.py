"""The catalogue's admin views: a national administrator edits an indicator, a service and
the reference values through the real forms, each change audited; bad values are refused
with nothing changed; an ICB's administrator neither sees nor reaches the views."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.national.models import (
    AchievementDate,
    NationalPrevalence,
    QualityIndicator,
    QualityService,
    ServiceReference,
)
from claims_portal.national.services.catalogue import DATA_DIR, load_service_file
from tests.admin.helpers import make_tenant, post
from tests.factories.access import user_with_role
from tests.factories.organisations import NationalCommissionerFactory
from tests.helpers import sign_in

VIEWS = (
    "/admin/quality-services/",
    "/admin/quality-indicators/",
    "/admin/service-references/",
    "/admin/national-prevalences/",
    "/admin/national-prevalences/new/",
    "/admin/achievement-dates/",
)


@pytest.fixture
def qof(db_session) -> QualityService:
    return load_service_file(db_session, DATA_DIR / "qof-2025-26.json", actor=None).service


@pytest.fixture
def national_admin(db_session):
    return user_with_role(Role.ADMINISTRATOR, NationalCommissionerFactory())


def _indicator(db_session, service, code) -> QualityIndicator:
    return db_session.scalars(
        select(QualityIndicator).filter_by(service_id=service.id, code=code)
    ).one()


def _indicator_form(indicator: QualityIndicator, **changes) -> dict:
    values = {
        "description": indicator.description,
        "points": str(indicator.points),
        "lower_threshold": str(indicator.lower_threshold or ""),
        "upper_threshold": str(indicator.upper_threshold or ""),
        "prevalence_register": indicator.prevalence_register or "",
        "purpose": indicator.purpose.name,
    }
    if indicator.manual:
        values["manual"] = "y"
    return values | changes


def test_a_national_administrator_edits_an_indicators_points(
    client, db_session, qof, national_admin
):
    af006 = _indicator(db_session, qof, "AF006")
    sign_in(client, national_admin.email)
    listed = client.get("/admin/quality-indicators/?search=AF006")
    assert listed.status_code == 200
    assert "AF006" in listed.get_data(as_text=True)
    response = post(
        client,
        f"/admin/quality-indicators/edit/?id={af006.id}",
        _indicator_form(af006, points="10"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert _indicator(db_session, qof, "AF006").points == 10
    (event,) = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "quality_indicator.updated")
    ).all()
    assert event.actor_id == national_admin.id
    assert event.object_id == str(af006.id)
    assert {k: Decimal(v) for k, v in event.before.items()} == {"points": 12}
    assert {k: Decimal(v) for k, v in event.after.items()} == {"points": 10}


def test_thresholds_out_of_order_are_refused_and_nothing_changes(
    client, db_session, qof, national_admin
):
    af006 = _indicator(db_session, qof, "AF006")
    sign_in(client, national_admin.email)
    page = post(
        client,
        f"/admin/quality-indicators/edit/?id={af006.id}",
        _indicator_form(af006, lower_threshold="0.95", upper_threshold="0.90", points="11"),
    )
    assert "thresholds out of order" in html.unescape(page.get_data(as_text=True))
    db_session.expire_all()
    assert _indicator(db_session, qof, "AF006").points == 12
    page = post(
        client,
        f"/admin/quality-indicators/edit/?id={af006.id}",
        _indicator_form(af006, points="NaN"),
    ).get_data(as_text=True)
    assert "Enter a number from 0 to 9999" in page
    assert (
        db_session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "quality_indicator.updated")
        )
        is None
    )


def test_a_national_administrator_corrects_the_reference_values_and_dates(
    client, db_session, qof, national_admin
):
    reference = db_session.scalars(select(ServiceReference).filter_by(service_id=qof.id)).one()
    sign_in(client, national_admin.email)
    response = post(
        client,
        f"/admin/service-references/edit/?id={reference.id}",
        {
            "pounds_per_point": "225.49",
            "national_average_list_size": "10123",
            "aspiration_share": "0.80",
            "source": "NHS England, published list size",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = post(
        client,
        f"/admin/quality-services/edit/?id={qof.id}",
        {
            "name": qof.name,
            "start_date": "2025-04-01",
            "end_date": "2026-03-31",
            "response_date": "2025-07-31",
            "declaration_required": "y",
            "approval_required": "y",
            "amendment_window_days": "30",
            "source": qof.source,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(ServiceReference, reference.id).national_average_list_size == 10123
    service = db_session.get(QualityService, qof.id)
    assert service.amendment_window_days == 30
    assert str(service.response_date) == "2025-07-31"
    events = {
        e.action: e
        for e in db_session.scalars(select(AuditEvent).where(AuditEvent.actor_id.isnot(None)))
    }
    assert events["service_reference.updated"].after["national_average_list_size"] == 10123
    assert events["quality_service.updated"].after == {
        "response_date": "2025-07-31",
        "amendment_window_days": 30,
    }


def test_an_icb_administrator_cannot_see_the_views(client, db_session, qof):
    tenant = make_tenant()
    sign_in(client, tenant.admin.email)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "Quality services" not in index.get_data(as_text=True)
    for url in VIEWS:
        assert client.get(url).status_code == 403, url
    af006 = _indicator(db_session, qof, "AF006")
    refused = post(
        client, f"/admin/quality-indicators/edit/?id={af006.id}", _indicator_form(af006, points="1")
    )
    assert refused.status_code == 403
    db_session.expire_all()
    assert _indicator(db_session, qof, "AF006").points == 12


def test_the_national_administrator_sees_the_menu(client, db_session, qof, national_admin):
    sign_in(client, national_admin.email)
    index = client.get("/admin/").get_data(as_text=True)
    assert "Quality services" in index
    for url in VIEWS:
        assert client.get(url).status_code == 200, url
    assert "QOF" in client.get("/admin/quality-services/").get_data(as_text=True)


def test_a_national_administrator_adds_then_corrects_a_prevalence(
    client, db_session, qof, national_admin
):
    sign_in(client, national_admin.email)
    form = client.get("/admin/national-prevalences/new/").get_data(as_text=True)
    assert "Quality and Outcomes Framework 2025/26" in form
    response = post(
        client,
        "/admin/national-prevalences/new/",
        {"service_id": str(qof.id), "register": "af", "prevalence": "0.0215", "source": "x"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    row = db_session.scalars(select(NationalPrevalence).filter_by(service_id=qof.id)).one()
    assert (row.register, row.prevalence) == ("AF", Decimal("0.0215"))
    refused = post(
        client,
        f"/admin/national-prevalences/edit/?id={row.id}",
        {"prevalence": "2.15", "source": "x"},
    ).get_data(as_text=True)
    assert "Enter a number from 0 to 1" in refused
    response = post(
        client,
        f"/admin/national-prevalences/edit/?id={row.id}",
        {"prevalence": "0.0221", "source": "QOF publication"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(NationalPrevalence, row.id).prevalence == Decimal("0.0221")
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.actor_id == national_admin.id,
            AuditEvent.object_type == "national_prevalence",
        )
    ).all()
    assert sorted(actions) == ["national_prevalence.added", "national_prevalence.updated"]


def test_a_national_administrator_keeps_the_achievement_dates(
    client, db_session, qof, national_admin
):
    september = db_session.scalars(
        select(AchievementDate).filter_by(service_id=qof.id, date=dt.date(2025, 9, 30))
    ).one()
    sign_in(client, national_admin.email)
    assert client.get("/admin/achievement-dates/").status_code == 200
    response = post(
        client, f"/admin/achievement-dates/edit/?id={september.id}", {"is_payment_date": "y"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = post(
        client,
        "/admin/achievement-dates/new/",
        {"service_id": str(qof.id), "date": "2025-09-29"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "An achievement date is the last day of a month" in page
    response = post(client, "/admin/achievement-dates/delete/", {"id": str(september.id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(AchievementDate, september.id) is None
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "achievement_date")
    ).all()
    assert actions == ["achievement_date.updated", "achievement_date.removed"]
