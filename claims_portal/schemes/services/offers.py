"""Offers of schemes to providers, and the claim windows a provider sees (flush only).

An offer's life is the table :data:`OFFER` (``claims_portal.statemachine``; drawn in
``docs/architecture.md``): the commissioner offers (Pending); the provider accepts (Active),
rejects (Rejected) and may ask again (Re-requested); the commissioner reissues a rejected or
re-requested offer (Pending), withdraws one not answered (Withdrawn) or cancels an answered
one (Cancelled). :func:`take_step` is the one way a step is taken, audited with the status
before and after.

Withdrawn and cancelled offers stay as history; the scheme may then be offered afresh (a new
offer). Only published schemes are offered and accepted.

Each step locks the scheme's row (shared, so providers answer different offers at once but
not while the scheme is being closed) and then the offer's, reads both afresh and re-checks
the status: of a provider accepting while a colleague rejects, or while the commissioner
withdraws, exactly one wins and the other is told who got there first
(:class:`SchemeConflict`); nothing of theirs is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.roles import Capability, Role
from claims_portal.access.services.permissions import (
    ancestors_and_self,
    ensure_capability,
    holders,
    icb_of,
)
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event
from claims_portal.formatting import long_date
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.schemes.models import (
    ENDED_OFFER_STATUSES,
    ClaimWindow,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services._common import PROVIDER_KINDS, SchemeConflict, SchemeError
from claims_portal.schemes.services.claims_usage import claims_usage
from claims_portal.schemes.services.offer_notices import Told, tell_of_step
from claims_portal.schemes.services.schedule import WindowState, window_state
from claims_portal.statemachine import Machine, Step, lock_for, set_status


def can_offer_to(scheme: Scheme, provider: Organisation) -> bool:
    """Whether the scheme's commissioner (or one it is shared with) commissions ``provider``."""
    chain = {o.id for o in ancestors_and_self(provider)}
    own_icb = icb_of(scheme.commissioner)
    if scheme.commissioner_id in chain or (own_icb is not None and own_icb.id in chain):
        return True
    return any(share.commissioner_id in chain for share in scheme.shares)


def _record(
    session: DbSession,
    offer: Offer,
    verb: str,
    told: Told | None,
    *,
    actor: User,
    before: OfferStatus | None,
    reason: str | None,
    base_url: str | None,
) -> None:
    """What every step does besides moving the status: the audit event, and telling whoever
    the step tells (``offer_notices``: a message centre item and an email each)."""
    _audit(session, OFFER.action(verb), offer, actor, before, reason)
    tell_of_step(session, offer, verb, told, actor=actor, reason=reason, base_url=base_url)


def _audit(
    session: DbSession,
    action: str,
    offer: Offer,
    actor: User,
    before: OfferStatus | None,
    reason: str | None = None,
) -> None:
    record_event(
        session,
        action=action,
        object_type="scheme_offer",
        object_id=offer.id,
        actor=actor,
        organisation=offer.provider,
        before={"status": before.name} if before is not None else None,
        after={
            "status": offer.status.name,
            "scheme": offer.scheme.code,
            "provider": offer.provider.ods_code,
        },
        reason=reason,
    )


def offer_scheme(
    session: DbSession,
    scheme: Scheme,
    provider: Organisation,
    *,
    actor: User,
    base_url: str | None = None,
) -> Offer:
    """Offer a published scheme to a practice, PCN or federation (Pending), and tell the
    provider's people who answer offers.

    A PCN or federation is offered a scheme only when someone there can answer it: a person
    holding a role in it that answers offers (``RESPOND_TO_OFFER``; practice roles held in a
    PCN do not reach its member practices, nor theirs the PCN)."""
    ensure_capability(actor, Capability.CONFIGURE_SCHEMES, provider)
    # Lock the scheme row so two offers to the same provider cannot race, nor an offer and
    # the scheme's closing.
    _lock_scheme(session, scheme, share=False)
    if scheme.status is not SchemeStatus.PUBLISHED:
        raise SchemeError(
            f"Publish {scheme.code} before offering it (it is {scheme.status.lower()})"
        )
    if provider.kind not in PROVIDER_KINDS:
        raise SchemeError("Schemes are offered to practices, PCNs and federations")
    if not can_offer_to(scheme, provider):
        raise SchemeError(f"{scheme.code} is not commissioned for {provider.name}")
    if provider.kind is not OrganisationKind.GP_PRACTICE and not holders(
        session, provider, _PROVIDER
    ):
        raise SchemeError(
            f"Nobody at {provider.name} can answer offers yet: give someone there the role "
            f"“{Role.PROVIDER_USER_SINGLE}” or “{Role.PROVIDER_APPROVER}” in the "
            f"{provider.kind.lower()} first"
        )
    live = session.scalar(
        select(Offer).where(
            Offer.scheme_id == scheme.id,
            Offer.provider_id == provider.id,
            Offer.status.not_in(ENDED_OFFER_STATUSES),
        )
    )
    if live is not None:
        raise SchemeError(
            f"{provider.name} already has this offer ({live.status}); reissue or cancel it instead"
        )
    now = utcnow()
    offer = Offer(
        scheme=scheme,
        provider=provider,
        status=OFFER.initial,
        offered_at=now,
        offered_by_id=actor.id,
        status_changed_at=now,
    )
    session.add(offer)
    session.flush()
    _record(
        session,
        offer,
        OFFER.created,
        CREATION_TELLS,
        actor=actor,
        before=None,
        reason=None,
        base_url=base_url,
    )
    return offer


@dataclass(frozen=True)
class OfferStep(Step[OfferStatus]):
    """A step of an offer's life, with what it does besides moving the status."""

    #: The scheme must still be published (answering, reissuing).
    scheme_published: bool = False
    #: Records who answered and when (accepting, rejecting).
    records_answer: bool = False
    #: Forgets the answer (reissuing: the provider answers afresh).
    clears_answer: bool = False
    #: The reason given replaces the offer's, even by none (accepting, reissuing); other
    #: steps keep the older reason unless a new one is given.
    replaces_reason: bool = False
    #: Who is told (``offer_notices``): the provider, the commissioner, or nobody.
    tells: Told | None = None


P, A_, R, RR, W, C = (
    OfferStatus.PENDING,
    OfferStatus.ACTIVE,
    OfferStatus.REJECTED,
    OfferStatus.RE_REQUESTED,
    OfferStatus.WITHDRAWN,
    OfferStatus.CANCELLED,
)
_PROVIDER = Capability.RESPOND_TO_OFFER
_COMMISSIONER = Capability.CONFIGURE_SCHEMES
#: Making an offer tells the provider.
CREATION_TELLS = Told.PROVIDER

#: An offer's life: every step, where it may start, where it leads and who takes it.
OFFER = Machine(
    object_type="scheme_offer",
    title="Offer",
    initial=P,
    created="offered",
    creator=_COMMISSIONER,
    final=frozenset({W, C}),
    steps=(
        OfferStep(
            "accept",
            frozenset({P}),
            A_,
            _PROVIDER,
            "accepted",
            "Only a pending offer can be accepted",
            scheme_published=True,
            records_answer=True,
            replaces_reason=True,
        ),
        OfferStep(
            "reject",
            frozenset({P}),
            R,
            _PROVIDER,
            "rejected",
            "Only a pending offer can be rejected",
            scheme_published=True,
            records_answer=True,
            tells=Told.COMMISSIONER,
        ),
        OfferStep(
            "request_again",
            frozenset({R}),
            RR,
            _PROVIDER,
            "requested_again",
            "Only a rejected offer can be requested again",
            scheme_published=True,
            tells=Told.COMMISSIONER,
        ),
        OfferStep(
            "reissue",
            frozenset({R, RR}),
            P,
            _COMMISSIONER,
            "reissued",
            "Only a rejected or re-requested offer can be reissued",
            scheme_published=True,
            clears_answer=True,
            replaces_reason=True,
            tells=Told.PROVIDER,
        ),
        OfferStep(
            "withdraw",
            frozenset({P, RR}),
            W,
            _COMMISSIONER,
            "withdrawn",
            "Only an offer the provider has not answered can be withdrawn (cancel it instead)",
            tells=Told.PROVIDER,
        ),
        OfferStep(
            "cancel",
            frozenset({A_, R}),
            C,
            _COMMISSIONER,
            "cancelled",
            "Only an accepted or rejected offer can be cancelled (withdraw a pending one)",
            tells=Told.PROVIDER,
        ),
    ),
)


def _lock_scheme(session: DbSession, scheme: Scheme, *, share: bool) -> None:
    """Lock the scheme's row and read it afresh: ``FOR SHARE`` when ``share`` (answering
    offers), else ``FOR NO KEY UPDATE`` (offering; closing takes the same)."""
    session.execute(
        select(Scheme)
        .where(Scheme.id == scheme.id)
        .with_for_update(of=Scheme, read=share, key_share=not share)
        .execution_options(populate_existing=True)
    ).all()


def _stale_message(session: DbSession, offer: Offer, step: OfferStep) -> str:
    """ "Only a pending offer can be accepted; this one was rejected by Aisha Khan at 14:02.
    Nothing was changed." (who and when from the step that left it in its status)."""
    event = last_event(session, "scheme_offer", offer.id, OFFER.actions())
    if event is not None and (event.after or {}).get("status") == offer.status.name:
        done = OFFER.done_for(event.action)
        return f"{step.refusal}; this one was {done}{by_event(event)}. {NOTHING_CHANGED}"
    return f"{step.refusal}; this one is {offer.status.lower()}. {NOTHING_CHANGED}"


def can_take(offer: Offer, step: str) -> bool:
    """Whether the offer's status allows ``step`` now (what a page offers; the step itself
    re-checks under the lock)."""
    return OFFER.allows(offer.status, step)


def take_step(
    session: DbSession,
    offer: Offer,
    name: str,
    *,
    actor: User,
    reason: str | None = None,
    base_url: str | None = None,
) -> Offer:
    """Take the step ``name`` of :data:`OFFER` (the one way an offer's status changes).

    Checks the capability, locks the scheme (shared) and the offer, re-checks the status
    (:class:`SchemeConflict` says who moved it first) and the scheme, then moves the status
    and records the audit event and tells whoever the step tells (``base_url`` starts the
    emailed link). Flushes; the caller commits.
    """
    step = OFFER.step(name)
    assert isinstance(step, OfferStep)
    assert step.capability is not None
    ensure_capability(actor, step.capability, offer.provider)
    _lock_scheme(session, offer.scheme, share=True)
    locked = lock_for(session, Offer, offer.id)
    assert locked is not None  # offers are never deleted
    offer = locked
    if offer.status not in step.sources:
        raise SchemeConflict(_stale_message(session, offer, step))
    scheme = offer.scheme
    if step.scheme_published and scheme.status is not SchemeStatus.PUBLISHED:
        if step.capability is _PROVIDER:
            raise SchemeError(
                f"{scheme.code} is {scheme.status.lower()}: offers can no longer be answered"
            )
        raise SchemeError(
            f"{scheme.code} is {scheme.status.lower()}: it can no longer be {step.done}"
        )
    before = set_status(offer, step.target)
    reason = " ".join((reason or "").split())[:1000] or None
    if step.records_answer:
        offer.responded_at = offer.status_changed_at
        offer.responded_by_id = actor.id
    if step.clears_answer:
        offer.responded_at = None
        offer.responded_by_id = None
    if reason is not None or step.replaces_reason:
        offer.reason = reason
    session.flush()
    _record(
        session,
        offer,
        step.done,
        step.tells,
        actor=actor,
        before=before,
        reason=reason,
        base_url=base_url,
    )
    return offer


def accept_offer(
    session: DbSession, offer: Offer, *, actor: User, base_url: str | None = None
) -> None:
    take_step(session, offer, "accept", actor=actor, base_url=base_url)


def reject_offer(
    session: DbSession,
    offer: Offer,
    *,
    actor: User,
    reason: str | None = None,
    base_url: str | None = None,
) -> None:
    take_step(session, offer, "reject", actor=actor, reason=reason, base_url=base_url)


def request_offer_again(
    session: DbSession, offer: Offer, *, actor: User, base_url: str | None = None
) -> None:
    """A provider who rejected by mistake asks the commissioner to reissue the offer."""
    take_step(session, offer, "request_again", actor=actor, base_url=base_url)


def reissue_offer(
    session: DbSession, offer: Offer, *, actor: User, base_url: str | None = None
) -> None:
    take_step(session, offer, "reissue", actor=actor, base_url=base_url)


def withdraw_offer(
    session: DbSession,
    offer: Offer,
    *,
    actor: User,
    reason: str | None = None,
    base_url: str | None = None,
) -> None:
    take_step(session, offer, "withdraw", actor=actor, reason=reason, base_url=base_url)


def cancel_offer(
    session: DbSession,
    offer: Offer,
    *,
    actor: User,
    reason: str | None = None,
    base_url: str | None = None,
) -> None:
    take_step(session, offer, "cancel", actor=actor, reason=reason, base_url=base_url)


# --- What a provider sees -----------------------------------------------------------------


def offers_to(session: DbSession, provider: Organisation) -> list[Offer]:
    """Every offer made to ``provider``, newest first, with their schemes and the schemes'
    commissioners in the same query: the schemes page lists them all."""
    return list(
        session.scalars(
            select(Offer)
            .where(Offer.provider_id == provider.id)
            .options(joinedload(Offer.scheme))
            .order_by(Offer.id.desc())
        )
    )


def offer_of_scheme(session: DbSession, scheme_id: int, provider: Organisation) -> Offer | None:
    """The provider's live offer of a scheme, else its latest ended one, else None."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.scheme_id == scheme_id, Offer.provider_id == provider.id)
        .order_by(Offer.id.desc())
    ).all()
    live = [o for o in offers if o.is_live]
    return live[0] if live else (offers[0] if offers else None)


def active_offer(session: DbSession, scheme: Scheme, provider: Organisation) -> Offer | None:
    return session.scalar(
        select(Offer).where(
            Offer.scheme_id == scheme.id,
            Offer.provider_id == provider.id,
            Offer.status == OfferStatus.ACTIVE,
        )
    )


def claimed_period_starts(
    session: DbSession, scheme: Scheme, provider: Organisation
) -> set[dt.date]:
    """The periods ``provider`` has already claimed for under ``scheme`` (asked of the claims
    package)."""
    return claims_usage().claimed_period_starts(session, scheme, provider)


@dataclass(frozen=True)
class ScheduledWindow:
    window: ClaimWindow
    state: WindowState


def window_schedule(
    session: DbSession, scheme: Scheme, provider: Organisation, today: dt.date
) -> list[ScheduledWindow]:
    """The scheme's windows, each with what it means for ``provider`` today."""
    claimed = claimed_period_starts(session, scheme, provider)
    return [
        ScheduledWindow(
            window,
            window_state(
                window.opens_on, window.closes_on, today, claimed=window.period_start in claimed
            ),
        )
        for window in scheme.windows
    ]


def window_for_period(scheme: Scheme, period_start: dt.date) -> ClaimWindow | None:
    """The scheme's window for the period starting on ``period_start``."""
    return next((w for w in scheme.windows if w.period_start == period_start), None)


def open_windows_for(
    session: DbSession, scheme: Scheme, provider: Organisation, today: dt.date
) -> Sequence[ClaimWindow]:
    """Windows ``provider`` may start a claim in today (it must have accepted the offer)."""
    if (
        scheme.status is not SchemeStatus.PUBLISHED
        or active_offer(session, scheme, provider) is None
    ):
        return []
    return [w for w in scheme.windows if w.is_open_on(today)]


def open_window_for(
    session: DbSession, scheme: Scheme, provider: Organisation, today: dt.date
) -> ClaimWindow | None:
    """The earliest window open today for ``provider``, or None."""
    windows = open_windows_for(session, scheme, provider, today)
    return windows[0] if windows else None


def ensure_claim_can_start(
    session: DbSession,
    scheme: Scheme,
    provider: Organisation,
    period_start: dt.date,
    today: dt.date,
) -> ClaimWindow:
    """The window of the period, if a claim for it may be started today; else SchemeError."""
    if active_offer(session, scheme, provider) is None:
        raise SchemeError(f"{provider.name} has not accepted {scheme.code}")
    if scheme.status is not SchemeStatus.PUBLISHED:
        raise SchemeError(f"{scheme.code} is {scheme.status.lower()}: no new claims can start")
    window = window_for_period(scheme, period_start)
    if window is None:
        raise SchemeError(f"{scheme.code} has no claim period starting {long_date(period_start)}")
    if today < window.opens_on:
        raise SchemeError(f"Claims for {window.period_label} open on {long_date(window.opens_on)}")
    if today > window.closes_on:
        raise SchemeError(
            f"Claims for {window.period_label} closed on {long_date(window.closes_on)}"
        )
    return window


def offer_history(session: DbSession, offer: Offer) -> list:
    """The offer's audit events, oldest first."""
    from claims_portal.audit.models import AuditEvent

    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "scheme_offer", AuditEvent.object_id == str(offer.id))
            .order_by(AuditEvent.id)
        )
    )
