"""Every change of a claim's status goes through :func:`transition` (flush only).

The table :data:`TRANSITIONS` lists each allowed (status, action): the capability it needs
on the claim's provider, whether a reason is required and where it goes. ``transition``:

1. locks the claim row (``SELECT ... FOR UPDATE``) and reads it afresh;
2. refuses a claim the actor may not see (:class:`ClaimNotFound`, shown as 404);
3. refuses a stale page: a version other than the one the page was rendered with, or an
   action the current status does not allow (:class:`ClaimConflict`, saying who changed it
   and when; nothing is changed);
4. checks the capability (``PermissionDenied``, 403) and separation of duties
   (:class:`ClaimRefused`): nobody approves a claim they created or submitted, and nobody
   approves the same claim at two commissioner steps (tier 1, tier 2, finance);
5. for a submission, checks the claim and prices it with the calculation core
   (:class:`ClaimInvalid` lists every problem);
6. applies the step (the status through ``statemachine.set_status``), bumps the version,
   writes a :class:`ClaimEvent` and an audit event (``claim.<verb>``, :data:`AUDIT_VERBS`)
   and queues the emails.

A bulk upload (``bulk_upload.py``) submits each claim it creates with the step
``BULK_SUBMIT`` (tier 1, from Draft to commissioner review), which is never offered on the
claim page, needs the upload's row reference, and leaves the emails to the upload (one to
each reviewer for the whole file).

Two people acting on the same claim at once: the second waits for the first's lock, then
finds the version moved on and is told what happened. Routing (see ``docs/claims.md``):

- submit: a two-step practice's user -> provider approval; the practice's provider approver
  (submitting their own claim), a one-step practice, a PCN or federation -> tier 1;
- tier 2 approval -> finance approval when the value is strictly above the ICB's finance
  threshold, else approved for payment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability, has_capability, icb_of
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services._common import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    ClaimRefused,
    Problem,
    can_view,
    when,
)
from claims_portal.claims.services.content import apply_entries, problems_before_submission
from claims_portal.claims.services.entries import MAX_REASON, ClaimEntries, free_text_problem
from claims_portal.claims.services.notifications import Audience, notify
from claims_portal.claims.services.settings import ClaimsSettings, finance_threshold
from claims_portal.claims.services.transitions import (  # noqa: F401 (the public names)
    APPROVAL_QUEUES,
    APPROVALS,
    AUDIT_VERBS,
    COMMISSIONER_APPROVALS,
    ROUTED_TARGETS,
    SUBMISSIONS,
    SYSTEM_STEPS,
    TRANSITIONS,
    Rule,
    audit_action,
    rule_for,
)
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import ApprovalMode, OrganisationKind
from claims_portal.schemes.models import Offer, OfferStatus
from claims_portal.statemachine import set_status

S = ClaimStatus
A = ClaimAction


# --- Reading the history -------------------------------------------------------------------


#: A claim's events, oldest first; and with who took each step, joined (built once: every
#: claim page and step reads them).
_HISTORY = (
    select(ClaimEvent).where(ClaimEvent.claim_id == bindparam("claim_id")).order_by(ClaimEvent.id)
)
_HISTORY_WITH_ACTORS = _HISTORY.options(joinedload(ClaimEvent.actor))


def history(session: DbSession, claim_id: int, *, with_actors: bool = False) -> list[ClaimEvent]:
    """The claim's events, oldest first (read from the database, not a cached collection);
    ``with_actors``: who took each step too, joined in the same query (the claim page)."""
    statement = _HISTORY_WITH_ACTORS if with_actors else _HISTORY
    return list(session.scalars(statement, {"claim_id": claim_id}))


def approvers_of(events: list[ClaimEvent]) -> dict[int, ClaimAction]:
    """Who gave which commissioner approval on the claim, in any round (user id -> action)."""
    return {
        e.actor_id: e.action
        for e in events
        if e.action in COMMISSIONER_APPROVALS and e.actor_id is not None
    }


def duty_problem(
    claim: Claim, action: ClaimAction, actor: User, events: list[ClaimEvent]
) -> str | None:
    """Why separation of duties stops ``actor`` taking ``action`` on ``claim`` (or None)."""
    if action not in APPROVALS:
        return None
    if actor.id == claim.created_by_id:
        return "You created this claim, so someone else must approve it"
    if actor.id == claim.submitted_by_id:
        return "You submitted this claim, so someone else must approve it"
    if action in COMMISSIONER_APPROVALS:
        earlier = approvers_of(events).get(actor.id)
        if earlier is not None and earlier is not action:
            return (
                f"You {earlier.value} on this claim, so someone else must approve it at this step"
            )
    return None


def available_actions(
    session: DbSession, claim: Claim, user: User, *, events: list[ClaimEvent] | None = None
) -> list[ClaimAction]:
    """The steps ``user`` may take on ``claim`` now (what the claim page offers)."""
    if not can_view(user, claim):
        return []
    events = history(session, claim.id) if events is None else events
    allowed = []
    for (status, action), rule in TRANSITIONS.items():
        if status is not claim.status or rule.capability is None or not rule.offered:
            continue
        if not has_capability(user, rule.capability, claim.provider):
            continue
        if duty_problem(claim, action, user, events) is None:
            allowed.append(action)
    return allowed


def blocked_by_duties(
    session: DbSession, claim: Claim, user: User, *, events: list[ClaimEvent] | None = None
) -> str | None:
    """Why ``user``, who holds the capability for the claim's next step, may not take it."""
    events = history(session, claim.id) if events is None else events
    for (status, action), rule in TRANSITIONS.items():
        if status is not claim.status or rule.capability is None or action not in APPROVALS:
            continue
        if has_capability(user, rule.capability, claim.provider):
            problem = duty_problem(claim, action, user, events)
            if problem:
                return problem
    return None


# --- Locking and conflicts -----------------------------------------------------------------


def lock_claim(session: DbSession, claim_id: int) -> Claim:
    """The claim row, locked until the transaction ends and read afresh (another
    transaction may have changed it while this one waited for the lock)."""
    claim = session.scalar(
        select(Claim)
        .where(Claim.id == claim_id)
        .with_for_update(of=Claim)
        .execution_options(populate_existing=True)
    )
    if claim is None:
        raise ClaimNotFound(claim_id)
    return claim


def conflict_message(session: DbSession, claim: Claim, expected_version: int) -> str:
    """ "This claim was approved at tier 1 by Tom Okafor at 14:02 while you were looking at
    it. Nothing was changed." (or "changed" for edits)."""
    day = clock_today()
    later = [e for e in history(session, claim.id) if e.version > expected_version]
    if later and later[-1].version == claim.version:
        event = later[-1]
        summary = event.summary
        what = f"{summary[0].lower()}{summary[1:]} at {when(event.occurred_at, today=day)}"
    else:
        who = claim.updated_by.full_name if claim.updated_by is not None else "someone"
        what = f"changed by {who} at {when(claim.updated_at, today=day)}"
    return f"This claim was {what} while you were looking at it. Nothing was changed."


def ensure_current(
    session: DbSession, claim: Claim, expected_version: int | None, action: ClaimAction | None
) -> None:
    """Raise :class:`ClaimConflict` when the page is stale or the action no longer fits."""
    if expected_version is not None and claim.version != expected_version:
        raise ClaimConflict(conflict_message(session, claim, expected_version))
    if action is not None and rule_for(claim.status, action) is None:
        raise ClaimConflict(
            f"This claim is {claim.status.value.lower()}: it cannot be {action.value} now. "
            "Nothing was changed."
        )


def touch(claim: Claim, actor: User | None) -> None:
    """Record a change of the claim (any change bumps the version)."""
    claim.version += 1
    claim.updated_at = utcnow()
    claim.updated_by_id = actor.id if actor is not None else None


# --- Routing -------------------------------------------------------------------------------


def submission_target(claim: Claim, actor: User) -> ClaimStatus:
    """Where a submission goes (see the module doc and docs/claims.md)."""
    provider = claim.provider
    two_step = (
        provider.kind is OrganisationKind.GP_PRACTICE
        and provider.approval_mode is ApprovalMode.TWO_STEP
    )
    if two_step and not has_capability(actor, Capability.APPROVE_CLAIM_PROVIDER, provider):
        return S.AWAITING_PROVIDER_APPROVAL
    return S.AWAITING_COMMISSIONER_REVIEW


def needs_finance_approval(session: DbSession, claim: Claim, settings: ClaimsSettings) -> bool:
    """Strictly above the threshold of the ICB above the provider."""
    threshold = finance_threshold(session, icb_of(claim.provider), settings=settings)
    return (claim.value or 0) > threshold


# --- The one way to change a status --------------------------------------------------------


def transition(
    session: DbSession,
    claim_id: int,
    action: ClaimAction,
    actor: User | None,
    *,
    expected_version: int | None,
    reason: str | None = None,
    entries: ClaimEntries | None = None,
    today: dt.date | None = None,
    base_url: str = "",
    bulk: Mapping[str, object] | None = None,
    settings: ClaimsSettings | None = None,
    declaration: str | None = None,
    audience: Audience | None = None,
) -> ClaimEvent:
    """Take one step of the claim's life (see the module doc). Flushes; the caller commits.

    ``expected_version`` is the version the actor saw (None only for the system's
    ``MARK_PAID``). ``entries`` (submissions only) are units and answers typed on the page,
    saved with the submission or not at all. ``bulk`` (``BULK_SUBMIT`` only, which requires
    it) is the upload's reference to the row, kept in the event's details; ``declaration``
    (``SUBMIT``) the words the submitter confirmed on the check-your-answers page, kept there
    too. ``settings`` (the
    finance threshold's default) is needed by the steps that may route a claim to finance
    (tier 2 approval). ``audience`` (a bulk approval's, for all its claims) keeps who may
    act next and their email preferences between claims. Raises
    :class:`ClaimNotFound`, :class:`ClaimConflict`, ``PermissionDenied``, :class:`ClaimRefused` or
    :class:`ClaimInvalid`; on any of them the caller rolls back.
    """
    claim = lock_claim(session, claim_id)
    # A bulk upload's draft is seen by commissioners only once submitted: its maker submits it.
    made_in_bulk = action is A.BULK_SUBMIT and actor is not None and claim.created_by_id == actor.id
    if actor is not None and not (made_in_bulk or can_view(actor, claim)):
        raise ClaimNotFound(claim_id)
    if actor is None and action not in SYSTEM_STEPS:
        raise ClaimRefused("Only the payments system acts without a person")
    if (action is A.BULK_SUBMIT) != (bulk is not None):
        raise ClaimRefused("Claims are submitted in bulk only by a bulk upload")
    ensure_current(session, claim, expected_version, action)
    rule = TRANSITIONS[(claim.status, action)]
    if rule.capability is not None:
        if actor is None:
            raise ClaimRefused(f"Someone must be signed in to {rule.label.lower()}")
        ensure_capability(actor, rule.capability, claim.provider)
    events = history(session, claim.id)
    if actor is not None:
        problem = duty_problem(claim, action, actor, events)
        if problem:
            raise ClaimRefused(problem)
    reason = (reason or "").strip() or None
    if rule.reason_required and reason is None:
        raise ClaimInvalid(Problem("Enter the reason", "reason"))
    if reason is not None:
        text_problem = free_text_problem(reason, what="The reason", limit=MAX_REASON)
        if text_problem:
            raise ClaimInvalid(Problem(text_problem, "reason"))

    details = None
    if action is A.SUBMIT:
        assert actor is not None
        details = _prepare_submission(session, claim, actor, entries, today=today or clock_today())
        if declaration is not None:
            details["declaration"] = declaration
    if bulk is not None:
        details = _prepare_bulk_submission(session, claim, bulk)

    return _apply(
        session,
        claim,
        action,
        actor,
        rule,
        reason=reason,
        details=details,
        events=events,
        base_url=base_url,
        settings=settings,
        audience=audience,
    )


def _prepare_submission(
    session: DbSession,
    claim: Claim,
    actor: User,
    entries: ClaimEntries | None,
    *,
    today: dt.date,
) -> dict[str, object]:
    from claims_portal.claims.services.pricing import (
        store_prices,
        submitted_details,
        try_price_claim,
    )

    if entries is not None:
        apply_entries(session, claim, entries, actor=actor)
    problems = problems_before_submission(session, claim, today=today, entries=entries)
    if problems:
        raise ClaimInvalid(problems)
    _lock_offer(session, claim)
    # Priced again under the offer lock, so two claims of one provider capped by the same
    # period or year allowance cannot both take it.
    priced, _ = try_price_claim(session, claim)
    assert priced is not None
    store_prices(claim, priced)
    return submitted_details(claim, priced)


def _prepare_bulk_submission(
    session: DbSession, claim: Claim, bulk: Mapping[str, object]
) -> dict[str, object]:
    """Price a claim of a bulk upload (the commissioner is the source of the figures: no
    questions or evidence are asked for, and the upload has checked its rows)."""
    from claims_portal.claims.services.pricing import (
        store_prices,
        submitted_details,
        try_price_claim,
    )

    priced, problems = try_price_claim(session, claim)
    if priced is None:
        raise ClaimInvalid(problems or [Problem("The value cannot be calculated")])
    store_prices(claim, priced)
    return {**submitted_details(claim, priced), "bulk_upload": dict(bulk)}


def record_start(session: DbSession, claim: Claim, actor: User) -> ClaimEvent:
    """The first event of a claim just made in Draft (its ``START``)."""
    event = ClaimEvent(
        claim_id=claim.id,
        round=1,
        action=A.START,
        from_status=None,
        to_status=S.DRAFT,
        actor_id=actor.id,
        version=claim.version,
        occurred_at=claim.status_changed_at,
    )
    session.add(event)
    session.flush()
    return event


def _lock_offer(session: DbSession, claim: Claim) -> None:
    """Serialise submissions of one provider under one scheme (caps read other claims)."""
    session.execute(
        select(Offer.id)
        .where(
            Offer.scheme_id == claim.scheme_id,
            Offer.provider_id == claim.provider_id,
            Offer.status == OfferStatus.ACTIVE,
        )
        .with_for_update()
    ).all()


def _target(
    session: DbSession,
    claim: Claim,
    action: ClaimAction,
    actor: User | None,
    settings: ClaimsSettings | None,
) -> S:
    rule = TRANSITIONS[(claim.status, action)]
    if rule.to_status is not None:
        return rule.to_status
    if action is A.SUBMIT:
        assert actor is not None
        return submission_target(claim, actor)
    assert settings is not None, "routing to finance needs the finance threshold's default"
    return (
        S.AWAITING_FINANCE_APPROVAL
        if needs_finance_approval(session, claim, settings)
        else S.APPROVED_FOR_PAYMENT
    )


def _apply(
    session: DbSession,
    claim: Claim,
    action: ClaimAction,
    actor: User | None,
    rule: Rule,
    *,
    reason: str | None,
    details: dict[str, object] | None,
    events: list[ClaimEvent],
    base_url: str,
    settings: ClaimsSettings | None,
    audience: Audience | None = None,
) -> ClaimEvent:
    before = claim.status
    after = _target(session, claim, action, actor, settings)
    now = utcnow()
    if action in SUBMISSIONS:
        assert actor is not None
        if before is not S.DRAFT:
            claim.round += 1
        claim.submitted_at = now
        claim.submitted_by_id = actor.id
    if after is S.AWAITING_COMMISSIONER_REVIEW and claim.reached_commissioner_at is None:
        claim.reached_commissioner_at = now
    if after is S.APPROVED_FOR_PAYMENT and before in APPROVAL_QUEUES:
        claim.approved_at = now
    if after is S.PAID:
        claim.paid_at = now
    set_status(claim, after)
    claim.status_changed_at = now
    touch(claim, actor)
    event = ClaimEvent(
        claim_id=claim.id,
        round=claim.round,
        action=action,
        from_status=before,
        to_status=after,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
        value=claim.value,
        version=claim.version,
        details=details,
        occurred_at=now,
    )
    session.add(event)
    session.flush()
    record_event(
        session,
        action=audit_action(action),
        object_type="claim",
        object_id=claim.id,
        actor=actor,
        organisation=claim.provider,
        before={"status": before, "version": claim.version - 1},
        after={
            "status": after,
            "version": claim.version,
            "round": claim.round,
            "value": claim.value,
        },
        reason=reason,
    )
    all_events = [*events, event]
    awaited = next((a for (status, a) in TRANSITIONS if status is after and a in APPROVALS), None)

    def may_act(person: User) -> bool:
        return awaited is None or duty_problem(claim, awaited, person, all_events) is None

    if rule.notifies:
        notify(
            session,
            claim,
            actor=actor,
            reason=reason,
            may_act=may_act,
            base_url=base_url,
            audience=audience,
        )
    return event


def mark_paid(session: DbSession, claim_id: int) -> ClaimEvent:
    """Record that the payments agency paid a claim sent for payment (the payment run's
    remittance, payments/services/responses.py). No person acts: the actor is the system."""
    return transition(session, claim_id, A.MARK_PAID, None, expected_version=None)
