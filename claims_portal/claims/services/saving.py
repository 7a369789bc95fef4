"""One save of the claim page: the figures and the files added, checked before submission
when the practice presses *Continue*; and what happens to a claim once submitted.

The claim page posts everything at once (``claims/views/editing.py``). :func:`save_claim_page`
takes every change of one post in one transaction (flush only; the request commits), each
step locking the claim and checking the version the one before it left. Removing a file
(asked first) and submitting (after *Check your answers*) are steps of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from claims_portal.access.models import User
from claims_portal.access.services.permissions import icb_of
from claims_portal.claims.evidence import InspectedEvidence, StoredObject
from claims_portal.claims.models import Claim, ClaimEvidence, ClaimStatus
from claims_portal.claims.services._common import ClaimError, ClaimInvalid, Problem, holders
from claims_portal.claims.services.attachments import attach_evidence, ensure_room_for_files
from claims_portal.claims.services.content import apply_entries, problems_before_submission
from claims_portal.claims.services.editing import lock_for_change, save_draft
from claims_portal.claims.services.entries import ClaimEntries
from claims_portal.claims.services.notifications import WAITING_FOR
from claims_portal.claims.services.quarantine import QuarantinedFile, quarantine_files
from claims_portal.db import DbSession


@dataclass(frozen=True)
class NewFile:
    """A file of the post that passed the checks and is already in the store."""

    evidence: InspectedEvidence
    stored: StoredObject
    #: The component it is evidence for (per-component schemes), or None: the whole claim.
    component_id: int | None = None


class FilesKept(ClaimInvalid):
    """The post was refused (a file refused, a figure that cannot be read, a problem the
    check found) but the files it added are kept: the request commits them, and only them
    (``unit_of_work.keep_on_refusal``). ``added`` are their rows."""

    def __init__(self, problems: Sequence[Problem], added: list[ClaimEvidence]) -> None:
        super().__init__(problems)
        self.added = added


def save_claim_page(
    session: DbSession,
    claim_id: int,
    actor: User,
    *,
    check: bool,
    expected_version: int,
    entries: ClaimEntries,
    files: Sequence[NewFile] = (),
    refused: Sequence[Problem] = (),
    quarantined: Sequence[QuarantinedFile] = (),
    base_url: str | None = None,
    today: dt.date,
) -> list[ClaimEvidence]:
    """Save what the page sent: the files added, then the figures; with ``check``
    (*Continue*), then check that the claim as it now stands could be submitted. Returns the
    rows of the files added.

    ``expected_version`` is the version the page showed; ``refused`` the problems of files
    of the post that failed their checks; ``quarantined`` the files among them the virus
    check found infected, already in the quarantine folder. Raises what the steps raise
    (``ClaimError`` and its subclasses, ``ClaimNotFound``, ``PermissionDenied``); with
    ``check``, :class:`ClaimInvalid` listing every problem (figures that could not be read
    included). The request then rolls back, so nothing of the post is kept, except that
    files which passed their checks, and the quarantine records of infected files
    (``quarantine.quarantine_files``: audited, the ICB's administrators told), are kept even
    when the rest of the post is refused (:class:`FilesKept`: the rest is undone, to a
    savepoint). The room for every file is checked first: a post with more files than the
    claim has room for adds none. Submitting is the lifecycle's ``SUBMIT``, from the
    check-your-answers page.
    """
    if not quarantined:
        return _save_page(
            session, claim_id, actor, check, expected_version, entries, files, refused, today
        )
    quarantine_files(session, claim_id, quarantined, actor=actor, base_url=base_url)
    savepoint = session.begin_nested()
    try:
        added = _save_page(
            session, claim_id, actor, check, expected_version, entries, files, refused, today
        )
    except FilesKept:  # the files that passed are kept too, the rest undone already
        savepoint.commit()
        raise
    except ClaimInvalid as error:  # the infected files are among ``refused``: always so
        savepoint.rollback()
        raise FilesKept(error.problems, []) from error
    except ClaimError as error:  # someone changed the claim first: the quarantine stands
        savepoint.rollback()
        raise FilesKept([*refused, *error.problems], []) from error
    savepoint.commit()
    return added


def _save_page(
    session: DbSession,
    claim_id: int,
    actor: User,
    check: bool,
    expected_version: int,
    entries: ClaimEntries,
    files: Sequence[NewFile],
    refused: Sequence[Problem],
    today: dt.date,
) -> list[ClaimEvidence]:
    added = _add_files(session, claim_id, files, actor=actor, expected_version=expected_version)
    version = _version(session, claim_id) if added else expected_version
    savepoint = session.begin_nested() if added else None
    try:
        if refused:  # nothing but the files is saved; with check, every problem is listed
            if check:
                _save_rest(session, claim_id, actor, check, version, entries, today)
            raise ClaimInvalid(list(entries.problems))
        _save_rest(session, claim_id, actor, check, version, entries, today)
    except ClaimInvalid as error:
        problems = [*refused, *error.problems]
        if savepoint is None:
            raise ClaimInvalid(problems) from error
        savepoint.rollback()
        raise FilesKept(problems, added) from error
    if savepoint is not None:
        savepoint.commit()
    return added


def _add_files(
    session: DbSession,
    claim_id: int,
    files: Sequence[NewFile],
    *,
    actor: User,
    expected_version: int,
) -> list[ClaimEvidence]:
    if not files:
        return []
    claim = lock_for_change(session, claim_id, actor, expected_version=expected_version)
    ensure_room_for_files(claim, len(files))
    version = expected_version
    rows = []
    for file in files:
        rows.append(
            attach_evidence(
                session,
                claim_id,
                stored=file.stored,
                evidence=file.evidence,
                actor=actor,
                expected_version=version,
                component_id=file.component_id,
            )
        )
        version = _version(session, claim_id)
    return rows


def _version(session: DbSession, claim_id: int) -> int:
    """The version the last step left (the claim is locked and in the session)."""
    claim = session.get(Claim, claim_id)
    assert claim is not None  # locked by the step before
    return claim.version


def _save_rest(
    session: DbSession,
    claim_id: int,
    actor: User,
    check: bool,
    version: int,
    entries: ClaimEntries,
    today: dt.date,
) -> None:
    """The figures, then with ``check`` the submission checks (raising ``ClaimInvalid``)."""
    if check and entries.problems:
        # Not saved (a figure could not be read): applied only to list every other problem.
        claim = lock_for_change(session, claim_id, actor, expected_version=version)
        apply_entries(session, claim, entries, actor=actor)
    else:
        claim = save_draft(session, claim_id, actor, expected_version=version, entries=entries)
    if check:
        problems = problems_before_submission(session, claim, today=today, entries=entries)
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
