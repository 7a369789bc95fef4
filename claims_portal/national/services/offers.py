"""Offers of national quality services to providers, and the providers' answers (flush
only; the request's unit of work commits).

An offer's life is the table ``machines.OFFER``: a commissioner (an ICB for the providers
under it, or the national commissioner for all) offers a service to providers one by one,
by selection or all at once (Offered); the provider's Service management people accept
(Approved) or reject it with a reason (Rejected); the commissioner withdraws an offer not yet
answered (Withdrawn) or cancels an answered one with a reason (Cancelled). :func:`take_step`
is the one way a step is taken: it locks the offer, reads it afresh and re-checks the status,
so that of a provider accepting while the commissioner withdraws exactly one wins and the
other is told who got there first (:class:`OfferConflict`); nothing of theirs is recorded.

PCN services (``ProviderLevel.NETWORK``) are offered to the PCN as a whole. When the PCN
accepts, each member practice (its ``NetworkMembership`` overlapping the offer's dates) gets
an offer that follows the PCN's (``network_offer_id``; Approved, for the dates it is a
member), which cannot be answered or cancelled on its own; cancelling the PCN's ends theirs.
Services configured as automatically accepted are Approved as they are offered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.services.permissions import ensure_capability, has_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event, lock
from claims_portal.formatting import long_date
from claims_portal.national.models import (
    LIVE_OFFER_STATUSES,
    OfferStatus,
    ProviderLevel,
    QualityService,
    ServiceOffer,
)
from claims_portal.national.services.machines import COMMISSIONER, OFFER, PROVIDER, OfferStep
from claims_portal.national.services.offer_notices import tell_of_step
from claims_portal.organisations.models import NetworkMembership, Organisation, OrganisationKind
from claims_portal.rules import Problem, RuleError
from claims_portal.statemachine import lock_for, set_status

#: The longest reason kept.
REASON_LENGTH = 1000


class OfferError(RuleError):
    """An offer rule was broken; nothing was changed."""


class OfferConflict(OfferError):
    """Someone else moved the offer first; the message says who and when."""

    status_code = 409


# --- Who reaches whom -----------------------------------------------------------------------


def provider_kind(service: QualityService) -> OrganisationKind:
    """Practices for practice services, PCNs for PCN services."""
    if service.provider_level is ProviderLevel.NETWORK:
        return OrganisationKind.PCN
    return OrganisationKind.GP_PRACTICE


def reaches(commissioner: Organisation, provider: Organisation) -> bool:
    """Whether ``commissioner`` commissions ``provider``: the national commissioner reaches
    every provider, an ICB (or sub-location) those under it (``Organisation.parent``)."""
    if commissioner.kind is OrganisationKind.NATIONAL_COMMISSIONER:
        return True
    node: Organisation | None = provider.parent
    seen: set[int] = set()
    while node is not None and node.id not in seen:
        if node.id == commissioner.id:
            return True
        seen.add(node.id)
        node = node.parent
    return False


def _descendant_ids(commissioner: Organisation) -> Select[tuple[int]]:
    """Ids of the organisations under ``commissioner`` (a recursive query)."""
    tree = (
        select(Organisation.id)
        .where(Organisation.parent_id == commissioner.id)
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(select(Organisation.id).where(Organisation.parent_id == tree.c.id))
    return select(tree.c.id)


def providers_for(
    session: DbSession,
    service: QualityService,
    commissioner: Organisation,
    *,
    within: Organisation | None = None,
) -> list[Organisation]:
    """The providers ``commissioner`` may offer ``service`` to (practices or PCNs, open at
    some time in the service's dates, by name), whether or not they have an offer already;
    only those under ``within`` when given (the national commissioner offering to one ICB's
    practices)."""
    statement = select(Organisation).where(
        Organisation.kind == provider_kind(service),
        Organisation.active_from <= service.end_date,
        or_(Organisation.active_to.is_(None), Organisation.active_to >= service.start_date),
    )
    if commissioner.kind is not OrganisationKind.NATIONAL_COMMISSIONER:
        statement = statement.where(Organisation.id.in_(_descendant_ids(commissioner)))
    if within is not None:
        statement = statement.where(Organisation.id.in_(_descendant_ids(within)))
    return list(session.scalars(statement.order_by(Organisation.name, Organisation.id)))


def icbs(session: DbSession) -> list[Organisation]:
    """Every ICB, by name (the national commissioner offers to one ICB's providers)."""
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.ICB)
            .order_by(Organisation.name, Organisation.id)
        )
    )


def live_offer_provider_ids(session: DbSession, service: QualityService) -> set[int]:
    return set(
        session.scalars(
            select(ServiceOffer.provider_id).where(
                ServiceOffer.service_id == service.id,
                ServiceOffer.status.in_(LIVE_OFFER_STATUSES),
            )
        )
    )


def may_manage(user: User, offer: ServiceOffer) -> bool:
    return has_capability(user, COMMISSIONER, offer.commissioner)


def may_answer(user: User, offer: ServiceOffer) -> bool:
    return has_capability(user, PROVIDER, offer.provider)


# --- Offering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferDates:
    start_date: dt.date
    end_date: dt.date
    response_date: dt.date | None = None


def check_dates(service: QualityService, dates: OfferDates) -> None:
    """The offer's dates lie within the service's; the response date is not after the end."""
    problems = []
    if dates.start_date < service.start_date:
        problems.append(
            (f"The start date must be on or after {long_date(service.start_date)}", "start_date")
        )
    if dates.end_date > service.end_date:
        problems.append(
            (f"The end date must be on or before {long_date(service.end_date)}", "end_date")
        )
    if dates.end_date < dates.start_date:
        problems.append(("The end date must be on or after the start date", "end_date"))
    if dates.response_date is not None and dates.response_date > dates.end_date:
        problems.append(("The response date must be on or before the end date", "response_date"))
    if problems:
        raise OfferError([Problem(message, field) for message, field in problems])


def default_dates(service: QualityService) -> OfferDates:
    return OfferDates(service.start_date, service.end_date, service.response_date)


def offer_service(
    session: DbSession,
    service: QualityService,
    providers: Sequence[Organisation],
    *,
    commissioner: Organisation,
    actor: User,
    dates: OfferDates | None = None,
    base_url: str | None = None,
) -> list[ServiceOffer]:
    """Offer ``service`` to each of ``providers`` (Offered; Approved at once for services
    accepted automatically, a PCN's members following), telling each provider.

    Refused as a whole (:class:`OfferError`) when a provider is not under ``commissioner``,
    is not of the service's level, or already has a live offer of the service."""
    ensure_capability(actor, COMMISSIONER, commissioner)
    if not commissioner.kind.is_commissioner:
        raise OfferError("Only commissioners offer national services")
    if not providers:
        raise OfferError("Choose at least one provider to offer the service to", field="provider")
    dates = dates or default_dates(service)
    check_dates(service, dates)
    # Offers of one service are made one at a time (two commissioners offering the same
    # practice at once: the second is refused, not an error page).
    lock(session, QualityService, service.id)
    live = live_offer_provider_ids(session, service)
    kind = provider_kind(service)
    problems = []
    for provider in providers:
        if provider.kind is not kind:
            problems.append(
                f"{service.name} is offered to {kind.in_sentence}s, not to {provider.display_name}"
            )
        elif not reaches(commissioner, provider):
            problems.append(f"{provider.display_name} is not commissioned by {commissioner.name}")
        elif provider.id in live:
            problems.append(f"{provider.display_name} already has an offer of {service.name}")
    if problems:
        raise OfferError(problems, field="provider")
    made = []
    for provider in providers:
        offer = _create(session, service, provider, commissioner, dates, actor=actor)
        if service.automatically_accepted:
            take_step(session, offer, "accept_automatically", actor=actor, base_url=base_url)
        else:
            tell_of_step(
                session, offer, OFFER.created, "provider", actor=actor, reason=None,
                base_url=base_url,
            )  # fmt: skip
        made.append(offer)
    return made


def offer_to_all(
    session: DbSession,
    service: QualityService,
    *,
    commissioner: Organisation,
    actor: User,
    dates: OfferDates | None = None,
    within: Organisation | None = None,
    base_url: str | None = None,
) -> list[ServiceOffer]:
    """Offer ``service`` to every provider under ``commissioner`` (and ``within``) that has
    no live offer."""
    live = live_offer_provider_ids(session, service)
    providers = [
        p for p in providers_for(session, service, commissioner, within=within) if p.id not in live
    ]
    if not providers:
        raise OfferError(f"Every provider already has an offer of {service.name}")
    return offer_service(
        session, service, providers, commissioner=commissioner, actor=actor, dates=dates,
        base_url=base_url,
    )  # fmt: skip


def _create(
    session: DbSession,
    service: QualityService,
    provider: Organisation,
    commissioner: Organisation,
    dates: OfferDates,
    *,
    actor: User | None,
    network_offer: ServiceOffer | None = None,
) -> ServiceOffer:
    offer = ServiceOffer(
        service=service,
        provider=provider,
        commissioner=commissioner,
        status=OFFER.initial,
        start_date=dates.start_date,
        end_date=dates.end_date,
        response_date=dates.response_date,
        network_offer=network_offer,
        offered_by_id=actor.id if actor is not None else None,
        offered_at=utcnow(),
    )
    session.add(offer)
    session.flush()
    _audit(session, OFFER.action(OFFER.created), offer, actor, None, None)
    return offer


# --- Steps ----------------------------------------------------------------------------------


def _audit(
    session: DbSession,
    action: str,
    offer: ServiceOffer,
    actor: User | None,
    before: OfferStatus | None,
    reason: str | None,
) -> None:
    after = {
        "status": offer.status.name,
        "service": f"{offer.service.code} {offer.service.year_label}",
        "provider": offer.provider.ods_code,
    }
    if before is None:
        after["dates"] = f"{offer.start_date.isoformat()} to {offer.end_date.isoformat()}"
    record_event(
        session,
        action=action,
        object_type=OFFER.object_type,
        object_id=offer.id,
        actor=actor,
        organisation=offer.provider,
        before={"status": before.name} if before is not None else None,
        after=after,
        reason=reason,
    )


def _stale_message(session: DbSession, offer: ServiceOffer, step: OfferStep) -> str:
    """ "Only an offer not yet answered can be accepted; this one was withdrawn by Tom
    Okafor at 14:02. Nothing was changed." """
    event = last_event(session, OFFER.object_type, offer.id, OFFER.actions())
    if event is not None and (event.after or {}).get("status") == offer.status.name:
        done = OFFER.done_for(event.action)
        return f"{step.refusal}; this one was {done}{by_event(event)}. {NOTHING_CHANGED}"
    return f"{step.refusal}; this one is {offer.status.lower()}. {NOTHING_CHANGED}"


def clean_reason(reason: str | None) -> str | None:
    return " ".join((reason or "").split())[:REASON_LENGTH] or None


def take_step(
    session: DbSession,
    offer: ServiceOffer,
    name: str,
    *,
    actor: User | None,
    reason: str | None = None,
    base_url: str | None = None,
) -> ServiceOffer:
    """Take the step ``name`` of ``machines.OFFER`` (the one way an offer's status changes).

    Checks the capability (steps by hand), refuses a member practice's own answer or
    cancellation, locks the offer and re-checks its status (:class:`OfferConflict` says who
    moved it first), then moves it, records the audit event, tells whoever the step tells and
    carries the PCN's members along. Flushes; the caller commits."""
    step = OFFER.step(name)
    assert isinstance(step, OfferStep)
    if step.by_hand:
        assert step.capability is not None
        assert actor is not None
        where = offer.provider if step.capability is PROVIDER else offer.commissioner
        ensure_capability(actor, step.capability, where)
        if offer.network_offer_id is not None:
            raise OfferError(
                f"{offer.provider.display_name} takes part in {offer.service.name} through its "
                f"PCN: only the PCN's offer can be {step.done}. {NOTHING_CHANGED}"
            )
    reason = clean_reason(reason)
    if step.needs_reason and reason is None:
        raise OfferError(f"Enter why the offer is {step.done}", field="reason")
    locked = lock_for(session, ServiceOffer, offer.id)
    assert locked is not None  # offers are never deleted
    offer = locked
    if offer.status not in step.sources:
        raise OfferConflict(_stale_message(session, offer, step))
    before = set_status(offer, step.target)
    if step.records_answer:
        offer.answered_at = utcnow()
        offer.answered_by_id = actor.id if actor is not None and step.by_hand else None
    if reason is not None:
        offer.reason = reason
    offer.version += 1
    session.flush()
    _audit(session, OFFER.action(step), offer, actor, before, reason)
    tell_of_step(
        session, offer, step.done, step.tells, actor=actor, reason=reason, base_url=base_url
    )
    if offer.service.provider_level is ProviderLevel.NETWORK and offer.network_offer_id is None:
        if step.target is OfferStatus.APPROVED:
            _members_follow(session, offer, actor=actor, base_url=base_url)
        elif step.name == "cancel":
            _members_end(session, offer, actor=actor, reason=reason, base_url=base_url)
    return offer


def _members_follow(
    session: DbSession, network_offer: ServiceOffer, *, actor: User | None, base_url: str | None
) -> None:
    """Each member practice of the PCN over the offer's dates gets an offer that follows it
    (Approved, for the dates it is a member). A practice with a live offer of the service
    already (from another PCN it belonged to earlier) keeps that one."""
    memberships = session.scalars(
        select(NetworkMembership)
        .where(
            NetworkMembership.network_id == network_offer.provider_id,
            NetworkMembership.start_date <= network_offer.end_date,
            or_(
                NetworkMembership.end_date.is_(None),
                NetworkMembership.end_date >= network_offer.start_date,
            ),
        )
        .options(joinedload(NetworkMembership.practice))
        .order_by(NetworkMembership.start_date, NetworkMembership.id)
    ).all()
    live = live_offer_provider_ids(session, network_offer.service)
    for membership in memberships:
        if membership.practice_id in live:
            continue
        end = network_offer.end_date
        if membership.end_date is not None:
            end = min(end, membership.end_date)
        dates = OfferDates(max(network_offer.start_date, membership.start_date), end)
        member = _create(
            session, network_offer.service, membership.practice, network_offer.commissioner,
            dates, actor=actor, network_offer=network_offer,
        )  # fmt: skip
        live.add(membership.practice_id)
        take_step(session, member, "follow_network", actor=actor, base_url=base_url)


def member_offers(session: DbSession, network_offer: ServiceOffer) -> list[ServiceOffer]:
    """The offers that follow a PCN's, by practice name."""
    return list(
        session.scalars(
            select(ServiceOffer)
            .join(Organisation, Organisation.id == ServiceOffer.provider_id)
            .where(ServiceOffer.network_offer_id == network_offer.id)
            .order_by(Organisation.name, ServiceOffer.id)
        )
    )


def _members_end(
    session: DbSession,
    network_offer: ServiceOffer,
    *,
    actor: User | None,
    reason: str | None,
    base_url: str | None,
) -> None:
    for member in member_offers(session, network_offer):
        if member.status is OfferStatus.APPROVED:
            take_step(
                session, member, "end_with_network", actor=actor, reason=reason,
                base_url=base_url,
            )  # fmt: skip


def take_steps(
    session: DbSession,
    offers: Iterable[ServiceOffer],
    name: str,
    *,
    actor: User,
    reason: str | None = None,
    base_url: str | None = None,
) -> list[ServiceOffer]:
    """:func:`take_step` on each offer (accepting or rejecting many, withdrawing or
    cancelling a selection), in id order so that two people's selections lock alike; all or
    nothing (the request's unit of work rolls back on a refusal)."""
    chosen = sorted(offers, key=lambda o: o.id)
    if not chosen:
        raise OfferError("Choose at least one offer", field="offers")
    return [
        take_step(session, offer, name, actor=actor, reason=reason, base_url=base_url)
        for offer in chosen
    ]
