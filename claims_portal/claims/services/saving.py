"""One save of the claim page: the figures, a file added or removed, or a submission.

The claim page posts everything at once (``claims/views/editing.py``). :func:`save_claim_page`
takes every change of one post in one transaction (flush only; the request commits), each
step locking the claim and checking the version the one before it left.
"""

from __future__ import annotations

from claims_portal.access.models import User
from claims_portal.claims.evidence import InspectedEvidence, StoredObject
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services.attachments import attach_evidence, remove_evidence
from claims_portal.claims.services.editing import save_draft
from claims_portal.claims.services.entries import ClaimEntries
from claims_portal.claims.services.lifecycle import transition
from claims_portal.db import DbSession


def _version(session: DbSession, claim_id: int) -> int:
    """The version the last step left (the claim is locked and in the session)."""
    claim = session.get(Claim, claim_id)
    assert claim is not None  # locked by the step before
    return claim.version


def save_claim_page(
    session: DbSession,
    claim_id: int,
    actor: User,
    *,
    submit: bool,
    expected_version: int,
    entries: ClaimEntries,
    evidence: InspectedEvidence | None = None,
    stored: StoredObject | None = None,
    remove_evidence_id: int | None = None,
    base_url: str,
) -> str | None:
    """Save what the page sent: submitting (a file added first, then the submit step), or
    saving the figures, then adding a file, then removing one.

    ``expected_version`` is the version the page showed. Returns the store key of a removed
    file to delete once the request has committed (a never-submitted claim's), else None.
    Raises what the steps raise (``ClaimError`` and its subclasses, ``ClaimNotFound``,
    ``PermissionDenied``); the request then rolls back, so nothing of the post is kept.
    """
    version = expected_version
    if not submit:
        version = save_draft(
            session, claim_id, actor, expected_version=version, entries=entries
        ).version
    if stored is not None and evidence is not None:
        attach_evidence(
            session,
            claim_id,
            stored=stored,
            evidence=evidence,
            actor=actor,
            expected_version=version,
        )
        version = _version(session, claim_id)
    if submit:
        transition(
            session,
            claim_id,
            ClaimAction.SUBMIT,
            actor,
            expected_version=version,
            entries=entries,
            base_url=base_url,
        )
        return None
    if remove_evidence_id is not None:
        return remove_evidence(
            session, claim_id, remove_evidence_id, actor=actor, expected_version=version
        )
    return None
