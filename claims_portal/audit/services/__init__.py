"""Recording and verifying audit events.

Every feature records its decisions through :func:`record_event`; nothing else writes the
``audit_event`` table. Events are chained by hash: see :class:`AuditEvent`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from claims_portal.access.models import User
from claims_portal.audit.actions import check as check_action
from claims_portal.audit.models import AuditEvent
from claims_portal.audit.services.anchors import Anchor
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.request_context import current_request_id

GENESIS_HASH = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x617564697400  # "audit\0"


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    raise TypeError(f"cannot record {type(value).__name__} in the audit trail")


def _normalise(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON form stored, so that what is hashed is exactly what is read back."""
    if value is None:
        return None
    result: dict[str, Any] = json.loads(json.dumps(dict(value), default=_json_default))
    return result


def compute_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's content and the previous event's hash."""
    content = {
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organisation_id": event.organisation_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
        "previous_hash": event.previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_event(
    session: DbSession,
    *,
    action: str,
    object_type: str,
    object_id: object,
    actor: User | None = None,
    organisation: Organisation | int | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append an event to the trail (flushes; the caller's unit of work commits it).

    ``action`` is the object, then a verb in the past tense, such as
    ``organisation.approval_mode_changed`` (``audit.actions``; ``ValueError`` otherwise).
    ``before`` and ``after`` hold the changed fields only. Raises ``TypeError`` for values
    that cannot be stored as JSON.
    """
    check_action(action)
    if session.get_bind().dialect.name == "postgresql":
        # One writer at a time extends the chain; released at commit or rollback.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    previous = session.scalar(select(AuditEvent.event_hash).order_by(AuditEvent.id.desc()))
    organisation_id = organisation.id if isinstance(organisation, Organisation) else organisation
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "system",
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_normalise(before),
        after=_normalise(after),
        reason=reason,
        request_id=current_request_id(),
        previous_hash=previous or GENESIS_HASH,
    )
    event.event_hash = compute_hash(event)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`."""

    checked: int
    broken_event_id: int | None = None
    problem: str | None = None
    last_hash: str | None = None
    #: The newest event checked (None for an empty trail).
    last_event_id: int | None = None
    #: Anchors (claims_portal.audit.services.anchors) compared with the trail.
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def verify_chain(session: DbSession, anchors: Iterable[Anchor] = ()) -> ChainReport:
    """Check every event's hash and link, and the trail against ``anchors``; report the
    first broken event.

    Reads the table in id order, a thousand rows at a time, in one statement (one
    snapshot). The chain alone cannot show that the newest events were removed from its
    end: an anchor (``claims-portal audit anchor``) recorded outside the database can, since
    its event must still be there, with the same hash and as many events up to it.
    """
    statement = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    with session.scalars(statement) as events:
        return _verify(events, sorted(anchors, key=lambda anchor: anchor.event_id))


def _verify(events: Iterator[AuditEvent], anchors: list[Anchor]) -> ChainReport:
    expected_previous = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    pending = iter(anchors)
    anchor = next(pending, None)
    for event in events:
        if event.previous_hash != expected_previous:
            return ChainReport(
                checked,
                event.id,
                "its link to the previous event is broken (an event before it was removed, "
                "inserted or changed)",
            )
        if compute_hash(event) != event.event_hash:
            return ChainReport(checked, event.id, "its content does not match its hash")
        expected_previous = event.event_hash
        checked += 1
        last_id = event.id
        while anchor is not None and anchor.event_id <= event.id:
            if anchor.event_id < event.id:
                return _missing(checked - 1, anchor)
            if anchor.event_hash != event.event_hash:
                return ChainReport(
                    checked - 1,
                    event.id,
                    f"its hash differs from the one {anchor.describe()}: the events up to it "
                    "were rewritten",
                )
            if anchor.count != checked:
                return ChainReport(
                    checked - 1,
                    event.id,
                    f"{checked} events lead up to it, but {anchor.count} did when "
                    f"{anchor.describe()}: events before it were removed or added",
                )
            anchor = next(pending, None)
    if anchor is not None:
        return _missing(checked, anchor)
    return ChainReport(
        checked, last_hash=expected_previous, last_event_id=last_id, anchors_checked=len(anchors)
    )


def _missing(checked: int, anchor: Anchor) -> ChainReport:
    return ChainReport(
        checked,
        anchor.event_id,
        f"it is missing, yet it was the newest of {anchor.count} events when "
        f"{anchor.describe()}: events were removed since",
    )
