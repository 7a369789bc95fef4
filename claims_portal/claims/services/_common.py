"""What every claims service shares: errors, who may see a claim, time as people read it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability, holders  # noqa: F401 - holders re-exported
from claims_portal.claims.models import Claim, ClaimAnswer, ClaimEvidence, ClaimLine
from claims_portal.db import DbSession
from claims_portal.decisions import when  # noqa: F401 - re-exported (conflict messages)
from claims_portal.organisations.models import Organisation
from claims_portal.rules import Problem, RuleError
from claims_portal.schemes.models import SupplementaryQuestion


class ClaimError(RuleError):
    """A claim rule refused the change. ``problems`` are for the user; nothing was changed.

    ``existing_claim_id`` is set when the refusal is "a claim for this period already
    exists", so the page can link to it. ``status_code`` is the HTTP status the page uses.
    """

    def __init__(
        self,
        problems: str | Problem | Sequence[str | Problem],
        *,
        existing_claim_id: int | None = None,
    ) -> None:
        super().__init__(problems)
        self.existing_claim_id = existing_claim_id


class ClaimInvalid(ClaimError):
    """What was entered (or the claim as it stands) cannot be saved or submitted."""


class ClaimRefused(ClaimError):
    """The person may see the claim but may not do this to it (separation of duties)."""

    status_code = 403


class ClaimConflict(ClaimError):
    """Someone changed the claim since the page was loaded (stale version or status).

    The message says who did what and when, and that nothing was changed.
    """

    status_code = 409


class ClaimNotFound(Exception):
    """No such claim, or one the person may not know exists (shown as 404)."""


# --- Who sees a claim ----------------------------------------------------------------------


def is_provider_viewer(user: User, claim: Claim, *, today: dt.date | None = None) -> bool:
    """A user of the claim's own practice (or PCN, federation)."""
    return has_capability(user, Capability.VIEW_PROVIDER_CLAIMS, claim.provider, today=today)


def is_commissioner_viewer(user: User, claim: Claim, *, today: dt.date | None = None) -> bool:
    """A commissioner above the claim's provider, once the claim has reached them."""
    return claim.reached_commissioner_at is not None and has_capability(
        user, Capability.VIEW_COMMISSIONER_CLAIMS, claim.provider, today=today
    )


def can_view(user: User, claim: Claim, *, today: dt.date | None = None) -> bool:
    """Whether ``user`` may see ``claim`` (its page, evidence and history).

    Users of the claim's provider see it from the start; commissioner roles of the ICB (or
    sub-location) above the provider see it once it has been sent to the commissioner.
    Everyone else is told it does not exist.
    """
    return is_provider_viewer(user, claim, today=today) or is_commissioner_viewer(
        user, claim, today=today
    )


def ensure_can_view(user: User, claim: Claim) -> None:
    """Raise :class:`ClaimNotFound` unless :func:`can_view`."""
    if not can_view(user, claim):
        raise ClaimNotFound(claim.id)


_CLAIM_WITH_PARTS = (
    # The provider's parent: who may see the claim is decided from the provider up.
    joinedload(Claim.provider).joinedload(Organisation.parent),
    joinedload(Claim.scheme),
    joinedload(Claim.window),
    # Joined, not a query of their own: a claim has a line per component, a handful.
    joinedload(Claim.lines).joinedload(ClaimLine.component),
)

#: What the claim page shows besides: the lines' tariffs and the evidence with who uploaded
#: it, joined too (rows are lines x files, both few).
_CLAIM_FOR_PAGE = (
    *_CLAIM_WITH_PARTS,
    # The tariff each submitted line was priced at (its "from" date is shown).
    joinedload(Claim.lines).joinedload(ClaimLine.tariff),
    joinedload(Claim.evidence).joinedload(ClaimEvidence.uploaded_by),
)
#: The claim's answers and its scheme's questions, a plain query each (joined, a claim of 4
#: lines, 6 answers and 3 files would be 72 rows; ``selectinload`` cost 1.3 ms more a claim
#: page than these two, docs/benchmarks.md), in the relationships' own order.
_ANSWERS = (
    select(ClaimAnswer)
    .where(ClaimAnswer.claim_id == bindparam("claim_id"))
    .order_by(ClaimAnswer.id)
)
_QUESTIONS = (
    select(SupplementaryQuestion)
    .where(SupplementaryQuestion.scheme_id == bindparam("scheme_id"))
    .order_by(SupplementaryQuestion.display_order, SupplementaryQuestion.id)
)


def _read_answers_and_questions(session: DbSession, claim: Claim) -> None:
    """Fill in ``claim.answers`` and ``claim.scheme.questions`` as if loaded with the claim;
    a collection this session has already loaded (and may have changed) is left as it is."""
    if "answers" in inspect(claim).unloaded:
        answers = list(session.scalars(_ANSWERS, {"claim_id": claim.id}))
        set_committed_value(claim, "answers", answers)
    if "questions" in inspect(claim.scheme).unloaded:
        questions = list(session.scalars(_QUESTIONS, {"scheme_id": claim.scheme_id}))
        set_committed_value(claim.scheme, "questions", questions)


def get_claim(session: DbSession, claim_id: int, user: User, *, whole: bool = False) -> Claim:
    """The claim, if ``user`` may see it; else :class:`ClaimNotFound`.

    Its provider, scheme, window, and its lines with their components come in one query
    (every claim page and step reads them); ``whole`` adds what only the claim page shows
    (the lines' tariffs and the evidence in the same query; answers and questions in one
    more each)."""
    claim = session.get(Claim, claim_id, options=_CLAIM_FOR_PAGE if whole else _CLAIM_WITH_PARTS)
    if claim is None:
        raise ClaimNotFound(claim_id)
    ensure_can_view(user, claim)
    if whole:
        _read_answers_and_questions(session, claim)
    return claim
