"""A scheme's payment settings (issue 15, "Set-up"): paid through the payments agency from an
enrolment date (the scheme's start date unless given, none when not paid through the agency,
held by a database constraint), locked with the paycode once the scheme is published, and
set through the admin's scheme form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.audit.models import AuditEvent
from claims_portal.schemes import services
from claims_portal.schemes.models import ClaimFrequency, Scheme
from claims_portal.schemes.services import SchemeError
from tests.admin.helpers import post
from tests.factories.payments import PaycodeFactory
from tests.factories.schemes import ready_scheme
from tests.helpers import sign_in

D = dt.date


@pytest.fixture(autouse=True)
def _paycodes(db_session):
    """The paycodes these tests choose (a scheme's paycode comes from the paycode list)."""
    for code in ("HC01", "HC02"):
        PaycodeFactory(code=code)


def _new(session, tenant, **overrides):
    values = {
        "actor": tenant.admin,
        "commissioner": tenant.icb,
        "code": "LES-PAY",
        "name": "Paid scheme",
        "financial_year": "2026/27",
        "start_date": D(2026, 4, 1),
        "end_date": D(2027, 3, 31),
        "claim_frequency": ClaimFrequency.MONTHLY,
        "paycode": "HC01",
    } | overrides
    return services.create_scheme(session, **values)


def test_a_scheme_paid_through_the_agency_is_enrolled_from_its_start_unless_told(db_session, ours):
    assert _new(db_session, ours).agency_enrolment_date == D(2026, 4, 1)
    later = _new(db_session, ours, code="LES-PAY2", agency_enrolment_date=D(2026, 7, 1))
    assert later.agency_enrolment_date == D(2026, 7, 1)
    (event,) = [
        e
        for e in db_session.scalars(select(AuditEvent).where(AuditEvent.action == "scheme.created"))
        if e.object_id == str(later.id)
    ]
    assert event.after["agency_enrolment_date"] == "2026-07-01"


def test_a_scheme_not_paid_through_the_agency_has_no_enrolment_date(db_session, ours):
    scheme = _new(db_session, ours, pay_through_agency=False, agency_enrolment_date=D(2026, 7, 1))
    assert scheme.agency_enrolment_date is None
    assert services.update_scheme(db_session, scheme, actor=ours.admin, pay_through_agency=True)
    assert scheme.agency_enrolment_date == scheme.start_date


def test_the_database_holds_an_enrolment_date_exactly_when_paid_through_the_agency(
    db_session, ours
):
    scheme = _new(db_session, ours)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(
            Scheme.__table__.update()
            .where(Scheme.id == scheme.id)
            .values(agency_enrolment_date=None)
        )


def test_the_enrolment_date_is_locked_once_published(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, paycode="HC01")
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="its agency enrolment date can no longer change"):
        services.update_scheme(
            db_session, scheme, actor=ours.admin, agency_enrolment_date=D(2026, 9, 1)
        )
    assert scheme.agency_enrolment_date == scheme.start_date


def test_the_admin_form_sets_the_enrolment_date_and_locks_it_once_published(
    client, db_session, ours
):
    scheme = ready_scheme(commissioner=ours.icb, paycode="HC01")
    sign_in(client, ours.admin.email)
    page = client.get(f"/admin/schemes/edit/?id={scheme.id}").get_data(as_text=True)
    assert 'name="agency_enrolment_date"' in page
    form = {
        "code": scheme.code,
        "name": scheme.name,
        "commissioner_id": scheme.commissioner_id,
        "financial_year": scheme.financial_year,
        "start_date": scheme.start_date.isoformat(),
        "end_date": scheme.end_date.isoformat(),
        "claim_frequency": scheme.claim_frequency.name,
        "window_days": scheme.window_days,
        "evidence_requirement": scheme.evidence_requirement.name,
        "pay_through_agency": "y",
        "agency_enrolment_date": "2026-10-01",
        "paycode": "HC01",
    }
    response = post(client, f"/admin/schemes/edit/?id={scheme.id}", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    saved = db_session.get(Scheme, scheme.id)
    assert saved.agency_enrolment_date == D(2026, 10, 1)
    services.publish_scheme(db_session, saved, actor=ours.admin)
    db_session.commit()
    page = client.get(f"/admin/schemes/edit/?id={scheme.id}").get_data(as_text=True)
    (field,) = re.findall(r"<input[^>]*id=\"agency_enrolment_date\"[^>]*>", page)
    assert "disabled" in field
