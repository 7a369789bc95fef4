"""Recoveries from paid claims, by two finance people of the claim's ICB: raised (an amount
not above what was paid less earlier recoveries not declined, a reason), then approved or
declined by someone else; approved ones wait for the next run with no payment row, and the
practice is told."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimStatus
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.payments import services
from claims_portal.payments.models import Payment, PaymentRecovery, RecoveryStatus
from claims_portal.payments.services import PaymentsError
from claims_portal.payments.services.recoveries import RECOVERY
from claims_portal.statemachine import set_status
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.payments.finance_helpers import approved_claims, paid_claim

R = RecoveryStatus


@pytest.fixture
def scene(db_session):
    scene = claim_scene(two_step=False)
    scene.extra["second"] = user_with_role(Role.FINANCE, scene.icb, full_name="Ada Shaw")
    return scene


def _raise(db_session, scene, claim, amount="40.00", reason="Patients counted twice"):
    return services.raise_recovery(
        db_session, scene.finance, scene.icb, claim.id, amount=amount, reason=reason
    )


def test_raise_then_a_second_person_approves_and_the_practice_is_told(app, db_session, scene):
    claim = paid_claim(scene, "100.00")
    browser = signed_in(app, scene.finance)
    form_page = browser.get(f"/payments/claims/{claim.id}/recover")
    assert form_page.status_code == 200
    assert "£100.00" in form_page.get_data(as_text=True)
    raised = post(
        browser,
        f"/payments/claims/{claim.id}/recover",
        {"amount": "£40.50", "reason": "Patients counted twice"},
    )
    assert raised.status_code == 302
    db_session.expire_all()
    recovery = db_session.scalar(select(PaymentRecovery))
    assert (recovery.amount, recovery.status) == (Decimal("40.50"), R.AWAITING_APPROVAL)
    # The raiser is not offered the decision, and is refused if they try.
    mine = browser.get(f"/payments/recoveries/{recovery.id}").get_data(as_text=True)
    assert "another finance person must approve" in mine
    refused = post(browser, f"/payments/recoveries/{recovery.id}", {"decision": "approve"})
    assert refused.status_code == 403
    assert "another finance person must approve" in refused.get_data(as_text=True)

    second = signed_in(app, scene.extra["second"])
    listed = second.get("/payments/recoveries").get_data(as_text=True)
    assert claim.reference in listed
    assert f"/payments/claims/{claim.id}/recover" in listed  # among the paid claims
    assert "Approve or decline" in listed
    approved = post(second, f"/payments/recoveries/{recovery.id}", {"decision": "approve"})
    assert approved.status_code == 302
    db_session.expire_all()
    recovery = db_session.get(PaymentRecovery, recovery.id)
    assert recovery.status is R.APPROVED
    assert recovery.decided_by_id == scene.extra["second"].id
    # The next run's state: approved, with no payment row of its own yet.
    assert db_session.scalars(select(Payment).where(Payment.recovery_id.is_not(None))).all() == []
    actions = list(db_session.scalars(select(AuditEvent.action)))
    assert "payment_recovery.raised" in actions
    assert "payment_recovery.approved" in actions
    (notice,) = db_session.scalars(select(Notice).where(Notice.user_id == scene.user.id)).all()
    assert "£40.50" in notice.subject
    assert notice.link == f"/claims/{claim.id}"
    (email,) = db_session.scalars(
        select(EmailMessage).where(EmailMessage.recipient == scene.user.email)
    ).all()
    assert f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/claims/{claim.id}" in email.body
    assert db_session.get(type(claim), claim.id).status is ClaimStatus.PAID


def test_a_decline_needs_a_reason(app, db_session, scene):
    claim = paid_claim(scene)
    recovery = _raise(db_session, scene, claim)
    second = signed_in(app, scene.extra["second"])
    response = post(second, f"/payments/recoveries/{recovery.id}", {"decision": "decline"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "There is a problem" in text
    assert 'href="#decline_reason"' in text
    declined = post(
        second,
        f"/payments/recoveries/{recovery.id}",
        {"decision": "decline", "decline_reason": "The count was right"},
    )
    assert declined.status_code == 302
    db_session.expire_all()
    recovery = db_session.get(PaymentRecovery, recovery.id)
    assert (recovery.status, recovery.decline_reason) == (R.DECLINED, "The count was right")
    assert "payment_recovery.declined" in set(db_session.scalars(select(AuditEvent.action)))
    # A declined recovery no longer counts against what can be recovered.
    assert services.recoverable(db_session, claim.id) == Decimal("100.00")


def test_the_amount_cannot_pass_what_was_paid_less_earlier_recoveries(db_session, scene):
    claim = paid_claim(scene, "100.00")
    _raise(db_session, scene, claim, "60.00")
    assert services.recoverable(db_session, claim.id) == Decimal("40.00")
    with pytest.raises(PaymentsError, match=r"cannot be more than £40.00"):
        _raise(db_session, scene, claim, "40.01")
    _raise(db_session, scene, claim, "40.00")
    assert services.recoverable(db_session, claim.id) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("", "Why", "Enter the amount in pounds and pence"),
        ("abc", "Why", "Enter the amount in pounds and pence"),
        ("1.234", "Why", "Enter the amount in pounds and pence"),
        ("1e400", "Why", "Enter the amount in pounds and pence"),
        ("0", "Why", "more than £0.00"),
        ("-5", "Why", "more than £0.00"),
        ("500.00", "Why", "cannot be more than £100.00"),
        ("10", "", "Enter why the money is recovered"),
        ("10", "x" * 501, "500 characters or fewer"),
        ("10", "Patient 943 476 5919 was counted", "NHS number"),
    ],
)
def test_bad_answers_are_400_with_the_error_summary(
    app, db_session, scene, amount, reason, message
):
    claim = paid_claim(scene, "100.00")
    response = post(
        signed_in(app, scene.finance),
        f"/payments/claims/{claim.id}/recover",
        {"amount": amount, "reason": reason},
    )
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "There is a problem" in text
    assert message in text
    assert db_session.scalars(select(PaymentRecovery)).all() == []


def test_only_a_paid_claim_can_have_money_recovered(db_session, scene):
    claim = approved_claims(scene)[0]
    with pytest.raises(PaymentsError, match="only a paid claim"):
        _raise(db_session, scene, claim)


def test_another_icbs_claim_and_recovery_are_not_found(app, db_session, scene):
    claim = paid_claim(scene)
    recovery = _raise(db_session, scene, claim)
    elsewhere = claim_scene(two_step=False)
    theirs = signed_in(app, elsewhere.finance)
    assert theirs.get(f"/payments/claims/{claim.id}/recover").status_code == 404
    assert theirs.get(f"/payments/recoveries/{recovery.id}").status_code == 404
    assert (
        post(theirs, f"/payments/recoveries/{recovery.id}", {"decision": "approve"}).status_code
        == 404
    )
    assert claim.reference not in theirs.get("/payments/recoveries").get_data(as_text=True)
    found = theirs.get(f"/payments/recoveries/new?claim={claim.reference}")
    assert found.status_code == 400


def test_the_recoveries_page_finds_a_claim_by_its_reference(app, db_session, scene):
    claim = paid_claim(scene)
    browser = signed_in(app, scene.finance)
    found = browser.get(f"/payments/recoveries/new?claim={claim.reference}")
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/payments/claims/{claim.id}/recover")
    assert browser.get("/payments/recoveries/new?claim=nonsense").status_code == 400


def test_practice_users_are_refused(app, db_session, scene):
    claim = paid_claim(scene)
    practice = signed_in(app, scene.user)
    assert practice.get("/payments/recoveries").status_code == 403
    assert practice.get(f"/payments/claims/{claim.id}/recover").status_code == 403


def test_the_database_holds_two_people_whatever_calls_it(db_session, scene):
    claim = paid_claim(scene)
    recovery = _raise(db_session, scene, claim)
    set_status(recovery, R.APPROVED)
    recovery.decided_by_id = scene.finance.id
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_an_approved_recovery_is_marked_recovered_by_the_run(db_session, scene):
    claim = paid_claim(scene)
    recovery = _raise(db_session, scene, claim)
    services.decide_recovery(db_session, scene.extra["second"], scene.icb, recovery.id, "approve")
    with pytest.raises(PaymentsError, match="already approved"):
        services.decide_recovery(
            db_session, scene.extra["second"], scene.icb, recovery.id, "decline", reason="No"
        )
    services.mark_recovered(db_session, recovery.id)
    assert recovery.status is R.RECOVERED
    assert "payment_recovery.recovered" in set(db_session.scalars(select(AuditEvent.action)))
    assert RECOVERY.reachable() == set(RecoveryStatus)
