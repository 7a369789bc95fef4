"""What a claim holds and what stops it being submitted: applying parsed entries to a claim
and the submission checks. Below both ``editing.py`` (saving a draft) and ``lifecycle.py``
(submitting), so neither imports the other for them.
"""

from __future__ import annotations

import datetime as dt

from claims_portal.access.models import User
from claims_portal.claims.models import Claim, ClaimAnswer, ClaimStatus
from claims_portal.claims.services._common import Problem
from claims_portal.claims.services.entries import ClaimEntries, answer_anchor, units_field
from claims_portal.claims.services.pricing import clear_prices, over_claim_limit, try_price_claim
from claims_portal.db import DbSession
from claims_portal.schemes.models import EvidenceRequirement
from claims_portal.schemes.services import SchemeError
from claims_portal.schemes.services import offers as offer_services

EVIDENCE_FIELD = "evidence-file"


def apply_entries(
    session: DbSession, claim: Claim, entries: ClaimEntries, *, actor: User
) -> list[str]:
    """Put parsed units and answers on the claim (no checks, no version); the changed
    fields' names."""
    changed: list[str] = []
    for line in claim.lines:
        if line.id in entries.units and line.units != entries.units[line.id]:
            line.units = entries.units[line.id]
            changed.append(f"units:{line.component.code}")
    answers = {a.question_id: a for a in claim.answers}
    for question in claim.scheme.questions:
        if question.id not in entries.answers:
            continue
        value = entries.answers[question.id]
        row = answers.get(question.id)
        if row is None:
            if value is None:
                continue
            claim.answers.append(ClaimAnswer(question_id=question.id, value=value))
            changed.append(f"answer:{question.id}")
        elif row.value != value:
            row.value = value
            changed.append(f"answer:{question.id}")
    if any(name.startswith("units:") for name in changed) and claim.status is not ClaimStatus.DRAFT:
        clear_prices(claim)
    session.flush()
    return changed


def _window_problems(session: DbSession, claim: Claim, today: dt.date) -> list[Problem]:
    try:
        offer_services.ensure_claim_can_start(
            session, claim.scheme, claim.provider, claim.period_start, today
        )
    except SchemeError as error:
        return [Problem(f"{p}: this claim can no longer be submitted") for p in error.problems]
    return []


def submission_problems(
    session: DbSession,
    claim: Claim,
    *,
    today: dt.date,
    entries: ClaimEntries | None = None,
) -> list[Problem]:
    """Everything that stops the claim, as it now stands, being submitted.

    A first submission needs the window still open (and the offer active, the scheme
    published); a declined or returned claim may be resubmitted after its window closed.
    Fields that could not be read (``entries.problems``) are not reported twice.
    """
    unreadable = {p.field for p in entries.problems} if entries is not None else set()
    problems: list[Problem] = []
    if claim.status is ClaimStatus.DRAFT:
        problems += _window_problems(session, claim, today)
    scheme = claim.scheme
    if not scheme.participation_only:
        missing = [ln for ln in claim.lines if ln.units is None]
        for line in missing:
            if units_field(line) not in unreadable:
                problems.append(
                    Problem(
                        f"Enter the units for {line.component.name} (0 if none)",
                        units_field(line),
                    )
                )
        problems += over_claim_limit(claim)
        nothing = sum(ln.units or 0 for ln in claim.lines) == 0
        if claim.lines and not missing and not unreadable and nothing:
            problems.append(
                Problem("Enter at least one unit to claim", units_field(claim.lines[0]))
            )
    answers = {a.question_id: a.value for a in claim.answers}
    for question in scheme.questions:
        anchor = answer_anchor(question)
        if question.required and not answers.get(question.id) and anchor not in unreadable:
            problems.append(Problem(f"Answer the question: {question.text}", anchor))
    problems += _evidence_problems(claim)
    return problems


def _evidence_problems(claim: Claim) -> list[Problem]:
    """Evidence the scheme asks for: at least one file (whole scheme), or for each component
    needing evidence and claimed, a file tied to that component (per component)."""
    requirement = claim.scheme.evidence_requirement
    if requirement is EvidenceRequirement.WHOLE_SCHEME and not claim.current_evidence:
        return [
            Problem(
                "Add an evidence file: this scheme needs evidence with every claim",
                EVIDENCE_FIELD,
            )
        ]
    if requirement is not EvidenceRequirement.PER_COMPONENT:
        return []
    covered = {f.component_id for f in claim.current_evidence}
    needing = [
        ln.component.name
        for ln in claim.lines
        if ln.component.evidence_required and (ln.units or 0) > 0 and ln.component_id not in covered
    ]
    if not needing:
        return []
    if len(needing) == 1:
        message = f"{needing[0]} needs evidence: add a file for it"
    else:
        message = f"{_and_list(needing)} need evidence: add a file for each"
    return [Problem(message, EVIDENCE_FIELD)]


def _and_list(names: list[str]) -> str:
    return f"{', '.join(names[:-1])} and {names[-1]}"


def problems_before_submission(
    session: DbSession,
    claim: Claim,
    *,
    today: dt.date,
    entries: ClaimEntries | None = None,
) -> list[Problem]:
    """Every problem that stops the claim as it stands being submitted: fields that could
    not be read, :func:`submission_problems`, and a value that cannot be calculated. Checked
    before the check-your-answers page and again by the submission itself."""
    problems = list(entries.problems) if entries is not None else []
    problems += submission_problems(session, claim, today=today, entries=entries)
    priced, pricing_problems = try_price_claim(session, claim)
    problems += pricing_problems
    if not problems and priced is None:
        problems.append(Problem("The value cannot be calculated"))
    return problems
