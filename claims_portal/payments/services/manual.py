"""Payments recorded by hand (issue 15), for schemes not paid through the agency
(``Scheme.pay_through_agency`` False): finance records one or many claims approved for
payment as paid, with the date paid and the payment's reference, after checking their
answers. Each claim gets a :class:`Payment` PAID (``MAN-000123-1``; ``file_id`` None,
``recorded_by_id`` the finance person; the claim's figures copied; audited
``payment.recorded``) and the claim step ``RECORD_PAYMENT`` (to "Paid"). A claim of a scheme
paid through the agency is refused: the payment run pays it. Flush only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimAction, ClaimStatus
from claims_portal.claims.services import ClaimError, ClaimNotFound, transition
from claims_portal.claims.services.bulk import lock_in_order
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession
from claims_portal.formatting import england, long_date
from claims_portal.organisations.models import Organisation
from claims_portal.payments.files import financial_year_of
from claims_portal.payments.models import Payment, PaymentStatus
from claims_portal.payments.services.finance import (
    ClaimRow,
    FinanceStep,
    Outcome,
    StepResult,
    ensure_finance,
    versions_of,
)
from claims_portal.payments.services.paycodes import PaymentsError
from claims_portal.rules import Problem

S = ClaimStatus
A = ClaimAction
#: The payment's reference: letters, digits and ``/ _ . -``, at most 50.
_REFERENCE = re.compile(r"^[A-Za-z0-9/_.\-]{1,50}$")
RECORD = FinanceStep("record", A.RECORD_PAYMENT, "Record as paid", "recorded as paid")


@dataclass(frozen=True)
class ManualPayment:
    """What finance entered for payments made by hand, checked."""

    paid_date: dt.date
    reference: str
    claims: list[ClaimRow]

    @property
    def total(self) -> Decimal:
        return sum((c.amount or Decimal(0) for c in self.claims), Decimal(0))


def parse_day(day: Any, month: Any, year: Any) -> dt.date | None:
    """A date typed in the three boxes of the NHS date input, or None."""
    parts = [str(p or "").strip() for p in (day, month, year)]
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def approved_on(claim: Claim) -> dt.date:
    """The England date the claim was approved for payment."""
    return england(claim.approved_at or claim.status_changed_at).date()


def _claim_problems(claim: Claim) -> list[Problem]:
    if claim.scheme.pay_through_agency:
        return [
            Problem(
                f"{claim.reference} is in {claim.scheme.name}, a scheme paid through the "
                "payments agency: the payment run pays it, it cannot be recorded as paid by hand",
                "claim",
            )
        ]
    if claim.status is not S.APPROVED_FOR_PAYMENT:
        return [
            Problem(
                f"{claim.reference} is {claim.status.value.lower()}: only a claim approved "
                "for payment can be recorded as paid",
                "claim",
            )
        ]
    if not claim.value:
        return [Problem(f"{claim.reference} has no value to pay", "claim")]
    return []


def _date_problems(paid_date: dt.date | None, day: dt.date, claims: list[Claim]) -> list[Problem]:
    if paid_date is None:
        return [Problem("Enter the date it was paid, like 15 3 2027", "paid_date")]
    if paid_date > day:
        return [Problem("The date it was paid must be today or in the past", "paid_date")]
    return [
        Problem(
            f"The date it was paid cannot be before {claim.reference} was approved for "
            f"payment, on {long_date(approved_on(claim))}",
            "paid_date",
        )
        for claim in claims
        if claim.status is S.APPROVED_FOR_PAYMENT and paid_date < approved_on(claim)
    ]


def _reference_problems(text: str) -> list[Problem]:
    if not text:
        return [Problem("Enter the payment's reference", "reference")]
    if not _REFERENCE.match(text):
        return [
            Problem(
                "The payment's reference must be 50 characters at most: letters, digits and"
                " / _ . -",
                "reference",
            )
        ]
    return []


def check_manual_payment(
    session: DbSession,
    actor: User,
    icb: Organisation,
    targets: Sequence[tuple[int, int]],
    *,
    paid_date: dt.date | None,
    reference: Any,
    today: dt.date | None = None,
) -> ManualPayment:
    """Check what finance entered to record claims paid by hand (nothing is changed): the
    paid date (given, not in the future, not before any claim's approval), the reference
    and the claims (the ICB's, approved for payment, in schemes not paid through the agency,
    with a value). Raises ``PaymentsError`` listing every problem; ``PermissionDenied``."""
    ensure_finance(actor, icb)
    problems: list[Problem] = []
    try:
        versions = versions_of(targets)
    except PaymentsError as error:
        problems += error.problems
        versions = {}
    claims = (
        session.scalars(
            select(Claim)
            .where(Claim.id.in_(list(versions)))
            .options(joinedload(Claim.provider), joinedload(Claim.scheme))
            .order_by(Claim.id)
        ).all()
        if versions
        else []
    )
    found = [c for c in claims if c.icb_id == icb.id]
    for claim_id in sorted(set(versions) - {c.id for c in found}):
        problems.append(Problem(f"There is no claim CLM-{claim_id:06d} of yours", "claim"))
    for claim in found:
        problems += _claim_problems(claim)
    problems += _date_problems(paid_date, today or clock_today(), found)
    text = str(reference or "").strip()
    problems += _reference_problems(text)
    if problems:
        raise PaymentsError(problems)
    assert paid_date is not None
    rows = [
        ClaimRow(
            c.id,
            c.reference,
            versions[c.id],
            c.provider.display_name,
            c.scheme.name,
            c.value,
            approved_at=c.approved_at,
        )
        for c in found
    ]
    return ManualPayment(paid_date, text, rows)


def _manual_reference(session: DbSession, claim_id: int) -> str:
    prefix = f"MAN-{claim_id:06d}-"
    earlier = session.scalar(
        select(func.count()).select_from(Payment).where(Payment.reference.like(f"{prefix}%"))
    )
    return f"{prefix}{(earlier or 0) + 1}"


def record_manual_payments(
    session: DbSession,
    actor: User,
    icb: Organisation,
    targets: Sequence[tuple[int, int]],
    *,
    paid_date: dt.date | None,
    reference: Any,
    today: dt.date | None = None,
) -> StepResult:
    """Record each claim of ``targets`` paid by hand on ``paid_date`` under the payment's
    ``reference`` (checked again as :func:`check_manual_payment`, which raises): a
    :class:`Payment` PAID with the claim's figures, and the claim "Paid". A claim changed
    since the page was seen is an :class:`Outcome` saying why; the others go ahead."""
    checked = check_manual_payment(
        session, actor, icb, targets, paid_date=paid_date, reference=reference, today=today
    )
    step = RECORD
    ordered = sorted(c.claim_id for c in checked.claims)
    seen = {c.claim_id: c.version for c in checked.claims}
    locked = lock_in_order(session, ordered)
    result = StepResult(step)
    for claim_id in ordered:
        claim = locked[claim_id]
        try:
            with session.begin_nested():
                payment = _record_one(session, actor, claim, seen[claim_id], checked)
        except (ClaimNotFound, PermissionDenied):
            result.outcomes.append(Outcome(claim_id, claim.reference, False, "No such claim"))
        except ClaimError as error:
            result.outcomes.append(Outcome(claim_id, claim.reference, False, error.messages[0]))
        else:
            result.outcomes.append(Outcome(claim_id, claim.reference, True, payment_id=payment.id))
    return result


def _record_one(
    session: DbSession, actor: User, claim: Claim, version: int, checked: ManualPayment
) -> Payment:
    transition(session, claim.id, A.RECORD_PAYMENT, actor, expected_version=version)
    scheme = claim.scheme
    assert claim.value is not None
    assert claim.icb_id is not None
    payment = Payment(
        reference=_manual_reference(session, claim.id),
        claim_id=claim.id,
        file_id=None,
        recorded_by_id=actor.id,
        provider_id=claim.provider_id,
        icb_id=claim.icb_id,
        scheme_id=claim.scheme_id,
        paycode=scheme.paycode or "",
        amount=claim.value,
        payment_month=f"{checked.paid_date:%Y-%m}",
        financial_year=financial_year_of(checked.paid_date),
        approved_date=approved_on(claim),
        status=PaymentStatus.PAID,
        paid_date=checked.paid_date,
        agency_reference=checked.reference,
    )
    session.add(payment)
    session.flush()
    record_event(
        session,
        action="payment.recorded",
        object_type="payment",
        object_id=payment.id,
        actor=actor,
        organisation=claim.provider,
        after={
            "reference": payment.reference,
            "claim_id": claim.id,
            "amount": payment.amount,
            "paid_date": checked.paid_date.isoformat(),
            "agency_reference": checked.reference,
        },
    )
    return payment
