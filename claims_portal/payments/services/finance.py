"""What finance does to payments (issue 15): a payment the agency rejected sent again or
held, a hold released, and payments recorded by hand for schemes not paid through the agency.

Every change of a claim goes through ``claims.services.transition`` (the claim's row lock,
the version the page saw, the capability ``MANAGE_PAYMENTS``, its audit event and history):

- **Send again** (``RESEND_PAYMENT``, a claim back at "Approved for payment" after the
  agency rejected its row): the rejected :class:`Payment` is *settled* (``settled_at``,
  ``settled_by_id``; audited ``payment.settled``), so the next run collects the claim again.
- **Hold** (``HOLD_PAYMENT``, with a reason): the claim leaves the runs ("Payment on hold");
  a rejected payment waiting for finance is settled too. A claim in a file still waiting
  for the agency's answer (a live payment) cannot be held.
- **Release** (``RELEASE_PAYMENT``): back to "Approved for payment", collected by the next run.
- **Record as paid**: ``manual.py`` (schemes not paid through the agency).

Many claims at once: each in a savepoint of its own, locked together by ascending id first
(``claims.services.bulk.lock_in_order``), so one refused claim is reported with the reason
and the others go ahead; two finance people acting at once: the second is told who acted
first. Everything is scoped to one ICB (``Claim.icb_id``): another ICB's claim is not found.
Flush only; the view commits once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, has_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services import (
    ClaimError,
    ClaimNotFound,
    transition,
)
from claims_portal.claims.services.bulk import lock_in_order
from claims_portal.claims.services.entries import MAX_REASON, free_text_problem
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import Payment, PaymentStatus
from claims_portal.payments.services.paycodes import PaymentsError
from claims_portal.schemes.models import Scheme

S = ClaimStatus
A = ClaimAction

#: Most claims one action takes, and most rows a list shows.
MAX_SELECTED = 200
LIVE = (PaymentStatus.PENDING, PaymentStatus.ACCEPTED, PaymentStatus.PAID)


class PaymentsNotFound(LookupError):
    """No such claim, payment or recovery in the finance person's ICB (shown as 404)."""


class PaymentsConflict(PaymentsError):
    """Someone else acted first; nothing was changed."""

    status_code = 409


class PaymentsRefused(PaymentsError):
    """The person may see it but may not do this (two people for a recovery)."""

    status_code = 403


def ensure_finance(actor: User, icb: Organisation) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` manages payments for ``icb``."""
    if not has_capability(actor, Capability.MANAGE_PAYMENTS, icb):
        raise PermissionDenied(f"{actor.email} may not manage payments for {icb.ods_code}")


def may_manage_payments(actor: User, icb: Organisation | None) -> bool:
    return icb is not None and has_capability(actor, Capability.MANAGE_PAYMENTS, icb)


# --- The lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRow:
    """A claim as finance's lists show it (``version`` as the page saw it)."""

    claim_id: int
    reference: str
    version: int
    practice: str
    scheme: str
    amount: Decimal | None
    #: The agency's reason (a rejected payment), or finance's (a hold).
    reason: str | None = None
    #: When it was rejected, held or approved.
    at: dt.datetime | None = None
    payment_id: int | None = None
    approved_at: dt.datetime | None = None


def _unsettled_rejection() -> Any:
    return and_(
        Payment.status == PaymentStatus.REJECTED,
        Payment.settled_at.is_(None),
        Payment.recovery_id.is_(None),
    )


def rejected_payments(session: DbSession, icb: Organisation) -> list[ClaimRow]:
    """Payments the agency rejected that wait for finance (neither sent again nor held),
    of claims back at "Approved for payment", oldest first."""
    rows = session.execute(
        select(Payment, Claim, Scheme.name)
        .join(Claim, Claim.id == Payment.claim_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(
            Claim.icb_id == icb.id,
            Claim.status == S.APPROVED_FOR_PAYMENT,
            _unsettled_rejection(),
        )
        .options(joinedload(Claim.provider))
        .order_by(Payment.status_changed_at, Payment.id)
        .limit(MAX_SELECTED)
    ).all()
    return [
        ClaimRow(
            claim.id,
            claim.reference,
            claim.version,
            claim.provider.display_name,
            scheme,
            payment.amount,
            payment.reason,
            payment.status_changed_at,
            payment.id,
        )
        for payment, claim, scheme in rows
    ]


def held_claims(session: DbSession, icb: Organisation) -> list[ClaimRow]:
    """Claims on hold, with finance's reason and when, longest held first."""
    claims = session.scalars(
        select(Claim)
        .where(Claim.icb_id == icb.id, Claim.status == S.PAYMENT_ON_HOLD)
        .options(joinedload(Claim.provider), joinedload(Claim.scheme))
        .order_by(Claim.status_changed_at, Claim.id)
        .limit(MAX_SELECTED)
    ).all()
    holds: dict[int, ClaimEvent] = {}
    if claims:
        for event in session.scalars(
            select(ClaimEvent)
            .where(
                ClaimEvent.claim_id.in_([c.id for c in claims]),
                ClaimEvent.action == A.HOLD_PAYMENT,
            )
            .order_by(ClaimEvent.id)
        ):
            holds[event.claim_id] = event
    return [
        ClaimRow(
            c.id,
            c.reference,
            c.version,
            c.provider.display_name,
            c.scheme.name,
            c.value,
            holds[c.id].reason if c.id in holds else None,
            c.status_changed_at,
        )
        for c in claims
    ]


def _approved_rows(session: DbSession, icb: Organisation, *, through_agency: bool) -> list[Any]:
    statement = (
        select(Claim)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(
            Claim.icb_id == icb.id,
            Claim.status == S.APPROVED_FOR_PAYMENT,
            Scheme.pay_through_agency.is_(through_agency),
            ~exists().where(
                Payment.claim_id == Claim.id,
                Payment.recovery_id.is_(None),
                Payment.status.in_(LIVE),
            ),
            ~exists().where(Payment.claim_id == Claim.id, _unsettled_rejection()),
        )
        .options(joinedload(Claim.provider), joinedload(Claim.scheme))
        .order_by(Claim.approved_at, Claim.id)
        .limit(MAX_SELECTED)
    )
    return list(session.scalars(statement).all())


def _row(claim: Claim) -> ClaimRow:
    return ClaimRow(
        claim.id,
        claim.reference,
        claim.version,
        claim.provider.display_name,
        claim.scheme.name,
        claim.value,
        approved_at=claim.approved_at,
        at=claim.approved_at,
    )


def waiting_for_the_run(session: DbSession, icb: Organisation) -> list[ClaimRow]:
    """Claims approved for payment in schemes paid through the agency that no file holds
    yet (finance may hold them before the run collects them), oldest approval first."""
    return [_row(c) for c in _approved_rows(session, icb, through_agency=True)]


def to_pay_by_hand(session: DbSession, icb: Organisation) -> list[ClaimRow]:
    """Claims approved for payment in schemes not paid through the agency."""
    return [_row(c) for c in _approved_rows(session, icb, through_agency=False)]


# --- Steps on many claims ------------------------------------------------------------------


@dataclass(frozen=True)
class FinanceStep:
    name: str
    action: ClaimAction
    #: What the button says, and the result page's heading.
    label: str
    done: str
    reason_required: bool = False


STEPS: dict[str, FinanceStep] = {
    "send-again": FinanceStep("send-again", A.RESEND_PAYMENT, "Send again", "sent again"),
    "hold": FinanceStep("hold", A.HOLD_PAYMENT, "Hold", "held", reason_required=True),
    "release": FinanceStep("release", A.RELEASE_PAYMENT, "Release", "released"),
}


@dataclass(frozen=True)
class Outcome:
    claim_id: int
    reference: str
    done: bool
    #: Why not (None when done).
    reason: str | None = None
    payment_id: int | None = None


@dataclass
class StepResult:
    step: FinanceStep
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def done(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.done]

    @property
    def not_done(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.done]


def versions_of(targets: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Each claim's version seen (the first given for a claim listed twice); PaymentsError
    for none, or more than :data:`MAX_SELECTED`."""
    versions: dict[int, int] = {}
    for claim_id, version in targets:
        versions.setdefault(claim_id, version)
    if not versions:
        raise PaymentsError("Select at least one claim", field="claim")
    if len(versions) > MAX_SELECTED:
        raise PaymentsError(f"Select {MAX_SELECTED} claims at most", field="claim")
    return versions


def clean_reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if not text:
        if required:
            raise PaymentsError("Enter the reason", field="reason")
        return None
    problem = free_text_problem(text, what="The reason", limit=MAX_REASON)
    if problem:
        raise PaymentsError(problem, field="reason")
    return text


def selected_claims(
    session: DbSession, icb: Organisation, targets: Sequence[tuple[int, int]]
) -> list[ClaimRow]:
    """The ICB's claims of ``targets`` as the confirmation shows them (reads only; another
    ICB's claims are left out)."""
    versions = versions_of(targets)
    claims = session.scalars(
        select(Claim)
        .where(Claim.id.in_(list(versions)), Claim.icb_id == icb.id)
        .options(joinedload(Claim.provider), joinedload(Claim.scheme))
        .order_by(Claim.id)
    ).all()
    return [
        ClaimRow(
            c.id,
            c.reference,
            versions[c.id],
            c.provider.display_name,
            c.scheme.name,
            c.value,
            approved_at=c.approved_at,
        )
        for c in claims
    ]


def _settle(session: DbSession, actor: User, claim: Claim, how: str) -> list[Payment]:
    """Settle the claim's rejected payments waiting for finance (locked); audited."""
    payments = list(
        session.scalars(
            select(Payment)
            .where(Payment.claim_id == claim.id, _unsettled_rejection())
            .with_for_update(of=Payment)
            .execution_options(populate_existing=True)
        )
    )
    now = utcnow()
    for payment in payments:
        payment.settled_at = now
        payment.settled_by_id = actor.id
        record_event(
            session,
            action="payment.settled",
            object_type="payment",
            object_id=payment.id,
            actor=actor,
            organisation=claim.provider,
            before={"settled_at": None},
            after={"settled_at": now.isoformat(), "claim_id": claim.id, "by": how},
        )
    session.flush()
    return payments


def _live_payment(session: DbSession, claim_id: int) -> Payment | None:
    return session.scalar(
        select(Payment).where(
            Payment.claim_id == claim_id,
            Payment.recovery_id.is_(None),
            Payment.status.in_(LIVE),
        )
    )


def take_payment_step(
    session: DbSession,
    actor: User,
    icb: Organisation,
    name: str,
    targets: Sequence[tuple[int, int]],
    *,
    reason: str | None = None,
) -> StepResult:
    """Send again, hold or release (``name``, a key of :data:`STEPS`) each ``(claim id,
    version seen)`` of ``targets``. Raises ``PermissionDenied`` for someone not managing
    the ICB's payments and ``PaymentsError`` for a missing or unusable reason (hold), an
    unknown step or a selection of none or too many; each claim's own refusal (another
    ICB's, changed meanwhile, nothing to send again) is an :class:`Outcome`."""
    ensure_finance(actor, icb)
    step = STEPS.get(name)
    if step is None:
        raise PaymentsError("Choose what to do with the claims")
    versions = versions_of(targets)
    reason = clean_reason(reason, required=step.reason_required)
    ordered = sorted(versions)
    locked = lock_in_order(session, ordered)
    result = StepResult(step)
    for claim_id in ordered:
        claim = locked.get(claim_id)
        reference = f"CLM-{claim_id:06d}"
        if claim is None or claim.icb_id != icb.id:
            result.outcomes.append(Outcome(claim_id, reference, False, "No such claim"))
            continue
        try:
            with session.begin_nested():
                payment_id = _one_step(session, actor, step, claim, versions[claim_id], reason)
        except (ClaimNotFound, PermissionDenied):
            result.outcomes.append(Outcome(claim_id, reference, False, "No such claim"))
        except (ClaimError, PaymentsError) as error:
            result.outcomes.append(Outcome(claim_id, reference, False, error.messages[0]))
        else:
            result.outcomes.append(Outcome(claim_id, reference, True, payment_id=payment_id))
    return result


def _one_step(
    session: DbSession,
    actor: User,
    step: FinanceStep,
    claim: Claim,
    version: int,
    reason: str | None,
) -> int | None:
    if step.action is A.HOLD_PAYMENT and claim.version == version:
        live = _live_payment(session, claim.id)
        if live is not None:
            raise PaymentsError(
                f"{claim.reference} is in a payment file ({live.status.value.lower()}): it "
                "cannot be held now"
            )
    transition(session, claim.id, step.action, actor, expected_version=version, reason=reason)
    if step.action is A.RELEASE_PAYMENT:
        return None
    settled = _settle(session, actor, claim, step.done)
    if step.action is A.RESEND_PAYMENT and not settled:
        raise PaymentsError(
            f"{claim.reference} has no rejected payment waiting to be sent again. "
            "Nothing was changed."
        )
    return settled[0].id if settled else None
