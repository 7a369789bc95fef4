"""Payments made by hand, for schemes not paid through the agency: one form for many claims
(the date paid, the payment's reference), check your answers, then each claim Paid with a
payment recorded by hand; every wrong answer in the error summary."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimStatus
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.payments import services
from claims_portal.payments.files import financial_year_of
from claims_portal.payments.models import Payment, PaymentStatus
from claims_portal.payments.services import PaymentsError
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.claims import claim_scene
from tests.payments.finance_helpers import approved_claims

S = ClaimStatus


@pytest.fixture
def scene(db_session):
    """A scheme paid by hand (not through the agency)."""
    scene = claim_scene(two_step=False)
    scene.scheme.pay_through_agency = False
    scene.scheme.agency_enrolment_date = None
    db.session.commit()
    return scene


def _date(day: dt.date) -> dict[str, str]:
    return {
        "paid_date-day": str(day.day),
        "paid_date-month": str(day.month),
        "paid_date-year": str(day.year),
    }


def test_finance_records_many_claims_paid_after_checking_answers(app, db_session, scene):
    claims = approved_claims(scene, 2, value=Decimal("250.50"))
    browser = signed_in(app, scene.finance)
    page = browser.get("/payments/manual").get_data(as_text=True)
    assert all(c.reference in page for c in claims)
    day = today()
    form = {
        "claim": [f"{c.id}:{c.version}" for c in claims],
        "reference": "BACS/2026_12.001-A",
        **_date(day),
    }
    check = post(browser, "/payments/manual", form)
    assert check.status_code == 200
    text = check.get_data(as_text=True)
    assert "Check your answers" in text
    assert "£501.00" in text
    assert db_session.scalars(select(Payment)).all() == []  # nothing yet

    done = post(browser, "/payments/manual/record", form)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "2 claims recorded as paid, 0 not" in done.get_data(as_text=True)
    db_session.expire_all()
    payments = db_session.scalars(select(Payment).order_by(Payment.claim_id)).all()
    assert len(payments) == 2
    for claim, payment in zip(claims, payments, strict=True):
        claim = db_session.get(type(claim), claim.id)
        assert claim.status is S.PAID
        assert payment.reference == f"MAN-{claim.id:06d}-1"
        assert payment.status is PaymentStatus.PAID
        assert payment.file_id is None
        assert payment.recorded_by_id == scene.finance.id
        assert payment.agency_reference == "BACS/2026_12.001-A"
        assert payment.paid_date == day
        assert payment.amount == Decimal("250.50")
        assert payment.paycode == (scene.scheme.paycode or "")
        assert payment.payment_month == f"{day:%Y-%m}"
        assert payment.financial_year == financial_year_of(day)
        assert payment.approved_date <= day
    actions = list(db_session.scalars(select(AuditEvent.action)))
    assert actions.count("payment.recorded") == 2
    assert actions.count("claim.payment_recorded") == 2
    assert "No claims are waiting" in browser.get("/payments/manual").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"paid_date-day": "31", "paid_date-month": "2"}, "Enter the date it was paid"),
        ({"paid_date-year": "26"}, "Enter the date it was paid"),
        ("tomorrow", "must be today or in the past"),
        ("before approval", "cannot be before"),
        ({"reference": ""}, "Enter the payment's reference"),
        ({"reference": "has spaces in"}, "letters, digits and / _ . -"),
        ({"reference": "A" * 51}, "letters, digits and / _ . -"),
        ({"claim": []}, "Select at least one claim"),
        ({"claim": ["x:y"]}, "Select at least one claim"),
    ],
)
def test_wrong_answers_are_400_with_the_error_summary(app, db_session, scene, change, message):
    claim = approved_claims(scene)[0]
    form = {"claim": [f"{claim.id}:1"], "reference": "REF-1", **_date(today())}
    if change == "tomorrow":
        form.update(_date(today() + dt.timedelta(days=1)))
    elif change == "before approval":
        form.update(_date(today() - dt.timedelta(days=30)))
    else:
        form.update(change)
    browser = signed_in(app, scene.finance)
    for url in ("/payments/manual", "/payments/manual/record"):
        response = post(browser, url, form)
        assert response.status_code == 400
        text = html.unescape(response.get_data(as_text=True))
        assert "There is a problem" in text
        assert message in text
    db_session.expire_all()
    assert db_session.get(type(claim), claim.id).status is S.APPROVED_FOR_PAYMENT
    assert db_session.scalars(select(Payment)).all() == []


def test_a_claim_of_a_scheme_paid_through_the_agency_is_refused(db_session, scene):
    agency = claim_scene(two_step=False, icb=scene.icb)
    claim = approved_claims(agency)[0]
    assert services.to_pay_by_hand(db_session, scene.icb) == []
    with pytest.raises(PaymentsError, match="paid through the payments agency"):
        services.record_manual_payments(
            db_session,
            scene.finance,
            scene.icb,
            [(claim.id, 1)],
            paid_date=today(),
            reference="REF-1",
        )


def test_another_icbs_claim_is_refused_and_their_page_shows_none_of_ours(app, db_session, scene):
    claim = approved_claims(scene)[0]
    elsewhere = claim_scene(two_step=False)
    with pytest.raises(PaymentsError, match="There is no claim"):
        services.check_manual_payment(
            db_session,
            elsewhere.finance,
            elsewhere.icb,
            [(claim.id, 1)],
            paid_date=today(),
            reference="REF-1",
        )
    page = signed_in(app, elsewhere.finance).get("/payments/manual").get_data(as_text=True)
    assert claim.reference not in page


def test_a_claim_changed_meanwhile_is_reported_and_the_others_paid(db_session, scene):
    first, second = approved_claims(scene, 2)
    services.take_payment_step(
        db_session, scene.finance, scene.icb, "hold", [(second.id, 1)], reason="Check"
    )
    services.take_payment_step(db_session, scene.finance, scene.icb, "release", [(second.id, 2)])
    result = services.record_manual_payments(
        db_session,
        scene.finance,
        scene.icb,
        [(first.id, 1), (second.id, 1)],
        paid_date=today(),
        reference="REF-1",
    )
    assert [o.claim_id for o in result.done] == [first.id]
    assert "while you were looking at it" in result.not_done[0].reason
    assert second.status is S.APPROVED_FOR_PAYMENT


def test_practice_users_are_refused(app, db_session, scene):
    assert signed_in(app, scene.user).get("/payments/manual").status_code == 403
