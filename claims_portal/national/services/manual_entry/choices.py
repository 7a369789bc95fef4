"""Who enters for whom, the services and achievement dates to choose from, and what blocks
entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import (
    PermissionDenied,
    ancestors_and_self,
    has_capability,
)
from claims_portal.clock import ENGLAND
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession
from claims_portal.formatting import long_date
from claims_portal.national.models import (
    AchievementDate,
    AchievementLoad,
    DataSubmission,
    Declaration,
    DeclarationStatus,
    LoadStatus,
    OfferStatus,
    QualityService,
    ServiceOffer,
    SubmissionSource,
)
from claims_portal.organisations.models import Organisation

#: The provider may go on entering until it declares.
_PROVIDER_OPEN = frozenset({DeclarationStatus.AWAITING_SERVICE_PROVIDER_APPROVAL})
#: Finance approval and after: nobody amends.
_FINANCE_APPROVED = frozenset(
    {DeclarationStatus.APPROVED, DeclarationStatus.SENT_FOR_PAYMENT, DeclarationStatus.PAID}
)
_FINISHED_LOADS = (LoadStatus.LOADED, LoadStatus.PARTLY_LOADED)


@dataclass(frozen=True)
class Entrant:
    """Who enters, for whom: ``source`` is ``MANUAL`` (the provider) or ``COMMISSIONER``."""

    user: User
    acting_for: Organisation
    provider: Organisation
    source: SubmissionSource

    @property
    def on_behalf(self) -> bool:
        return self.source is SubmissionSource.COMMISSIONER


def entrant(user: User, acting_for: Organisation, provider: Organisation) -> Entrant:
    """The person entering ``provider``'s figures while acting for ``acting_for`` (the
    provider itself, or a commissioner above it). Raises :class:`PermissionDenied`."""
    if provider.kind.is_commissioner:
        raise PermissionDenied(f"{provider.ods_code} is not a provider")
    if acting_for.id == provider.id:
        source = SubmissionSource.MANUAL
    elif acting_for.kind.is_commissioner and any(
        node.id == acting_for.id for node in ancestors_and_self(provider)
    ):
        source = SubmissionSource.COMMISSIONER
    else:
        raise PermissionDenied(f"{acting_for.ods_code} does not commission {provider.ods_code}")
    # The provider's own people hold the role there; a commissioner's reach down from it.
    held = [m for m in user.memberships if m.organisation_id == acting_for.id]
    if not (
        has_capability(user, Capability.ENTER_ACHIEVEMENT, acting_for, memberships=held)
        and has_capability(user, Capability.ENTER_ACHIEVEMENT, provider)
    ):
        raise PermissionDenied(f"{user.email} may not enter achievement for {provider.ods_code}")
    return Entrant(user, acting_for, provider, source)


# --- Choosing the service, the date and the group ------------------------------------------


def participating_services(session: DbSession, provider: Organisation) -> list[QualityService]:
    """Services the provider takes part in (an approved offer), newest year first."""
    return list(
        session.scalars(
            select(QualityService)
            .join(ServiceOffer, ServiceOffer.service_id == QualityService.id)
            .where(
                ServiceOffer.provider_id == provider.id,
                ServiceOffer.status == OfferStatus.APPROVED,
            )
            .distinct()
            .order_by(QualityService.financial_year.desc(), QualityService.name)
        )
    )


def takes_part(
    session: DbSession, service: QualityService, provider: Organisation, day: dt.date
) -> bool:
    """Whether an approved offer of ``service`` covers ``day`` for ``provider``."""
    offers = session.scalars(
        select(ServiceOffer).where(
            ServiceOffer.service_id == service.id, ServiceOffer.provider_id == provider.id
        )
    )
    return any(offer.participates_on(day) for offer in offers)


@dataclass(frozen=True)
class DateChoice:
    date: dt.date
    is_payment_date: bool
    #: Figures entered or extracted for it already (else: "Add new achievement").
    has_data: bool


def achievement_dates(
    session: DbSession, service: QualityService, provider: Organisation
) -> list[DateChoice]:
    """The service's valid achievement dates, each saying whether the provider has data."""
    with_data = set(
        session.scalars(
            select(DataSubmission.achievement_date)
            .where(
                DataSubmission.service_id == service.id,
                DataSubmission.provider_id == provider.id,
            )
            .distinct()
        )
    )
    return [
        DateChoice(d.date, d.is_payment_date, d.date in with_data)
        for d in service.achievement_dates
    ]


def valid_date(session: DbSession, service: QualityService, day: dt.date) -> bool:
    return (
        session.scalar(
            select(AchievementDate.id).where(
                AchievementDate.service_id == service.id, AchievementDate.date == day
            )
        )
        is not None
    )


def entry_opens_on(session: DbSession, service: QualityService, day: dt.date) -> dt.date | None:
    """The day extracted figures of ``service`` at ``day`` may first be entered by hand: the
    day after the first finished extract load for it (England's date), None before one.

    A load counts when it holds figures of the service at that date, or names the service
    and finished after the achievement date (a load that records no dates)."""
    carries_date = exists().where(
        DataSubmission.load_id == AchievementLoad.id,
        DataSubmission.service_id == service.id,
        DataSubmission.achievement_date == day,
    )
    finished = session.scalar(
        select(func.min(AchievementLoad.finished_at)).where(
            AchievementLoad.finished_at.is_not(None),
            AchievementLoad.status.in_(_FINISHED_LOADS),
            carries_date
            | (
                (AchievementLoad.service_id == service.id)
                & (AchievementLoad.finished_at >= _start_of_day_after(day))
            ),
        )
    )
    if finished is None:
        return None
    return finished.astimezone(ENGLAND).date() + dt.timedelta(days=1)


def _start_of_day_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ENGLAND)


def blockers(
    session: DbSession,
    who: Entrant,
    service: QualityService,
    day: dt.date,
    *,
    today: dt.date | None = None,
) -> list[str]:
    """Why nothing of the provider's achievement at ``day`` can be entered or amended now."""
    today = today or clock_today()
    found = []
    if not takes_part(session, service, who.provider, day):
        found.append(f"{who.provider.name} does not take part in {service} on {long_date(day)}")
    status = session.scalar(
        select(Declaration.status).where(
            Declaration.service_id == service.id,
            Declaration.provider_id == who.provider.id,
            Declaration.achievement_date == day,
        )
    )
    if status in _FINANCE_APPROVED:
        found.append(
            f"The achievement at {long_date(day)} has been financially approved "
            f"({status.value.lower()}): it can no longer be amended"
        )
    elif status is not None and status not in _PROVIDER_OPEN and not who.on_behalf:
        found.append(
            f"The achievement at {long_date(day)} has been declared ({status.value.lower()}): "
            "only the commissioner can amend it now, until finance approval"
        )
    days = service.amendment_window_days
    if days is not None and not who.on_behalf:
        closes = day + dt.timedelta(days=days)
        if today > closes:
            found.append(
                f"The amendment window closed on {long_date(closes)}, {days} days after the "
                "achievement date: ask your commissioner to amend it on your behalf"
            )
    return found
