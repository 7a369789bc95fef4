"""One save of the claim page: the figures and a file added, checked before submission
when the practice presses *Continue*; and what happens to a claim once submitted.

The claim page posts everything at once (``claims/views/editing.py``). :func:`save_claim_page`
takes every change of one post in one transaction (flush only; the request commits), each
step locking the claim and checking the version the one before it left. Removing a file
(asked first) and submitting (after *Check your answers*) are steps of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from claims_portal.access.models import User
from claims_portal.access.services.permissions import icb_of
from claims_portal.claims.evidence import InspectedEvidence, StoredObject
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services._common import ClaimInvalid, holders
from claims_portal.claims.services.attachments import attach_evidence
from claims_portal.claims.services.content import apply_entries, problems_before_submission
from claims_portal.claims.services.editing import lock_for_change, save_draft
from claims_portal.claims.services.entries import ClaimEntries
from claims_portal.claims.services.notifications import WAITING_FOR
from claims_portal.db import DbSession


def save_claim_page(
    session: DbSession,
    claim_id: int,
    actor: User,
    *,
    check: bool,
    expected_version: int,
    entries: ClaimEntries,
    evidence: InspectedEvidence | None = None,
    stored: StoredObject | None = None,
    today: dt.date,
) -> None:
    """Save what the page sent: the figures, then a file added; with ``check`` (*Continue*),
    then check that the claim as it now stands could be submitted.

    ``expected_version`` is the version the page showed. Raises what the steps raise
    (``ClaimError`` and its subclasses, ``ClaimNotFound``, ``PermissionDenied``); with
    ``check``, :class:`ClaimInvalid` listing every problem (figures that could not be read
    included). The request then rolls back, so nothing of the post is kept. Submitting is
    the lifecycle's ``SUBMIT``, from the check-your-answers page.
    """
    version = expected_version
    if check and entries.problems:
        # Not saved (a figure could not be read): applied only to list every other problem.
        claim = lock_for_change(session, claim_id, actor, expected_version=version)
        apply_entries(session, claim, entries, actor=actor)
    else:
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
    if check:
        saved = session.get(Claim, claim_id)
        assert saved is not None  # locked above
        problems = problems_before_submission(session, saved, today=today, entries=entries)
        if problems:
            raise ClaimInvalid(problems)


@dataclass(frozen=True)
class NextReview:
    """Who takes the next step of a submitted claim, as the practice is told it."""

    status: ClaimStatus
    #: The practice (provider approval) or the ICB above it (commissioner review).
    organisation: str
    #: Who may take the step (not the person who submitted: separation of duties).
    people: list[str]

    @property
    def by_provider_approver(self) -> bool:
        return self.status is ClaimStatus.AWAITING_PROVIDER_APPROVAL


def next_review(
    session: DbSession, claim: Claim, status: ClaimStatus, submitter: User
) -> NextReview:
    """Who reviews ``claim`` once it is in ``status`` (a waiting status) after ``submitter``
    sent it: the practice's provider approvers or the commissioners above the practice."""
    capability, _step = WAITING_FOR[status]
    if status is ClaimStatus.AWAITING_PROVIDER_APPROVAL:
        organisation = claim.provider
    else:
        organisation = icb_of(claim.provider) or claim.scheme.commissioner
    people = [
        person.full_name
        for person in holders(session, claim.provider, capability)
        if person.id != submitter.id
    ]
    return NextReview(status, organisation.name, people)
