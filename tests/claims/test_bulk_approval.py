"""Bulk approval: each claim checked on its own, the result says why any was not approved."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services.bulk import MAX_BULK, Failure, bulk_approve
from claims_portal.service_settings import claims_settings
from tests.claims.helpers import act, at_tier_1, signed_in, start
from tests.factories.access import MembershipFactory, user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token

A = ClaimAction
S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def waiting_claims(session, icb, count: int) -> list[Claim]:
    """``count`` claims awaiting tier 1, each from a practice of its own under ``icb``."""
    claims = []
    for _ in range(count):
        scene = claim_scene(two_step=False, icb=icb)
        claims.append(at_tier_1(session, scene))
    session.commit()
    return claims


def test_each_claim_is_approved_or_reported_with_its_reason(db_session, one_step):
    icb = one_step.icb
    fine, stale, declined_meanwhile = waiting_claims(db_session, icb, 3)
    stale_version = stale.version
    act(db_session, stale, A.TIER_1_APPROVE, user_with_role(Role.APPROVER_TIER_1, icb))
    act(db_session, declined_meanwhile, A.TIER_1_DECLINE, one_step.tier_1, "Wrong month")
    other_icb = at_tier_1(db_session, claim_scene(two_step=False))
    db_session.commit()

    result = bulk_approve(
        db_session,
        one_step.tier_1,
        A.TIER_1_APPROVE,
        [
            (fine.id, fine.version),
            (stale.id, stale_version),
            (declined_meanwhile.id, declined_meanwhile.version),  # current version, wrong step
            (other_icb.id, other_icb.version),
            (999_999, 1),
        ],
    )
    db_session.commit()

    assert [o.claim_id for o in result.approved] == [fine.id]
    assert result.approved[0].status is S.AWAITING_PAYMENT_APPROVAL
    failures = {o.claim_id: o for o in result.not_approved}
    assert failures[stale.id].failure is Failure.CONFLICT
    assert failures[stale.id].reason.startswith("This claim was approved at tier 1 by ")
    assert failures[declined_meanwhile.id].failure is Failure.WRONG_STATUS
    assert "declined" in failures[declined_meanwhile.id].reason
    assert failures[other_icb.id].failure is Failure.NOT_FOUND
    assert failures[999_999].failure is Failure.NOT_FOUND
    assert db_session.get(Claim, fine.id).status is S.AWAITING_PAYMENT_APPROVAL
    summary = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "claim.bulk_approved")
    ).one()
    assert summary.after["approved"] == [fine.id]
    assert summary.after["not_approved"][str(stale.id)] == Failure.CONFLICT


def test_separation_of_duties_holds_in_bulk(db_session, one_step):
    both = user_with_role(Role.APPROVER_TIER_1, one_step.icb, full_name="Dual Role")
    MembershipFactory(user=both, organisation=one_step.icb, role=Role.APPROVER_TIER_2)
    mine, theirs = waiting_claims(db_session, one_step.icb, 2)
    act(db_session, mine, A.TIER_1_APPROVE, both)
    act(db_session, theirs, A.TIER_1_APPROVE, one_step.tier_1)
    db_session.commit()

    result = bulk_approve(
        db_session,
        both,
        A.TIER_2_APPROVE,
        [(mine.id, mine.version), (theirs.id, theirs.version)],
        settings=claims_settings(),
    )
    assert [o.claim_id for o in result.approved] == [theirs.id]
    refused = result.not_approved[0]
    assert refused.claim_id == mine.id
    assert refused.failure is Failure.DUTIES
    assert "approved at tier 1 on this claim" in refused.reason


def test_a_step_the_person_cannot_take_is_not_permitted(db_session, one_step):
    (claim,) = waiting_claims(db_session, one_step.icb, 1)
    act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
    result = bulk_approve(
        db_session, one_step.tier_1, A.TIER_2_APPROVE, [(claim.id, claim.version)]
    )
    assert result.not_approved[0].failure is Failure.NOT_PERMITTED
    with pytest.raises(ValueError, match="cannot be given in bulk"):
        bulk_approve(db_session, one_step.tier_1, A.TIER_1_DECLINE, [(claim.id, claim.version)])
    with pytest.raises(ValueError, match="at most"):
        bulk_approve(
            db_session, one_step.tier_1, A.TIER_1_APPROVE, [(i, 1) for i in range(MAX_BULK + 1)]
        )


def test_tier_2_in_bulk_routes_big_claims_to_finance(db_session, one_step):
    small, big = waiting_claims(db_session, one_step.icb, 2)
    for claim in (small, big):
        act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
    big.value = big.value * 10_000  # above the default 15,000 threshold
    db_session.commit()
    result = bulk_approve(
        db_session,
        one_step.tier_2,
        A.TIER_2_APPROVE,
        [(small.id, small.version), (big.id, big.version)],
        settings=claims_settings(),
    )
    statuses = {o.claim_id: o.status for o in result.approved}
    assert statuses == {small.id: S.APPROVED_FOR_PAYMENT, big.id: S.AWAITING_FINANCE_APPROVAL}
    finance = bulk_approve(db_session, one_step.finance, A.FINANCE_APPROVE, [(big.id, big.version)])
    assert finance.approved[0].status is S.APPROVED_FOR_PAYMENT


# --- Through the list page -----------------------------------------------------------------


def _list_form(browser, query: str = ""):
    page = browser.get("/claims" + query)
    body = page.get_data(as_text=True)
    return page, re.findall(r'name="claim" type="checkbox" value="(\d+:\d+)"', body)


def _confirm(browser, confirmation):
    """Post the confirmation page's form (its hidden fields): the approval itself."""
    body = confirmation.get_data(as_text=True)
    form = body.split('action="/claims/bulk-approval"', 1)[1].split("</form>", 1)[0]
    data: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        data.setdefault(name, []).append(html.unescape(value))
    return browser.post("/claims/bulk-approval", data=data)


def test_ticked_claims_are_approved_from_the_list(app, db_session, one_step):
    claims = waiting_claims(db_session, one_step.icb, 3)
    browser = signed_in(app, one_step.tier_1)
    page, values = _list_form(browser)
    assert sorted(values) == sorted(f"{c.id}:{c.version}" for c in claims)
    # Someone approves the first claim while the list is open.
    act(db_session, claims[0], A.TIER_1_APPROVE, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    db_session.commit()
    response = browser.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(page),
            "claim": [f"{c.id}:{c.version - 1 if c is claims[0] else c.version}" for c in claims],
            "action": "TIER_1_APPROVE",
            "filter": "",
        },
    )
    # Asked first: how many claims and their total value; nothing approved yet.
    assert response.status_code == 200
    body = text(response)
    assert "Are you sure you want to approve 3 claims?" in body
    total = sum(c.value for c in claims)
    assert f"£{total:,.2f}" in body
    assert "1 of them changed since you selected them" in body
    db_session.expire_all()
    assert [db_session.get(Claim, c.id).status for c in claims[1:]] == [
        S.AWAITING_COMMISSIONER_REVIEW
    ] * 2
    response = _confirm(browser, response)
    assert response.status_code == 200
    body = text(response)
    assert "2 claims approved, 1 not approved." in body
    approved = body.split('data-testid="bulk-approved"', 1)[1].split("</table>", 1)[0]
    refused = body.split('data-testid="bulk-not-approved"', 1)[1].split("</table>", 1)[0]
    assert claims[1].reference in approved
    assert claims[2].reference in approved
    assert claims[0].reference in refused
    assert "Changed by someone else" in refused
    assert "This claim was approved at tier 1 by" in refused


def test_all_claims_on_the_filter_are_resolved_on_the_server(app, db_session, one_step):
    claims = waiting_claims(db_session, one_step.icb, 3)
    elsewhere = at_tier_1(db_session, claim_scene(two_step=False))
    draft = start(db_session, claim_scene(two_step=False, icb=one_step.icb))
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    page = browser.get("/claims")
    response = browser.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(page),
            "all-on-filter": "1",
            "action": "TIER_1_APPROVE",
            "filter": "status=AWAITING_COMMISSIONER_REVIEW",
        },
    )
    body = text(response)
    assert "Are you sure you want to approve 3 claims?" in body
    assert elsewhere.reference not in body
    assert draft.reference not in body
    body = text(_confirm(browser, response))
    assert "3 claims approved, 0 not approved." in body
    db_session.expire_all()
    assert {db_session.get(Claim, c.id).status for c in claims} == {S.AWAITING_PAYMENT_APPROVAL}
    assert db_session.get(Claim, elsewhere.id).status is S.AWAITING_COMMISSIONER_REVIEW
    assert db_session.get(Claim, draft.id).status is S.DRAFT


def test_nothing_selected_and_steps_not_held_are_refused(app, db_session, one_step):
    waiting_claims(db_session, one_step.icb, 1)
    browser = signed_in(app, one_step.tier_1)
    page = browser.get("/claims")
    response = browser.post(
        "/claims/bulk-approval",
        data={"csrf_token": csrf_token(page), "action": "TIER_1_APPROVE", "filter": ""},
    )
    assert response.status_code == 400
    assert "Select at least one claim to approve" in text(response)
    response = browser.post(
        "/claims/bulk-approval",
        data={"csrf_token": csrf_token(page), "action": "TIER_2_APPROVE", "claim": "1:1"},
    )
    assert response.status_code == 400
    practice = signed_in(app, one_step.user)
    page = practice.get("/claims")
    response = practice.post(
        "/claims/bulk-approval",
        data={"csrf_token": csrf_token(page), "action": "TIER_1_APPROVE", "claim": "1:1"},
    )
    assert response.status_code == 403


def test_events_record_each_approval_once(db_session, one_step):
    claims = waiting_claims(db_session, one_step.icb, 2)
    targets = [(c.id, c.version) for c in claims]
    bulk_approve(db_session, one_step.tier_1, A.TIER_1_APPROVE, targets)
    again = bulk_approve(db_session, one_step.tier_1, A.TIER_1_APPROVE, targets)
    assert {o.failure for o in again.not_approved} == {Failure.CONFLICT}
    events = db_session.scalars(
        select(ClaimEvent).where(
            ClaimEvent.claim_id.in_([c.id for c in claims]),
            ClaimEvent.action == A.TIER_1_APPROVE,
        )
    ).all()
    assert len(events) == 2


def test_the_confirmation_counts_only_claims_the_approver_may_see(db_session, one_step):
    from claims_portal.claims.services.bulk import selection

    claims = waiting_claims(db_session, one_step.icb, 2)
    elsewhere = at_tier_1(db_session, claim_scene(two_step=False))
    targets = [(c.id, c.version) for c in [*claims, elsewhere]]
    chosen = selection(db_session, one_step.tier_1, A.TIER_1_APPROVE, targets)
    assert [item.claim_id for item in chosen.items] == sorted(c.id for c in claims)
    assert chosen.total == sum(c.value for c in claims)
    assert not any(item.changed for item in chosen.items)
    assert {c.status for c in claims} == {S.AWAITING_COMMISSIONER_REVIEW}  # nothing approved
