"""What the scheme rules need to know about claims, without importing them.

``schemes`` sits below ``claims`` (claims import schemes, never the reverse: the import
contracts in pyproject.toml), yet three scheme rules depend on claims made: a tariff a
submitted claim was priced with cannot change, a window already claimed for shows as
claimed, and a back-dated tariff warns of the claims already made for its periods.
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
class ClaimsUsage:
    #: The period starts ``provider`` has submitted a claim for under ``scheme``.
    claimed_period_starts: Callable[[DbSession, Scheme, Organisation], set[dt.date]]
    #: Whether a submitted claim was priced with the tariff.
    tariff_used: Callable[[Tariff], bool]
    #: How many submitted or approved claims of ``scheme`` are for periods starting on or
    #: after the date (a back-dated tariff's warning).
    claims_from: Callable[[DbSession, Scheme, dt.date], int]


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
