"""Emails about claims, queued in the same unit of work as the step that causes them.

- A claim waiting for someone (provider approval, tier 1, tier 2, finance): everyone who may
  take that step (``CLAIM_TO_APPROVE``), except people separation of duties stops.
- A claim returned, declined or approved for payment: the provider's users
  (``CLAIM_OUTCOME``), with the reason when there is one.

The person who took the step is never emailed about it. Everyone's notification preferences
apply (``mail.services.enqueue_many``: one query for the preferences of everyone told, one
insert for their emails); an approver who chose one email a day for claims waiting for them
gets a line in their next daily email instead (``mail.services.digests``). A bulk approval
passes one :class:`Audience` for all its claims, so who may act next and their preferences
are looked up once, not once a claim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders_in
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services._common import holders
from claims_portal.db import DbSession
from claims_portal.formatting import money
from claims_portal.mail.kinds import Delivery, EmailKind
from claims_portal.mail.services import DigestEntry, Outgoing, deliveries, enqueue_many
from claims_portal.organisations.models import Organisation

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


def claim_path(claim: Claim) -> str:
    return f"/claims/{claim.id}"


def claim_url(base_url: str, claim: Claim) -> str:
    return f"{base_url.rstrip('/')}{claim_path(claim)}"


def _describe(claim: Claim) -> str:
    value = f" worth {money(claim.value)}" if claim.value is not None else ""
    return (
        f"{claim.reference}, {claim.provider.display_name}'s claim{value} under "
        f"{claim.scheme.name} for {claim.period_label}"
    )


@dataclass
class Audience:
    """Who may be told about claims, and whether they want each kind of email, looked up once
    for many claims in one unit of work (a bulk approval): people's roles and preferences do
    not change while it runs. Without one, :func:`notify` looks them up for each claim.

    ``organisations`` (the providers of the claims) are looked up together the first time
    any of them is asked about for a capability."""

    organisations: list[Organisation] = field(default_factory=list)
    _holders: dict[tuple[int, Capability], list[User]] = field(default_factory=dict)
    _wants: dict[tuple[int, EmailKind], Delivery] = field(default_factory=dict)

    def holders(
        self, session: DbSession, organisation: Organisation, capability: Capability
    ) -> list[User]:
        key = (organisation.id, capability)
        if key not in self._holders:
            wanted = {
                o.id: o for o in self.organisations if (o.id, capability) not in self._holders
            }
            wanted[organisation.id] = organisation
            found = holders_in(session, wanted.values(), capability)
            self._holders.update(((org_id, capability), people) for org_id, people in found.items())
        return self._holders[key]

    def deliveries(
        self, session: DbSession, people: list[User], kind: EmailKind
    ) -> dict[int, Delivery]:
        unknown = {p.id for p in people if (p.id, kind) not in self._wants}
        if unknown:
            found = deliveries(session, unknown, kind)
            self._wants.update(((user_id, kind), how) for user_id, how in found.items())
        return {p.id: self._wants[(p.id, kind)] for p in people}


def _send(
    session: DbSession,
    people: Iterable[User],
    kind: EmailKind,
    subject: str,
    body_for: str,
    *,
    skip: set[int],
    audience: Audience | None,
    may_act: Callable[[User], bool] = lambda person: True,
    digest: DigestEntry | None = None,
) -> int:
    chosen = [p for p in people if p.id not in skip and may_act(p)]
    if not chosen:
        return 0
    how = (
        audience.deliveries(session, chosen, kind)
        if audience is not None
        else deliveries(session, {p.id for p in chosen}, kind)
    )
    wanted = {user_id for user_id, d in how.items() if d is not Delivery.OFF}
    daily = {user_id for user_id, d in how.items() if d is Delivery.DIGEST}
    outgoing = [
        Outgoing(person, subject, f"Dear {person.full_name},\n\n{body_for}{SIGN_OFF}")
        for person in chosen
        if person.id in wanted
    ]
    queued = enqueue_many(session, outgoing, kind, wanted=wanted, daily=daily, digest=digest)
    return len(queued)


def notify(
    session: DbSession,
    claim: Claim,
    *,
    actor: User | None,
    reason: str | None,
    may_act: Callable[[User], bool],
    base_url: str,
    audience: Audience | None = None,
) -> int:
    """Queue the emails for the status ``claim`` has just reached; returns how many.

    ``may_act(person)`` is False for someone separation of duties stops at the next step.
    ``audience`` (a bulk approval's) keeps who may act and their preferences between claims.
    """
    find = audience.holders if audience is not None else holders
    link = claim_url(base_url, claim)
    skip = {actor.id} if actor is not None else set()
    status = claim.status
    if status in WAITING_FOR:
        capability, step = WAITING_FOR[status]
        people = find(session, claim.provider, capability)
        return _send(
            session,
            people,
            EmailKind.CLAIM_TO_APPROVE,
            f"Claim {claim.reference} is waiting for {step.split(' before')[0]}",
            f"{_describe(claim)} is waiting for {step}.\n\nOpen the claim:\n{link}",
            skip=skip,
            audience=audience,
            may_act=may_act,
            digest=DigestEntry(f"{_describe(claim)} is waiting for {step}.", claim_path(claim)),
        )
    if status in OUTCOMES:
        people = find(session, claim.provider, Capability.VIEW_PROVIDER_CLAIMS)
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
            audience=audience,
        )
    return 0
