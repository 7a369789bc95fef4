"""Recoveries (issue 15): money taken back from a paid claim, by two finance people.

One finance person of the claim's ICB raises a recovery (:func:`raise_recovery`: an amount
in pounds, more than 0 and not above what was paid for the claim less the recoveries raised
before that were not declined; a reason); a *different* finance person of the same ICB
approves or declines it (:func:`decide_recovery`; a decline needs a reason). The raiser
cannot decide their own: the service refuses, and the database check ``two_people`` holds
it whatever calls it. The statuses move through :data:`RECOVERY` (``statemachine``):

- approved: the recovery is APPROVED with no payment row. The payment run collects APPROVED
  recoveries without a live payment and writes each as a negative row of the next file;
  the practice's users are told (a message centre item and an email, ``tell``);
- recovered: when the remittance pays that negative row, the run calls :func:`mark_recovered`.

Audited ``payment_recovery.raised``, ``.approved``, ``.declined`` (``.recovered`` by the run).
Flush only; the view commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services.entries import free_text_problem
from claims_portal.claims.services.lifecycle import lock_claim
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import already, by_whom, lock
from claims_portal.formatting import money
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import Payment, PaymentRecovery, PaymentStatus, RecoveryStatus
from claims_portal.payments.services.finance import (
    PaymentsConflict,
    PaymentsNotFound,
    PaymentsRefused,
    ensure_finance,
)
from claims_portal.payments.services.paycodes import PaymentsError
from claims_portal.rules import Problem
from claims_portal.schemes.models import Scheme
from claims_portal.statemachine import Machine, Step, set_status

R = RecoveryStatus

#: A recovery's life (docs/architecture.md draws it).
RECOVERY: Machine[RecoveryStatus] = Machine(
    object_type="payment_recovery",
    title="Recovery",
    initial=R.AWAITING_APPROVAL,
    created="raised",
    creator=Capability.MANAGE_PAYMENTS,
    final=frozenset({R.DECLINED, R.RECOVERED}),
    steps=(
        Step(
            "approve",
            frozenset({R.AWAITING_APPROVAL}),
            R.APPROVED,
            Capability.MANAGE_PAYMENTS,
            "approved",
            "Only a recovery waiting for approval can be approved",
            who="a finance person other than the one who raised it",
        ),
        Step(
            "decline",
            frozenset({R.AWAITING_APPROVAL}),
            R.DECLINED,
            Capability.MANAGE_PAYMENTS,
            "declined",
            "Only a recovery waiting for approval can be declined",
            who="a finance person other than the one who raised it",
        ),
        Step(
            "recover",
            frozenset({R.APPROVED}),
            R.RECOVERED,
            None,
            "recovered",
            "Only an approved recovery can be recovered",
            who="the payments system (the remittance paying its negative row)",
        ),
    ),
)

#: Recoveries that count against what is left to recover (all but the declined).
COUNTED = (R.AWAITING_APPROVAL, R.APPROVED, R.RECOVERED)
MAX_AMOUNT = Decimal("10000000000")
#: The recovery's reasons are kept in 500 characters.
MAX_RECOVERY_REASON = 500


def paid_for(session: DbSession, claim_id: int) -> Decimal:
    """What was paid for the claim (its payments PAID, recoveries' rows left out)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.claim_id == claim_id,
            Payment.recovery_id.is_(None),
            Payment.status == PaymentStatus.PAID,
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def recovered_or_raised(session: DbSession, claim_id: int) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(PaymentRecovery.amount), 0)).where(
            PaymentRecovery.claim_id == claim_id, PaymentRecovery.status.in_(COUNTED)
        )
    )
    return Decimal(total or 0).quantize(Decimal("0.01"))


def recoverable(session: DbSession, claim_id: int) -> Decimal:
    """What may still be recovered from the claim: paid less recoveries not declined."""
    return max(
        Decimal("0.00"), paid_for(session, claim_id) - recovered_or_raised(session, claim_id)
    )


def claim_for_recovery(session: DbSession, actor: User, icb: Organisation, claim_id: int) -> Claim:
    """The ICB's claim (any status), else :class:`PaymentsNotFound`; ``PermissionDenied``."""
    ensure_finance(actor, icb)
    claim = session.get(
        Claim, claim_id, options=[joinedload(Claim.provider), joinedload(Claim.scheme)]
    )
    if claim is None or claim.icb_id != icb.id:
        raise PaymentsNotFound(claim_id)
    return claim


def paid_claims(session: DbSession, icb: Organisation, *, limit: int = 50) -> list[Claim]:
    """The ICB's claims paid most recently (to raise a recovery from)."""
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.icb_id == icb.id, Claim.status == ClaimStatus.PAID)
            .options(joinedload(Claim.provider), joinedload(Claim.scheme))
            .order_by(Claim.paid_at.desc().nulls_last(), Claim.id.desc())
            .limit(limit)
        )
    )


def parse_amount(value: Any) -> Decimal | None:
    """Pounds and pence typed by a person (``12.50``, ``£1,012.5``), or None."""
    text = str(value or "").strip().replace(",", "").removeprefix("£").strip()
    if not text or len(text) > 20:
        return None
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


def _reason(text: Any, field_name: str, what: str) -> str:
    reason = str(text or "").strip()
    if not reason:
        raise PaymentsError(f"Enter {what}", field=field_name)
    problem = free_text_problem(reason, what="The reason", limit=MAX_RECOVERY_REASON)
    if problem:
        raise PaymentsError(problem, field=field_name)
    return reason


def raise_recovery(
    session: DbSession,
    actor: User,
    icb: Organisation,
    claim_id: int,
    *,
    amount: Any,
    reason: Any,
) -> PaymentRecovery:
    """Raise a recovery of ``amount`` (pounds) from the ICB's paid claim, waiting for a
    second finance person. The claim is locked, so two recoveries raised at once cannot
    together take back more than was paid. Raises :class:`PaymentsNotFound`,
    ``PermissionDenied`` and ``PaymentsError`` listing every problem."""
    claim = claim_for_recovery(session, actor, icb, claim_id)
    lock_claim(session, claim.id)
    problems: list[Problem] = []
    if claim.status is not ClaimStatus.PAID:
        raise PaymentsError(
            f"{claim.reference} is {claim.status.value.lower()}: only a paid claim can have"
            " money recovered"
        )
    left = recoverable(session, claim.id)
    parsed = parse_amount(amount)
    if parsed is None:
        problems.append(Problem("Enter the amount in pounds and pence, like 125.50", "amount"))
    elif parsed <= 0:
        problems.append(Problem("The amount must be more than £0.00", "amount"))
    elif parsed > left:
        problems.append(
            Problem(
                f"The amount cannot be more than {money(left)}: what was paid for "
                f"{claim.reference} less the recoveries already raised",
                "amount",
            )
        )
    try:
        text = _reason(reason, "reason", "why the money is recovered")
    except PaymentsError as error:
        problems += error.problems
    if problems:
        raise PaymentsError(problems)
    assert parsed is not None
    recovery = PaymentRecovery(
        claim_id=claim.id, amount=parsed, reason=text, raised_by_id=actor.id, raised_at=utcnow()
    )
    session.add(recovery)
    session.flush()
    record_event(
        session,
        action=RECOVERY.action(RECOVERY.created),
        object_type=RECOVERY.object_type,
        object_id=recovery.id,
        actor=actor,
        organisation=claim.provider,
        after={"claim_id": claim.id, "amount": parsed, "status": recovery.status},
        reason=text,
    )
    return recovery


@dataclass(frozen=True)
class RecoveryRow:
    recovery: PaymentRecovery
    claim: Claim
    scheme: str
    raised_by: User
    decided_by: User | None


def recovery_rows(
    session: DbSession, icb: Organisation, *, recovery_id: int | None = None
) -> list[RecoveryRow]:
    """The ICB's recoveries, newest first (or the one ``recovery_id``)."""
    statement = (
        select(PaymentRecovery, Claim, Scheme.name)
        .join(Claim, Claim.id == PaymentRecovery.claim_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(Claim.icb_id == icb.id)
        .options(joinedload(Claim.provider))
        .order_by(PaymentRecovery.raised_at.desc(), PaymentRecovery.id.desc())
        .limit(500)
    )
    if recovery_id is not None:
        statement = statement.where(PaymentRecovery.id == recovery_id)
    found = session.execute(statement).all()
    people_ids = {r.raised_by_id for r, _, _ in found} | {
        r.decided_by_id for r, _, _ in found if r.decided_by_id is not None
    }
    people = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    return [
        RecoveryRow(
            r,
            claim,
            scheme,
            people[r.raised_by_id],
            people.get(r.decided_by_id) if r.decided_by_id is not None else None,
        )
        for r, claim, scheme in found
    ]


def find_recovery(
    session: DbSession, actor: User, icb: Organisation, recovery_id: int
) -> RecoveryRow:
    """One of the ICB's recoveries, else :class:`PaymentsNotFound`; ``PermissionDenied``."""
    ensure_finance(actor, icb)
    rows = recovery_rows(session, icb, recovery_id=recovery_id)
    if not rows:
        raise PaymentsNotFound(recovery_id)
    return rows[0]


def decide_recovery(
    session: DbSession,
    actor: User,
    icb: Organisation,
    recovery_id: int,
    decision: str,
    *,
    reason: Any = None,
    base_url: str = "",
) -> PaymentRecovery:
    """Approve or decline (``decision``: ``approve``, ``decline``) a recovery waiting for
    approval, as a finance person other than its raiser. Locks the recovery, so of two
    people deciding at once the second is told who decided first. An approval tells the
    practice's users (``base_url`` starts the emailed link). Raises
    :class:`PaymentsNotFound`, ``PermissionDenied``, :class:`PaymentsRefused` (the raiser),
    :class:`PaymentsConflict` (decided already) and ``PaymentsError`` (no reason for a
    decline, an unknown decision)."""
    ensure_finance(actor, icb)
    if decision not in ("approve", "decline"):
        raise PaymentsError("Choose whether to approve or decline the recovery", field="decision")
    found = find_recovery(session, actor, icb, recovery_id)
    recovery = lock(session, PaymentRecovery, found.recovery.id)
    if recovery is None:
        raise PaymentsNotFound(recovery_id)
    step = RECOVERY.step(decision)
    if not RECOVERY.allows(recovery.status, decision):
        decided_by = session.get(User, recovery.decided_by_id) if recovery.decided_by_id else None
        raise PaymentsConflict(
            already(
                "This recovery",
                RECOVERY.done_for(_decided_action(recovery.status)),
                by_whom(decided_by, recovery.decided_at),
            )
        )
    if recovery.raised_by_id == actor.id:
        raise PaymentsRefused(
            "You raised this recovery, so another finance person must approve or decline it"
        )
    text = None
    if decision == "decline":
        text = _reason(reason, "decline_reason", "why the recovery is declined")
    before = set_status(recovery, step.target)
    recovery.decided_by_id = actor.id
    recovery.decided_at = utcnow()
    recovery.decline_reason = text
    session.flush()
    claim = found.claim
    record_event(
        session,
        action=RECOVERY.action(step),
        object_type=RECOVERY.object_type,
        object_id=recovery.id,
        actor=actor,
        organisation=claim.provider,
        before={"status": before},
        after={"status": recovery.status, "claim_id": claim.id, "amount": recovery.amount},
        reason=text,
    )
    if step.target is R.APPROVED:
        _tell_practice(session, recovery, claim, found.scheme, actor, base_url)
    return recovery


def _decided_action(status: RecoveryStatus) -> str:
    return {
        R.APPROVED: "payment_recovery.approved",
        R.DECLINED: "payment_recovery.declined",
        R.RECOVERED: "payment_recovery.recovered",
    }.get(status, "payment_recovery.changed")


def _tell_practice(
    session: DbSession,
    recovery: PaymentRecovery,
    claim: Claim,
    scheme: str,
    actor: User,
    base_url: str,
) -> int:
    practice = claim.provider
    people = holders(session, practice, Capability.VIEW_PROVIDER_CLAIMS)
    return tell(
        session,
        people,
        organisation=practice,
        subject=f"{money(recovery.amount)} will be recovered from claim {claim.reference}",
        body=(
            f"{icb_name(claim)} will recover {money(recovery.amount)} paid for "
            f"{claim.reference}, {practice.display_name}'s claim under {scheme} for "
            f"{claim.period_label}. It will be taken from a coming payment and shown on your "
            f"payments statement.\n\nThe reason given:\n{recovery.reason}"
        ),
        link=f"/claims/{claim.id}",
        kind=EmailKind.CLAIM_OUTCOME,
        actor=actor,
        base_url=base_url,
    )


def icb_name(claim: Claim) -> str:
    return claim.scheme.commissioner.name


def mark_recovered(session: DbSession, recovery_id: int) -> PaymentRecovery:
    """The remittance paid the recovery's negative row (for the payment run): RECOVERED,
    audited ``payment_recovery.recovered`` with no person. Raises ``PaymentsError`` when
    the recovery is not approved."""
    recovery = lock(session, PaymentRecovery, recovery_id)
    if recovery is None:
        raise PaymentsNotFound(recovery_id)
    step = RECOVERY.step("recover")
    if not RECOVERY.allows(recovery.status, step.name):
        raise PaymentsConflict(step.refusal)
    before = set_status(recovery, step.target)
    session.flush()
    record_event(
        session,
        action=RECOVERY.action(step),
        object_type=RECOVERY.object_type,
        object_id=recovery.id,
        before={"status": before},
        after={"status": recovery.status, "claim_id": recovery.claim_id},
    )
    return recovery
