"""The life of an offer of a national quality service, as a transition table
(``claims_portal.statemachine``): the offer service (``offers``) moves an offer only through
:func:`claims_portal.national.services.offers.take_step`, and docs/architecture.md draws the
table from here.

- The commissioner offers a service to a provider (Offered); the provider accepts (Approved)
  or rejects it with a reason (Rejected).
- The commissioner withdraws an offer not yet answered (Withdrawn), or cancels an accepted or
  rejected one, with a reason (Cancelled). Withdrawn and cancelled offers stay as history;
  the service may then be offered again (a new offer).
- A service configured as automatically accepted needs no answer: its offers are accepted
  as they are made (``accept_automatically``).
- A PCN service is offered to the PCN as a whole: when the PCN accepts, each member practice
  gets an offer that follows the PCN's (``follow_network``), which nobody answers or cancels
  on its own; cancelling the PCN's ends theirs (``end_with_network``).
"""

from __future__ import annotations

from dataclasses import dataclass

from claims_portal.access.roles import Capability
from claims_portal.national.models import OfferStatus
from claims_portal.statemachine import Machine, Step

OF, A, R, W, C = (
    OfferStatus.OFFERED,
    OfferStatus.APPROVED,
    OfferStatus.REJECTED,
    OfferStatus.WITHDRAWN,
    OfferStatus.CANCELLED,
)
PROVIDER = Capability.RESPOND_TO_NATIONAL_OFFER
COMMISSIONER = Capability.MANAGE_NATIONAL_OFFERS


@dataclass(frozen=True)
class OfferStep(Step[OfferStatus]):
    """A step of an offer's life, with what it does besides moving the status."""

    #: Records who answered and when (accepting, rejecting, and the automatic acceptances).
    records_answer: bool = False
    #: A reason must be given (rejecting, cancelling).
    needs_reason: bool = False
    #: Who is told: "provider" (its Service management people), "commissioner" (its
    #: Commissioning management people), or nobody.
    tells: str | None = None
    #: A step the provider or commissioner takes by hand (the others follow from one).
    by_hand: bool = True


OFFER: Machine[OfferStatus] = Machine(
    object_type="national_offer",
    title="Offer of a national service",
    initial=OF,
    created="offered",
    creator=COMMISSIONER,
    final=frozenset({W, C}),
    steps=(
        OfferStep(
            "accept", frozenset({OF}), A, PROVIDER, "accepted",
            "Only an offer not yet answered can be accepted", records_answer=True,
            tells="commissioner",
        ),
        OfferStep(
            "reject", frozenset({OF}), R, PROVIDER, "rejected",
            "Only an offer not yet answered can be rejected", records_answer=True,
            needs_reason=True, tells="commissioner",
        ),
        OfferStep(
            "withdraw", frozenset({OF}), W, COMMISSIONER, "withdrawn",
            "Only an offer not yet answered can be withdrawn (cancel an answered one)",
            tells="provider",
        ),
        OfferStep(
            "cancel", frozenset({A, R}), C, COMMISSIONER, "cancelled",
            "Only an accepted or rejected offer can be cancelled (withdraw one not yet answered)",
            needs_reason=True, tells="provider",
        ),
        OfferStep(
            "accept_automatically", frozenset({OF}), A, None, "accepted_automatically",
            "Only an offer not yet answered can be accepted", records_answer=True,
            who="the service (accepted automatically)", tells="provider", by_hand=False,
        ),
        OfferStep(
            "follow_network", frozenset({OF}), A, None, "accepted_with_network",
            "Only an offer not yet answered can follow its PCN's", records_answer=True,
            who="the PCN's acceptance", tells="provider", by_hand=False,
        ),
        OfferStep(
            "end_with_network", frozenset({A}), C, None, "cancelled_with_network",
            "Only an accepted offer can end with its PCN's",
            who="cancelling the PCN's offer", tells="provider", by_hand=False,
        ),
    ),
)  # fmt: skip
