"""The daily email: lines gathered instead of one email each, and the email listing them.

A person may choose, for a kind with a digest heading (``KindInfo.digest``: claims waiting
for their approval), one email a day instead of one email each. Queueing such an email for
them (``mail.services.enqueue`` / ``enqueue_many``) records an :class:`EmailDigestItem`
in the caller's unit of work instead of an outbox row. The scheduled job
``mail.daily-digest`` (``jobs.tasks``) then writes, for each person with unsent items, one
outbox email listing them all and marks the items ``sent_in`` that email in the same
transaction: a run again (the next slot, a retry, a second scheduler past ``job_run``) finds
nothing left to send.

What the daily email lists: every item gathered since the last one, including claims
someone else has dealt with since (the mail package does not read claims, and a line saying
a claim waited is still true); the email says so and points to the message centre, which
shows only what is still waiting. Items of a person who has since turned the kind off, or
whose account is disabled, are dropped (deleted) instead of sent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from claims_portal.access.models import User
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import lock_name
from claims_portal.mail.kinds import KINDS, Delivery, EmailKind
from claims_portal.mail.models import (
    EmailDigestItem,
    EmailMessage,
    EmailStatus,
    NotificationPreference,
)

#: The scheduled job sending the daily email (``jobs.tasks``).
DIGEST_JOB = "mail.daily-digest"
SIGN_OFF = "\n\nClaims portal\nThis is an automatic email: replies are not read."
#: Where the daily email sends people to see what is still waiting.
MESSAGES_PATH = "/messages"


@dataclass(frozen=True)
class DigestEntry:
    """What a daily email lists for one email not sent on its own: one line of plain text,
    and the path in the portal (``/claims/12``) its link goes to."""

    summary: str
    link: str


def plain_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (user text's line breaks and tabs made spaces), so a scheme name
    cannot add lines, or a link of its own, to the email."""
    return " ".join(text.split())[:limit]


def deliveries(
    session: DbSession, user_ids: Collection[int], kind: EmailKind
) -> dict[int, Delivery]:
    """How each of ``user_ids`` gets ``kind`` (one query): off, one email each, or, for a
    kind with a digest heading, in the daily email; the kind's default without a row."""
    info = KINDS[kind]
    people = set(user_ids)
    if info.always or not people:
        return dict.fromkeys(people, Delivery.EACH)
    default = Delivery.EACH if info.default else Delivery.OFF
    found: dict[int, Delivery] = {}
    for user_id, enabled, digest in session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.email_enabled,
            NotificationPreference.daily_digest,
        ).where(
            NotificationPreference.user_id.in_(list(people)),
            NotificationPreference.kind == kind.value,
        )
    ):
        if not enabled:
            found[user_id] = Delivery.OFF
        else:
            found[user_id] = Delivery.DIGEST if digest and info.digest else Delivery.EACH
    return {user_id: found.get(user_id, default) for user_id in people}


def gather(
    session: DbSession, user_ids: Sequence[int], kind: EmailKind, entry: DigestEntry
) -> None:
    """Record ``entry`` for each of ``user_ids``' next daily email (flush only)."""
    if not user_ids:
        return
    now = utcnow()
    summary, link = plain_line(entry.summary), entry.link[:300]
    session.execute(
        insert(EmailDigestItem),
        [
            {
                "user_id": user_id,
                "kind": kind.value,
                "summary": summary,
                "link": link,
                "created_at": now,
            }
            for user_id in user_ids
        ],
    )


def write_daily_emails(session: DbSession, *, base_url: str) -> list[int]:
    """One outbox email per person with unsent items, listing them (links start with
    ``base_url``, the portal's ``PUBLIC_BASE_URL``); the items are marked ``sent_in`` it.
    Returns the emails' ids (the caller hands them to ``mail.deliver``). Flush only: the
    emails and the marks commit together. Runs are serialised until the caller's commit (a
    named lock, PostgreSQL), so a second run at once (``jobs run`` during the scheduled one)
    waits and then finds the lines marked: never two emails for one person's lines."""
    lock_name(session, DIGEST_JOB)
    items = list(
        session.scalars(
            select(EmailDigestItem)
            .where(EmailDigestItem.sent_in.is_(None))
            .order_by(EmailDigestItem.user_id, EmailDigestItem.id)
        )
    )
    by_person: dict[int, list[EmailDigestItem]] = {}
    for item in items:
        by_person.setdefault(item.user_id, []).append(item)
    if not by_person:
        return []
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(by_person)))}
    dropped = _unwanted(session, by_person, people)
    if dropped:
        session.execute(delete(EmailDigestItem).where(EmailDigestItem.id.in_(dropped)))
    base = base_url.rstrip("/")
    ids: list[int] = []
    for user_id, theirs in by_person.items():
        kept = [item for item in theirs if item.id not in dropped]
        if not kept:
            continue
        person = people[user_id]
        message = EmailMessage(
            recipient=person.email,
            subject=_subject(kept),
            body=_body(person, kept, base),
            kind=EmailKind.DAILY_DIGEST.value,
            user_id=person.id,
            status=EmailStatus.QUEUED,
            attempts=0,
        )
        session.add(message)
        session.flush()
        for item in kept:
            item.sent_in = message.id
        ids.append(message.id)
    session.flush()
    return ids


def _unwanted(
    session: DbSession, by_person: dict[int, list[EmailDigestItem]], people: dict[int, User]
) -> set[int]:
    """The items not to send: their person's account is disabled, or they turned the kind
    off since (a person who went back to one email each still gets what was gathered)."""
    dropped: set[int] = set()
    for kind in {item.kind for theirs in by_person.values() for item in theirs}:
        holders = [uid for uid, theirs in by_person.items() if any(i.kind == kind for i in theirs)]
        chosen = deliveries(session, holders, EmailKind(kind))
        for user_id in holders:
            if chosen[user_id] is Delivery.OFF or people[user_id].is_disabled:
                dropped.update(i.id for i in by_person[user_id] if i.kind == kind)
    return dropped


def _subject(items: Sequence[EmailDigestItem]) -> str:
    kinds = {item.kind for item in items}
    if len(kinds) == 1:
        return f"Daily email: {_heading(next(iter(kinds)))} ({len(items)})"
    return f"Daily email from the claims portal ({len(items)} items)"


def _heading(kind: str) -> str:
    info = KINDS[EmailKind(kind)]
    return info.digest or info.description


def _body(person: User, items: Sequence[EmailDigestItem], base: str) -> str:
    sections: list[str] = []
    for kind in dict.fromkeys(item.kind for item in items):
        theirs = [item for item in items if item.kind == kind]
        lines = "\n\n".join(f"- {item.summary}\n  {base}{item.link}" for item in theirs)
        sections.append(f"{_heading(kind)} ({len(theirs)}):\n\n{lines}")
    listed = "\n\n".join(sections)
    return (
        f"Dear {person.full_name},\n\n"
        "You chose to get these in one email a day. Since your last daily email:\n\n"
        f"{listed}\n\n"
        "Some may have been dealt with since. Your messages show what is still waiting:\n"
        f"{base}{MESSAGES_PATH}{SIGN_OFF}"
    )
