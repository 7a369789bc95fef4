"""Who is told of an offer's step, and what they read (message centre item and email).

Called from the one place an offer's status changes (``offers._record``, under
``offers.take_step`` and ``offers.offer_scheme``): each step of ``offers.OFFER`` says whom
it tells (``OfferStep.tells``).

- ``PROVIDER``: the provider's people who answer offers (``RESPOND_TO_OFFER``), when a scheme
  is offered, reissued, withdrawn or cancelled;
- ``COMMISSIONER``: the scheme's administrators (``CONFIGURE_SCHEMES`` at its commissioner),
  when the provider rejects the offer or asks for it again.
"""

from __future__ import annotations

import enum

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import holders
from claims_portal.db import DbSession
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services.notices import tell
from claims_portal.schemes.models import Offer


class Told(enum.Enum):
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"


#: What the provider reads for each step (by its audit verb).
_TO_PROVIDER = {
    "offered": ("{scheme} is offered to {provider}", "Accept or reject the offer."),
    "reissued": (
        "{scheme} is offered to {provider} again",
        "Accept or reject the offer.",
    ),
    "withdrawn": (
        "The offer of {scheme} to {provider} was withdrawn",
        "It can no longer be accepted.",
    ),
    "cancelled": (
        "The offer of {scheme} to {provider} was cancelled",
        "No new claims can be started under it.",
    ),
}
_TO_COMMISSIONER = {
    "rejected": ("{provider} rejected {scheme}", "Reissue the offer if they should have it."),
    "requested_again": (
        "{provider} asked for {scheme} again",
        "Reissue the offer so that they can accept it.",
    ),
}


def tell_of_step(
    session: DbSession,
    offer: Offer,
    verb: str,
    told: Told | None,
    *,
    actor: User,
    reason: str | None,
    base_url: str | None,
) -> int:
    """Tell whoever the step tells; returns how many people were told."""
    if told is None:
        return 0
    scheme, provider = offer.scheme, offer.provider
    names = {"scheme": scheme.name, "provider": provider.display_name}
    if told is Told.PROVIDER:
        subject, next_step = _TO_PROVIDER[verb]
        people = holders(session, provider, Capability.RESPOND_TO_OFFER)
        organisation, link, kind = provider, f"/schemes/{scheme.id}", EmailKind.OFFER_TO_PROVIDER
        by = scheme.commissioner.name
    else:
        subject, next_step = _TO_COMMISSIONER[verb]
        people = holders(session, scheme.commissioner, Capability.CONFIGURE_SCHEMES)
        organisation, link, kind = (
            scheme.commissioner,
            f"/admin/offers/details/?id={offer.id}",
            EmailKind.OFFER_ANSWERED,
        )
        by = f"{actor.full_name} of {provider.display_name}"
    subject = subject.format(**names)
    body = f"{subject} ({scheme.code}), by {by}."
    if reason:
        body += f"\n\nReason: “{reason}”"
    body += f"\n\n{next_step}"
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
