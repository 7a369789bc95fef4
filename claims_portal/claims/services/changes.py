"""Every change to a claim between its steps, for the claim page's history: units and
answers changed (before and after), evidence added and removed, who and when.

The steps themselves are ``ClaimEvent`` rows (the lifecycle). The changes in between are
read from the audit trail, where saving (``editing.save_draft``: ``claim.saved`` with each
changed figure before and after) and evidence (``attachments``: ``claim.evidence_added``,
``claim.evidence_removed``) record them; :func:`timeline` puts both in one order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, select

from claims_portal.access.models import User
from claims_portal.audit.actions import RENAMED
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import Claim, ClaimEvent
from claims_portal.claims.services.entries import display_answer
from claims_portal.db import DbSession

CHANGE_ACTIONS = ("claim.saved", "claim.evidence_added", "claim.evidence_removed")


@dataclass(frozen=True)
class Change:
    """One change between steps, in plain words (shaped like a step for the history)."""

    occurred_at: dt.datetime
    summary: str
    #: What changed, one line each: "Health check part 1: 10 units, was 8".
    changes: list[str] = field(default_factory=list)
    # A change moves no status and has no round, value or reason of its own (the history
    # shows a step's round; changes sit between the steps they came after and before).
    round: int = 1
    from_status: None = None
    to_status: None = None
    value: None = None
    reason: None = None


def _count(value: Any) -> str:
    return "not entered" if value is None else f"{value:,}"


def _answer(question: Any, value: Any) -> str:
    return "not answered" if value in (None, "") else f"“{display_answer(question, value)}”"


def _figures(claim: Claim, event: Row[Any]) -> list[str]:
    before = event.before or {}
    after = event.after or {}
    lines = []
    names = {line.component.code: line.component for line in claim.lines}
    for code, new in (after.get("units") or {}).items():
        component = names.get(code)
        name = component.name if component is not None else code
        old = (before.get("units") or {}).get(code)
        lines.append(f"{name}: {_count(new)} (was {_count(old)})")
    questions = {str(q.id): q for q in claim.scheme.questions}
    for key, new in (after.get("answers") or {}).items():
        question = questions.get(key)
        if question is None:
            continue
        old = (before.get("answers") or {}).get(key)
        lines.append(f"{question.text}: {_answer(question, new)} (was {_answer(question, old)})")
    if not lines and after.get("changed"):
        # Saved before the figures were kept with the event: what changed, not the values.
        lines = [f"Changed: {', '.join(after['changed'])}"]
    return lines


def _describe(claim: Claim, event: Row[Any]) -> tuple[str, list[str]]:
    who = event.actor_name if event.actor_name is not None else event.actor_label
    action = RENAMED.get(event.action, event.action)
    if action == "claim.evidence_added":
        size = (event.after or {}).get("size")
        kb = f" ({-(-int(size) // 1024):,} KB)" if isinstance(size, int) else ""
        return f"Evidence added by {who}", [f"{(event.after or {}).get('filename')}{kb}"]
    if action == "claim.evidence_removed":
        return f"Evidence removed by {who}", [str((event.before or {}).get("filename"))]
    return f"Figures changed by {who}", _figures(claim, event)


#: A claim's changes in the audit trail, oldest first, with who made each: only the columns
#: the history shows (built once; whole events and their actors' rows cost a claim page
#: about a millisecond more, docs/benchmarks.md).
_CHANGES = (
    select(
        AuditEvent.occurred_at,
        AuditEvent.action,
        AuditEvent.before,
        AuditEvent.after,
        AuditEvent.actor_label,
        User.full_name.label("actor_name"),
    )
    .outerjoin(User, User.id == AuditEvent.actor_id)
    .where(
        AuditEvent.object_type == "claim",
        AuditEvent.object_id == bindparam("claim_id"),
        AuditEvent.action.in_(
            [*CHANGE_ACTIONS, *(old for old, new in RENAMED.items() if new in CHANGE_ACTIONS)]
        ),
    )
    .order_by(AuditEvent.id)
)


def changes_of(session: DbSession, claim: Claim) -> list[Change]:
    """The claim's changes between steps, oldest first."""
    audited = session.execute(_CHANGES, {"claim_id": str(claim.id)}).all()
    return [Change(event.occurred_at, *_describe(claim, event)) for event in audited]


def timeline(events: list[ClaimEvent], changes: list[Change]) -> list[ClaimEvent | Change]:
    """Steps and changes in the order they happened (a change first when both share a
    moment: a save comes before the step it precedes)."""
    entries: list[tuple[dt.datetime, int, int, ClaimEvent | Change]] = [
        (change.occurred_at, 0, index, change) for index, change in enumerate(changes)
    ]
    entries += [(event.occurred_at, 1, index, event) for index, event in enumerate(events)]
    return [entry for *_, entry in sorted(entries, key=lambda item: item[:3])]
