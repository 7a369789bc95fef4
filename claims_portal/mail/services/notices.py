"""Telling people: a message centre item (``Notice``) and an email, in the caller's unit of
work, for news that is not a claim step (claim outcomes are read from claim history).

The person who caused it is never told. The email follows the person's notification
preferences (``enqueue``); the message centre item is kept whatever they chose.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from claims_portal.access.models import User
from claims_portal.db import DbSession, utcnow
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.models import Notice
from claims_portal.mail.services import enqueue
from claims_portal.organisations.models import Organisation

SIGN_OFF = "\n\nClaims portal\nThis is an automatic email: replies are not read."


def tell(
    session: DbSession,
    people: Iterable[User],
    *,
    organisation: Organisation,
    subject: str,
    body: str,
    link: str,
    kind: EmailKind,
    actor: User | None,
    base_url: str | None,
) -> int:
    """Give each of ``people`` (but ``actor``) a message centre item and queue its email;
    ``link`` is a path in the portal (the email's link starts with ``base_url``, or says to
    sign in when there is none). Returns how many people were told."""
    told = 0
    where = (
        f"Open it:\n{base_url.rstrip('/')}{link}"
        if base_url
        else "Sign in to the claims portal to see it."
    )
    for person in {p.id: p for p in people}.values():
        if actor is not None and person.id == actor.id:
            continue
        session.add(
            Notice(
                user_id=person.id,
                organisation_id=organisation.id,
                subject=subject[:200],
                body=body,
                link=link[:300],
                actor_id=actor.id if actor is not None else None,
            )
        )
        enqueue(
            session,
            to=person.email,
            subject=subject,
            body=f"Dear {person.full_name},\n\n{body}\n\n{where}{SIGN_OFF}",
            kind=kind,
            user=person,
        )
        told += 1
    session.flush()
    return told


def notices_for(session: DbSession, user: User, *, limit: int = 50) -> list[Notice]:
    """The person's newest message centre items."""
    return list(
        session.scalars(
            select(Notice).where(Notice.user_id == user.id).order_by(Notice.id.desc()).limit(limit)
        )
    )


def mark_read(session: DbSession, user: User, up_to_id: int) -> None:
    """The person's items up to ``up_to_id`` are read (flush only)."""
    session.execute(
        update(Notice)
        .where(Notice.user_id == user.id, Notice.id <= up_to_id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.flush()
