"""Offers of schemes to providers, and the claim windows a provider sees (flush only).

An offer's life (each step audited with the status before and after)::

    commissioner offers            -> Pending
    provider accepts   Pending     -> Active
    provider rejects   Pending     -> Rejected
    provider asks again Rejected   -> Re-requested
    commissioner reissues Rejected or Re-requested -> Pending
    commissioner withdraws Pending or Re-requested -> Withdrawn   (before an answer)
    commissioner cancels Active or Rejected        -> Cancelled

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

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import ancestors_and_self, ensure_capability, icb_of
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event, lock
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import (
    ENDED_OFFER_STATUSES,
    ClaimWindow,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services._common import PROVIDER_KINDS, SchemeConflict, SchemeError
from claims_portal.schemes.services.schedule import WindowState, long_date, window_state


def can_offer_to(scheme: Scheme, provider: Organisation) -> bool:
    """Whether the scheme's commissioner (or one it is shared with) commissions ``provider``."""
    chain = {o.id for o in ancestors_and_self(provider)}
    own_icb = icb_of(scheme.commissioner)
    if scheme.commissioner_id in chain or (own_icb is not None and own_icb.id in chain):
        return True
    return any(share.commissioner_id in chain for share in scheme.shares)


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
    session: DbSession, scheme: Scheme, provider: Organisation, *, actor: User
) -> Offer:
    """Offer a published scheme to a practice, PCN or federation (Pending)."""
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
        status=OfferStatus.PENDING,
        offered_at=now,
        offered_by_id=actor.id,
        status_changed_at=now,
    )
    session.add(offer)
    session.flush()
    _audit(session, "scheme_offer.offered", offer, actor, None)
    return offer


@dataclass(frozen=True)
class _Move:
    action: str
    sources: frozenset[OfferStatus]
    target: OfferStatus
    capability: Capability
    refusal: str


_ACCEPT = _Move(
    "accepted",
    frozenset({OfferStatus.PENDING}),
    OfferStatus.ACTIVE,
    Capability.RESPOND_TO_OFFER,
    "Only a pending offer can be accepted",
)
_REJECT = _Move(
    "rejected",
    frozenset({OfferStatus.PENDING}),
    OfferStatus.REJECTED,
    Capability.RESPOND_TO_OFFER,
    "Only a pending offer can be rejected",
)
_REQUEST_AGAIN = _Move(
    "requested_again",
    frozenset({OfferStatus.REJECTED}),
    OfferStatus.RE_REQUESTED,
    Capability.RESPOND_TO_OFFER,
    "Only a rejected offer can be requested again",
)
_REISSUE = _Move(
    "reissued",
    frozenset({OfferStatus.REJECTED, OfferStatus.RE_REQUESTED}),
    OfferStatus.PENDING,
    Capability.CONFIGURE_SCHEMES,
    "Only a rejected or re-requested offer can be reissued",
)
_WITHDRAW = _Move(
    "withdrawn",
    frozenset({OfferStatus.PENDING, OfferStatus.RE_REQUESTED}),
    OfferStatus.WITHDRAWN,
    Capability.CONFIGURE_SCHEMES,
    "Only an offer the provider has not answered can be withdrawn (cancel it instead)",
)
_CANCEL = _Move(
    "cancelled",
    frozenset({OfferStatus.ACTIVE, OfferStatus.REJECTED}),
    OfferStatus.CANCELLED,
    Capability.CONFIGURE_SCHEMES,
    "Only an accepted or rejected offer can be cancelled (withdraw a pending one)",
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


def _stale_message(session: DbSession, offer: Offer, move: _Move) -> str:
    """ "Only a pending offer can be accepted; this one was rejected by Aisha Khan at 14:02.
    Nothing was changed." (who and when from the step that left it in its status)."""
    event = last_event(session, "scheme_offer", offer.id, _STEP_ACTIONS)
    if event is not None and (event.after or {}).get("status") == offer.status.name:
        done = event.action.removeprefix("scheme_offer.").replace("_", " ")
        return f"{move.refusal}; this one was {done}{by_event(event)}. {NOTHING_CHANGED}"
    return f"{move.refusal}; this one is {offer.status.lower()}. {NOTHING_CHANGED}"


def _move(
    session: DbSession, offer: Offer, move: _Move, actor: User, reason: str | None = None
) -> None:
    ensure_capability(actor, move.capability, offer.provider)
    _lock_scheme(session, offer.scheme, share=True)
    locked = lock(session, Offer, offer.id)
    assert locked is not None  # offers are never deleted
    offer = locked
    if offer.status not in move.sources:
        raise SchemeConflict(_stale_message(session, offer, move))
    provider_side = move.capability is Capability.RESPOND_TO_OFFER
    scheme = offer.scheme
    if provider_side and scheme.status is not SchemeStatus.PUBLISHED:
        raise SchemeError(
            f"{scheme.code} is {scheme.status.lower()}: offers can no longer be answered"
        )
    if move is _REISSUE and scheme.status is not SchemeStatus.PUBLISHED:
        raise SchemeError(f"{scheme.code} is {scheme.status.lower()}: it can no longer be reissued")
    before = offer.status
    now = utcnow()
    offer.status = move.target
    offer.status_changed_at = now
    reason = " ".join((reason or "").split())[:1000] or None
    if move in (_ACCEPT, _REJECT):
        offer.responded_at = now
        offer.responded_by_id = actor.id
    if move is _REISSUE:
        offer.responded_at = None
        offer.responded_by_id = None
    if reason is not None or move in (_ACCEPT, _REISSUE):
        offer.reason = reason
    session.flush()
    _audit(session, f"scheme_offer.{move.action}", offer, actor, before, reason)


_STEP_ACTIONS = [
    f"scheme_offer.{m.action}"
    for m in (_ACCEPT, _REJECT, _REQUEST_AGAIN, _REISSUE, _WITHDRAW, _CANCEL)
] + ["scheme_offer.offered"]


def accept_offer(session: DbSession, offer: Offer, *, actor: User) -> None:
    _move(session, offer, _ACCEPT, actor)


def reject_offer(
    session: DbSession, offer: Offer, *, actor: User, reason: str | None = None
) -> None:
    _move(session, offer, _REJECT, actor, reason)


def request_offer_again(session: DbSession, offer: Offer, *, actor: User) -> None:
    """A provider who rejected by mistake asks the commissioner to reissue the offer."""
    _move(session, offer, _REQUEST_AGAIN, actor)


def reissue_offer(session: DbSession, offer: Offer, *, actor: User) -> None:
    _move(session, offer, _REISSUE, actor)


def withdraw_offer(
    session: DbSession, offer: Offer, *, actor: User, reason: str | None = None
) -> None:
    _move(session, offer, _WITHDRAW, actor, reason)


def cancel_offer(
    session: DbSession, offer: Offer, *, actor: User, reason: str | None = None
) -> None:
    _move(session, offer, _CANCEL, actor, reason)


# --- What a provider sees -----------------------------------------------------------------


def offers_to(session: DbSession, provider: Organisation) -> list[Offer]:
    """Every offer made to ``provider``, newest first."""
    return list(
        session.scalars(
            select(Offer).where(Offer.provider_id == provider.id).order_by(Offer.id.desc())
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
    """The periods ``provider`` has already claimed for under ``scheme`` (issue 6's claims)."""
    from claims_portal.claims.services.queries import claimed_period_starts as claimed

    return claimed(session, scheme, provider)


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
