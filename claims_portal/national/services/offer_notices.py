"""Who is told of a step of a national service offer, and what they read (a message centre
item and an email each, ``mail.services.notices.tell``; the email follows the person's
notification preferences, the item is kept whatever they chose).

Called from the one place an offer's status changes (``offers.take_step``, and
``offers.offer_service`` when an offer is made). Each step of ``machines.OFFER`` says whom
it tells:

- the provider's people who answer national offers (``RESPOND_TO_NATIONAL_OFFER``): when a
  service is offered, withdrawn or cancelled, accepted automatically, or followed from the
  PCN;
- the commissioner's people who offer national services (``MANAGE_NATIONAL_OFFERS``): when
  the provider rejects (with the reason) or accepts the offer.

Offers reuse the scheme offers' email kinds (``OFFER_TO_PROVIDER``, ``OFFER_ANSWERED``), so
one preference covers offers of both.
"""

from __future__ import annotations

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders
from claims_portal.db import DbSession
from claims_portal.formatting import long_date
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.national.models import ServiceOffer

_TO_PROVIDER = {
    "offered": (
        "{service} is offered to {provider}",
        "Accept or reject the offer{by_date}.",
    ),
    "withdrawn": (
        "The offer of {service} to {provider} was withdrawn",
        "It can no longer be accepted.",
    ),
    "cancelled": (
        "{provider}'s participation in {service} was cancelled",
        "Offers cancelled by the commissioner cannot be answered again.",
    ),
    "accepted_automatically": (
        "{provider} takes part in {service}",
        "The service is accepted automatically: nothing needs doing.",
    ),
    "accepted_with_network": (
        "{provider} takes part in {service} through its PCN",
        "The PCN accepted the service for its member practices: nothing needs doing.",
    ),
    "cancelled_with_network": (
        "{provider}'s participation in {service} ended with its PCN's",
        "The PCN's participation was cancelled.",
    ),
}
_TO_COMMISSIONER = {
    "rejected": (
        "{provider} rejected {service}",
        "Cancel the rejected offer and offer the service again if they should have it.",
    ),
    "accepted": ("{provider} accepted {service}", "It now takes part in the service."),
}


def tell_of_step(
    session: DbSession,
    offer: ServiceOffer,
    verb: str,
    told: str | None,
    *,
    actor: User | None,
    reason: str | None,
    base_url: str | None,
) -> int:
    """Tell whoever the step tells; returns how many people were told."""
    if told is None:
        return 0
    service, provider = offer.service, offer.provider
    by_date = f" by {long_date(offer.response_date)}" if offer.response_date else ""
    names = {"service": str(service), "provider": provider.display_name, "by_date": by_date}
    if told == "provider":
        subject, next_step = _TO_PROVIDER[verb]
        people = holders(session, provider, Capability.RESPOND_TO_NATIONAL_OFFER)
        organisation, link = provider, f"/national/offers/received/{offer.id}"
        kind, by = EmailKind.OFFER_TO_PROVIDER, offer.commissioner.name
    else:
        subject, next_step = _TO_COMMISSIONER[verb]
        people = holders(session, offer.commissioner, Capability.MANAGE_NATIONAL_OFFERS)
        organisation, link = offer.commissioner, f"/national/offers/made/{offer.id}"
        kind = EmailKind.OFFER_ANSWERED
        by = f"{actor.full_name} of {provider.display_name}" if actor else provider.display_name
    subject = subject.format(**names)
    body = (
        f"{subject}, by {by}. Service dates: {long_date(offer.start_date)} to "
        f"{long_date(offer.end_date)}."
    )
    if reason:
        body += f"\n\nReason: “{reason}”"
    body += f"\n\n{next_step.format(**names)}"
    return tell(
        session,
        people,
        organisation=organisation,
        subject=subject,
        body=body,
        link=link,
        kind=kind,
        actor=actor,
        base_url=base_url,
    )
