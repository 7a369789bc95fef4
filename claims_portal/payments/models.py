"""Payments reference data: the paycodes administrators keep (issue 15, "Set-up").

A :class:`Paycode` is how the payments agency files a payment: the paycode a scheme is paid
under, what it is for, the subjective code (cost centre) finance books it to, and the GP
contract types it applies to (paycodes are determined by claim type and contract type:
GMS/PMS, or APMS). Changes are recorded in the audit trail (``paycode.added``,
``paycode.updated``), which is the paycode's history. The rules live in ``services/``.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.db import Money, UTCDateTime, created_at, enum_column, intpk, utcnow
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation

#: The GP contract types, in the order they are shown, with their column names.
CONTRACT_TYPES = {"GMS": "applies_to_gms", "PMS": "applies_to_pms", "APMS": "applies_to_apms"}


class Paycode(db.Model):  # type: ignore[name-defined,misc]
    """One paycode of the payments agency's list (national reference data, not per ICB)."""

    __tablename__ = "paycode"
    __table_args__ = (
        CheckConstraint(
            "applies_to_gms OR applies_to_pms OR applies_to_apms", name="applies_to_a_contract"
        ),
    )

    id: Mapped[intpk]
    #: The agency's paycode (capital letters, digits and hyphens), unique.
    code: Mapped[str] = mapped_column(String(30), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    #: The subjective code (cost centre) finance books payments under this paycode to.
    subjective_code: Mapped[str] = mapped_column(String(30))
    applies_to_gms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    applies_to_pms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    applies_to_apms: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    created_at: Mapped[created_at]

    @property
    def contract_types(self) -> list[str]:
        """The contract types it applies to, as users name them (``["GMS", "PMS"]``)."""
        return [name for name, column in CONTRACT_TYPES.items() if getattr(self, column)]

    def __str__(self) -> str:
        return f"{self.code} - {self.description}"


#: Working days before the payment date by which the month's payments are sent (public:
#: "midnight 8 to 9 working days before the contractual payment date").
CUT_OFF_WORKING_DAYS = (8, 9)
DEFAULT_CUT_OFF_WORKING_DAYS = 8
#: National services are paid "on or around the 20th of the month".
DEFAULT_PAYMENT_DAY = 20
MAX_FINANCE_CONTACTS = 5


class IcbPaymentSettings(db.Model):  # type: ignore[name-defined,misc]
    """One ICB's payments settings. Without a row the defaults above apply and the ICB has
    no agency account yet."""

    __tablename__ = "icb_payment_settings"
    __table_args__ = (
        CheckConstraint("cut_off_working_days BETWEEN 8 AND 9", name="cut_off_range"),
        CheckConstraint("payment_day BETWEEN 1 AND 28", name="payment_day_range"),
    )

    id: Mapped[intpk]
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), unique=True)
    #: The payments agency's reference of the account the ICB pays through.
    agency_account: Mapped[str] = mapped_column(String(40))
    #: Who hears of payment files that fail (email addresses, lower case, at most five).
    finance_contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    cut_off_working_days: Mapped[int] = mapped_column(Integer)
    #: The day of the month payments are expected in practices' accounts.
    payment_day: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    icb: Mapped[Organisation] = relationship()


# --- The payment run (issue 15, "The payment run") -----------------------------------------


class PaymentRunKind(enum.StrEnum):
    SCHEDULED = "Scheduled"
    BY_HAND = "Started by hand"


class PaymentRun(db.Model):  # type: ignore[name-defined,misc]
    """One payment run: the collection of claims approved for payment into files.

    ``slot`` makes a run unique: ``2026-12-01`` for the day's scheduled run (two schedulers,
    or one trigger delivered twice, give one run), ``by-hand:<id>`` for one started by
    finance."""

    __tablename__ = "payment_run"

    id: Mapped[intpk]
    slot: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[PaymentRunKind] = mapped_column(enum_column(PaymentRunKind, "payment_run_kind"))
    #: The working day the run is for (England's date).
    run_date: Mapped[dt.date] = mapped_column(Date)
    #: A run by hand is for one ICB; the scheduled run for every ICB.
    icb_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    files: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")


class PaymentFileStatus(enum.StrEnum):
    """Where a payment file stands, named as finance reads it."""

    #: Its rows are recorded; not yet handed to the transport.
    WRITTEN = "Written, not yet sent"
    SENT = "Waiting for acknowledgement"
    ACCEPTED = "Accepted"
    PARTLY_REJECTED = "Partly rejected"
    REJECTED = "Rejected"
    #: No answer after the last resend: finance is told.
    FAILED = "Failed: no acknowledgement"
    #: A failed file finance has confirmed the agency never took: its rows are free again.
    WITHDRAWN = "Withdrawn"


#: Files the agency may still answer.
AWAITING_ANSWER = frozenset({PaymentFileStatus.SENT, PaymentFileStatus.FAILED})


class PaymentFile(db.Model):  # type: ignore[name-defined,misc]
    """One payment file: one ICB's (one agency account's) rows of one run."""

    __tablename__ = "payment_file"
    __table_args__ = (
        UniqueConstraint("run_id", "icb_id", name="uq_payment_file_run_icb"),
        CheckConstraint("sends >= 0 AND sends <= 4", name="sends_range"),
    )

    id: Mapped[intpk]
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_run.id"))
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    agency_account: Mapped[str] = mapped_column(String(40))
    #: The file's name at the transport: ``QHM-20261201-000042.csv``.
    name: Mapped[str] = mapped_column(String(80), unique=True)
    #: The SHA-256 in its trailer, by which the agency's acknowledgement names it.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    row_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[PaymentFileStatus] = mapped_column(
        enum_column(PaymentFileStatus, "payment_file_status"), default=PaymentFileStatus.WRITTEN
    )
    #: Times handed to the transport: the first send and up to three resends.
    sends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The agency's reason for rejecting the whole file, or why it failed.
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[created_at]
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    icb: Mapped[Organisation] = relationship(lazy="joined")

    @property
    def resends(self) -> int:
        return max(0, self.sends - 1)


class PaymentStatus(enum.StrEnum):
    """Where one payment (one row of a file, or a payment recorded by hand) stands."""

    #: In a file waiting for the agency's acknowledgement.
    PENDING = "Waiting for acknowledgement"
    #: Accepted by the agency: sent for payment.
    ACCEPTED = "Sent for payment"
    REJECTED = "Rejected by the agency"
    PAID = "Paid"
    #: Its file was withdrawn (never taken by the agency).
    WITHDRAWN = "Withdrawn"


#: The statuses that hold a claim (or a recovery): a database index lets each be in at most
#: one payment in them, so a claim is in one accepted file, ever, whatever retries,
#: restarts and concurrent runs happen.
LIVE_PAYMENT = text("status IN ('PENDING', 'ACCEPTED', 'PAID')")


class Payment(db.Model):  # type: ignore[name-defined,misc]
    """One payment to a practice for one claim, or one recovery (a negative amount).

    A row of a payment file (``file_id``) or, for a scheme not paid through the agency, a
    payment finance recorded by hand (``file_id`` None, ``recorded_by_id`` set). The figures
    are copied from the claim when the row is written, so a file can be written again
    byte for byte."""

    __tablename__ = "payment"
    __table_args__ = (
        Index(
            "uq_payment_live_claim",
            "claim_id",
            unique=True,
            postgresql_where=text(f"recovery_id IS NULL AND {LIVE_PAYMENT.text}"),
            sqlite_where=text(f"recovery_id IS NULL AND {LIVE_PAYMENT.text}"),
        ),
        Index(
            "uq_payment_live_recovery",
            "recovery_id",
            unique=True,
            postgresql_where=text(f"recovery_id IS NOT NULL AND {LIVE_PAYMENT.text}"),
            sqlite_where=text(f"recovery_id IS NOT NULL AND {LIVE_PAYMENT.text}"),
        ),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint(
            "(recovery_id IS NULL AND amount > 0) OR (recovery_id IS NOT NULL AND amount < 0)",
            name="sign_by_kind",
        ),
        CheckConstraint(
            "(file_id IS NULL) = (recorded_by_id IS NOT NULL)", name="in_a_file_or_by_hand"
        ),
        CheckConstraint("status <> 'PAID' OR paid_date IS NOT NULL", name="paid_has_date"),
        Index("ix_payment_provider_paid", "provider_id", "paid_date"),
    )

    id: Mapped[intpk]
    #: Ours, unique for ever: ``PAY-2026-000101`` (a recovery ``REC-2026-000007``).
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    recovery_id: Mapped[int | None] = mapped_column(ForeignKey("payment_recovery.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("payment_file.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    icb_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    paycode: Mapped[str] = mapped_column(String(50))
    amount: Mapped[Decimal] = mapped_column(Money)
    #: ``2026-09``: the month the payment is for.
    payment_month: Mapped[str] = mapped_column(String(7))
    financial_year: Mapped[str] = mapped_column(String(7))
    approved_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status"), default=PaymentStatus.PENDING
    )
    #: The agency's reason for rejecting the row (or the file).
    reason: Mapped[str | None] = mapped_column(String(500))
    paid_date: Mapped[dt.date | None] = mapped_column(Date)
    agency_reference: Mapped[str | None] = mapped_column(String(50))
    #: A payment finance recorded by hand.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: A rejected row finance has dealt with (sent again or held): the claim may be collected
    #: again. Until then the run leaves it for finance.
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[created_at]
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id], lazy="joined")


class RecoveryStatus(enum.StrEnum):
    AWAITING_APPROVAL = "Waiting for a second finance approver"
    APPROVED = "Approved: goes in the next payment file"
    DECLINED = "Declined"
    RECOVERED = "Recovered"


class PaymentRecovery(db.Model):  # type: ignore[name-defined,misc]
    """Money taken back from a paid claim: raised by one finance person, approved by a
    second (never the same: a database check), then a negative row of the next file."""

    __tablename__ = "payment_recovery"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> raised_by_id", name="two_people"
        ),
    )

    id: Mapped[intpk]
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    #: What is taken back, in pounds (positive; its file row is negative).
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[RecoveryStatus] = mapped_column(
        enum_column(RecoveryStatus, "recovery_status"), default=RecoveryStatus.AWAITING_APPROVAL
    )
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentResponse(db.Model):  # type: ignore[name-defined,misc]
    """One response file read from the agency (an acknowledgement or a remittance), kept so
    that reading it again changes nothing and finance can see what came back."""

    __tablename__ = "payment_response"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200))
    #: The SHA-256 of the response's bytes: the same response is applied once.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: ``acknowledgement``, ``remittance`` or ``unreadable``.
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("payment_file.id"))
    #: What reading it did, or why it was refused.
    outcome: Mapped[str] = mapped_column(Text)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentStatement(db.Model):  # type: ignore[name-defined,misc]
    """A practice's monthly remittance statement: the payments paid and recoveries made in
    the month. Its figures are read again from the payments whenever it is shown, so the PDF
    and the XLSX always agree with the payments page."""

    __tablename__ = "payment_statement"
    __table_args__ = (UniqueConstraint("provider_id", "month", name="uq_statement_month"),)

    id: Mapped[intpk]
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: The first day of the month it covers.
    month: Mapped[dt.date] = mapped_column(Date)
    payments: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[created_at]

    provider: Mapped[Organisation] = relationship()
