"""The payment run: claims approved for payment, and approved recoveries, into one payment
file per ICB, handed to the payments agency (docs/payments.md, "The payment run").

A run goes in steps, each its own transaction, so a worker stopped at any point leaves
nothing half done and the next run (or the same one resumed) carries on:

1. :func:`open_run`: the run's row, unique by its slot (``2026-12-01``; a run by hand has
   its own), so two schedulers at once give one run.
2. :func:`write_file`, per ICB, under a lock named for the ICB: the rows it collects
   become :class:`Payment` rows of a new :class:`PaymentFile` (status Written). A partial
   unique index lets a claim (or a recovery) be in only one live payment, so no retry,
   restart or concurrent run can put it in two files; a claim comes back only when its row
   is rejected and finance sends it again.
3. :func:`send_file`: the file's bytes, written from its rows, are kept in the transport's
   ``archive/`` area and put in ``outgoing/`` whole (both atomic); then the file is Sent.
   A resend puts the archived bytes again, so the agency sees the same SHA-256.

Collected: claims Approved for payment in schemes paid through the agency, approved on
or after the scheme's enrolment date, of a value above nothing, with no live payment and
no rejected one that finance has not yet dealt with; and Approved recoveries likewise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.clock import ENGLAND
from claims_portal.db import DbSession
from claims_portal.decisions import lock_name
from claims_portal.organisations.models import Organisation
from claims_portal.payments import files
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRecovery,
    PaymentRun,
    PaymentRunKind,
    PaymentStatus,
    RecoveryStatus,
)
from claims_portal.payments.services.icb_settings import PaymentSettings, payment_settings
from claims_portal.payments.services.machines import PAYMENT_FILE, move
from claims_portal.payments.transport import AreaTransport
from claims_portal.payments.working_days import is_working_day, working_days_before
from claims_portal.schemes.models import Scheme

#: Where the bytes of every file sent are kept (an area of the transport).
ARCHIVE = "archive"
#: Rows read and written at a time: the run's memory stays flat however many it pays.
BATCH = 1_000
_LIVE = (PaymentStatus.PENDING, PaymentStatus.ACCEPTED, PaymentStatus.PAID)


@dataclass
class RunOutcome:
    """What one run did, for its job record and the finance page."""

    run_id: int | None
    files: list[int] = field(default_factory=list)
    rows: int = 0
    total: Decimal = Decimal("0.00")
    #: ICBs with claims to pay and no agency account: nothing was written for them.
    no_account: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.run_id is None:
            return "no run: not a working day, or the day's run has finished"
        files, rows = len(self.files), self.rows
        text = (
            f"run {self.run_id}: {files} file{'s' if files != 1 else ''}, "
            f"{rows} row{'s' if rows != 1 else ''}, £{self.total:,.2f}"
        )
        if self.no_account:
            text += f"; no agency account for {', '.join(self.no_account)}"
        return text


# --- Payment months ------------------------------------------------------------------------


def _month_start(day: dt.date, months_on: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months_on
    return dt.date(index // 12, index % 12 + 1, 1)


def payment_month(run_date: dt.date, settings: PaymentSettings) -> str:
    """``2026-12``: the first month whose cut-off (``cut_off_working_days`` working days
    before its payment day) the run is not past."""
    for months_on in range(3):
        month = _month_start(run_date, months_on)
        payment_date = month.replace(day=settings.payment_day)
        if run_date <= working_days_before(payment_date, settings.cut_off_working_days):
            return f"{month:%Y-%m}"
    raise AssertionError("a payment month is always within three months")  # pragma: no cover


# --- 1. The run ----------------------------------------------------------------------------


def open_run(
    session: DbSession,
    *,
    run_date: dt.date,
    kind: PaymentRunKind = PaymentRunKind.SCHEDULED,
    icb: Organisation | None = None,
    by: User | None = None,
    slot: str | None = None,
) -> PaymentRun | None:
    """The run of ``slot`` (the day's date for the scheduled run), made if new, or None when
    it has finished already. Commits."""
    slot = slot or run_date.isoformat()
    run = session.scalar(select(PaymentRun).where(PaymentRun.slot == slot))
    if run is None:
        try:
            with session.begin_nested():
                run = PaymentRun(
                    slot=slot,
                    kind=kind,
                    run_date=run_date,
                    icb_id=icb.id if icb is not None else None,
                    started_by_id=by.id if by is not None else None,
                )
                session.add(run)
        except IntegrityError:  # another scheduler opened it a moment ago
            run = session.scalar(select(PaymentRun).where(PaymentRun.slot == slot))
        session.commit()
    assert run is not None
    return None if run.finished_at is not None else run


def icbs_with_work(session: DbSession, icb_id: int | None = None) -> list[Organisation]:
    """The ICBs with a claim or recovery to collect (or just ``icb_id``'s)."""
    # Candidates only: an ICB whose claims all have payments already gets no file.
    claims = select(Claim.icb_id).where(_approved_for_the_agency())
    recoveries = (
        select(Claim.icb_id)
        .join(PaymentRecovery, PaymentRecovery.claim_id == Claim.id)
        .where(_collectable_recovery())
    )
    ids = set(session.scalars(claims.distinct())) | set(session.scalars(recoveries.distinct()))
    ids.discard(None)
    if icb_id is not None:
        ids &= {icb_id}
    if not ids:
        return []
    return list(
        session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by("id"))
    )


def finish_run(session: DbSession, run: PaymentRun, outcome: RunOutcome, now: dt.datetime) -> None:
    run.finished_at = now
    run.files = len(outcome.files)
    run.rows = outcome.rows
    run.total = outcome.total
    session.commit()


# --- 2. Collecting rows into a file --------------------------------------------------------


def _no_payment(claim_side: Any, recovery: bool, *, unsettled: bool) -> Any:
    other = aliased(Payment)
    key = other.recovery_id if recovery else other.claim_id
    condition = [key == claim_side]
    if not recovery:
        condition.append(other.recovery_id.is_(None))
    blocking: Any = other.status.in_(_LIVE)
    if unsettled:
        blocking = blocking | and_(
            other.status == PaymentStatus.REJECTED, other.settled_at.is_(None)
        )
    return ~exists().where(*condition, blocking)


def _approved_for_the_agency() -> Any:
    """Approved for payment, worth something, in a scheme paid through the agency."""
    return and_(
        Claim.status == ClaimStatus.APPROVED_FOR_PAYMENT,
        Claim.value > 0,
        Claim.scheme_id.in_(
            select(Scheme.id).where(
                Scheme.pay_through_agency.is_(True), Scheme.agency_enrolment_date.is_not(None)
            )
        ),
    )


def _collectable_claim() -> Any:
    """Approved for the agency, with no live payment and no rejected one waiting for finance
    (the enrolment date is checked row by row, in England's date: :func:`_enrolled`)."""
    return and_(_approved_for_the_agency(), _no_payment(Claim.id, False, unsettled=True))


def _held_back(session: DbSession, claim_ids: Sequence[int]) -> set[int]:
    """Of these claims, those with a live payment or a rejected one waiting for finance.

    Asked of the batch by its claim ids (the payment table's index on claim_id), rather than
    as a NOT EXISTS in the batch's query: the planner then cannot pick a plan that scans every
    payment for each claim when the table's statistics are stale (a first large run)."""
    return set(
        session.scalars(
            select(Payment.claim_id).where(
                Payment.claim_id.in_(claim_ids),
                Payment.recovery_id.is_(None),
                Payment.status.in_(_LIVE)
                | ((Payment.status == PaymentStatus.REJECTED) & Payment.settled_at.is_(None)),
            )
        )
    )


def _enrolled(approved_at: dt.datetime | None, enrolment_date: dt.date | None) -> bool:
    """Approved on or after the scheme's enrolment date (claims approved before it are
    never picked up)."""
    return enrolment_date is not None and _approved_date(approved_at) >= enrolment_date


def _collectable_recovery() -> Any:
    return and_(
        PaymentRecovery.status == RecoveryStatus.APPROVED,
        _no_payment(PaymentRecovery.id, True, unsettled=True),
    )


def _earlier_payments(session: DbSession, column: Any, ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids)).group_by(column)
    ).all()
    return {key: int(count) for key, count in rows}


@dataclass
class _Filling:
    """The file being filled: its row, running figures and the payment month."""

    file: PaymentFile
    month: str
    rows: int = 0
    total: Decimal = Decimal("0.00")


def _approved_date(moment: dt.datetime | None) -> dt.date:
    assert moment is not None
    return moment.astimezone(ENGLAND).date()


def _payment_values(filling: _Filling, row: Any) -> dict[str, Any]:
    return {
        "claim_id": row.claim_id,
        "file_id": filling.file.id,
        "provider_id": row.provider_id,
        "icb_id": filling.file.icb_id,
        "scheme_id": row.scheme_id,
        "paycode": row.paycode or "",
        "payment_month": filling.month,
        "financial_year": row.financial_year,
        "status": PaymentStatus.PENDING,
    }


_CLAIM_COLUMNS = (
    Claim.id.label("claim_id"),
    Claim.provider_id,
    Claim.value,
    Claim.approved_at,
    Scheme.id.label("scheme_id"),
    Scheme.paycode,
    Scheme.financial_year,
    Scheme.agency_enrolment_date,
)


def _add_claims(session: DbSession, filling: _Filling) -> None:
    after = 0
    while True:
        batch = session.execute(
            select(*_CLAIM_COLUMNS)
            .join(Scheme, Scheme.id == Claim.scheme_id)
            .where(
                Claim.icb_id == filling.file.icb_id, Claim.id > after, _approved_for_the_agency()
            )
            .order_by(Claim.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1].claim_id
        held = _held_back(session, [r.claim_id for r in batch])
        batch = [
            r
            for r in batch
            if r.claim_id not in held and _enrolled(r.approved_at, r.agency_enrolment_date)
        ]
        if not batch:
            continue
        earlier = _earlier_payments(session, Payment.claim_id, [r.claim_id for r in batch])
        values = []
        for row in batch:
            attempt = earlier.get(row.claim_id, 0) + 1
            values.append(
                {
                    **_payment_values(filling, row),
                    "reference": f"PAY-{row.claim_id:06d}-{attempt}",
                    "amount": row.value,
                    "approved_date": _approved_date(row.approved_at),
                }
            )
            filling.total += row.value
        session.execute(insert(Payment), values)
        filling.rows += len(values)


def _add_recoveries(session: DbSession, filling: _Filling) -> None:
    batch = session.execute(
        select(
            *_CLAIM_COLUMNS,
            PaymentRecovery.id.label("recovery_id"),
            PaymentRecovery.amount.label("recovered"),
            PaymentRecovery.decided_at,
        )
        .join(Claim, Claim.id == PaymentRecovery.claim_id)
        .join(Scheme, Scheme.id == Claim.scheme_id)
        .where(Claim.icb_id == filling.file.icb_id, _collectable_recovery())
        .order_by(PaymentRecovery.id)
    ).all()
    if not batch:
        return
    earlier = _earlier_payments(session, Payment.recovery_id, [r.recovery_id for r in batch])
    values = []
    for row in batch:
        attempt = earlier.get(row.recovery_id, 0) + 1
        values.append(
            {
                **_payment_values(filling, row),
                "recovery_id": row.recovery_id,
                "reference": f"REC-{row.recovery_id:06d}-{attempt}",
                "amount": -row.recovered,
                "approved_date": _approved_date(row.decided_at),
            }
        )
        filling.total -= row.recovered
    session.execute(insert(Payment), values)
    filling.rows += len(values)


def write_file(
    session: DbSession, run: PaymentRun, icb: Organisation, outcome: RunOutcome
) -> PaymentFile | None:
    """Collect the ICB's rows into a new file of ``run`` (Written); None when there is
    nothing to collect, the run has its file for the ICB already, or the ICB has no agency
    account. Commits."""
    lock_name(session, f"payments:icb:{icb.id}")
    already = session.scalar(
        select(PaymentFile).where(PaymentFile.run_id == run.id, PaymentFile.icb_id == icb.id)
    )
    if already is not None:
        session.commit()
        return None
    settings = payment_settings(session, icb)
    if not settings.agency_account:
        outcome.no_account.append(icb.ods_code)
        session.commit()
        return None
    name = f"{icb.ods_code}-{run.run_date:%Y%m%d}-R{run.id:06d}.csv"
    file = PaymentFile(
        run_id=run.id,
        icb_id=icb.id,
        agency_account=settings.agency_account,
        name=name,
        sha256=f"pending:{name}"[:64],
        row_count=0,
        total=Decimal("0.00"),
    )
    session.add(file)
    session.flush()
    file_id = file.id
    filling = _Filling(file, payment_month(run.run_date, settings))
    _add_claims(session, filling)
    _add_recoveries(session, filling)
    if filling.rows == 0:
        session.rollback()
        return None
    digest = _digest(session, filling.file)
    session.execute(
        update(PaymentFile)
        .where(PaymentFile.id == file_id)
        .values(sha256=digest.sha256, row_count=digest.row_count, total=digest.total)
    )
    record_event(
        session,
        action="payment_file.written",
        object_type="payment_file",
        object_id=file_id,
        organisation=icb,
        after={"name": name, "rows": digest.row_count, "total": f"{digest.total:.2f}"},
    )
    session.commit()
    outcome.files.append(file_id)
    outcome.rows += digest.row_count
    outcome.total += digest.total
    return session.get(PaymentFile, file_id)


# --- The file's bytes ----------------------------------------------------------------------


def file_rows(session: DbSession, file: PaymentFile) -> Iterator[files.PaymentRow]:
    """The file's rows in reference order, read a batch at a time."""
    icb_code = file.icb.ods_code
    after = ""
    while True:
        batch = session.execute(
            select(
                Payment.reference,
                Organisation.ods_code,
                Organisation.name,
                Payment.paycode,
                Scheme.code,
                Payment.claim_id,
                Claim.period_start,
                Claim.period_end,
                Payment.amount,
                Payment.financial_year,
                Payment.payment_month,
                Payment.approved_date,
            )
            .join(Organisation, Organisation.id == Payment.provider_id)
            .join(Scheme, Scheme.id == Payment.scheme_id)
            .join(Claim, Claim.id == Payment.claim_id)
            .where(Payment.file_id == file.id, Payment.reference > after)
            .order_by(Payment.reference)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for row in batch:
            yield files.PaymentRow(
                payment_reference=row.reference,
                practice_ods_code=row.ods_code,
                practice_name=row.name,
                icb_code=icb_code,
                paycode=row.paycode,
                scheme_code=row.code,
                claim_reference=f"CLM-{row.claim_id:06d}",
                period_start=row.period_start,
                period_end=row.period_end,
                amount=row.amount,
                financial_year=row.financial_year,
                payment_month=row.payment_month,
                approved_date=row.approved_date,
            )
        after = batch[-1].reference


def _digest(session: DbSession, file: PaymentFile) -> files.Trailer:
    writer = files.PaymentFileWriter()
    writer.header()
    for row in file_rows(session, file):
        writer.row(row)
    return writer.figures()


def write_bytes(session: DbSession, file: PaymentFile, out: IO[bytes]) -> files.Trailer:
    """Write the file to ``out`` from its rows; returns its trailer's figures."""
    return files.write_payment_file(file_rows(session, file), out)


def _chunks(source: IO[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    source.seek(0)
    while chunk := source.read(size):
        yield chunk


# --- 3. Sending ----------------------------------------------------------------------------


def send_file(
    session: DbSession, transport: AreaTransport, file: PaymentFile, now: dt.datetime
) -> None:
    """Hand the file to the agency: the first time from its rows (kept in ``archive/``),
    a resend from the archive, so its bytes never change. Commits."""
    archive = transport
    first = file.sends == 0 and not archive.exists(ARCHIVE, file.name)
    if first:
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
            trailer = write_bytes(session, file, spool)
            if trailer.sha256 != file.sha256:
                # A practice renamed between writing and sending: nothing was sent yet, so
                # the file is what is sent now.
                file.sha256 = trailer.sha256
            archive.put(ARCHIVE, file.name, _chunks(spool))
            transport.send(file.name, _chunks(spool))
    else:
        body = archive.get(ARCHIVE, file.name)
        if hashlib.sha256(body.rsplit(b"TRAILER,", 1)[0]).hexdigest() != file.sha256:
            raise AssertionError(f"the archived {file.name} is not the file recorded")
        transport.send(file.name, [body])
    action = "payment_file.sent" if file.sends == 0 else "payment_file.sent_again"
    file.sends += 1
    file.last_sent_at = now
    if file.status is PaymentFileStatus.WRITTEN:
        move(PAYMENT_FILE, file, "send")
    record_event(
        session,
        action=action,
        object_type="payment_file",
        object_id=file.id,
        organisation=file.icb_id,
        after={"sends": file.sends, "name": file.name},
    )
    session.commit()


def unsent_files(session: DbSession) -> list[int]:
    """Files written and never sent (a run stopped between writing and sending)."""
    return list(
        session.scalars(
            select(PaymentFile.id)
            .where(PaymentFile.status == PaymentFileStatus.WRITTEN)
            .order_by(PaymentFile.id)
        )
    )


def send_unsent(
    session: DbSession, transport: AreaTransport, file_id: int, now: dt.datetime
) -> bool:
    """Send the file if it is still unsent, holding its row: of two runs at once, the
    second waits, then finds it sent. Commits."""
    file = session.scalar(
        select(PaymentFile)
        .where(PaymentFile.id == file_id, PaymentFile.status == PaymentFileStatus.WRITTEN)
        .with_for_update(of=PaymentFile)
        .execution_options(populate_existing=True)
    )
    if file is None:
        session.commit()
        return False
    send_file(session, transport, file, now)
    return True


# --- The whole run -------------------------------------------------------------------------


def run_payments(
    session: DbSession,
    transport: AreaTransport,
    *,
    run_date: dt.date,
    now: dt.datetime,
    kind: PaymentRunKind = PaymentRunKind.SCHEDULED,
    icb: Organisation | None = None,
    by: User | None = None,
    slot: str | None = None,
) -> RunOutcome:
    """One payment run (a scheduled one only on a working day): every ICB's file written,
    then every unsent file sent. Safe to run again: it resumes an unfinished run."""
    if kind is PaymentRunKind.SCHEDULED and not is_working_day(run_date):
        return RunOutcome(None)
    run = open_run(session, run_date=run_date, kind=kind, icb=icb, by=by, slot=slot)
    if run is None:
        return RunOutcome(None)
    outcome = RunOutcome(run.id)
    outcome.files = list(
        session.scalars(select(PaymentFile.id).where(PaymentFile.run_id == run.id))
    )
    for organisation in icbs_with_work(session, icb.id if icb is not None else None):
        write_file(session, run, organisation, outcome)
    for file_id in unsent_files(session):
        send_unsent(session, transport, file_id, now)
    rows, total = session.execute(
        select(
            func.coalesce(func.sum(PaymentFile.row_count), 0), func.sum(PaymentFile.total)
        ).where(PaymentFile.run_id == run.id)
    ).one()
    outcome.rows = int(rows)
    outcome.total = Decimal(total or 0)
    run = session.get(PaymentRun, run.id)
    assert run is not None
    finish_run(session, run, outcome, now)
    return outcome
