"""Decisions two people can take at once: lock the row, read it afresh, re-check, or say who
got there first (flush-only services use these; see docs/architecture.md).

A decision (approving an access request, answering an offer, publishing a scheme, changing a
setting) is taken under a row lock: :func:`lock` (``SELECT ... FOR NO KEY UPDATE``, which
still lets other transactions insert rows that refer to this one) makes the second person's
transaction wait for the first's commit and then reads the row as the first left it. The
service then re-checks the status (or, for settings, the value the person saw) and refuses
with its domain's conflict error, whose message comes from :func:`already`: "This request
was already approved by Tom Okafor at 14:02. Nothing was changed."

On SQLite (the local demo) the lock is a no-op; the re-check still runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import select, text

from claims_portal.audit.actions import recorded_names
from claims_portal.audit.models import AuditEvent
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession
from claims_portal.formatting import time_and_day

T = TypeVar("T")

NOTHING_CHANGED = "Nothing was changed."

#: First key of the two-key advisory locks taken by :func:`lock_name` (the audit chain's
#: lock uses the one-key form, a separate key space).
_NAMED_LOCKS = 4_105


def lock(session: DbSession, model: type[T], row_id: int) -> T | None:
    """The row of ``model`` with id ``row_id``, locked until the transaction ends and read
    afresh (another transaction may have changed it while this one waited), or None."""
    statement: Any = (
        select(model)
        .where(model.id == row_id)  # type: ignore[attr-defined]
        .with_for_update(of=model, key_share=True)
        .execution_options(populate_existing=True)
    )
    return cast("T | None", session.scalar(statement))


def lock_name(session: DbSession, name: str) -> None:
    """Serialise transactions about something that has no row yet (a person's email address
    before their account exists), until the transaction ends. PostgreSQL only."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
        {"space": _NAMED_LOCKS, "name": name},
    )


#: ``14:02`` today, else ``14:02 on 3 December 2026`` (England's time).
when = time_and_day


def last_event(
    session: DbSession, object_type: str, object_id: object, actions: Iterable[str]
) -> AuditEvent | None:
    """The newest audit event of one of ``actions`` on the object (who decided, and when)."""
    return session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == str(object_id),
            AuditEvent.action.in_([old for a in actions for old in recorded_names(a)]),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def by_whom(actor: Any, moment: dt.datetime | None, *, label: str | None = None) -> str:
    """`` by Tom Okafor at 14:02`` (either part left out when unknown)."""
    who = getattr(actor, "full_name", None) or label
    text_ = f" by {who}" if who else ""
    if moment is not None:
        text_ += f" at {when(moment, today=clock_today())}"
    return text_


def by_event(event: AuditEvent | None) -> str:
    """:func:`by_whom` for the person and moment of an audit event ("" without one)."""
    if event is None:
        return ""
    return by_whom(event.actor, event.occurred_at, label=event.actor_label)


def already(what: str, done: str, who_and_when: str) -> str:
    """ "This request was already approved by Tom Okafor at 14:02. Nothing was changed." """
    return f"{what} was already {done}{who_and_when}. {NOTHING_CHANGED}"
