"""Emails about claims, queued in the same unit of work as the step that causes them.

- A claim waiting for someone (provider approval, tier 1, tier 2, finance): everyone who may
  take that step (``CLAIM_TO_APPROVE``), except people separation of duties stops.
- A claim returned, declined or approved for payment: the provider's users
  (``CLAIM_OUTCOME``), with the reason when there is one.

The person who took the step is never emailed about it. Everyone's notification preferences
apply (``mail.services.enqueue``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services._common import holders
from claims_portal.db import DbSession
from claims_portal.formatting import money
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import enqueue

SIGN_OFF = "\n\nClaims portal\nThis is an automatic email: replies are not read."

#: Who acts on a claim in each waiting status, and how the email names the step.
WAITING_FOR: dict[ClaimStatus, tuple[Capability, str]] = {
    ClaimStatus.AWAITING_PROVIDER_APPROVAL: (
        Capability.APPROVE_CLAIM_PROVIDER,
        "your approval before it goes to the commissioner",
    ),
    ClaimStatus.AWAITING_COMMISSIONER_REVIEW: (
        Capability.APPROVE_CLAIM_TIER_1,
        "commissioner review (tier 1)",
    ),
    ClaimStatus.AWAITING_PAYMENT_APPROVAL: (
        Capability.APPROVE_CLAIM_TIER_2,
        "payment approval (tier 2)",
    ),
    ClaimStatus.AWAITING_FINANCE_APPROVAL: (
        Capability.APPROVE_CLAIM_FINANCE,
        "finance approval",
    ),
}

OUTCOMES = frozenset(
    {ClaimStatus.RETURNED_BY_PROVIDER, ClaimStatus.DECLINED, ClaimStatus.APPROVED_FOR_PAYMENT}
)


def claim_url(base_url: str, claim: Claim) -> str:
    return f"{base_url.rstrip('/')}/claims/{claim.id}"


def _describe(claim: Claim) -> str:
    value = f" worth {money(claim.value)}" if claim.value is not None else ""
    return (
        f"{claim.reference}, {claim.provider.display_name}'s claim{value} under "
        f"{claim.scheme.name} for {claim.period_label}"
    )


def _send(
    session: DbSession,
    people: Iterable[User],
    kind: EmailKind,
    subject: str,
    body_for: str,
    *,
    skip: set[int],
    may_act: Callable[[User], bool] = lambda person: True,
) -> int:
    sent = 0
    for person in people:
        if person.id in skip or not may_act(person):
            continue
        message = enqueue(
            session,
            to=person.email,
            subject=subject,
            body=f"Dear {person.full_name},\n\n{body_for}{SIGN_OFF}",
            kind=kind,
            user=person,
        )
        sent += message is not None
    return sent


def notify(
    session: DbSession,
    claim: Claim,
    *,
    actor: User | None,
    reason: str | None,
    may_act: Callable[[User], bool],
    base_url: str,
) -> int:
    """Queue the emails for the status ``claim`` has just reached; returns how many.

    ``may_act(person)`` is False for someone separation of duties stops at the next step.
    """
    link = claim_url(base_url, claim)
    skip = {actor.id} if actor is not None else set()
    status = claim.status
    if status in WAITING_FOR:
        capability, step = WAITING_FOR[status]
        people = holders(session, claim.provider, capability)
        return _send(
            session,
            people,
            EmailKind.CLAIM_TO_APPROVE,
            f"Claim {claim.reference} is waiting for {step.split(' before')[0]}",
            f"{_describe(claim)} is waiting for {step}.\n\nOpen the claim:\n{link}",
            skip=skip,
            may_act=may_act,
        )
    if status in OUTCOMES:
        people = holders(session, claim.provider, Capability.VIEW_PROVIDER_CLAIMS)
        if status is ClaimStatus.APPROVED_FOR_PAYMENT:
            subject = f"Claim {claim.reference} is approved for payment"
            text = f"{_describe(claim)} is approved for payment."
        else:
            who = (
                "the practice's provider approver"
                if status is ClaimStatus.RETURNED_BY_PROVIDER
                else claim.scheme.commissioner.name
            )
            verb = "returned" if status is ClaimStatus.RETURNED_BY_PROVIDER else "declined"
            subject = f"Claim {claim.reference} was {verb}"
            text = (
                f"{_describe(claim)} was {verb} by {who}.\n\nThe reason given:\n{reason}\n\n"
                "Change the claim and submit it again, or withdraw it."
            )
        return _send(
            session,
            people,
            EmailKind.CLAIM_OUTCOME,
            subject,
            f"{text}\n\nOpen the claim:\n{link}",
            skip=skip,
        )
    return 0
