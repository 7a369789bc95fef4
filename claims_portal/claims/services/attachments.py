"""Evidence files on a claim: recording an uploaded file, removing one (flush only).

The bytes are checked and stored by ``claims_portal.claims.evidence`` before these run: the
view puts the object first, then calls :func:`attach_evidence`; the request's unit of work
deletes the object again if anything here (or the commit) fails. So a failure part-way
leaves no row and no claim change, and at worst an object that the orphan sweep removes.

Removing a file: before the claim was first submitted the row is deleted (the view deletes
the object once the request has committed); afterwards the row is only marked removed, so
the history keeps what each round was decided on.
"""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.claims.evidence import InspectedEvidence, StoredObject
from claims_portal.claims.models import Claim, ClaimEvidence
from claims_portal.claims.services._common import ClaimInvalid, ClaimNotFound, Problem
from claims_portal.claims.services.content import EVIDENCE_FIELD
from claims_portal.claims.services.editing import lock_for_change
from claims_portal.claims.services.entries import EVIDENCE_COMPONENT_FIELD
from claims_portal.claims.services.lifecycle import touch
from claims_portal.db import DbSession, utcnow
from claims_portal.schemes.models import EvidenceRequirement

#: Files on a claim at once (removed ones not counted).
MAX_FILES_PER_CLAIM = 20


def ensure_room_for_files(claim: Claim, count: int = 1) -> None:
    """Refuse (:class:`ClaimInvalid`) ``count`` more files than the claim has room for."""
    room = MAX_FILES_PER_CLAIM - len(claim.current_evidence)
    if count <= room:
        return
    if room <= 0:
        message = (
            f"A claim can have at most {MAX_FILES_PER_CLAIM} evidence files: remove one "
            "before adding another"
        )
    else:
        message = (
            f"A claim can have at most {MAX_FILES_PER_CLAIM} evidence files: you can add "
            f"{room} more, so choose {room} or fewer, or remove a file first"
        )
    raise ClaimInvalid(Problem(message, EVIDENCE_FIELD))


def ensure_component_of(claim: Claim, component_id: int | None) -> None:
    """Refuse (:class:`ClaimInvalid`) a file tied to a component the claim does not claim,
    or tied at all when the scheme does not ask for evidence per component."""
    if component_id is None:
        return
    per_component = claim.scheme.evidence_requirement is EvidenceRequirement.PER_COMPONENT
    if not per_component or component_id not in {ln.component_id for ln in claim.lines}:
        raise ClaimInvalid(
            Problem("Select a part of this claim for the files", EVIDENCE_COMPONENT_FIELD)
        )


def attach_evidence(
    session: DbSession,
    claim_id: int,
    *,
    stored: StoredObject,
    evidence: InspectedEvidence,
    actor: User,
    expected_version: int,
    component_id: int | None = None,
) -> ClaimEvidence:
    """Record a stored evidence file on an editable claim, tied to ``component_id`` (one of
    its lines' components, per-component schemes only) or to the whole claim (None);
    audited, version bumped."""
    claim = lock_for_change(session, claim_id, actor, expected_version=expected_version)
    ensure_room_for_files(claim)
    ensure_component_of(claim, component_id)
    row = ClaimEvidence(
        claim_id=claim.id,
        component_id=component_id,
        key=stored.key,
        filename=evidence.filename,
        content_type=evidence.content_type,
        size=evidence.size,
        sha256=evidence.sha256,
        round=claim.round,
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    session.add(row)
    touch(claim, actor)
    session.flush()
    record_event(
        session,
        action="claim.evidence_added",
        object_type="claim",
        object_id=claim.id,
        actor=actor,
        organisation=claim.provider,
        after={
            "evidence_id": row.id,
            "filename": row.filename,
            "size": row.size,
            "sha256": row.sha256,
            "content_type": row.content_type,
            "component_id": component_id,
            "virus_scanned": evidence.scan.scanned,
            "version": claim.version,
        },
    )
    session.refresh(claim, ["evidence"])
    return row


def remove_evidence(
    session: DbSession,
    claim_id: int,
    evidence_id: int,
    *,
    actor: User,
    expected_version: int,
) -> str | None:
    """Remove a file from an editable claim. Returns the store key to delete after the
    commit when the row was deleted (never-submitted claim), else None (row kept, marked)."""
    claim = lock_for_change(session, claim_id, actor, expected_version=expected_version)
    row = session.scalar(
        select(ClaimEvidence).where(
            ClaimEvidence.id == evidence_id,
            ClaimEvidence.claim_id == claim.id,
            ClaimEvidence.removed_at.is_(None),
        )
    )
    if row is None:
        raise ClaimNotFound(evidence_id)
    key: str | None = None
    details = {"evidence_id": row.id, "filename": row.filename, "sha256": row.sha256}
    if claim.submitted_at is None:
        key = row.key
        session.delete(row)
    else:
        row.removed_at = utcnow()
        row.removed_by_id = actor.id
    touch(claim, actor)
    session.flush()
    record_event(
        session,
        action="claim.evidence_removed",
        object_type="claim",
        object_id=claim.id,
        actor=actor,
        organisation=claim.provider,
        before=details,
        after={"kept_for_history": key is None, "version": claim.version},
    )
    session.refresh(claim, ["evidence"])
    return key


def evidence_of(session: DbSession, claim: Claim, evidence_id: int) -> ClaimEvidence:
    """A file of ``claim`` (removed ones too, for the history); else :class:`ClaimNotFound`."""
    row = session.scalar(
        select(ClaimEvidence).where(
            ClaimEvidence.id == evidence_id, ClaimEvidence.claim_id == claim.id
        )
    )
    if row is None:
        raise ClaimNotFound(evidence_id)
    return row
