"""What people see of national service offers: the commissioner's offers and the provider's,
filtered by financial year and status, one offer for its provider or commissioner (another
tenant's is not found), the pending actions, and a service's indicator groups by domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from claims_portal.access.models import User
from claims_portal.access.services.permissions import has_capability
from claims_portal.db import DbSession
from claims_portal.national.models import (
    IndicatorGroup,
    OfferStatus,
    QualityService,
    ServiceOffer,
)
from claims_portal.national.services.machines import OFFER, PROVIDER
from claims_portal.organisations.models import Organisation


def _listing(
    financial_year: int | None, status: OfferStatus | None, service_id: int | None
) -> Select[Any]:
    statement = (
        select(ServiceOffer)
        .join(QualityService, QualityService.id == ServiceOffer.service_id)
        .join(Organisation, Organisation.id == ServiceOffer.provider_id)
        .options(joinedload(ServiceOffer.service), joinedload(ServiceOffer.provider))
    )
    if financial_year is not None:
        statement = statement.where(QualityService.financial_year == financial_year)
    if status is not None:
        statement = statement.where(ServiceOffer.status == status)
    if service_id is not None:
        statement = statement.where(ServiceOffer.service_id == service_id)
    return statement


def _made(
    commissioner: Organisation,
    financial_year: int | None,
    status: OfferStatus | None,
    service_id: int | None,
) -> Select[Any]:
    statuses = [status] if status is not None else None
    if status is OfferStatus.CANCELLED:
        statuses = [OfferStatus.CANCELLED, OfferStatus.WITHDRAWN]
    statement = _listing(financial_year, None, service_id).where(
        ServiceOffer.commissioner_id == commissioner.id
    )
    if statuses is not None:
        statement = statement.where(ServiceOffer.status.in_(statuses))
    return statement.order_by(QualityService.name, Organisation.name, ServiceOffer.id)


def _to(
    provider: Organisation, financial_year: int | None, status: OfferStatus | None
) -> Select[Any]:
    return (
        _listing(financial_year, status, None)
        .where(ServiceOffer.provider_id == provider.id)
        .order_by(QualityService.name, ServiceOffer.id.desc())
    )


def offers_made(
    session: DbSession,
    commissioner: Organisation,
    *,
    financial_year: int | None = None,
    status: OfferStatus | None = None,
    service_id: int | None = None,
) -> list[ServiceOffer]:
    """The commissioner's offers (its own), by service then provider name; Cancelled also
    lists the withdrawn ones (as CQRS does)."""
    statement = _made(commissioner, financial_year, status, service_id)
    return list(session.scalars(statement).unique())


def offers_to(
    session: DbSession,
    provider: Organisation,
    *,
    financial_year: int | None = None,
    status: OfferStatus | None = None,
) -> list[ServiceOffer]:
    """The offers made to ``provider``, by service name."""
    return list(session.scalars(_to(provider, financial_year, status)).unique())


#: Offers on a page of either list (the national commissioner's offer of QOF is thousands).
PER_PAGE = 100


@dataclass
class OfferPage:
    rows: list[ServiceOffer]
    page: int
    pages: int
    count: int


def offers_page(
    session: DbSession,
    organisation: Organisation,
    side: str,
    *,
    financial_year: int | None,
    status: OfferStatus | None,
    service_id: int | None = None,
    page: int = 1,
) -> OfferPage:
    """One page of :func:`offers_made` (``side`` "made") or :func:`offers_to` ("received"),
    with the number of pages and of offers (a page past the end shows the last)."""
    if side == "made":
        statement = _made(organisation, financial_year, status, service_id)
    else:
        statement = _to(organisation, financial_year, status)
    count = int(
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    pages = max(1, -(-count // PER_PAGE))
    page = min(max(page, 1), pages)
    rows = session.scalars(statement.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).unique()
    return OfferPage(list(rows), page, pages, count)


def offers_to_answer(
    session: DbSession, user: User, organisation: Organisation
) -> list[ServiceOffer]:
    """The message centre's pending actions: offers waiting for this person's answer."""
    if not has_capability(user, PROVIDER, organisation):
        return []
    return offers_to(session, organisation, status=OfferStatus.OFFERED)


def offer_for_provider(session: DbSession, offer_id: int, provider: Organisation) -> ServiceOffer:
    """The offer, when it was made to ``provider`` (another's is not found: 404)."""
    offer = session.get(ServiceOffer, offer_id)
    if offer is None or offer.provider_id != provider.id:
        raise LookupError(offer_id)
    return offer


def offer_for_commissioner(
    session: DbSession, offer_id: int, commissioner: Organisation
) -> ServiceOffer:
    """The offer, when ``commissioner`` made it."""
    offer = session.get(ServiceOffer, offer_id)
    if offer is None or offer.commissioner_id != commissioner.id:
        raise LookupError(offer_id)
    return offer


@dataclass(frozen=True)
class Domain:
    code: str
    description: str
    groups: list[IndicatorGroup]


def domains_of(service: QualityService) -> list[Domain]:
    """The service's indicator groups by domain (Clinical, Public health...), in order."""
    domains: dict[str, Domain] = {}
    for group in service.groups:
        domain = domains.setdefault(
            group.domain_code, Domain(group.domain_code, group.domain_description, [])
        )
        domain.groups.append(group)
    return list(domains.values())


def services_of_year(session: DbSession, financial_year: int | None) -> list[QualityService]:
    statement = select(QualityService).order_by(QualityService.name)
    if financial_year is not None:
        statement = statement.where(QualityService.financial_year == financial_year)
    return list(session.scalars(statement))


def financial_years(session: DbSession) -> list[int]:
    """The years that have services, newest first."""
    return list(
        session.scalars(
            select(QualityService.financial_year)
            .distinct()
            .order_by(QualityService.financial_year.desc())
        )
    )


def default_year(session: DbSession, this_year: int) -> int:
    """The year a list opens on: this financial year when it has services, else the newest
    earlier year that has (a new year's services are often loaded after 1 April), else the
    earliest later one; this year when there are none at all."""
    years = financial_years(session)
    if not years or this_year in years:
        return this_year
    earlier = [year for year in years if year < this_year]
    return max(earlier) if earlier else min(years)


def history(session: DbSession, offer: ServiceOffer) -> list:
    """The offer's audit events, oldest first."""
    from claims_portal.audit.models import AuditEvent

    return list(
        session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == OFFER.object_type,
                AuditEvent.object_id == str(offer.id),
            )
            .order_by(AuditEvent.id)
        )
    )
