"""Files the virus check found infected: kept in quarantine, and the ICB told (flush only).

An infected upload is refused like any other refused file (the practice reads why on the
claim page), but it is not thrown away: the view has put its bytes under the evidence
store's quarantine folder (``evidence.quarantine_key``), and :func:`quarantine_files`
records a :class:`QuarantinedEvidence` row for each, audited as
``claim.evidence_quarantined``, and tells the administrators of the ICB the claim is made
to (``HEAR_OF_QUARANTINED_FILES``) with a message centre item and an email. No
``claim_evidence`` row is written, so the file is never part of the claim, never counted
against its room for files, and nothing serves it for download.

The records outlive the refusal of the post (``saving.save_claim_page`` keeps them when the
rest is refused, as it keeps files that passed), so that the quarantine, its audit event and
the message are there even though nothing else of the post was saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import icb_of
from claims_portal.audit.services import record_event
from claims_portal.claims.evidence import InspectedEvidence, StoredObject
from claims_portal.claims.models import Claim, QuarantinedEvidence
from claims_portal.claims.services._common import ClaimNotFound, holders
from claims_portal.db import DbSession, utcnow
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.organisations.models import Organisation

#: What the practice reads for an infected file (after its name, when several were chosen).
QUARANTINED_MESSAGE = (
    "Our virus check found a problem with this file, so it has not been added to the claim. "
    "It is kept in quarantine and the ICB's administrators have been told. Check the file "
    "with your IT team before you upload it again"
)
#: Where the administrators are sent: the audit trail holds the event with every detail.
AUDIT_TRAIL_LINK = "/admin/audit-trail/"


@dataclass(frozen=True)
class QuarantinedFile:
    """A file of the post the virus check found infected, already in the quarantine folder."""

    #: What was found out about it (its bytes dropped) and the scanner's verdict.
    evidence: InspectedEvidence
    stored: StoredObject


def commissioning_icb(session: DbSession, claim: Claim) -> Organisation:
    """The ICB the claim is made to (kept on the claim; else found from the provider's place
    in the tree, or the scheme's commissioner)."""
    if claim.icb_id is not None:
        icb = session.get(Organisation, claim.icb_id)
        if icb is not None:
            return icb
    return icb_of(claim.provider) or claim.scheme.commissioner


def quarantine_files(
    session: DbSession,
    claim_id: int,
    files: Sequence[QuarantinedFile],
    *,
    actor: User,
    base_url: str | None,
) -> list[QuarantinedEvidence]:
    """Record each infected file of a post on ``claim_id`` as quarantined, audit it and tell
    the ICB's administrators (flush only). Returns the rows. Raises :class:`ClaimNotFound`
    when there is no such claim. The claim itself is not changed (no version bump): the
    files are not part of it."""
    if not files:
        return []
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise ClaimNotFound(claim_id)
    icb = commissioning_icb(session, claim)
    rows = []
    for file in files:
        verdict = file.evidence.scan
        row = QuarantinedEvidence(
            claim_id=claim.id,
            icb_id=icb.id,
            key=file.stored.key,
            filename=file.evidence.filename,
            content_type=file.evidence.content_type,
            size=file.evidence.size,
            sha256=file.evidence.sha256,
            scanner=verdict.scanner,
            signature=(verdict.signature or "")[:255] or None,
            uploaded_by_id=actor.id,
            uploaded_at=utcnow(),
        )
        session.add(row)
        session.flush()
        record_event(
            session,
            action="claim.evidence_quarantined",
            object_type="claim",
            object_id=claim.id,
            actor=actor,
            organisation=claim.provider,
            after={
                "quarantined_evidence_id": row.id,
                "filename": row.filename,
                "size": row.size,
                "sha256": row.sha256,
                "key": row.key,
                "scanner": row.scanner,
                "signature": row.signature,
                "icb_id": icb.id,
            },
        )
        _tell_administrators(session, claim, row, icb, actor=actor, base_url=base_url)
        rows.append(row)
    return rows


def _tell_administrators(
    session: DbSession,
    claim: Claim,
    row: QuarantinedEvidence,
    icb: Organisation,
    *,
    actor: User,
    base_url: str | None,
) -> int:
    subject = f"A file uploaded to claim {claim.reference} was quarantined by the virus check"
    found = f" found {row.signature}" if row.signature else " found a problem"
    body = (
        f"{actor.full_name} of {claim.provider.display_name} uploaded “{row.filename}” to "
        f"claim {claim.reference} ({claim.scheme.name}). The virus check ({row.scanner})"
        f"{found}, so the file was refused and not added to the claim.\n\n"
        f"The file is kept in quarantine: {row.size:,} bytes, SHA-256 {row.sha256}, "
        f"stored as {row.key}. Nobody can download it from the portal.\n\n"
        "Contact the practice so they can check their computer with their IT team. "
        "The audit trail records the upload (claim.evidence_quarantined)."
    )
    return tell(
        session,
        holders(session, icb, Capability.HEAR_OF_QUARANTINED_FILES),
        organisation=icb,
        subject=subject,
        body=body,
        link=AUDIT_TRAIL_LINK,
        kind=EmailKind.EVIDENCE_QUARANTINED,
        actor=actor,
        base_url=base_url,
    )
