"""Finance and rejected payments: sent again (the rejected payment settled, so the next run
collects the claim) or held with a reason; held claims released; the ICB's own only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.payments import services
from claims_portal.payments.models import Payment
from claims_portal.payments.services.finance import STEPS
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.claims import claim_scene
from tests.payments.finance_helpers import approved_claims, pending_payment, rejected_payment

S = ClaimStatus


@pytest.fixture
def scene(db_session):
    return claim_scene(two_step=False)


def _fresh(db_session, row):
    db_session.expire_all()
    return db_session.get(type(row), row.id)


def test_rejected_payments_are_listed_for_finance_of_the_claims_icb_only(app, db_session, scene):
    claim = approved_claims(scene)[0]
    rejected_payment(claim, "Practice code not known to the agency")
    elsewhere = claim_scene(two_step=False)
    theirs = approved_claims(elsewhere)[0]
    rejected_payment(theirs)

    rows = services.rejected_payments(db_session, scene.icb)
    assert [r.claim_id for r in rows] == [claim.id]
    page = signed_in(app, scene.finance).get("/payments/rejected")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert claim.reference in text
    assert "Practice code not known to the agency" in text
    assert scene.practice.display_name in text
    assert "£100.00" in text
    assert theirs.reference not in text


def test_send_again_settles_the_rejected_payment_and_is_audited(app, db_session, scene):
    claim = approved_claims(scene)[0]
    payment = rejected_payment(claim)
    browser = signed_in(app, scene.finance)
    confirm = post(
        browser,
        "/payments/rejected",
        {"action": "send-again", "claim": f"{claim.id}:{claim.version}"},
    )
    assert confirm.status_code == 200
    assert "Send again 1 claim?" in confirm.get_data(as_text=True)
    assert _fresh(db_session, payment).settled_at is None  # nothing done before confirming

    done = post(
        browser,
        "/payments/rejected",
        {"action": "send-again", "claim": f"{claim.id}:{claim.version}", "confirmed": "1"},
    )
    assert done.status_code == 200
    assert "1 claim sent again, 0 not" in done.get_data(as_text=True)
    payment = _fresh(db_session, payment)
    assert payment.settled_at is not None
    assert payment.settled_by_id == scene.finance.id
    claim = _fresh(db_session, claim)
    assert claim.status is S.APPROVED_FOR_PAYMENT
    assert claim.version == 2
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"claim.payment_resent", "payment.settled"} <= actions
    assert services.rejected_payments(db_session, scene.icb) == []
    # The next run may collect it: no live payment and no unsettled rejection.
    assert [r.claim_id for r in services.waiting_for_the_run(db_session, scene.icb)] == [claim.id]


def test_send_again_of_a_claim_with_nothing_rejected_changes_nothing(db_session, scene):
    claim = approved_claims(scene)[0]
    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "send-again", [(claim.id, claim.version)]
    )
    assert result.done == []
    assert "no rejected payment" in result.not_done[0].reason
    assert _fresh(db_session, claim).version == claim.version


def test_hold_needs_a_reason_then_settles_and_holds_many(app, db_session, scene):
    claims = approved_claims(scene, 2)
    payments = [rejected_payment(c) for c in claims]
    browser = signed_in(app, scene.finance)
    targets = [f"{c.id}:{c.version}" for c in claims]
    no_reason = post(
        browser, "/payments/rejected", {"action": "hold", "claim": targets, "confirmed": "1"}
    )
    assert no_reason.status_code == 400
    text = no_reason.get_data(as_text=True)
    assert "There is a problem" in text
    assert 'href="#reason"' in text
    assert _fresh(db_session, claims[0]).status is S.APPROVED_FOR_PAYMENT

    held = post(
        browser,
        "/payments/rejected",
        {"action": "hold", "claim": targets, "confirmed": "1", "reason": "Bank details wrong"},
    )
    assert held.status_code == 200
    assert "2 claims held, 0 not" in held.get_data(as_text=True)
    for claim, payment in zip(claims, payments, strict=True):
        assert _fresh(db_session, claim).status is S.PAYMENT_ON_HOLD
        assert _fresh(db_session, payment).settled_at is not None
    event = db_session.scalar(
        select(ClaimEvent).where(
            ClaimEvent.claim_id == claims[0].id, ClaimEvent.action == ClaimAction.HOLD_PAYMENT
        )
    )
    assert event.reason == "Bank details wrong"
    page = browser.get("/payments/holds").get_data(as_text=True)
    assert "Bank details wrong" in page
    assert claims[0].reference in page


def test_a_held_claim_is_not_collectable_and_release_brings_it_back(db_session, scene):
    claim = approved_claims(scene)[0]
    assert [r.claim_id for r in services.waiting_for_the_run(db_session, scene.icb)] == [claim.id]
    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "hold", [(claim.id, 1)], reason="Query on figures"
    )
    assert [o.claim_id for o in result.done] == [claim.id]
    assert services.waiting_for_the_run(db_session, scene.icb) == []
    assert [r.claim_id for r in services.held_claims(db_session, scene.icb)] == [claim.id]
    assert services.held_claims(db_session, scene.icb)[0].reason == "Query on figures"

    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "release", [(claim.id, 2)]
    )
    assert result.not_done == []
    assert _fresh(db_session, claim).status is S.APPROVED_FOR_PAYMENT
    assert [r.claim_id for r in services.waiting_for_the_run(db_session, scene.icb)] == [claim.id]


def test_a_claim_in_a_file_waiting_for_the_agency_cannot_be_held(db_session, scene):
    claim = approved_claims(scene)[0]
    pending_payment(claim)
    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "hold", [(claim.id, 1)], reason="Stop it"
    )
    assert result.done == []
    assert "cannot be held now" in result.not_done[0].reason
    assert _fresh(db_session, claim).status is S.APPROVED_FOR_PAYMENT


def test_a_stale_page_is_told_and_changes_nothing(db_session, scene):
    claim = approved_claims(scene)[0]
    payment = rejected_payment(claim)
    services.take_payment_step(db_session, scene.finance, scene.icb, "send-again", [(claim.id, 1)])
    # A second look from the same (old) page: version 1 is gone.
    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "hold", [(claim.id, 1)], reason="Too late"
    )
    assert result.done == []
    assert "while you were looking at it" in result.not_done[0].reason
    assert _fresh(db_session, claim).status is S.APPROVED_FOR_PAYMENT
    assert _fresh(db_session, payment).settled_at is not None


def test_another_icbs_claim_is_not_found(app, db_session, scene):
    elsewhere = claim_scene(two_step=False)
    theirs = approved_claims(elsewhere)[0]
    payment = rejected_payment(theirs)
    result = services.take_payment_step(
        db_session, scene.finance, scene.icb, "send-again", [(theirs.id, 1)]
    )
    assert result.not_done[0].reason == "No such claim"
    assert _fresh(db_session, payment).settled_at is None
    with pytest.raises(PermissionDenied):
        services.take_payment_step(
            db_session, elsewhere.finance, scene.icb, "send-again", [(theirs.id, 1)]
        )
    # Their claim is left off the confirmation: nothing of theirs is selected.
    response = post(
        signed_in(app, scene.finance),
        "/payments/rejected",
        {"action": "send-again", "claim": f"{theirs.id}:1"},
    )
    assert response.status_code == 400
    assert "Select at least one claim" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/payments/rejected", "/payments/holds"])
def test_practice_users_and_other_commissioners_are_refused(app, db_session, scene, url):
    assert signed_in(app, scene.user).get(url).status_code == 403
    assert signed_in(app, scene.tier_2).get(url).status_code == 403


@pytest.mark.parametrize(
    "form",
    [
        {"action": "nonsense"},
        {"action": "send-again"},
        {"action": "hold", "claim": "abc:def"},
        {"action": "release", "claim": "99999999999:1"},
    ],
)
def test_bad_posts_are_400_with_the_error_summary(app, db_session, scene, form):
    approved_claims(scene)
    response = post(signed_in(app, scene.finance), "/payments/rejected", form)
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)


def test_the_steps_offered():
    assert {s.action for s in STEPS.values()} == {
        ClaimAction.RESEND_PAYMENT,
        ClaimAction.HOLD_PAYMENT,
        ClaimAction.RELEASE_PAYMENT,
    }
    assert Payment.__tablename__ == "payment"
