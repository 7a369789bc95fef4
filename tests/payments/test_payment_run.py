"""The payment run against the real database and a real drop folder, answered by the
stand-in agency run as its own process: claims approved for payment go in one file per ICB,
the file matches the documented format, acknowledgements move claims on, a silent agency
gets exactly three resends, rejected rows come back to finance, a remittance pays."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.clock import ENGLAND
from claims_portal.mail.models import EmailMessage
from claims_portal.payments import files
from claims_portal.payments.models import (
    IcbPaymentSettings,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRecovery,
    PaymentResponse,
    PaymentRun,
    PaymentStatus,
    RecoveryStatus,
)
from claims_portal.payments.services import answers, run
from claims_portal.payments.transport import DropFolder
from tests.factories.access import user_with_role
from tests.factories.claims import ClaimFactory
from tests.factories.organisations import IcbFactory, PracticeFactory, SubLocationFactory
from tests.factories.schemes import ClaimWindowFactory, SchemeFactory

ROOT = Path(__file__).resolve().parents[2]
#: A Tuesday that is a working day, and its run moment (15:00 GMT).
RUN_DAY = dt.date(2026, 12, 1)
RUN_AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


def _approved_claims(db_session, count=3, *, icb=None, value="100.00", approved=None, **scheme):
    icb = icb or IcbFactory()
    practice = PracticeFactory(parent=SubLocationFactory(parent=icb))
    scheme_row = SchemeFactory(commissioner=icb, **scheme)
    window = ClaimWindowFactory(scheme=scheme_row)
    moment = approved or dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    claims = [
        ClaimFactory(
            provider=practice,
            scheme=scheme_row,
            window=window,
            scope=f"component:{index + 1}",
            status=ClaimStatus.APPROVED_FOR_PAYMENT,
            value=Decimal(value) + index,
            submitted_at=moment,
            approved_at=moment,
        )
        for index in range(count)
    ]
    if db_session.get(IcbPaymentSettings, icb.id) is None and not db_session.scalar(
        select(IcbPaymentSettings.id).where(IcbPaymentSettings.icb_id == icb.id)
    ):
        db_session.add(IcbPaymentSettings(
            icb_id=icb.id, agency_account="PCSE-ACC-1", finance_contacts=[],
            cut_off_working_days=8, payment_day=20,
        ))  # fmt: skip
    db_session.commit()
    return icb, claims


@pytest.fixture
def folder(tmp_path) -> DropFolder:
    return DropFolder(tmp_path / "drop")


def _agency(folder: DropFolder, *args: str) -> str:
    """One pass of the stand-in agency, as its own process."""
    command = "from claims_portal.cli import main; main()"
    result = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, "-c", command, "stand-in-agency", "--once",
         "--folder", str(folder.root), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def _run(db_session, folder, day=RUN_DAY, now=RUN_AT):
    return run.run_payments(db_session, folder, run_date=day, now=now)


def _answers(db_session, folder, now):
    return answers.read_answers(db_session, folder, now, base_url="https://portal.example")


def test_a_run_writes_one_file_per_icb_in_the_documented_format(db_session, folder):
    icb, claims = _approved_claims(db_session, 3)
    _other_icb, _other_claims = _approved_claims(db_session, 2)
    outcome = _run(db_session, folder)
    assert outcome.rows == 5
    assert len(outcome.files) == 2
    assert outcome.total == Decimal("303.00") + Decimal("201.00")
    sent = sorted(folder.sent())
    assert len(sent) == 2
    assert all(name.endswith(f"-{RUN_DAY:%Y%m%d}-R{outcome.run_id:06d}.csv") for name in sent)
    ours = next(n for n in sent if n.startswith(icb.ods_code))
    read = files.read_payment_file(folder.get("outgoing", ours))
    assert [r.claim_reference for r in read.rows] == [c.reference for c in claims]
    assert read.trailer.row_count == 3
    assert read.trailer.total == Decimal("303.00")
    assert {r.icb_code for r in read.rows} == {icb.ods_code}
    assert read.rows[0].payment_month == "2026-12"  # 1 Dec is before December's cut-off
    assert read.rows[0].financial_year == claims[0].scheme.financial_year
    file = db_session.scalar(select(PaymentFile).where(PaymentFile.name == ours))
    assert file.status is PaymentFileStatus.SENT
    assert file.sends == 1
    assert file.sha256 == read.trailer.sha256
    assert folder.get(run.ARCHIVE, ours) == folder.get("outgoing", ours)
    # claims stay approved for payment until the agency accepts the file
    assert {c.status for c in claims} == {ClaimStatus.APPROVED_FOR_PAYMENT}


def test_the_payment_month_follows_the_cut_off():
    settings = run.PaymentSettings("A", (), 8, 20)
    # December 2026: the 20th is a Sunday; 8 working days before is Wednesday 9 December.
    assert run.payment_month(dt.date(2026, 12, 9), settings) == "2026-12"
    assert run.payment_month(dt.date(2026, 12, 10), settings) == "2027-01"
    assert run.payment_month(dt.date(2026, 12, 31), settings) == "2027-01"


def test_a_run_again_the_same_day_collects_nothing_twice(db_session, folder):
    _approved_claims(db_session, 2)
    first = _run(db_session, folder)
    again = _run(db_session, folder)
    assert first.rows == 2
    assert again.run_id is None
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 2
    assert db_session.scalar(select(func.count()).select_from(PaymentRun)) == 1


def test_a_claim_cannot_be_in_two_live_payments_whatever_the_code_does(db_session, folder):
    _, _claims = _approved_claims(db_session, 1)
    _run(db_session, folder)
    payment = db_session.scalar(select(Payment))
    twin = {c.name: getattr(payment, c.name) for c in Payment.__table__.columns if c.name != "id"}
    twin["reference"] = "PAY-TWIN"
    db_session.begin_nested()
    db_session.add(Payment(**twin))
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_no_run_on_a_bank_holiday_or_a_weekend(db_session, folder):
    _approved_claims(db_session, 1)
    for day in (dt.date(2026, 12, 25), dt.date(2026, 12, 28), dt.date(2026, 12, 5)):
        assert _run(db_session, folder, day=day).run_id is None
    assert folder.sent() == []
    assert _run(db_session, folder, day=dt.date(2026, 12, 29)).rows == 1


def test_claims_approved_before_enrolment_or_not_paid_through_the_agency_are_left(
    db_session, folder
):
    icb, _early = _approved_claims(
        db_session, 1, agency_enrolment_date=dt.date(2026, 11, 21),
        approved=dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC),  # 20 Nov in England
    )  # fmt: skip
    _, _manual = _approved_claims(db_session, 1, icb=icb, pay_through_agency=False)
    _, on_the_day = _approved_claims(
        db_session, 1, icb=icb, agency_enrolment_date=dt.date(2026, 11, 21),
        approved=dt.datetime(2026, 11, 21, 0, 5, tzinfo=dt.UTC),
    )  # fmt: skip
    outcome = _run(db_session, folder)
    assert outcome.rows == 1
    assert db_session.scalar(select(Payment.claim_id)) == on_the_day[0].id


def test_an_icb_without_an_agency_account_gets_no_file_and_is_named(db_session, folder):
    icb, _ = _approved_claims(db_session, 1)
    db_session.execute(
        IcbPaymentSettings.__table__.delete().where(IcbPaymentSettings.icb_id == icb.id)
    )
    db_session.commit()
    outcome = _run(db_session, folder)
    assert outcome.files == []
    assert outcome.no_account == [icb.ods_code]
    assert icb.ods_code in outcome.summary()


def test_accepted_file_sends_claims_for_payment_and_a_remittance_pays_them(db_session, folder):
    _icb, claims = _approved_claims(db_session, 2)
    _run(db_session, folder)
    printed = _agency(folder, "--remit", "--paid-date", "2026-12-18")
    assert "accepted" in printed
    outcome = _answers(db_session, folder, RUN_AT + dt.timedelta(hours=1))
    assert len(outcome.read) == 2  # the acknowledgement, then the remittance
    file = db_session.scalar(select(PaymentFile))
    assert file.status is PaymentFileStatus.ACCEPTED
    assert file.answered_at is not None
    for claim in claims:
        db_session.refresh(claim)
        assert claim.status is ClaimStatus.PAID
    payments = db_session.scalars(select(Payment)).all()
    assert {p.status for p in payments} == {PaymentStatus.PAID}
    assert {p.paid_date for p in payments} == {dt.date(2026, 12, 18)}
    assert all(p.agency_reference.startswith("PCSE-") for p in payments)
    actions = [
        e.action for e in db_session.scalars(
            select(ClaimEvent).where(ClaimEvent.claim_id == claims[0].id).order_by(ClaimEvent.id)
        )
    ]  # fmt: skip
    assert actions[-2:] == [ClaimAction.SEND_FOR_PAYMENT, ClaimAction.MARK_PAID]
    assert folder.responses() == []  # moved to processed/
    # reading the same responses again changes nothing
    for name in folder.names("processed"):
        folder.put("incoming", name, [folder.get("processed", name)])
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=2))
    assert db_session.scalar(select(func.count()).select_from(PaymentResponse)) == 2
    audited = set(db_session.scalars(select(AuditEvent.action)))
    assert {"payment_file.written", "payment_file.sent", "payment_file.accepted"} <= audited


def test_rejected_rows_come_back_to_finance_and_are_not_collected_again(db_session, folder):
    _, claims = _approved_claims(db_session, 3)
    _run(db_session, folder)
    rejected = db_session.scalar(select(Payment.reference).where(Payment.claim_id == claims[1].id))
    _agency(folder, "--mode", "reject-rows", "--reject", rejected)
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=1))
    file = db_session.scalar(select(PaymentFile))
    assert file.status is PaymentFileStatus.PARTLY_REJECTED
    for claim in claims:
        db_session.refresh(claim)
    assert [c.status for c in claims] == [
        ClaimStatus.SENT_FOR_PAYMENT, ClaimStatus.APPROVED_FOR_PAYMENT, ClaimStatus.SENT_FOR_PAYMENT
    ]  # fmt: skip
    back = db_session.scalar(select(Payment).where(Payment.reference == rejected))
    assert back.status is PaymentStatus.REJECTED
    assert back.reason
    event = db_session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claims[1].id).order_by(ClaimEvent.id)
    ).all()[-1]
    assert event.action is ClaimAction.PAYMENT_REJECTED
    assert rejected in event.reason
    # the next day's run leaves it for finance...
    assert _run(db_session, folder, day=dt.date(2026, 12, 2)).rows == 0
    # ...until finance has dealt with it (sent it again): then it goes in a new payment
    back.settled_at = RUN_AT
    db_session.commit()
    nxt = _run(db_session, folder, day=dt.date(2026, 12, 3))
    assert nxt.rows == 1
    again = db_session.scalar(
        select(Payment).where(
            Payment.claim_id == claims[1].id, Payment.status == PaymentStatus.PENDING
        )
    )
    assert again.reference == f"PAY-{claims[1].id:06d}-2"


def test_a_rejected_file_rejects_every_row(db_session, folder):
    _, claims = _approved_claims(db_session, 2)
    _run(db_session, folder)
    _agency(folder, "--mode", "reject-file")
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=1))
    file = db_session.scalar(select(PaymentFile))
    assert file.status is PaymentFileStatus.REJECTED
    assert file.reason
    assert {p.status for p in db_session.scalars(select(Payment))} == {PaymentStatus.REJECTED}
    for claim in claims:
        db_session.refresh(claim)
        assert claim.status is ClaimStatus.APPROVED_FOR_PAYMENT


def test_a_silent_agency_gets_exactly_three_resends_then_finance_is_told(db_session, folder):
    icb, _ = _approved_claims(db_session, 1)
    finance = user_with_role_finance(icb)
    settings = db_session.scalar(
        select(IcbPaymentSettings).where(IcbPaymentSettings.icb_id == icb.id)
    )
    settings.finance_contacts = ["payments.team@example.nhs.net", finance.email.upper()]
    db_session.commit()
    _run(db_session, folder)
    _agency(folder, "--mode", "silent")
    moment = RUN_AT
    resent = []
    for _ in range(6):
        moment += dt.timedelta(hours=18, minutes=1)
        outcome = _answers(db_session, folder, moment)
        resent += outcome.resent
        _agency(folder, "--mode", "silent")
    file = db_session.scalar(select(PaymentFile))
    assert len(resent) == 3
    assert file.sends == 4
    assert file.status is PaymentFileStatus.FAILED
    mails = db_session.scalars(
        select(EmailMessage).where(EmailMessage.recipient == finance.email)
    ).all()
    assert len(mails) == 1
    assert file.name in mails[0].subject
    assert "https://portal.example/" in mails[0].body
    # the ICB's finance contacts too, once each
    team = db_session.scalars(
        select(EmailMessage).where(EmailMessage.recipient == "payments.team@example.nhs.net")
    ).all()
    assert len(team) == 1
    assert file.reason == "No acknowledgement after 3 resends"
    audit = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "payment_file")
    ).all()
    assert audit.count("payment_file.sent_again") == 3
    assert audit.count("payment_file.failed") == 1


def test_no_resend_before_eighteen_hours(db_session, folder):
    _approved_claims(db_session, 1)
    _run(db_session, folder)
    _agency(folder, "--mode", "silent")
    assert _answers(db_session, folder, RUN_AT + dt.timedelta(hours=17, minutes=59)).resent == []
    assert _answers(db_session, folder, RUN_AT + dt.timedelta(hours=18)).resent != []


def test_a_late_answer_after_a_resend_is_applied_once(db_session, folder):
    _, claims = _approved_claims(db_session, 1)
    _run(db_session, folder)
    _agency(folder, "--mode", "silent")
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=19))  # resent
    _agency(folder, "--mode", "accept")  # answers the resent file (same bytes, same SHA-256)
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=20))
    db_session.refresh(claims[0])
    assert claims[0].status is ClaimStatus.SENT_FOR_PAYMENT
    assert db_session.scalar(select(PaymentFile)).status is PaymentFileStatus.ACCEPTED


def test_an_approved_recovery_goes_in_the_next_file_as_a_negative_row(db_session, folder):
    icb, claims = _approved_claims(db_session, 1)
    _run(db_session, folder)
    _agency(folder, "--remit", "--paid-date", "2026-12-18")
    _answers(db_session, folder, RUN_AT + dt.timedelta(hours=1))
    raiser, approver = user_with_role_finance(icb), user_with_role_finance(icb)
    recovery = PaymentRecovery(
        claim_id=claims[0].id, amount=Decimal("40.00"), reason="Over-claimed",
        status=RecoveryStatus.APPROVED, raised_by_id=raiser.id, decided_by_id=approver.id,
        decided_at=dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC),
    )  # fmt: skip
    db_session.add(recovery)
    db_session.commit()
    outcome = _run(db_session, folder, day=dt.date(2026, 12, 2), now=RUN_AT + dt.timedelta(days=1))
    assert outcome.rows == 1
    assert outcome.total == Decimal("-40.00")
    name = next(n for n in folder.sent())
    read = files.read_payment_file(folder.get("outgoing", name))
    assert read.rows[0].amount == Decimal("-40.00")
    assert read.rows[0].payment_reference == f"REC-{recovery.id:06d}-1"
    _agency(folder, "--remit", "--paid-date", "2026-12-18")
    _answers(db_session, folder, RUN_AT + dt.timedelta(days=1, hours=1))
    db_session.refresh(recovery)
    assert recovery.status is RecoveryStatus.RECOVERED


def test_a_run_stopped_after_writing_sends_the_same_file_next_time(db_session, folder, monkeypatch):
    _, _claims = _approved_claims(db_session, 2)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(run, "send_file", stop)
    with pytest.raises(KeyboardInterrupt):
        _run(db_session, folder)
    monkeypatch.undo()
    file = db_session.scalar(select(PaymentFile))
    assert file.status is PaymentFileStatus.WRITTEN
    assert folder.sent() == []
    again = _run(db_session, folder)  # the same day's run, resumed
    assert again.rows == 2
    assert db_session.scalar(select(func.count()).select_from(PaymentFile)) == 1
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 2
    read = files.read_payment_file(folder.get("outgoing", file.name))
    assert read.trailer.sha256 == db_session.scalar(select(PaymentFile.sha256))


def test_a_send_that_fails_leaves_no_file_and_the_file_waits(db_session, folder, monkeypatch):
    _approved_claims(db_session, 1)

    def broken(name, chunks):
        list(chunks)  # read part of it, then the disk fails
        raise OSError("disk full")

    monkeypatch.setattr(folder, "send", broken)
    with pytest.raises(OSError, match="disk full"):
        _run(db_session, folder)
    monkeypatch.undo()
    assert folder.sent() == []
    assert db_session.scalar(select(PaymentFile)).status is PaymentFileStatus.WRITTEN
    run.run_payments(db_session, folder, run_date=RUN_DAY, now=RUN_AT)
    assert db_session.scalar(select(PaymentFile)).status is PaymentFileStatus.SENT


def user_with_role_finance(icb):
    from claims_portal.access.roles import Role

    return user_with_role(Role.FINANCE, icb)


def test_run_moments_are_england_time():
    assert RUN_AT.astimezone(ENGLAND).hour == 15
