"""What the scheme rules need to know about claims, without importing them.

``schemes`` sits below ``claims`` (claims import schemes, never the reverse: the import
contracts in pyproject.toml), yet two scheme rules depend on claims made: a tariff a
submitted claim was priced with cannot change, and a window already claimed for shows as
claimed. ``claims_portal.claims.services.queries`` registers the two answers here when it is
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
