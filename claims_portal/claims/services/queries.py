"""Reading claims: simple lists for the practice and the commissioner, and the answers the
scheme pages ask of claims (claimed periods, tariffs used)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.orm import object_session, selectinload

from claims_portal.access.services.people import organisations_under
from claims_portal.claims.models import (
    COUNTED_STATUSES,
    SENT_BACK_STATUSES,
    Claim,
    ClaimLine,
    ClaimStatus,
)
from claims_portal.db import DbSession
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import Scheme, Tariff
from claims_portal.schemes.services import claims_usage as schemes_claims_usage


def _listing() -> object:
    return select(Claim).options(
        selectinload(Claim.scheme), selectinload(Claim.window), selectinload(Claim.provider)
    )


def claims_of_provider(session: DbSession, provider: Organisation) -> Sequence[Claim]:
    """Every claim of the provider, the most recently changed first."""
    return session.scalars(
        _listing()  # type: ignore[attr-defined]
        .where(Claim.provider_id == provider.id)
        .order_by(Claim.status_changed_at.desc(), Claim.id.desc())
    ).all()


def claims_for_commissioner(session: DbSession, commissioner: Organisation) -> Sequence[Claim]:
    """Claims sent to the commissioner by providers under ``commissioner``, newest first."""
    provider_ids = [o.id for o in organisations_under(session, commissioner)]
    return session.scalars(
        _listing()  # type: ignore[attr-defined]
        .where(Claim.provider_id.in_(provider_ids), Claim.reached_commissioner_at.is_not(None))
        .order_by(Claim.status_changed_at.desc(), Claim.id.desc())
    ).all()


def claimed_period_starts(
    session: DbSession, scheme: Scheme, provider: Organisation
) -> set[dt.date]:
    """Periods of ``scheme`` the provider has submitted a claim for (withdrawn ones aside)."""
    return set(
        session.scalars(
            select(Claim.period_start).where(
                Claim.scheme_id == scheme.id,
                Claim.provider_id == provider.id,
                Claim.submitted_at.is_not(None),
                Claim.status != ClaimStatus.WITHDRAWN,
            )
        )
    )


def tariff_used_by_submitted_claim(tariff: Tariff) -> bool:
    """Whether a submitted claim was priced with ``tariff``."""
    session = object_session(tariff)
    if session is None or tariff.id is None:
        return False
    return bool(session.scalar(select(exists().where(ClaimLine.tariff_id == tariff.id))))


def claims_from(session: DbSession, scheme: Scheme, period_start: dt.date) -> int:
    """Submitted or approved claims of ``scheme`` for periods starting on or after
    ``period_start`` (drafts, sent-back and withdrawn claims aside)."""
    return int(
        session.scalar(
            select(func.count(Claim.id)).where(
                Claim.scheme_id == scheme.id,
                Claim.period_start >= period_start,
                Claim.status.in_(COUNTED_STATUSES),
            )
        )
        or 0
    )


#: Claims not yet finished: drafts, those being reviewed and those sent back to the practice.
FINISHED_STATUSES = frozenset(
    {ClaimStatus.APPROVED_FOR_PAYMENT, ClaimStatus.PAID, ClaimStatus.WITHDRAWN}
)


def _stage(status: ClaimStatus) -> str:
    if status is ClaimStatus.DRAFT:
        return "draft"
    if status in SENT_BACK_STATUSES:
        return "sent_back"
    return "review"


def claims_in_progress(
    session: DbSession, scheme: Scheme
) -> list[schemes_claims_usage.ClaimInProgress]:
    """The scheme's claims not yet finished (closing it warns of them), by practice."""
    claims = session.scalars(
        select(Claim)
        .options(selectinload(Claim.provider))
        .where(Claim.scheme_id == scheme.id, Claim.status.not_in(FINISHED_STATUSES))
        .order_by(Claim.provider_id, Claim.id)
    ).all()
    return [
        schemes_claims_usage.ClaimInProgress(
            claim.provider, claim.reference, claim.status.value, _stage(claim.status)
        )
        for claim in claims
    ]


# The scheme rules ask these of claims without importing the claims package.
schemes_claims_usage.register(
    schemes_claims_usage.ClaimsUsage(
        claimed_period_starts=claimed_period_starts,
        tariff_used=tariff_used_by_submitted_claim,
        claims_from=claims_from,
        claims_in_progress=claims_in_progress,
    )
)
