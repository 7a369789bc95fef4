"""Each ICB's payments settings page: its administrators and finance staff only, every
problem in the error summary, saved and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.payments import services
from claims_portal.payments.models import IcbPaymentSettings
from tests.admin.helpers import Tenant, make_tenant, post
from tests.helpers import sign_in

URL = "/payments/settings"
GOOD = {
    "agency_account": "pcse-q01-001",
    "finance_contacts": "Finance@Example.nhs.net\nlead@example.nhs.net, finance@example.nhs.net",
    "cut_off_working_days": "9",
    "payment_day": "20",
}


@pytest.fixture
def ours(db_session) -> Tenant:
    return make_tenant()


@pytest.fixture
def theirs(db_session) -> Tenant:
    return make_tenant()


def _row(db_session, tenant):
    db_session.expire_all()
    return db_session.scalar(
        select(IcbPaymentSettings).where(IcbPaymentSettings.icb_id == tenant.icb.id)
    )


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_administrators_and_finance_save_the_settings_and_it_is_audited(
    client, db_session, ours, role
):
    sign_in(client, getattr(ours, role).email)
    page = client.get(URL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'value="8"' in text
    assert 'value="20"' in text
    response = post(client, URL, GOOD)
    assert response.status_code == 302, response.get_data(as_text=True)
    row = _row(db_session, ours)
    assert row.agency_account == "PCSE-Q01-001"
    assert row.finance_contacts == ["finance@example.nhs.net", "lead@example.nhs.net"]
    assert (row.cut_off_working_days, row.payment_day) == (9, 20)
    (event,) = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "icb_payment_settings.changed")
    ).all()
    assert event.organisation_id == ours.icb.id
    assert event.actor_id == getattr(ours, role).id
    assert event.after["cut_off_working_days"] == 9
    # Saving the same again changes nothing and records nothing.
    assert post(client, URL, GOOD).status_code == 302
    assert (
        len(
            db_session.scalars(
                select(AuditEvent).where(AuditEvent.action == "icb_payment_settings.changed")
            ).all()
        )
        == 1
    )
    shown = client.get(URL).get_data(as_text=True)
    assert "PCSE-Q01-001" in shown
    assert "lead@example.nhs.net" in shown


def test_every_problem_is_in_the_error_summary(client, db_session, ours):
    sign_in(client, ours.admin.email)
    response = post(
        client,
        URL,
        {
            "agency_account": "",
            "finance_contacts": "not-an-address",
            "cut_off_working_days": "12",
            "payment_day": "31",
        },
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    summary = text[text.index("nhsuk-error-summary") : text.index("<h1>")]
    for message in (
        "Enter the agency account reference",
        "not-an-address is not an email address",
        "The cut-off must be 8 or 9 working days",
        "The payment day must be a day of the month from 1 to 28",
    ):
        assert message in summary
    assert 'href="#payment_day"' in summary
    assert _row(db_session, ours) is None


def test_at_most_five_finance_contacts(db_session, ours):
    with pytest.raises(services.PaymentsError, match="5 finance contacts at most"):
        services.set_payment_settings(
            db_session,
            ours.icb,
            actor=ours.admin,
            agency_account="ACC-1",
            finance_contacts=" ".join(f"f{n}@example.nhs.net" for n in range(6)),
            cut_off_working_days=8,
            payment_day=20,
        )


@pytest.mark.parametrize("role", ["tier_1", "tier_2", "provider", "pcn_lead"])
def test_other_people_are_refused(client, db_session, ours, role):
    sign_in(client, getattr(ours, role).email)
    assert client.get(URL).status_code == 403
    assert post(client, URL, GOOD).status_code == 403
    assert _row(db_session, ours) is None


def test_each_icb_sees_and_sets_only_its_own(client, db_session, ours, theirs):
    with pytest.raises(PermissionDenied):
        services.set_payment_settings(db_session, ours.icb, actor=theirs.admin, **GOOD)
    services.set_payment_settings(
        db_session, ours.icb, actor=ours.admin, **{**GOOD, "agency_account": "OURS-1"}
    )
    db_session.commit()
    sign_in(client, theirs.finance.email)
    text = client.get(URL).get_data(as_text=True)
    assert "OURS-1" not in text
    assert post(client, URL, {**GOOD, "agency_account": "THEIRS-1"}).status_code == 302
    assert _row(db_session, ours).agency_account == "OURS-1"
    assert _row(db_session, theirs).agency_account == "THEIRS-1"
