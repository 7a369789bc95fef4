"""A payment run started by hand by an ICB's finance person, and a failed file withdrawn.

A run by hand is for the person's ICB only: a confirmation page says what it would collect
(:func:`preview`), then :func:`start_run_by_hand` records the run (its own slot) and hands
it to a worker as a job whose page shows its progress and outcome (``payments.run-by-hand``,
``payments/jobs.py``). It collects exactly what the day's scheduled run would, so the two
never pay a claim twice (the run's lock per ICB and the one-live-payment index).

A failed file (no acknowledgement after the resends) stays the agency's to answer until
finance, having checked with the agency that it never took the file, withdraws it: its rows
are then Withdrawn and their claims go in the next run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim
from claims_portal.db import DbSession
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRecovery,
    PaymentRun,
    PaymentRunKind,
)
from claims_portal.payments.services.finance import (
    PaymentsConflict,
    PaymentsNotFound,
    may_manage_payments,
)
from claims_portal.payments.services.icb_settings import payment_settings
from claims_portal.payments.services.machines import PAYMENT, PAYMENT_FILE, move
from claims_portal.payments.services.paycodes import PaymentsError
from claims_portal.payments.services.run import _collectable_claim, _collectable_recovery
from claims_portal.rules import Problem

RUN_BY_HAND_JOB = "payments.run-by-hand"


@dataclass(frozen=True)
class Preview:
    """What a run for the ICB would collect now (before the enrolment dates, checked per
    claim by the run itself)."""

    claims: int
    claims_total: Decimal
    recoveries: int
    recoveries_total: Decimal
    agency_account: str | None

    @property
    def anything(self) -> bool:
        return bool(self.claims or self.recoveries)


def preview(session: DbSession, icb: Organisation) -> Preview:
    claims, claims_total = session.execute(
        select(func.count(), func.coalesce(func.sum(Claim.value), 0)).where(
            Claim.icb_id == icb.id, _collectable_claim()
        )
    ).one()
    recoveries, recoveries_total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentRecovery.amount), 0))
        .join(Claim, Claim.id == PaymentRecovery.claim_id)
        .where(Claim.icb_id == icb.id, _collectable_recovery())
    ).one()
    return Preview(
        int(claims),
        Decimal(claims_total or 0),
        int(recoveries),
        Decimal(recoveries_total or 0),
        payment_settings(session, icb).agency_account,
    )


def _ensure_finance(actor: User, icb: Organisation) -> None:
    if not may_manage_payments(actor, icb):
        raise PaymentsError("Only the ICB's finance staff manage its payments")


def start_run_by_hand(session: DbSession, actor: User, icb: Organisation, today: dt.date) -> Job:
    """Record a run by hand for ``icb`` and hand it to a worker once the caller commits."""
    _ensure_finance(actor, icb)
    found = preview(session, icb)
    if not found.agency_account:
        raise PaymentsError(
            Problem("Set the ICB's agency account in its payments settings first", None)
        )
    if not found.anything:
        raise PaymentsError("There is nothing to pay: no claim or recovery is waiting")
    run = PaymentRun(
        slot=f"by-hand:{icb.id}:{uuid.uuid4().hex[:12]}",
        kind=PaymentRunKind.BY_HAND,
        run_date=today,
        icb_id=icb.id,
        started_by_id=actor.id,
    )
    session.add(run)
    session.flush()
    record_event(
        session,
        action="payment_run.started",
        object_type="payment_run",
        object_id=run.id,
        actor=actor,
        organisation=icb,
        after={"kind": run.kind.name, "claims": found.claims, "recoveries": found.recoveries},
    )
    return jobs.start_job(
        session,
        RUN_BY_HAND_JOB,
        owner_id=actor.id,
        organisation_id=icb.id,
        title=f"Payment run for {icb.name}",
        total=1,
        params={"run_id": run.id, "slot": run.slot},
    )


def withdraw_file(
    session: DbSession, actor: User, icb: Organisation, file_id: int, reason: str
) -> PaymentFile:
    """Withdraw a failed file of ``icb`` (its rows Withdrawn, their claims free for the next
    run). Flushes; the caller commits."""
    _ensure_finance(actor, icb)
    file = session.scalar(
        select(PaymentFile)
        .where(PaymentFile.id == file_id, PaymentFile.icb_id == icb.id)
        .with_for_update(of=PaymentFile)
    )
    if file is None:
        raise PaymentsNotFound(file_id)
    if file.status is not PaymentFileStatus.FAILED:
        raise PaymentsConflict(
            f"{file.name} is {file.status.value.lower()}: only a failed file can be withdrawn. "
            "Nothing was changed."
        )
    reason = (reason or "").strip()
    if not reason:
        raise PaymentsError(Problem("Enter why the file is withdrawn", "reason"))
    for payment in session.scalars(
        select(Payment).where(Payment.file_id == file.id).with_for_update(of=Payment)
    ):
        move(PAYMENT, payment, "withdraw")
    move(PAYMENT_FILE, file, "withdraw")
    record_event(
        session,
        action="payment_file.withdrawn",
        object_type="payment_file",
        object_id=file.id,
        actor=actor,
        organisation=icb,
        reason=reason[:500],
    )
    session.flush()
    return file
