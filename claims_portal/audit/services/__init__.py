"""Recording, sealing and verifying audit events.

Every feature records its decisions through :func:`record_event`; nothing else writes the
``audit_event`` table. Recording takes no lock, so writers never queue behind each other on
the trail. The chain is made after the events commit, by :func:`seal`: one sealer at a time
(a transaction-scoped advisory lock, held only while sealing) gives every committed event
without a seal the next position, and a hash over its content and the previous seal's hash
(:class:`AuditSeal`). The unit of work seals after each request that recorded events
commits (``claims_portal.unit_of_work``); ``claims-portal audit seal`` (and ``audit verify``,
``audit anchor``) seal whatever is left, such as events committed by CLI commands or
a request whose seal failed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from claims_portal import clock
from claims_portal.access.models import User
from claims_portal.audit.actions import check as check_action
from claims_portal.audit.models import AuditEvent, AuditSeal
from claims_portal.audit.services.anchors import Anchor
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.request_context import current_request_id

GENESIS_HASH = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises sealers (never writers).
_CHAIN_LOCK_KEY = 0x617564697400  # "audit\0"
#: ``session.info`` key: the ids of the events recorded in the session's transaction.
RECORDED = "audit_recorded_event_ids"
#: Committed events left without a seal longer than this are reported by :func:`verify_chain`.
UNSEALED_GRACE = dt.timedelta(minutes=5)


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


def compute_hash(event: AuditEvent, previous_hash: str) -> str:
    """SHA-256 of the event's content and the previous seal's hash (the formula events
    recorded before seals existed were hashed with, so their hashes carry over)."""
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
        "previous_hash": previous_hash,
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
    """Add an event to the trail (flushes; the caller's unit of work commits it, and it is
    chained after that commit by :func:`seal`). Takes no lock.

    ``action`` is the object, then a verb in the past tense, such as
    ``organisation.approval_mode_changed`` (``audit.actions``; ``ValueError`` otherwise).
    ``before`` and ``after`` hold the changed fields only. Raises ``TypeError`` for values
    that cannot be stored as JSON.
    """
    check_action(action)
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
    )
    session.add(event)
    session.flush()
    session.info.setdefault(RECORDED, []).append(event.id)
    return event


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_recorded(session: Session, transaction: SessionTransaction) -> None:
    """The ids recorded belong to one transaction (read by the unit of work before it
    commits)."""
    if transaction.parent is None:
        session.info.pop(RECORDED, None)


def recorded_event_ids(session: DbSession) -> list[int]:
    """The ids of the events recorded in the session's current transaction."""
    return list(session.info.get(RECORDED, ()))


def seal(session: DbSession, recorded: Collection[int] | None = None) -> int:
    """Chain the committed events that have no seal yet, in id order, after the newest seal;
    returns how many were sealed. The caller commits, at once: the lock taken here (on
    PostgreSQL) is held until then, and another sealer waits for it.

    With ``recorded`` (the ids a transaction that has just committed recorded), only the
    events newer than every sealed one and those are looked at, both through indexes; without,
    every event is (a sweep: ``claims-portal audit seal``). An event committed after a newer
    one was sealed is so sealed by its own transaction's seal, or by the next sweep.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Read committed: every statement after this one sees the seals the sealer before
        # committed.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})
    # LIMIT 1: ``first()`` alone would fetch every seal (400,000 rows, 230 ms) on each commit.
    newest = session.execute(
        select(AuditSeal.position, AuditSeal.event_hash)
        .order_by(AuditSeal.position.desc())
        .limit(1)
    ).first()
    position, previous = (newest[0], newest[1]) if newest is not None else (0, GENESIS_HASH)
    unsealed = ~select(AuditSeal.event_id).where(AuditSeal.event_id == AuditEvent.id).exists()
    if recorded is None:
        where = unsealed
    else:
        newest_sealed = session.scalar(select(func.max(AuditSeal.event_id))) or 0
        where = (AuditEvent.id > newest_sealed) | (AuditEvent.id.in_(list(recorded)) & unsealed)
    events = session.scalars(
        select(AuditEvent)
        .where(where)
        .order_by(AuditEvent.id)
        .execution_options(populate_existing=True)  # what is stored, not what was set
    ).all()
    if not events:
        return 0
    sealed_at = utcnow()
    rows = []
    for event in events:
        position += 1
        event_hash = compute_hash(event, previous)
        rows.append(
            {
                "position": position,
                "event_id": event.id,
                "previous_hash": previous,
                "event_hash": event_hash,
                "sealed_at": sealed_at,
            }
        )
        previous = event_hash
    session.execute(insert(AuditSeal), rows)
    return len(rows)


def seal_and_commit(session: DbSession, recorded: Collection[int] | None = None) -> int:
    """:func:`seal` in a transaction of its own, committed (rolled back if it fails)."""
    try:
        count = seal(session, recorded)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return count


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`."""

    #: Seals checked and found intact (the position of the last one).
    checked: int
    broken_event_id: int | None = None
    problem: str | None = None
    last_hash: str | None = None
    #: The event of the newest seal checked (None for an empty chain).
    last_event_id: int | None = None
    #: Anchors (claims_portal.audit.services.anchors) compared with the chain.
    anchors_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


def verify_chain(
    session: DbSession, anchors: Iterable[Anchor] = (), *, grace: dt.timedelta = UNSEALED_GRACE
) -> ChainReport:
    """Check every seal's link and hash against its event's content, the chain against
    ``anchors``, and that no committed event older than ``grace`` is left unsealed; report
    the first broken place.

    Reads the seals in position order, a thousand rows at a time, in one statement (one
    snapshot). The chain alone cannot show that the newest seals and events were removed
    from its end: an anchor (``claims-portal audit anchor``) recorded outside the database
    can, since its event must still be there, at the same position with the same hash. Seal
    first (:func:`seal`) to check the newest events too.
    """
    statement = (
        select(AuditSeal, AuditEvent)
        .outerjoin(AuditEvent, AuditEvent.id == AuditSeal.event_id)
        .order_by(AuditSeal.position)
        .execution_options(yield_per=1000, populate_existing=True)
    )
    with session.execute(statement) as rows:
        report = _verify(((row[0], row[1]) for row in rows), list(anchors))
    if not report.ok:
        return report
    return _unsealed(session, report, grace)


def _verify(
    rows: Iterator[tuple[AuditSeal, AuditEvent | None]], anchors: list[Anchor]
) -> ChainReport:
    expected_previous = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    pending: dict[int, list[Anchor]] = {}
    for anchor in sorted(anchors, key=lambda anchor: anchor.count):
        pending.setdefault(anchor.event_id, []).append(anchor)
    for seal_row, event in rows:
        if seal_row.position != checked + 1:
            return ChainReport(
                checked,
                seal_row.event_id,
                f"its seal is at position {seal_row.position} where {checked + 1} was due: "
                "seals before it were removed",
            )
        if event is None:
            return ChainReport(checked, seal_row.event_id, "its seal remains but it was removed")
        if seal_row.previous_hash != expected_previous:
            return ChainReport(
                checked,
                event.id,
                "its link to the previous event is broken (an event before it was removed, "
                "inserted or changed)",
            )
        if compute_hash(event, seal_row.previous_hash) != seal_row.event_hash:
            return ChainReport(checked, event.id, "its content does not match its hash")
        expected_previous = seal_row.event_hash
        checked += 1
        last_id = event.id
        for anchor in pending.pop(event.id, ()):
            if anchor.count != checked:
                return ChainReport(
                    checked - 1,
                    event.id,
                    f"{checked} events lead up to it, but {anchor.count} did when "
                    f"{anchor.describe()}: events before it were removed or added",
                )
            if anchor.event_hash != seal_row.event_hash:
                return ChainReport(
                    checked - 1,
                    event.id,
                    f"its hash differs from the one {anchor.describe()}: the events up to it "
                    "were rewritten",
                )
    if pending:
        missing = min((a for group in pending.values() for a in group), key=lambda a: a.count)
        return _missing(checked, missing)
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


def _unsealed(session: DbSession, report: ChainReport, grace: dt.timedelta) -> ChainReport:
    """The oldest committed event left unsealed for longer than ``grace``, as a problem."""
    unsealed = ~select(AuditSeal.event_id).where(AuditSeal.event_id == AuditEvent.id).exists()
    row = session.execute(
        select(AuditEvent.id, AuditEvent.occurred_at, func.count().over())
        .where(unsealed, AuditEvent.occurred_at < clock.now() - grace)
        .order_by(AuditEvent.id)
        .limit(1)
    ).first()
    if row is None:
        return report
    event_id, occurred_at, count = row
    return ChainReport(
        report.checked,
        event_id,
        f"it was recorded at {occurred_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC but never "
        f"chained ({count} event{'' if count == 1 else 's'} left without a seal for over "
        f"{grace.total_seconds() / 60:g} minutes; run `claims-portal audit seal`)",
        last_hash=report.last_hash,
        last_event_id=report.last_event_id,
        anchors_checked=report.anchors_checked,
    )
