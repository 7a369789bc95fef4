"""The demo's schemes: realistic, in every offer state, with windows open and missed today."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from claims_portal.demo import load_demo_data
from claims_portal.organisations.models import Organisation
from claims_portal.schemes import offers
from claims_portal.schemes.models import Offer, OfferStatus, Scheme, SchemeStatus
from claims_portal.schemes.schedule import WindowState


def test_demo_schemes_cover_the_brief_and_load_once(db_session, monkeypatch):
    monkeypatch.setattr("claims_portal.schemes.demo.today", lambda: dt.date(2026, 11, 23))
    load_demo_data(db_session)
    db_session.commit()
    schemes = {s.code: s for s in db_session.scalars(select(Scheme))}
    # The claims demo (claims_portal/claims/demo.py) adds LES-EA-2627 for a claim above the
    # finance threshold.
    assert set(schemes) - {"LES-EA-2627"} == {
        "LES-HC-2627",
        "LIS-QI-2627",
        "LES-PART-2627",
        "LES-PHL-2627",
    }
    health_checks = schemes["LES-HC-2627"]
    assert health_checks.status is SchemeStatus.PUBLISHED
    assert len(health_checks.components) == 2
    assert len(health_checks.windows) == 12
    quality = schemes["LIS-QI-2627"]
    assert quality.commissioner.ods_code == "91A"
    assert len(quality.questions) == 3
    assert quality.components[0].period_cap_units == 120
    assert schemes["LES-PART-2627"].participation_only
    assert schemes["LES-PHL-2627"].status is SchemeStatus.DRAFT

    statuses = set(db_session.scalars(select(Offer.status)))
    assert statuses >= {
        OfferStatus.PENDING,
        OfferStatus.ACTIVE,
        OfferStatus.REJECTED,
        OfferStatus.RE_REQUESTED,
    }
    riverside = db_session.scalar(select(Organisation).where(Organisation.ods_code == "Y90001"))
    states = {
        item.window.period_start: item.state
        for item in offers.window_schedule(
            db_session, health_checks, riverside, dt.date(2026, 11, 23)
        )
    }
    assert states[dt.date(2026, 10, 1)] is WindowState.OPEN
    assert states[dt.date(2026, 9, 1)] is WindowState.MISSED
    assert states[dt.date(2026, 11, 1)] is WindowState.UPCOMING

    count = db_session.scalar(select(func.count()).select_from(Offer))
    assert load_demo_data(db_session).created == 0
    assert db_session.scalar(select(func.count()).select_from(Offer)) == count
