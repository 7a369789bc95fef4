"""The claims service: routing, approvals, declines and rounds, separation of duties,
conflicts, finance threshold, history and audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    ClaimRefused,
)
from claims_portal.claims.services.lifecycle import ROUTED_TARGETS, TRANSITIONS
from claims_portal.claims.services.settings import ClaimsSettings
from claims_portal.mail.models import EmailMessage, NotificationPreference
from claims_portal.service_settings import claims_settings
from tests.claims.helpers import act, at_tier_1, start, submit, submitted
from tests.factories.access import MembershipFactory, user_with_role
from tests.factories.claims import claim_scene

A = ClaimAction
S = ClaimStatus


def _events(session, claim):
    return session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
    ).all()


# --- The table -----------------------------------------------------------------------------


def test_every_status_is_reachable_from_draft():
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        status = frontier.pop()
        for (source, action), rule in TRANSITIONS.items():
            if source is not status:
                continue
            for target in {rule.to_status} if rule.to_status else ROUTED_TARGETS[action]:
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
    assert reached == set(S)


def test_reasons_are_required_exactly_for_declines_and_returns():
    required = {action for (_, action), rule in TRANSITIONS.items() if rule.reason_required}
    declines = {A.PROVIDER_RETURN, A.TIER_1_DECLINE, A.TIER_2_DECLINE, A.FINANCE_DECLINE}
    # and the payment steps that stop a payment: the agency's rejection, finance's hold
    assert required == declines | {A.PAYMENT_REJECTED, A.HOLD_PAYMENT}


# --- Routing -------------------------------------------------------------------------------


def test_a_two_step_practice_user_submits_to_the_provider_approver(db_session, scene):
    claim = start(db_session, scene)
    event = submit(db_session, scene, claim, 10, 4)
    assert claim.status is S.AWAITING_PROVIDER_APPROVAL
    assert (event.from_status, event.to_status, event.round) == (S.DRAFT, claim.status, 1)
    assert claim.value == Decimal("300.00")  # 10 x 25.00 + 4 x 12.50
    assert [line.value for line in claim.lines] == [Decimal("250.00"), Decimal("50.00")]
    assert all(line.tariff_id is not None for line in claim.lines)
    assert claim.reached_commissioner_at is None
    assert event.details["total"] == "300.00"
    assert [line["units"] for line in event.details["lines"]] == [10, 4]


def test_a_one_step_practice_claim_goes_straight_to_the_commissioner(db_session, one_step):
    claim = submitted(db_session, one_step, 3, 0)
    assert claim.status is S.AWAITING_COMMISSIONER_REVIEW
    assert claim.reached_commissioner_at is not None
    assert claim.value == Decimal("75.00")


def test_the_provider_approvers_own_claim_goes_straight_to_tier_1(db_session, scene):
    claim = start(db_session, scene, actor=scene.approver)
    submit(db_session, scene, claim, 1, 1, actor=scene.approver)
    assert claim.status is S.AWAITING_COMMISSIONER_REVIEW


def test_the_whole_two_step_chain_to_approved_for_payment(db_session, scene):
    claim = submitted(db_session, scene)
    act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
    assert claim.status is S.AWAITING_COMMISSIONER_REVIEW
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    assert claim.status is S.AWAITING_PAYMENT_APPROVAL
    act(db_session, claim, A.TIER_2_APPROVE, scene.tier_2)
    assert claim.status is S.APPROVED_FOR_PAYMENT
    assert claim.approved_at is not None
    services.transition(db_session, claim.id, A.SEND_FOR_PAYMENT, None, expected_version=None)
    assert claim.status is S.SENT_FOR_PAYMENT
    services.mark_paid(db_session, claim.id)
    assert claim.status is S.PAID
    events = _events(db_session, claim)
    assert [e.action for e in events] == [
        A.START,
        A.SUBMIT,
        A.PROVIDER_APPROVE,
        A.TIER_1_APPROVE,
        A.TIER_2_APPROVE,
        A.SEND_FOR_PAYMENT,
        A.MARK_PAID,
    ]
    assert [e.version for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert events[-1].actor_id is None
    audit = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "claim", AuditEvent.object_id == str(claim.id))
        .order_by(AuditEvent.id)
    ).all()
    assert audit == [
        "claim.started",
        "claim.submitted",
        "claim.provider_approved",
        "claim.tier_1_approved",
        "claim.tier_2_approved",
        "claim.sent_for_payment",
        "claim.paid",
    ]


# --- Finance threshold ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "status"),
    [
        (600, S.APPROVED_FOR_PAYMENT),  # exactly £15,000.00: not above the threshold
        (601, S.AWAITING_FINANCE_APPROVAL),  # £15,025.00
    ],
)
def test_finance_approval_applies_strictly_above_the_threshold(db_session, units, status):
    scene = claim_scene(two_step=False, tariffs=("25.00",))
    claim = at_tier_1(db_session, scene, units)
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    act(db_session, claim, A.TIER_2_APPROVE, scene.tier_2)
    assert claim.status is status
    if status is S.AWAITING_FINANCE_APPROVAL:
        act(db_session, claim, A.FINANCE_APPROVE, scene.finance)
        assert claim.status is S.APPROVED_FOR_PAYMENT


def test_each_icb_sets_its_own_threshold(db_session):
    scene = claim_scene(two_step=False, tariffs=("25.00",))
    administrator = user_with_role(Role.ADMINISTRATOR, scene.icb)
    settings = claims_settings()
    threshold = services.parse_threshold("£1,000")
    assert services.set_finance_threshold(
        db_session, scene.icb, threshold, actor=administrator, settings=settings
    )
    assert services.finance_threshold(db_session, scene.icb, settings=settings) == Decimal("1000")
    claim = at_tier_1(db_session, scene, 41)  # £1,025.00
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    act(db_session, claim, A.TIER_2_APPROVE, scene.tier_2)
    assert claim.status is S.AWAITING_FINANCE_APPROVAL
    other = claim_scene(two_step=False)
    assert services.finance_threshold(db_session, other.icb, settings=settings) == Decimal("15000")
    with pytest.raises(PermissionDenied):
        services.set_finance_threshold(
            db_session, other.icb, threshold, actor=administrator, settings=settings
        )
    with pytest.raises(PermissionDenied):
        services.set_finance_threshold(
            db_session, scene.icb, threshold, actor=scene.tier_1, settings=settings
        )


def test_the_default_threshold_is_a_setting():
    settings = ClaimsSettings.from_config({"FINANCE_THRESHOLD_DEFAULT": "1000"})
    assert settings.finance_threshold_default == Decimal("1000.00")
    assert ClaimsSettings.from_config({}) == ClaimsSettings()


@pytest.mark.parametrize("text", ["", "abc", "-5", "10.001", "1e99"])
def test_a_threshold_must_be_pounds_and_pence(text):
    with pytest.raises(ClaimInvalid):
        services.parse_threshold(text)


# --- Declines, returns and rounds ----------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "decline"),
    [
        ([], A.TIER_1_DECLINE),
        ([A.TIER_1_APPROVE], A.TIER_2_DECLINE),
    ],
)
def test_a_declined_claim_returns_to_the_practice_and_is_resubmitted(
    db_session, scene, steps, decline
):
    claim = at_tier_1(db_session, scene)
    for step in steps:
        act(db_session, claim, step, scene.tier_1)
    actor = scene.tier_1 if decline is A.TIER_1_DECLINE else scene.tier_2
    with pytest.raises(ClaimInvalid, match="Enter the reason"):
        act(db_session, claim, decline, actor)
    act(db_session, claim, decline, actor, reason="Evidence does not match the units")
    assert claim.status is S.DECLINED
    assert claim.is_editable
    services.save_draft(
        db_session,
        claim.id,
        scene.user,
        expected_version=claim.version,
        entries=_units(claim, 8, 4),
    )
    assert claim.lines[0].value is None  # the old figures are cleared while editing
    assert claim.value == Decimal("300.00")  # the last submitted value until resubmitted
    submit(db_session, scene, claim, 8, 4)
    assert claim.round == 2
    assert claim.value == Decimal("250.00")
    assert claim.status is S.AWAITING_PROVIDER_APPROVAL  # a new round goes through every step
    events = _events(db_session, claim)
    declined = next(e for e in events if e.action is decline)
    assert declined.reason == "Evidence does not match the units"
    assert declined.round == 1
    submissions = [e for e in events if e.action is A.SUBMIT]
    assert [(e.round, e.details["total"]) for e in submissions] == [(1, "300.00"), (2, "250.00")]


def test_the_provider_approver_returns_a_claim_with_a_reason(db_session, scene):
    claim = submitted(db_session, scene)
    with pytest.raises(ClaimInvalid):
        act(db_session, claim, A.PROVIDER_RETURN, scene.approver, reason="   ")
    act(db_session, claim, A.PROVIDER_RETURN, scene.approver, reason="Wrong month")
    assert claim.status is S.RETURNED_BY_PROVIDER
    submit(db_session, scene, claim, 9, 4)
    assert (claim.status, claim.round) == (S.AWAITING_PROVIDER_APPROVAL, 2)


def test_finance_can_decline(db_session):
    scene = claim_scene(two_step=False, tariffs=("25.00",))
    claim = at_tier_1(db_session, scene, 700)
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    act(db_session, claim, A.TIER_2_APPROVE, scene.tier_2)
    act(db_session, claim, A.FINANCE_DECLINE, scene.finance, reason="Over the budget line")
    assert claim.status is S.DECLINED


def test_a_reason_with_an_nhs_number_is_refused(db_session, scene):
    claim = at_tier_1(db_session, scene)
    with pytest.raises(ClaimInvalid, match="NHS number"):
        act(db_session, claim, A.TIER_1_DECLINE, scene.tier_1, reason="Patient 943 476 5919")


@pytest.mark.parametrize("status_steps", [[], ["decline"], ["return"]])
def test_the_practice_withdraws_a_claim_it_holds(db_session, scene, status_steps):
    claim = start(db_session, scene)
    if status_steps:
        submit(db_session, scene, claim)
        if status_steps == ["decline"]:
            act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
            act(db_session, claim, A.TIER_1_DECLINE, scene.tier_1, reason="Duplicate")
        else:
            act(db_session, claim, A.PROVIDER_RETURN, scene.approver, reason="Duplicate")
    act(db_session, claim, A.WITHDRAW, scene.user)
    assert claim.status is S.WITHDRAWN
    # A withdrawn claim no longer blocks a new one for the period.
    assert start(db_session, scene).status is S.DRAFT


def test_a_claim_awaiting_approval_cannot_be_withdrawn(db_session, scene):
    claim = submitted(db_session, scene)
    with pytest.raises(ClaimConflict, match="cannot be withdrawn now"):
        act(db_session, claim, A.WITHDRAW, scene.user)


# --- Separation of duties ------------------------------------------------------------------


def test_nobody_approves_a_claim_they_created(db_session, scene):
    # The approver creates a claim; a colleague submits it, so it waits for provider approval.
    claim = start(db_session, scene, actor=scene.approver)
    submit(db_session, scene, claim, 1, 1)
    assert claim.status is S.AWAITING_PROVIDER_APPROVAL
    with pytest.raises(ClaimRefused, match="You created this claim"):
        act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
    assert services.available_actions(db_session, claim, scene.approver) == [A.PROVIDER_RETURN]
    colleague = user_with_role(Role.PROVIDER_APPROVER, scene.practice)
    act(db_session, claim, A.PROVIDER_APPROVE, colleague)
    assert claim.status is S.AWAITING_COMMISSIONER_REVIEW


def test_nobody_approves_both_commissioner_tiers(db_session, scene):
    both = user_with_role(Role.APPROVER_TIER_1, scene.icb, full_name="Pat Both")
    MembershipFactory(user=both, organisation=scene.icb, role=Role.APPROVER_TIER_2)
    MembershipFactory(user=both, organisation=scene.icb, role=Role.FINANCE)
    claim = at_tier_1(db_session, scene)
    act(db_session, claim, A.TIER_1_APPROVE, both)
    assert services.available_actions(db_session, claim, both) == [A.TIER_2_DECLINE]
    assert "approved at tier 1" in services.blocked_by_duties(db_session, claim, both)
    with pytest.raises(ClaimRefused, match="You approved at tier 1 on this claim"):
        act(db_session, claim, A.TIER_2_APPROVE, both)
    # Declining is not approving: the tier 2 approver may decline; the chain restarts.
    act(db_session, claim, A.TIER_2_DECLINE, both, reason="Need the audit export")
    submit(db_session, scene, claim)
    act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
    # Round 2: the same person may again approve at tier 1, never at tier 2.
    act(db_session, claim, A.TIER_1_APPROVE, both)
    with pytest.raises(ClaimRefused):
        act(db_session, claim, A.TIER_2_APPROVE, both)


def test_each_step_needs_its_capability(db_session, scene):
    claim = at_tier_1(db_session, scene)
    with pytest.raises(PermissionDenied):
        act(db_session, claim, A.TIER_1_APPROVE, scene.tier_2)
    with pytest.raises(PermissionDenied):
        act(db_session, claim, A.TIER_1_APPROVE, scene.finance)
    assert services.available_actions(db_session, claim, scene.tier_1) == [
        A.TIER_1_APPROVE,
        A.TIER_1_DECLINE,
    ]
    assert services.available_actions(db_session, claim, scene.user) == []


# --- Who may see and act -------------------------------------------------------------------


def test_another_icb_or_practice_cannot_reach_the_claim(db_session, scene):
    claim = at_tier_1(db_session, scene)
    other = claim_scene()
    for outsider in (other.tier_1, other.user, other.approver):
        with pytest.raises(ClaimNotFound):
            act(db_session, claim, A.TIER_1_APPROVE, outsider)
        with pytest.raises(ClaimNotFound):
            services.get_claim(db_session, claim.id, outsider)


def test_commissioners_do_not_see_a_claim_before_it_reaches_them(db_session, scene):
    claim = submitted(db_session, scene)
    assert not services.can_view(scene.tier_1, claim)
    with pytest.raises(ClaimNotFound):
        act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
    assert services.can_view(scene.tier_1, claim)


# --- Conflicts -----------------------------------------------------------------------------


def test_a_stale_page_is_told_who_changed_the_claim_and_nothing_changes(db_session, scene):
    claim = at_tier_1(db_session, scene)
    seen = claim.version
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    second = user_with_role(Role.APPROVER_TIER_1, scene.icb)
    with pytest.raises(ClaimConflict) as caught:
        services.transition(
            db_session, claim.id, A.TIER_1_DECLINE, second, expected_version=seen, reason="x"
        )
    message = caught.value.messages[0]
    assert message.startswith("This claim was approved at tier 1 by Tom Okafor at ")
    assert message.endswith("while you were looking at it. Nothing was changed.")
    assert caught.value.status_code == 409
    assert claim.status is S.AWAITING_PAYMENT_APPROVAL


def test_an_edit_made_meanwhile_is_a_conflict_too(db_session, scene):
    claim = start(db_session, scene)
    seen = claim.version
    services.save_draft(
        db_session, claim.id, scene.user, expected_version=seen, entries=_units(claim, 1, 1)
    )
    with pytest.raises(ClaimConflict, match="changed by James Whitfield"):
        submit_with(db_session, scene, claim, seen)


def submit_with(session, scene, claim, version):
    return services.transition(
        session,
        claim.id,
        A.SUBMIT,
        scene.user,
        expected_version=version,
        entries=_units(claim, 2, 2),
        today=scene.today,
    )


# --- Emails --------------------------------------------------------------------------------


def _mail(session):
    return session.scalars(select(EmailMessage).order_by(EmailMessage.id)).all()


def test_approvers_are_told_a_claim_waits_and_the_practice_hears_the_outcome(db_session, scene):
    claim = submitted(db_session, scene)
    waiting = _mail(db_session)
    assert [(m.recipient, m.kind) for m in waiting] == [(scene.approver.email, "claim_to_approve")]
    assert claim.reference in waiting[0].subject
    assert f"/claims/{claim.id}" in waiting[0].body
    act(db_session, claim, A.PROVIDER_APPROVE, scene.approver)
    assert _mail(db_session)[-1].recipient == scene.tier_1.email
    act(db_session, claim, A.TIER_1_DECLINE, scene.tier_1, reason="Units do not match")
    outcome = [m for m in _mail(db_session) if m.kind == "claim_outcome"]
    assert {m.recipient for m in outcome} == {scene.user.email, scene.approver.email}
    assert all("Units do not match" in m.body for m in outcome)


def test_a_person_who_turned_claim_emails_off_gets_none(db_session, one_step):
    db_session.add(
        NotificationPreference(
            user_id=one_step.tier_1.id, kind="claim_to_approve", email_enabled=False
        )
    )
    db_session.flush()
    submitted(db_session, one_step)
    assert _mail(db_session) == []


def test_the_tier_1_approver_is_not_asked_for_tier_2(db_session, scene):
    both = user_with_role(Role.APPROVER_TIER_1, scene.icb)
    MembershipFactory(user=both, organisation=scene.icb, role=Role.APPROVER_TIER_2)
    claim = at_tier_1(db_session, scene)
    before = len(_mail(db_session))
    act(db_session, claim, A.TIER_1_APPROVE, both)
    assert [m.recipient for m in _mail(db_session)[before:]] == [scene.tier_2.email]


def _units(claim, *units):
    from tests.claims.helpers import entries

    return entries(claim, *units)
