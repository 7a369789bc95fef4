"""Changing a claim the practice holds (draft, declined, returned); ``content.py`` has what
a claim holds and what submission checks (the lifecycle uses those, not this module).

Saving a draft keeps whatever was entered, complete or not (required answers and evidence
are enforced at submission, not at save); a figure that cannot be read (``12a`` units, a
date that does not exist, an NHS number in free text) is refused and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim
from claims_portal.claims.services._common import (
    ClaimConflict,
    ClaimInvalid,
    ClaimNotFound,
    can_view,
)
from claims_portal.claims.services.content import apply_entries
from claims_portal.claims.services.entries import ClaimEntries
from claims_portal.claims.services.lifecycle import ensure_current, lock_claim, touch
from claims_portal.db import DbSession


def lock_for_change(
    session: DbSession, claim_id: int, actor: User, *, expected_version: int | None
) -> Claim:
    """Lock a claim the practice is about to change; every refusal raises (nothing changes).

    :class:`ClaimNotFound` (not visible), :class:`ClaimConflict` (stale page, or the claim
    left the practice's hands), ``PermissionDenied`` (no ``CREATE_CLAIM`` on the provider).
    """
    claim = lock_claim(session, claim_id)
    if not can_view(actor, claim):
        raise ClaimNotFound(claim_id)
    ensure_current(session, claim, expected_version, None)
    ensure_capability(actor, Capability.CREATE_CLAIM, claim.provider)
    if not claim.is_editable:
        raise ClaimConflict(
            f"This claim is {claim.status.value.lower()}: it can no longer be changed. "
            "Nothing was changed."
        )
    return claim


def save_draft(
    session: DbSession,
    claim_id: int,
    actor: User,
    *,
    expected_version: int,
    entries: ClaimEntries,
) -> Claim:
    """Save what was entered on the claim page (draft, declined or returned claims)."""
    claim = lock_for_change(session, claim_id, actor, expected_version=expected_version)
    if entries.problems:
        raise ClaimInvalid(entries.problems)
    before = figures(claim)
    changed = apply_entries(session, claim, entries, actor=actor)
    if changed:
        touch(claim, actor)
        session.flush()
        # Each changed figure before and after: the claim page's history reads them
        # (``changes.py``), so every change between rounds is told with who and when.
        after = figures(claim)
        record_event(
            session,
            action="claim.saved",
            object_type="claim",
            object_id=claim.id,
            actor=actor,
            organisation=claim.provider,
            before=_only_changed(before, after),
            after={"changed": changed, "version": claim.version, **_only_changed(after, before)},
        )
    return claim


def figures(claim: Claim) -> dict[str, dict[str, Any]]:
    """The claim's units (by component code) and answers (by question id), as stored."""
    return {
        "units": {line.component.code: line.units for line in claim.lines},
        "answers": {str(a.question_id): a.value for a in claim.answers},
    }


def _only_changed(
    these: dict[str, dict[str, Any]], others: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    return {
        kind: {key: value for key, value in values.items() if others[kind].get(key) != value}
        | {key: None for key in others[kind] if key not in values}
        for kind, values in these.items()
    }
