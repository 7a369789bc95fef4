"""What the scheme rules need to know about claims, without importing them.

``schemes`` sits below ``claims`` (claims import schemes, never the reverse: the import
contracts in pyproject.toml), yet three scheme rules depend on claims made: a tariff a
submitted claim was priced with cannot change, a window already claimed for shows as
claimed, a back-dated tariff warns of the claims already made for its periods, and closing
a scheme warns of (and tells the practices about) its claims still in progress.
``claims_portal.claims.services.queries`` registers the answers here when it is
imported (``create_app`` always imports it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import Scheme, Tariff


@dataclass(frozen=True)
class ClaimInProgress:
    """A claim of a scheme not yet finished (neither approved for payment, paid nor
    withdrawn), as closing the scheme reports it."""

    provider: Organisation
    reference: str
    #: The status as people read it ("Draft", "Awaiting commissioner review").
    status: str
    #: "draft", "review" (being reviewed) or "sent_back" (declined or returned).
    stage: str


@dataclass(frozen=True)
class ClaimsUsage:
    #: The period starts ``provider`` has submitted a claim for under ``scheme``.
    claimed_period_starts: Callable[[DbSession, Scheme, Organisation], set[dt.date]]
    #: Whether a submitted claim was priced with the tariff.
    tariff_used: Callable[[Tariff], bool]
    #: How many submitted or approved claims of ``scheme`` are for periods starting on or
    #: after the date (a back-dated tariff's warning).
    claims_from: Callable[[DbSession, Scheme, dt.date], int]
    #: The scheme's claims in progress, by provider then reference.
    claims_in_progress: Callable[[DbSession, Scheme], list[ClaimInProgress]]


_registered: list[ClaimsUsage] = []


def register(usage: ClaimsUsage) -> None:
    """Called once by the claims package; a second registration replaces the first."""
    _registered[:] = [usage]


def claims_usage() -> ClaimsUsage:
    """The registered answers; raises ``RuntimeError`` when claims were never imported
    (refusing beats guessing that no claim uses a tariff)."""
    if not _registered:
        raise RuntimeError("claims_portal.claims.services was not imported: no claims usage")
    return _registered[0]
