"""The demo's national quality services: the shipped catalogue files (QOF 2024/25 and
2025/26, the Network Contract DES participation and the shingles programme), loaded as the
``national load-services`` command loads them. Safe to call again."""

from __future__ import annotations

from claims_portal.db import DbSession
from claims_portal.national.models import QualityService
from claims_portal.national.services.catalogue import load_shipped_services


def load_demo_services(session: DbSession) -> list[QualityService]:
    """Load the shipped service files (flushes; the demo commits); the services, in file
    order."""
    return [result.service for result in load_shipped_services(session)]


def load_demo_services_created(session: DbSession) -> int:
    """Load the shipped service files; how many services were added."""
    return sum(result.outcome == "created" for result in load_shipped_services(session))


#: Who answers the demo's offer of QOF 2025/26, and how (practice code -> step, reason).
DEMO_ANSWERS: dict[str, tuple[str, str | None]] = {
    "Y90001": ("accept", None),
    "Y90002": ("accept", None),
    "Y90005": ("reject", "We are not taking part in QOF this year: the practice is merging."),
}


def load_demo_offers(
    session: DbSession, *, commissioner_email: str, answerer_email: str, icb_code: str
) -> int:
    """The national commissioner's offer of QOF 2025/26 to every practice of the demo ICB;
    two practices accept, one rejects, the rest wait for an answer. Safe to call again:
    nothing is offered twice. Returns the records added."""
    from sqlalchemy import select

    from claims_portal.access.models import User
    from claims_portal.national.models import ServiceOffer
    from claims_portal.national.services import offers
    from claims_portal.organisations.models import Organisation, OrganisationKind

    service = session.scalar(
        select(QualityService).where(
            QualityService.code == "QOF", QualityService.financial_year == 2025
        )
    )
    if service is None or session.scalar(
        select(ServiceOffer.id).where(ServiceOffer.service_id == service.id).limit(1)
    ):
        return 0
    commissioner = session.scalar(
        select(Organisation).where(Organisation.kind == OrganisationKind.NATIONAL_COMMISSIONER)
    )
    icb = session.scalar(select(Organisation).where(Organisation.ods_code == icb_code))
    offerer = session.scalar(select(User).where(User.email == commissioner_email))
    answerer = session.scalar(select(User).where(User.email == answerer_email))
    if commissioner is None or icb is None or offerer is None or answerer is None:
        raise LookupError("load the demo organisations and people first")
    made = offers.offer_to_all(
        session, service, commissioner=commissioner, actor=offerer, within=icb
    )
    for offer in made:
        step = DEMO_ANSWERS.get(offer.provider.ods_code)
        if step is not None:
            offers.take_step(session, offer, step[0], actor=answerer, reason=step[1])
    return len(made)
