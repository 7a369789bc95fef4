"""The email outbox and per-person notification preferences."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, false, true
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
    """Whether a person wants email of one kind, and for a kind that may be gathered into
    the daily email (``KindInfo.digest``) whether they want it that way; without a row the
    kind's default applies (one email each)."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        Index("ix_notification_preference_user_kind", "user_id", "kind", unique=True),
        CheckConstraint("email_enabled OR NOT daily_digest", name="digest_only_when_enabled"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(60))
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: Gathered into one email a day (``mail.daily-digest``) instead of one email each.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class EmailDigestItem(db.Model):  # type: ignore[name-defined,misc]
    """One line of a person's next daily email, written instead of an email of its own, in
    the same transaction as the decision it tells about (``mail.services.enqueue``).

    ``mail.daily-digest`` writes one outbox email per person listing their unsent items and
    sets ``sent_in`` to that email in the same transaction, so an item is never listed twice.
    """

    __tablename__ = "email_digest_item"
    #: The job's question (unsent items, person by person) and the foreign key's both.
    __table_args__ = (Index("ix_email_digest_item_sent_in", "sent_in", "user_id", "id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    #: The :class:`~claims_portal.mail.kinds.EmailKind` it would have been emailed as.
    kind: Mapped[str] = mapped_column(String(60))
    #: One line of plain text (``Claim C-12, ... is waiting for commissioner review``).
    summary: Mapped[str] = mapped_column(String(300))
    #: A path in the portal (``/claims/12``); the email puts ``PUBLIC_BASE_URL`` before it.
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[created_at]
    #: The outbox email that listed it (``None``: waiting for the next daily email).
    sent_in: Mapped[int | None] = mapped_column(ForeignKey("email_message.id"))


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
