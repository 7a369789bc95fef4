"""Participation that follows a PCN's: a practice leaving its network stops taking part in the
network's services on the day it leaves (the end date arrives from ODS, seed 003's PCN
guidance), without anyone answering or cancelling its offers by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import aliased

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.national.models import OfferStatus, ServiceOffer
from claims_portal.organisations.models import Organisation


@dataclass
class EndedParticipation:
    """What :func:`end_network_participation` did: the offers it ended, and those it left
    alone because their participation starts after ``last_day`` (an offer cannot end before
    it starts; the commissioner cancels it through the offer's own steps)."""

    ended: list[ServiceOffer] = field(default_factory=list)
    starting_later: list[ServiceOffer] = field(default_factory=list)


def end_network_participation(
    session: DbSession,
    *,
    practice: Organisation,
    network: Organisation,
    last_day: dt.date,
    reason: str,
    actor: User | None = None,
) -> EndedParticipation:
    """End ``practice``'s participation that follows ``network``'s offers on ``last_day``.

    Each approved offer of the practice whose ``network_offer_id`` is an offer to
    ``network`` and that runs past ``last_day`` gets ``end_date = last_day`` and ``reason``,
    audited as ``national_offer.participation_ended``. Offers already ending by then are
    untouched, so running it again changes nothing. The rows are locked first.
    """
    network_offer = aliased(ServiceOffer)
    offers = session.scalars(
        select(ServiceOffer)
        .join(network_offer, ServiceOffer.network_offer_id == network_offer.id)
        .where(
            ServiceOffer.provider_id == practice.id,
            ServiceOffer.status == OfferStatus.APPROVED,
            network_offer.provider_id == network.id,
            ServiceOffer.end_date > last_day,
        )
        .order_by(ServiceOffer.id)
        .with_for_update(of=ServiceOffer)
    ).all()
    outcome = EndedParticipation()
    for offer in offers:
        if offer.start_date > last_day:
            outcome.starting_later.append(offer)
            continue
        before = offer.end_date
        offer.end_date = last_day
        offer.reason = reason
        offer.version += 1
        outcome.ended.append(offer)
        record_event(
            session,
            action="national_offer.participation_ended",
            object_type="national_offer",
            object_id=offer.id,
            actor=actor,
            organisation=practice,
            before={"end_date": before},
            after={"end_date": last_day, "network": network.ods_code},
            reason=reason,
        )
    session.flush()
    return outcome
