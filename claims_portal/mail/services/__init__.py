"""Queueing and delivering email, and notification preferences.

Services call :func:`enqueue` inside their unit of work, so the decision and the intent to
email commit together. After the commit, the job ``mail.deliver`` (``jobs.tasks``) delivers
what was just queued, on a worker (or in the web process with ``JOBS_RUN_IN_PROCESS``); an
SMTP failure is recorded on the message (error, attempt count) and never undoes the
decision. The scheduled ``mail.sweep-outbox`` and ``claims-portal mail send-queued`` deliver
what is left; after ``MAIL_MAX_ATTEMPTS`` failed attempts a message is marked failed and
reported (log error and the command's output).

A delivery marks each message ``SENDING`` and commits before the SMTP exchange, and marks it
``SENT`` (committed) after it, so a delivery that dies half-way sends a message at most
twice and never loses one (:func:`deliver`; docs/operations.md).
"""

from __future__ import annotations

import email.message
import email.utils
import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, text

from claims_portal.access.models import User
from claims_portal.db import DbSession, utcnow
from claims_portal.jobs import services as jobs
from claims_portal.logs import without_email_addresses
from claims_portal.mail.backends import MailBackend, make_backend
from claims_portal.mail.kinds import KINDS, Delivery, EmailKind
from claims_portal.mail.models import EmailMessage, EmailStatus, NotificationPreference
from claims_portal.mail.services import digests
from claims_portal.mail.services.digests import DigestEntry as DigestEntry
from claims_portal.mail.services.digests import deliveries

log = logging.getLogger(__name__)

#: The job delivering messages queued and committed (``jobs.tasks``).
DELIVER_JOB = "mail.deliver"


# --- Preferences ---------------------------------------------------------------------------


def wants_email(session: DbSession, user: User, kind: EmailKind) -> bool:
    """Whether ``user`` should be emailed about ``kind`` (always for security kinds), one
    email each or in the daily email."""
    return deliveries(session, [user.id], kind)[user.id] is not Delivery.OFF


def wanting(session: DbSession, users: Iterable[User], kind: EmailKind) -> set[int]:
    """The ids of ``users`` who should be emailed about ``kind``: :func:`wants_email` for
    many people in one query."""
    chosen = deliveries(session, {user.id for user in users}, kind)
    return {user_id for user_id, how in chosen.items() if how is not Delivery.OFF}


def deliveries_of(session: DbSession, user: User) -> dict[EmailKind, Delivery]:
    """Every optional kind and how ``user`` gets it."""
    rows = {
        kind: (bool(enabled), bool(digest))
        for kind, enabled, digest in session.execute(
            select(
                NotificationPreference.kind,
                NotificationPreference.email_enabled,
                NotificationPreference.daily_digest,
            ).where(NotificationPreference.user_id == user.id)
        )
    }
    chosen: dict[EmailKind, Delivery] = {}
    for kind, info in KINDS.items():
        if info.always:
            continue
        enabled, digest = rows.get(kind.value, (info.default, False))
        chosen[kind] = (
            Delivery.OFF
            if not enabled
            else Delivery.DIGEST
            if digest and info.digest
            else Delivery.EACH
        )
    return chosen


def preferences_of(session: DbSession, user: User) -> dict[EmailKind, bool]:
    """Every optional kind and whether ``user`` gets it (one email each or daily)."""
    return {kind: how is not Delivery.OFF for kind, how in deliveries_of(session, user).items()}


def set_preferences(
    session: DbSession,
    user: User,
    enabled: Iterable[EmailKind],
    *,
    daily: Iterable[EmailKind] = (),
) -> None:
    """Turn on exactly the optional kinds in ``enabled`` for ``user``, those of them in
    ``daily`` (kinds with a digest heading) gathered into the daily email (flush only).
    A change is audited: the kinds changed, each on or off, or for a kind that may be
    gathered, ``each``, ``digest`` or ``off``."""
    from claims_portal.audit.services import record_event

    chosen = set(enabled)
    gathered = {kind for kind in daily if kind in chosen and KINDS[kind].digest}
    before = deliveries_of(session, user)
    after = {
        kind: Delivery.OFF
        if kind not in chosen
        else Delivery.DIGEST
        if kind in gathered
        else Delivery.EACH
        for kind in before
    }
    existing = {
        row.kind: row
        for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, how in after.items():
        row = existing.get(kind.value)
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=kind.value)
            session.add(row)
        row.email_enabled = how is not Delivery.OFF
        row.daily_digest = how is Delivery.DIGEST
    session.flush()
    if after != before:

        def told(kind: EmailKind, how: Delivery) -> bool | str:
            return how.value if KINDS[kind].digest else how is not Delivery.OFF

        changed = [kind for kind in after if after[kind] is not before[kind]]
        record_event(
            session,
            action="notification_preferences.changed",
            object_type="user",
            object_id=user.id,
            actor=user,
            before={kind.value: told(kind, before[kind]) for kind in changed},
            after={kind.value: told(kind, after[kind]) for kind in changed},
        )


# --- Queueing ------------------------------------------------------------------------------


def enqueue(
    session: DbSession,
    *,
    to: str,
    subject: str,
    body: str,
    kind: EmailKind,
    user: User | None = None,
    digest: DigestEntry | None = None,
) -> EmailMessage | None:
    """Queue an email in the caller's unit of work; ``None`` if the person turned it off,
    or chose the daily email for ``kind``: then ``digest`` is recorded for it instead
    (without a ``digest`` the email is sent on its own)."""
    if user is not None:
        how = deliveries(session, [user.id], kind)[user.id]
        if how is Delivery.OFF:
            return None
        if how is Delivery.DIGEST and digest is not None:
            digests.gather(session, [user.id], kind, digest)
            return None
    message = EmailMessage(
        recipient=to,
        subject=subject[:200],
        body=body,
        kind=kind.value,
        user_id=user.id if user is not None else None,
        status=EmailStatus.QUEUED,
        attempts=0,
    )
    session.add(message)
    session.flush()
    jobs.enqueue_ids(session, DELIVER_JOB, [message.id])
    return message


@dataclass(frozen=True)
class Outgoing:
    """One email of :func:`enqueue_many`, to a person."""

    user: User
    subject: str
    body: str


def enqueue_many(
    session: DbSession,
    outgoing: Sequence[Outgoing],
    kind: EmailKind,
    *,
    wanted: Collection[int] | None = None,
    daily: Collection[int] | None = None,
    digest: DigestEntry | None = None,
) -> list[int]:
    """Queue many emails of one ``kind`` in the caller's unit of work, as :func:`enqueue`
    does for each, leaving out the people who turned ``kind`` off, and recording ``digest``
    instead for those who chose the daily email (when ``digest`` is given); returns the ids
    queued. ``wanted`` and ``daily``, when given, are :func:`wanting` and the daily choosers
    among these people already worked out (a caller queueing the same kind to the same
    people many times asks once).

    On PostgreSQL one statement of a fixed shape inserts them all (``unnest`` of one array
    a column), so it is parsed and planned once however many people are told."""
    if wanted is None or (digest is not None and daily is None):
        how = deliveries(session, {item.user.id for item in outgoing}, kind)
        if wanted is None:
            wanted = {user_id for user_id, d in how.items() if d is not Delivery.OFF}
        daily = {user_id for user_id, d in how.items() if d is Delivery.DIGEST}
    if digest is not None and daily:
        gathered = {item.user.id for item in outgoing if item.user.id in wanted} & set(daily)
        digests.gather(session, sorted(gathered), kind, digest)
        wanted = set(wanted) - gathered
    chosen = [item for item in outgoing if item.user.id in wanted]
    if not chosen:
        return []
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                _INSERT_MANY,
                {
                    "recipients": [item.user.email for item in chosen],
                    "subjects": [item.subject[:200] for item in chosen],
                    "bodies": [item.body for item in chosen],
                    "user_ids": [item.user.id for item in chosen],
                    "kind": kind.value,
                    "status": EmailStatus.QUEUED.name,
                    "created_at": now,
                },
            )
        )
    else:
        messages = [
            EmailMessage(
                recipient=item.user.email,
                subject=item.subject[:200],
                body=item.body,
                kind=kind.value,
                user_id=item.user.id,
                status=EmailStatus.QUEUED,
                attempts=0,
                created_at=now,
            )
            for item in chosen
        ]
        session.add_all(messages)
        session.flush()
        ids = [message.id for message in messages]
    jobs.enqueue_ids(session, DELIVER_JOB, ids)
    return ids


_INSERT_MANY = text(
    "INSERT INTO email_message (recipient, subject, body, user_id, kind, status, attempts,"
    " created_at)"
    " SELECT recipient, subject, body, user_id, :kind, :status, 0, :created_at"
    " FROM unnest(CAST(:recipients AS varchar[]), CAST(:subjects AS varchar[]),"
    " CAST(:bodies AS text[]), CAST(:user_ids AS integer[]))"
    " AS t(recipient, subject, body, user_id)"
    " RETURNING id"
)


def send_daily_emails(session: DbSession, *, base_url: str) -> list[int]:
    """The daily email (``mail.daily-digest``): one outbox email per person listing what
    was gathered for them (``digests.write_daily_emails``), handed to ``mail.deliver``
    after the caller's commit; returns the emails' ids (flush only)."""
    ids = digests.write_daily_emails(session, base_url=base_url)
    jobs.enqueue_ids(session, DELIVER_JOB, ids)
    return ids


# --- Delivery ------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    #: Failed this time, will be retried.
    retrying: list[int] = field(default_factory=list)
    #: Failed for the last allowed time: status failed, reported.
    gave_up: list[EmailMessage] = field(default_factory=list)


def _build(message: EmailMessage, sender: str) -> email.message.EmailMessage:
    built = email.message.EmailMessage()
    built["From"] = sender
    built["To"] = message.recipient
    built["Subject"] = message.subject
    built["Date"] = email.utils.format_datetime(utcnow())
    built["Message-ID"] = email.utils.make_msgid(
        idstring=f"msg{message.id}", domain=sender.rsplit("@", 1)[-1].strip("> ") or None
    )
    built["X-Claims-Portal-Message"] = str(message.id)
    built["X-Claims-Portal-Kind"] = message.kind
    built.set_content(message.body)
    return built


def deliver(
    session: DbSession,
    config: Mapping[str, Any],
    *,
    ids: Sequence[int] | None = None,
    backend: MailBackend | None = None,
    commit: Callable[[], None] | None = None,
    holder: str | None = None,
) -> DeliveryReport:
    """Send the messages due (those in ``ids``, or all): queued, or ``SENDING`` and held
    by ``holder`` or past their lease (``MAIL_SENDING_LEASE_SECONDS``); record each
    outcome.

    With ``commit`` (a job, the command), the messages are marked ``SENDING`` and
    committed before the SMTP exchange, and each outcome is committed as soon as it is
    known: a delivery killed half-way leaves at most the message in flight to be sent
    again, never one lost. Without it (flush only), the caller's transaction keeps all."""
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS", 5))
    holder = holder or f"delivery-{uuid.uuid4()}"
    messages = _take_due(session, config, ids, holder)
    report = DeliveryReport()
    if not messages:
        return report
    if commit is not None:
        commit()
    backend = backend or make_backend(config)
    sender = config.get("MAIL_DEFAULT_SENDER") or "claims-portal@localhost"
    opened_error: str | None = None
    try:
        backend.open()
    except Exception as exc:
        opened_error = f"{type(exc).__name__}: {exc}"
    try:
        for message in messages:
            error = opened_error
            if error is None:
                try:
                    backend.send(_build(message, sender))
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
            _record_outcome(message, error, max_attempts, report)
            session.flush()
            if commit is not None:
                commit()
    finally:
        if opened_error is None:
            backend.close()
    session.flush()
    return report


def _take_due(
    session: DbSession, config: Mapping[str, Any], ids: Sequence[int] | None, holder: str
) -> list[EmailMessage]:
    """Lock the due messages (skipping those another delivery holds) and mark them
    ``SENDING`` for ``holder``: one more attempt each."""
    lease = timedelta(seconds=int(config.get("MAIL_SENDING_LEASE_SECONDS", 300)))
    now = utcnow()
    statement = (
        select(EmailMessage)
        .where(
            or_(
                EmailMessage.status == EmailStatus.QUEUED,
                and_(
                    EmailMessage.status == EmailStatus.SENDING,
                    or_(
                        EmailMessage.claimed_by == holder,
                        EmailMessage.last_attempt_at < now - lease,
                    ),
                ),
            )
        )
        .order_by(EmailMessage.id)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        statement = statement.where(EmailMessage.id.in_(list(ids)))
    messages = list(session.scalars(statement))
    for message in messages:
        message.status = EmailStatus.SENDING
        message.claimed_by = holder
        message.attempts += 1
        message.last_attempt_at = now
    session.flush()
    return messages


def _record_outcome(
    message: EmailMessage, error: str | None, max_attempts: int, report: DeliveryReport
) -> None:
    message.claimed_by = None
    if error is None:
        message.status = EmailStatus.SENT
        message.sent_at = utcnow()
        message.last_error = None
        report.sent.append(message.id)
        return
    message.last_error = error[:2000]
    if message.attempts >= max_attempts:
        message.status = EmailStatus.FAILED
        report.gave_up.append(message)
        log.error(
            "Email %s (%s, user %s) failed %s times and will not be retried: %s",
            message.id,
            message.kind,
            message.user_id,
            message.attempts,
            without_email_addresses(error),
        )
    else:
        message.status = EmailStatus.QUEUED
        report.retrying.append(message.id)
        log.warning(
            "Email %s (%s, user %s) not sent (attempt %s): %s",
            message.id,
            message.kind,
            message.user_id,
            message.attempts,
            without_email_addresses(error),
        )


def due_for_delivery(session: DbSession, config: Mapping[str, Any]) -> list[int]:
    """The ids of the messages a delivery would take now: queued, or left ``SENDING``
    past their lease by a delivery that died (the outbox sweep hands them to workers)."""
    lease = timedelta(seconds=int(config.get("MAIL_SENDING_LEASE_SECONDS", 300)))
    return list(
        session.scalars(
            select(EmailMessage.id)
            .where(
                or_(
                    EmailMessage.status == EmailStatus.QUEUED,
                    and_(
                        EmailMessage.status == EmailStatus.SENDING,
                        EmailMessage.last_attempt_at < utcnow() - lease,
                    ),
                )
            )
            .order_by(EmailMessage.id)
        )
    )


def requeue_failed(session: DbSession) -> int:
    """Give failed messages a fresh set of attempts; returns how many."""
    failed = list(
        session.scalars(select(EmailMessage).where(EmailMessage.status == EmailStatus.FAILED))
    )
    for message in failed:
        message.status = EmailStatus.QUEUED
        message.attempts = 0
    session.flush()
    return len(failed)
