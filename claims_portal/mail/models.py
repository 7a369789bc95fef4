"""The email outbox and per-person notification preferences."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import UTCDateTime, created_at, enum_column, intpk
from claims_portal.extensions import db


class EmailStatus(enum.StrEnum):
    QUEUED = "Queued"
    #: Taken by a delivery (``claimed_by``) and committed before the SMTP exchange.
    SENDING = "Sending"
    SENT = "Sent"
    FAILED = "Failed"


class EmailMessage(db.Model):  # type: ignore[name-defined,misc]
    """One email, written in the same transaction as the decision it tells about.

    Queued until delivered; a failed attempt records the error and stays queued until
    ``MAIL_MAX_ATTEMPTS`` attempts have failed, then it is ``FAILED`` and reported. A
    delivery marks the row ``SENDING`` (with ``claimed_by`` and ``last_attempt_at``) and
    commits before the SMTP exchange, then ``SENT`` after it: a delivery that dies between
    the two leaves the row ``SENDING``, taken again once ``MAIL_SENDING_LEASE_SECONDS`` have
    passed (or at once by the same job delivered again), so a crash costs at most one
    duplicate and never a lost message (docs/operations.md).
    """

    __tablename__ = "email_message"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'SENT') = (sent_at IS NOT NULL)", name="sent_at_when_sent"),
        Index("ix_email_message_status_id", "status", "id"),
    )

    id: Mapped[intpk]
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: An :class:`~claims_portal.mail.kinds.EmailKind` value (plain text, so that later
    #: features add kinds without a migration).
    kind: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[EmailStatus] = mapped_column(
        enum_column(EmailStatus, "email_status"),
        default=EmailStatus.QUEUED,
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The delivery holding a ``SENDING`` row: a job's task id (its redelivery after a
    #: worker died takes the row back at once) or a one-off id for other deliveries.
    claimed_by: Mapped[str | None] = mapped_column(String(155))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(db.Model):  # type: ignore[name-defined,misc]
    """Whether a person wants email of one kind; without a row the kind's default applies."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        Index("ix_notification_preference_user_kind", "user_id", "kind", unique=True),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(60))
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Notice(db.Model):  # type: ignore[name-defined,misc]
    """A message centre item for one person, written with the email that tells the same
    (``mail.services.notices.tell``): an offer made, withdrawn, cancelled or reissued to
    their organisation; for the commissioner, an offer rejected or asked for again.

    Claim outcomes are not stored here: the message centre reads them from claim history.
    The email follows the person's notification preferences; the item is always kept.
    """

    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: The organisation it concerns (the provider offered to, or the scheme's commissioner).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: A path in the portal (``/schemes/12``) where the person acts or reads more.
    link: Mapped[str] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[created_at]
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
