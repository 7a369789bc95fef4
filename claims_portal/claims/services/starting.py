"""Starting a claim: only in an open window of a scheme the provider has accepted.

A new claim is a Draft row at once (its claim ID exists from the start). **One live claim
per provider, scheme and period** (withdrawn claims do not count), with two refinements:

- a scheme that does not allow multi-service claims and has several components is claimed
  one component (service) at a time, so the rule is one live claim per component and period;
- an ad hoc scheme has one period for the whole scheme and takes as many claims as needed.

The database enforces the rule too (partial unique index ``uq_claim_live_scope``), so two
people starting the same claim at once cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ensure_capability
from claims_portal.audit.services import record_event
from claims_portal.claims.models import (
    WHOLE_SCHEME_SCOPE,
    Claim,
    ClaimAction,
    ClaimEvent,
    ClaimLine,
    ClaimStatus,
    component_scope,
)
from claims_portal.claims.services._common import ClaimError, Problem
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.organisations.services import commissioners_of
from claims_portal.schemes.models import (
    ClaimFrequency,
    ClaimWindow,
    Component,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services import SchemeError
from claims_portal.schemes.services import offers as offer_services


def claimed_one_service_at_a_time(scheme: Scheme) -> bool:
    """Whether each claim under ``scheme`` is for one component (see the module doc)."""
    return (
        not scheme.multi_service_claims
        and not scheme.participation_only
        and len(scheme.components) > 1
    )


def scope_for(scheme: Scheme, component: Component | None) -> str | None:
    if scheme.claim_frequency is ClaimFrequency.AD_HOC:
        return None
    if claimed_one_service_at_a_time(scheme):
        assert component is not None
        return component_scope(component.id)
    return WHOLE_SCHEME_SCOPE


def live_claims(
    session: DbSession, provider: Organisation, scheme: Scheme, period_start: dt.date
) -> list[Claim]:
    """The provider's claims under ``scheme`` for the period, except withdrawn ones."""
    return list(
        session.scalars(
            select(Claim)
            .where(
                Claim.provider_id == provider.id,
                Claim.scheme_id == scheme.id,
                Claim.period_start == period_start,
                Claim.status != ClaimStatus.WITHDRAWN,
            )
            .order_by(Claim.id)
        )
    )


def blocking_claim(
    session: DbSession,
    provider: Organisation,
    scheme: Scheme,
    period_start: dt.date,
    scope: str | None,
) -> Claim | None:
    """A live claim a new claim of ``scope`` would duplicate."""
    if scope is None:
        return None
    for claim in live_claims(session, provider, scheme, period_start):
        if claim.scope is None:
            continue
        if scope == WHOLE_SCHEME_SCOPE or claim.scope in (scope, WHOLE_SCHEME_SCOPE):
            return claim
    return None


@dataclass
class StartOption:
    """A window the provider can claim in today, and what it already claimed there."""

    scheme: Scheme
    window: ClaimWindow
    #: Components still open to a claim (single-service schemes); empty otherwise.
    components: list[Component] = field(default_factory=list)
    #: The live claims for the period (linked from the page).
    existing: list[Claim] = field(default_factory=list)
    #: False when every possible claim for the period exists already.
    available: bool = True


def start_options(session: DbSession, provider: Organisation, today: dt.date) -> list[StartOption]:
    """Every open window of every scheme the provider has accepted, with what is left."""
    offers = session.scalars(
        select(Offer)
        .join(Scheme, Scheme.id == Offer.scheme_id)
        .where(
            Offer.provider_id == provider.id,
            Offer.status == OfferStatus.ACTIVE,
            Scheme.status == SchemeStatus.PUBLISHED,
        )
        .order_by(Scheme.name)
    ).all()
    options = []
    for offer in offers:
        scheme = offer.scheme
        for window in scheme.windows:
            if not window.is_open_on(today):
                continue
            existing = live_claims(session, provider, scheme, window.period_start)
            option = StartOption(scheme, window, existing=existing)
            if claimed_one_service_at_a_time(scheme):
                option.components = [
                    c
                    for c in scheme.components
                    if blocking_claim(
                        session, provider, scheme, window.period_start, component_scope(c.id)
                    )
                    is None
                ]
                option.available = bool(option.components)
            elif scheme.claim_frequency is not ClaimFrequency.AD_HOC:
                option.available = not any(c.scope is not None for c in existing)
            options.append(option)
    return options


def start_claim(
    session: DbSession,
    provider: Organisation,
    scheme: Scheme,
    window: ClaimWindow,
    actor: User,
    today: dt.date,
    *,
    component: Component | None = None,
) -> Claim:
    """Open a Draft claim (flushes: the claim has its id and reference on return).

    ``component`` chooses the service of a scheme claimed one component at a time. Raises
    ``PermissionDenied`` without ``CREATE_CLAIM`` on the provider, and :class:`ClaimError`
    when the offer is not active, the scheme not published, the window not open today, or a
    claim for the period exists (``existing_claim_id`` set).
    """
    scope, components = _ensure_can_start(
        session, provider, scheme, window, actor, today, component
    )
    now = utcnow()
    path = commissioners_of(provider)
    claim = Claim(
        provider_id=provider.id,
        icb_id=path.icb_id,
        sub_location_id=path.sub_location_id,
        scheme_id=scheme.id,
        window_id=window.id,
        period_start=window.period_start,
        period_end=window.period_end,
        scope=scope,
        status=ClaimStatus.DRAFT,
        version=1,
        round=1,
        created_by_id=actor.id,
        status_changed_at=now,
        updated_at=now,
        updated_by_id=actor.id,
    )
    if not scheme.participation_only:
        claim.lines = [ClaimLine(component_id=c.id) for c in components]
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        # Someone started the same claim a moment ago (the partial unique index).
        existing = blocking_claim(session, provider, scheme, window.period_start, scope)
        if existing is None:
            raise
        raise _duplicate(provider, scheme, window, existing) from None
    session.add(
        ClaimEvent(
            claim_id=claim.id,
            round=1,
            action=ClaimAction.START,
            from_status=None,
            to_status=ClaimStatus.DRAFT,
            actor_id=actor.id,
            version=1,
            occurred_at=now,
        )
    )
    session.flush()
    record_event(
        session,
        action="claim.started",
        object_type="claim",
        object_id=claim.id,
        actor=actor,
        organisation=provider,
        after={
            "reference": claim.reference,
            "scheme": scheme.code,
            "period_start": window.period_start,
            "scope": scope,
            "status": ClaimStatus.DRAFT,
        },
    )
    return claim


def _ensure_can_start(
    session: DbSession,
    provider: Organisation,
    scheme: Scheme,
    window: ClaimWindow,
    actor: User,
    today: dt.date,
    component: Component | None,
) -> tuple[str | None, list[Component]]:
    """(scope, components) of the claim to start; raises as :func:`start_claim` says."""
    ensure_capability(actor, Capability.CREATE_CLAIM, provider)
    if window.scheme_id != scheme.id:
        raise ClaimError("That claim period is not one of this scheme's")
    try:
        offer_services.ensure_claim_can_start(session, scheme, provider, window.period_start, today)
    except SchemeError as error:
        raise ClaimError(error.problems) from None
    one_service = claimed_one_service_at_a_time(scheme)
    if one_service and (component is None or component.scheme_id != scheme.id):
        raise ClaimError(Problem("Select the service you are claiming for", "component"))
    scope = scope_for(scheme, component)
    existing = blocking_claim(session, provider, scheme, window.period_start, scope)
    if existing is not None:
        raise _duplicate(provider, scheme, window, existing)
    if one_service and component is not None:
        return scope, [component]
    return scope, list(scheme.components)


def _duplicate(
    provider: Organisation, scheme: Scheme, window: ClaimWindow, existing: Claim
) -> ClaimError:
    what = (
        f"for {existing.lines[0].component.name} "
        if existing.scope and existing.scope.startswith("component:") and existing.lines
        else ""
    )
    rule = "each service is claimed once a period" if what else "a scheme takes one claim a period"
    return ClaimError(
        f"{provider.name} already has a claim {what}under {scheme.code} for "
        f"{window.period_label}: {existing.reference} ({existing.status.value.lower()}). "
        f"Open that claim instead: {rule}.",
        existing_claim_id=existing.id,
    )
