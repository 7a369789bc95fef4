"""The agency's answers: acknowledgements and remittances read from the transport, and files
sent again when no answer comes (docs/payments.md, "Acknowledgements and resends").

Each response is applied once (``payment_response`` keeps its SHA-256) in one transaction,
then moved to ``processed/``; a worker stopped between the two reads it again next time and
finds it applied. What a response does:

- an acknowledgement accepting a file: its accepted rows' claims are *Sent for payment*,
  its rejected rows' claims back at *Approved for payment* with the agency's reason, waiting
  for finance (sent again or held); a rejected file rejects every row the same way;
- a remittance: each row it pays is *Paid* (date and the agency's reference), its claim
  too, or its recovery *Recovered*.

A file with no answer :data:`RESEND_AFTER` after it was sent is sent again, at most
:data:`MAX_RESENDS` times; then it is *Failed* and the ICB's finance people get an email.
A late answer to a failed file is still applied (nothing else has the claims meanwhile).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services import mark_paid, transition
from claims_portal.db import DbSession
from claims_portal.mail import services as mail
from claims_portal.mail.kinds import EmailKind
from claims_portal.organisations.models import Organisation
from claims_portal.payments import responses
from claims_portal.payments.models import (
    AWAITING_ANSWER,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentResponse,
    PaymentStatus,
)
from claims_portal.payments.services import recoveries
from claims_portal.payments.services.icb_settings import payment_settings
from claims_portal.payments.services.machines import PAYMENT, PAYMENT_FILE, move
from claims_portal.payments.services.run import send_file
from claims_portal.payments.transport import AreaTransport
from claims_portal.rules import RuleError

RESEND_AFTER = dt.timedelta(hours=18)
MAX_RESENDS = 3
_ACK_HEADER = ",".join(responses.ACKNOWLEDGEMENT_COLUMNS).encode()
_REMITTANCE_HEADER = ",".join(responses.REMITTANCE_COLUMNS).encode()


@dataclass
class AnswersOutcome:
    read: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        read, resent = len(self.read), len(self.resent)
        return (
            f"{read} response{'s' if read != 1 else ''} read, "
            f"{resent} file{'s' if resent != 1 else ''} sent again, {len(self.failed)} failed"
        )


# --- Acknowledgements ----------------------------------------------------------------------


def _reject_payment(session: DbSession, payment: Payment, reason: str) -> None:
    move(PAYMENT, payment, "reject")
    payment.reason = reason[:500]
    if payment.recovery_id is None:
        transition(
            session,
            payment.claim_id,
            ClaimAction.PAYMENT_REJECTED,
            None,
            expected_version=None,
            reason=f"The payments agency rejected payment {payment.reference}: {reason}"[:1000],
        )


def _accept_payment(session: DbSession, payment: Payment) -> None:
    move(PAYMENT, payment, "accept")
    if payment.recovery_id is None:
        transition(
            session, payment.claim_id, ClaimAction.SEND_FOR_PAYMENT, None, expected_version=None
        )


def _lock_claims(session: DbSession, claim_ids: Any) -> None:
    """Lock the claims (in id order) before their payments: finance's steps take the claim
    first too, so the two never wait on each other in a circle."""
    session.execute(
        select(Claim.id).where(Claim.id.in_(claim_ids)).order_by(Claim.id).with_for_update()
    ).all()


def apply_acknowledgement(
    session: DbSession, ack: responses.Acknowledgement, now: dt.datetime
) -> tuple[PaymentFile | None, str]:
    """Apply an acknowledgement to its file; returns the file and what was done."""
    file = session.scalar(
        select(PaymentFile)
        .where(PaymentFile.sha256 == ack.file_sha256)
        .with_for_update(of=PaymentFile)
    )
    if file is None:
        return None, "refused: it answers no file we sent"
    if file.status not in AWAITING_ANSWER:
        return file, f"not applied: {file.name} was answered already ({file.status.value})"
    _lock_claims(session, select(Payment.claim_id).where(Payment.file_id == file.id))
    payments = list(
        session.scalars(
            select(Payment)
            .where(Payment.file_id == file.id)
            .order_by(Payment.id)
            .with_for_update(of=Payment)
        )
    )
    problems = responses.acknowledgement_problems(ack, file.sha256, (p.reference for p in payments))
    if problems:
        return file, "refused: " + "; ".join(problems)
    if ack.outcome is responses.Outcome.REJECTED:
        for payment in payments:
            _reject_payment(session, payment, f"the file was rejected: {ack.reason}")
        move(PAYMENT_FILE, file, "reject")
        file.reason = ack.reason[:500]
    else:
        outcomes = {row.payment_reference: row for row in ack.rows}
        for payment in payments:
            row = outcomes[payment.reference]
            if row.outcome is responses.Outcome.ACCEPTED:
                _accept_payment(session, payment)
            else:
                _reject_payment(session, payment, row.reason)
        rejected = sum(1 for row in ack.rows if row.outcome is responses.Outcome.REJECTED)
        move(PAYMENT_FILE, file, "partly_reject" if rejected else "accept")
    file.answered_at = now
    verb = {
        PaymentFileStatus.ACCEPTED: "accepted",
        PaymentFileStatus.PARTLY_REJECTED: "partly_rejected",
        PaymentFileStatus.REJECTED: "rejected",
    }[file.status]
    record_event(
        session,
        action=f"payment_file.{verb}",
        object_type="payment_file",
        object_id=file.id,
        organisation=file.icb_id,
        after={"status": file.status.name},
        reason=ack.reason or None,
    )
    return file, f"{file.name}: {file.status.value}"


# --- Remittances ---------------------------------------------------------------------------


def apply_remittance(session: DbSession, rows: Sequence[responses.PaidRow]) -> str:
    """Pay each row's payment (accepted, same amount); what does not fit is listed."""
    references = [r.payment_reference for r in rows]
    _lock_claims(session, select(Payment.claim_id).where(Payment.reference.in_(references)))
    by_reference = {
        p.reference: p
        for p in session.scalars(
            select(Payment)
            .where(Payment.reference.in_([r.payment_reference for r in rows]))
            .with_for_update(of=Payment)
        )
    }
    paid, problems = 0, []
    for row in rows:
        payment = by_reference.get(row.payment_reference)
        if payment is None:
            problems.append(f"{row.payment_reference}: no such payment")
        elif payment.status is PaymentStatus.PAID:
            continue  # paid by an earlier remittance
        elif payment.status is not PaymentStatus.ACCEPTED:
            problems.append(f"{row.payment_reference}: is {payment.status.value.lower()}")
        elif payment.amount != row.amount:
            problems.append(
                f"{row.payment_reference}: paid {row.amount:.2f}, not {payment.amount:.2f}"
            )
        else:
            _pay(session, payment, row)
            paid += 1
    text = f"{paid} paid"
    return text + ("; not applied: " + "; ".join(problems) if problems else "")


def _pay(session: DbSession, payment: Payment, row: responses.PaidRow) -> None:
    move(PAYMENT, payment, "pay")
    payment.paid_date = row.paid_date
    payment.agency_reference = row.agency_reference
    if payment.recovery_id is None:
        mark_paid(session, payment.claim_id)
    else:
        recoveries.mark_recovered(session, payment.recovery_id)
    record_event(
        session,
        action="payment.paid",
        object_type="payment",
        object_id=payment.id,
        organisation=payment.provider_id,
        after={"paid_date": row.paid_date.isoformat(), "agency_reference": row.agency_reference},
    )


# --- Reading the transport -----------------------------------------------------------------


def _apply(session: DbSession, name: str, body: bytes, now: dt.datetime) -> PaymentResponse:
    digest = hashlib.sha256(body).hexdigest()
    kept = session.scalar(select(PaymentResponse).where(PaymentResponse.sha256 == digest))
    if kept is not None:
        return kept
    first_line = body.split(b"\r\n", 1)[0].lstrip(b"\xef\xbb\xbf")
    response = PaymentResponse(name=name[:200], sha256=digest, kind="unreadable", read_at=now)
    try:
        if first_line == _ACK_HEADER:
            response.kind = "acknowledgement"
            file, response.outcome = apply_acknowledgement(
                session, responses.read_acknowledgement(body), now
            )
            response.file_id = file.id if file is not None else None
        elif first_line == _REMITTANCE_HEADER:
            response.kind = "remittance"
            response.outcome = apply_remittance(session, responses.read_remittance(body))
        else:
            response.outcome = "refused: neither an acknowledgement nor a remittance"
    except (RuleError, ValueError) as error:
        session.rollback()
        response = PaymentResponse(name=name[:200], sha256=digest, kind=response.kind, read_at=now)
        response.outcome = f"refused: {error}"[:4000]
    session.add(response)
    session.commit()
    return response


def read_responses(
    session: DbSession, transport: AreaTransport, now: dt.datetime, outcome: AnswersOutcome
) -> None:
    for name in transport.responses():
        _apply(session, name, transport.read(name), now)
        transport.done(name)
        outcome.read.append(name)


# --- Resends and failures ------------------------------------------------------------------


def finance_people(session: DbSession, icb_id: int) -> list[User]:
    """Who manages the ICB's payments (its finance people, memberships in force)."""
    icb = session.get(Organisation, icb_id)
    assert icb is not None
    return holders(session, icb, Capability.MANAGE_PAYMENTS)


def _fail(session: DbSession, file: PaymentFile, base_url: str) -> None:
    """The file failed: audited, and the ICB's finance people and its payments settings'
    finance contacts emailed (their task is on Pending actions)."""
    move(PAYMENT_FILE, file, "fail")
    file.reason = f"No acknowledgement after {file.resends} resends"
    record_event(
        session,
        action="payment_file.failed",
        object_type="payment_file",
        object_id=file.id,
        organisation=file.icb_id,
        after={"sends": file.sends},
        reason=file.reason,
    )
    link = f"{base_url.rstrip('/')}/payments/files/{file.id}"
    subject = f"Payment file {file.name} failed: no acknowledgement"
    body = (
        f"The payments agency has not acknowledged payment file {file.name} "
        f"({file.row_count} rows, £{file.total:,.2f}), sent {file.sends} times.\n\n"
        "Check with the agency whether it took the file. If it did not, withdraw "
        f"the file so that its claims go in the next run:\n{link}\n"
    )
    people = finance_people(session, file.icb_id)
    for person in people:
        mail.enqueue(
            session,
            to=person.email,
            user=person,
            kind=EmailKind.PAYMENT_FILE_FAILED,
            subject=subject,
            body=body,
        )
    told = {person.email.lower() for person in people}
    icb = session.get(Organisation, file.icb_id)
    assert icb is not None
    for address in payment_settings(session, icb).finance_contacts:
        if address.lower() not in told:
            told.add(address.lower())
            mail.enqueue(
                session, to=address, kind=EmailKind.PAYMENT_FILE_FAILED, subject=subject, body=body
            )


def resend_or_fail(
    session: DbSession,
    transport: AreaTransport,
    now: dt.datetime,
    outcome: AnswersOutcome,
    *,
    base_url: str,
    resend_after: dt.timedelta = RESEND_AFTER,
    max_resends: int = MAX_RESENDS,
) -> None:
    """Send again each file unanswered ``resend_after`` after its last send; a file sent
    ``max_resends`` times again and still unanswered fails."""
    due = list(
        session.scalars(
            select(PaymentFile.id)
            .where(
                PaymentFile.status == PaymentFileStatus.SENT,
                PaymentFile.last_sent_at <= now - resend_after,
            )
            .order_by(PaymentFile.id)
        )
    )
    for file_id in due:
        file = session.scalar(
            select(PaymentFile).where(PaymentFile.id == file_id).with_for_update(of=PaymentFile)
        )
        if file is None or file.status is not PaymentFileStatus.SENT:
            session.commit()
            continue
        if file.sends > max_resends:
            _fail(session, file, base_url)
            session.commit()
            outcome.failed.append(file.name)
        else:
            send_file(session, transport, file, now)
            outcome.resent.append(file.name)


def read_answers(
    session: DbSession,
    transport: AreaTransport,
    now: dt.datetime,
    *,
    base_url: str,
    config: Mapping[str, object] | None = None,
) -> AnswersOutcome:
    """The 16:00 step: read every response, then send again or fail what is unanswered."""
    config = config or {}
    outcome = AnswersOutcome()
    read_responses(session, transport, now, outcome)
    hours = float(str(config.get("PAYMENTS_RESEND_AFTER_HOURS", 18)))
    resend_or_fail(
        session,
        transport,
        now,
        outcome,
        base_url=base_url,
        resend_after=dt.timedelta(hours=hours),
        max_resends=int(str(config.get("PAYMENTS_MAX_RESENDS", MAX_RESENDS))),
    )
    return outcome
