"""Bulk approval: one approver (a practice's provider approver, or a commissioner at tier 1,
tier 2 or finance) approving many claims at once, each on its own merits.

Every claim goes through :func:`~.lifecycle.transition` - the same row lock, version check,
capability check and separation of duties as the claim page - inside its own savepoint, so
a claim that cannot be approved is reported with the reason and the others go ahead. The
view commits once at the end.

**Locks, in one order.** Before the first transition the claims are locked together
(``SELECT ... FOR UPDATE`` by ascending id). Two people approving overlapping selections then
queue on the same first row instead of each holding rows the other wants; and no row is
waited for after the audit trail's chain lock (taken by the first audited step and held to
commit) has been taken, which could otherwise deadlock with a single-claim step. The person
who comes second finds the claims already approved: they are reported as not approved,
saying who approved them and when.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import PermissionDenied, has_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import Claim, ClaimAction, ClaimStatus
from claims_portal.claims.services._common import (
    ClaimConflict,
    ClaimError,
    ClaimNotFound,
    ClaimRefused,
    can_view,
)
from claims_portal.claims.services.lifecycle import transition
from claims_portal.claims.services.notifications import Audience
from claims_portal.claims.services.settings import ClaimsSettings
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation

#: Most claims one bulk approval takes (a filter matching more takes the first ones).
MAX_BULK = 500


@dataclass(frozen=True)
class BulkStep:
    action: ClaimAction
    capability: Capability
    from_status: ClaimStatus
    label: str


#: The approvals that can be given in bulk, in the order the page offers them.
BULK_STEPS: tuple[BulkStep, ...] = (
    # The practice's own list: a provider approver's claims awaiting provider approval.
    BulkStep(
        ClaimAction.PROVIDER_APPROVE,
        Capability.APPROVE_CLAIM_PROVIDER,
        ClaimStatus.AWAITING_PROVIDER_APPROVAL,
        "Approve for the practice",
    ),
    BulkStep(
        ClaimAction.TIER_1_APPROVE,
        Capability.APPROVE_CLAIM_TIER_1,
        ClaimStatus.AWAITING_COMMISSIONER_REVIEW,
        "Approve at tier 1",
    ),
    BulkStep(
        ClaimAction.TIER_2_APPROVE,
        Capability.APPROVE_CLAIM_TIER_2,
        ClaimStatus.AWAITING_PAYMENT_APPROVAL,
        "Approve for payment (tier 2)",
    ),
    BulkStep(
        ClaimAction.FINANCE_APPROVE,
        Capability.APPROVE_CLAIM_FINANCE,
        ClaimStatus.AWAITING_FINANCE_APPROVAL,
        "Approve (finance)",
    ),
)


def step_for(action: ClaimAction) -> BulkStep | None:
    return next((s for s in BULK_STEPS if s.action is action), None)


def steps_for(user: User, organisation: Organisation) -> list[BulkStep]:
    """The bulk approvals ``user`` may give acting for ``organisation``."""
    return [s for s in BULK_STEPS if has_capability(user, s.capability, organisation)]


class Failure(enum.StrEnum):
    """Why a claim was not approved, as the result page groups it."""

    CONFLICT = "Changed by someone else"
    WRONG_STATUS = "Not at this step"
    DUTIES = "Separation of duties"
    NOT_PERMITTED = "Not permitted"
    NOT_FOUND = "Not found"
    INVALID = "Cannot be approved"


@dataclass(frozen=True)
class Outcome:
    claim_id: int
    reference: str
    approved: bool
    #: The claim's status after the attempt (None when the claim is not visible).
    status: ClaimStatus | None = None
    failure: Failure | None = None
    reason: str | None = None


@dataclass
class BulkResult:
    action: ClaimAction
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def approved(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.approved]

    @property
    def not_approved(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.approved]


def checked_selection(
    action: ClaimAction, targets: Sequence[tuple[int, int]]
) -> tuple[BulkStep, dict[int, int]]:
    """The step of ``action`` and each claim's version seen (the first given for a claim
    listed twice). Raises ``ValueError`` for an action that cannot be given in bulk or more
    than :data:`MAX_BULK` claims."""
    step = step_for(action)
    if step is None:
        raise ValueError(f"{action} cannot be given in bulk")
    versions: dict[int, int] = {}
    for claim_id, version in targets:
        versions.setdefault(claim_id, version)
    if len(versions) > MAX_BULK:
        raise ValueError(f"at most {MAX_BULK} claims can be approved at once")
    return step, versions


def lock_in_order(session: DbSession, claim_ids: Sequence[int]) -> dict[int, Claim]:
    """Lock every claim of the selection, by ascending id (see the module doc)."""
    claims = session.scalars(
        select(Claim)
        .where(Claim.id.in_(list(claim_ids)))
        .order_by(Claim.id)
        .with_for_update(of=Claim)
        .options(selectinload(Claim.provider))  # not locked; read once for all the claims
        .execution_options(populate_existing=True)
    ).all()
    return {claim.id: claim for claim in claims}


def bulk_approve(
    session: DbSession,
    actor: User,
    action: ClaimAction,
    targets: Sequence[tuple[int, int]],
    *,
    base_url: str = "",
    settings: ClaimsSettings | None = None,
) -> BulkResult:
    """Approve each ``(claim id, version seen)`` of ``targets`` with ``action`` (flushes).
    ``settings`` is needed to approve at tier 2 (it may route claims to finance).

    Raises ``ValueError`` for an action that cannot be given in bulk or more than
    :data:`MAX_BULK` claims. Nothing else raises: each claim's refusal becomes an
    :class:`Outcome`. The caller commits (one commit for all) and audits nothing more: each
    approval is audited by the transition and the summary here.
    """
    step, versions = checked_selection(action, targets)
    ordered = sorted(versions)
    locked = lock_in_order(session, ordered)
    result = BulkResult(action)
    # Who to tell next and their preferences: looked up once for all the claims.
    audience = Audience(list({c.provider_id: c.provider for c in locked.values()}.values()))
    for claim_id in ordered:
        result.outcomes.append(
            _approve_one(
                session,
                actor,
                step,
                claim_id,
                versions[claim_id],
                locked.get(claim_id),
                base_url,
                settings,
                audience,
            )
        )
    record_event(
        session,
        action="claim.bulk_approved",
        object_type="claim_bulk_approval",
        object_id=action.name.lower(),
        actor=actor,
        after={
            "action": action.name,
            "approved": [o.claim_id for o in result.approved],
            "not_approved": {str(o.claim_id): o.failure for o in result.not_approved},
        },
    )
    return result


def _approve_one(
    session: DbSession,
    actor: User,
    step: BulkStep,
    claim_id: int,
    version: int,
    claim: Claim | None,
    base_url: str,
    settings: ClaimsSettings | None,
    audience: Audience,
) -> Outcome:
    reference = f"CLM-{claim_id:06d}"
    failure: Failure
    try:
        with session.begin_nested():
            transition(
                session,
                claim_id,
                step.action,
                actor,
                expected_version=version,
                base_url=base_url,
                settings=settings,
                audience=audience,
            )
    except ClaimNotFound:
        return Outcome(claim_id, reference, False, None, Failure.NOT_FOUND, "No such claim")
    except PermissionDenied:
        failure, reason = Failure.NOT_PERMITTED, "You may not give this approval for this claim"
    except ClaimConflict as error:
        moved_on = claim is not None and claim.version != version
        failure = Failure.CONFLICT if moved_on else Failure.WRONG_STATUS
        reason = error.messages[0]
    except ClaimRefused as error:
        failure, reason = Failure.DUTIES, error.messages[0]
    except ClaimError as error:
        failure, reason = Failure.INVALID, "; ".join(error.messages)
    else:
        assert claim is not None
        return Outcome(claim_id, reference, True, claim.status)
    status = claim.status if claim is not None else None
    return Outcome(claim_id, reference, False, status, failure, reason)


# --- The confirmation before a bulk approval -----------------------------------------------


@dataclass(frozen=True)
class Selected:
    """A claim of a bulk approval as the confirmation shows it, with its value now."""

    claim_id: int
    reference: str
    provider: str
    value: Decimal | None
    #: The version selected (from the list, or now for "all on this filter").
    version: int
    #: Changed since it was selected (another version, or no longer at the step): it will
    #: be reported as not approved, saying why.
    changed: bool


@dataclass
class Selection:
    action: ClaimAction
    items: list[Selected] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((item.value or Decimal(0) for item in self.items), Decimal(0))


def selection(
    session: DbSession, actor: User, action: ClaimAction, targets: Sequence[tuple[int, int]]
) -> Selection:
    """The claims of ``targets`` that ``actor`` may see, how many and their total value, for
    the confirmation before :func:`bulk_approve`. Reads only; claims the actor may not see
    are left out (they would not be found). Raises ``ValueError`` as :func:`bulk_approve`."""
    step, versions = checked_selection(action, targets)
    claims = session.scalars(
        select(Claim)
        .where(Claim.id.in_(list(versions)))
        .options(selectinload(Claim.provider))
        .order_by(Claim.id)
    ).all()
    result = Selection(action)
    for claim in claims:
        if not can_view(actor, claim):
            continue
        seen = versions[claim.id]
        changed = claim.version != seen or claim.status is not step.from_status
        result.items.append(
            Selected(claim.id, claim.reference, claim.provider.name, claim.value, seen, changed)
        )
    return result
