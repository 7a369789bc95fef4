"""The demo's schemes: realistic, in every offer state, with windows open and missed today."""

from __future__ import annotations

from sqlalchemy import func, select

from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.clock import today
from claims_portal.demo import load_demo_data
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.demo import financial_year_start, health_checks_code, year_suffix
from claims_portal.schemes.models import Offer, OfferStatus, Scheme, SchemeStatus
from claims_portal.schemes.services import offers
from claims_portal.schemes.services.schedule import WindowState


def test_demo_schemes_cover_the_brief_and_load_once(db_session):
    day = today()
    year = financial_year_start(day)
    load_demo_data(db_session)
    db_session.commit()
    schemes = {s.code: s for s in db_session.scalars(select(Scheme))}
    suffix = year_suffix(year)
    # The claims demo (claims_portal/claims/demo.py) adds an enhanced access scheme (LES-EA)
    # for a claim above the finance threshold.
    assert {code for code in schemes if not code.startswith("LES-EA-")} == {
        health_checks_code(year - 1),
        f"LES-HC-{suffix}",
        f"LIS-QI-{suffix}",
        f"LES-PART-{suffix}",
        f"LES-PHL-{suffix}",
    }
    health_checks = schemes[f"LES-HC-{suffix}"]
    assert health_checks.status is SchemeStatus.PUBLISHED
    assert len(health_checks.components) == 2
    assert len(health_checks.windows) == 12
    quality = schemes[f"LIS-QI-{suffix}"]
    assert quality.commissioner.ods_code == "91A"
    assert len(quality.questions) == 3
    assert quality.components[0].period_cap_units == 120
    assert schemes[f"LES-PART-{suffix}"].participation_only
    assert schemes[f"LES-PHL-{suffix}"].status is SchemeStatus.DRAFT

    statuses = set(db_session.scalars(select(Offer.status)))
    assert statuses >= {
        OfferStatus.PENDING,
        OfferStatus.ACTIVE,
        OfferStatus.REJECTED,
        OfferStatus.RE_REQUESTED,
    }
    count = db_session.scalar(select(func.count()).select_from(Offer))
    assert load_demo_data(db_session).created == 0
    assert db_session.scalar(select(func.count()).select_from(Offer)) == count


def test_the_demo_has_open_missed_and_upcoming_windows_on_any_day(db_session):
    """Whatever day ``make run`` runs on (the suite runs it on awkward days too): the
    health checks of this year and last have an open window with a claim (Millbrook's
    draft), an open one without (Riverside's latest), missed and upcoming windows."""
    day = today()
    year = financial_year_start(day)
    load_demo_data(db_session)
    db_session.commit()
    riverside, millbrook = (
        db_session.scalars(select(Organisation).where(Organisation.ods_code == code)).one()
        for code in ("Y90001", "Y90002")
    )
    health_checks = [
        db_session.scalars(select(Scheme).where(Scheme.code == health_checks_code(y))).one()
        for y in (year - 1, year)
    ]

    def states(provider: Organisation) -> list[WindowState]:
        return [
            item.state
            for scheme in health_checks
            for item in offers.window_schedule(db_session, scheme, provider, day)
        ]

    assert {WindowState.OPEN, WindowState.MISSED, WindowState.UPCOMING} <= set(states(riverside))
    assert WindowState.CLAIMED in states(riverside)
    claimed_open = db_session.scalars(
        select(Claim).where(Claim.provider_id == millbrook.id, Claim.status == ClaimStatus.DRAFT)
    ).one()
    assert claimed_open.window.is_open_on(day)
