"""The demo's national services: what a new user finds after ``make run``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal.demo import DEMO_PASSWORD, load_demo_data
from claims_portal.national.models import OfferStatus, QualityService, ServiceOffer
from tests.helpers import sign_in


@pytest.fixture(autouse=True)
def _evidence_in_a_folder_of_the_test(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))


def test_the_demo_offers_qof_to_the_icbs_practices_with_answers(db_session):
    load_demo_data(db_session)
    db_session.commit()
    codes = {s.code for s in db_session.scalars(select(QualityService))}
    assert {"QOF", "NCDES-PART", "SHINGLES"} <= codes
    offers = {
        o.provider.ods_code: o.status
        for o in db_session.scalars(select(ServiceOffer).join(ServiceOffer.service)).all()
        if o.service.code == "QOF"
    }
    assert offers == {
        "Y90001": OfferStatus.APPROVED,
        "Y90002": OfferStatus.APPROVED,
        "Y90003": OfferStatus.OFFERED,
        "Y90004": OfferStatus.OFFERED,
        "Y90005": OfferStatus.REJECTED,
        "Y90006": OfferStatus.OFFERED,
        "Y90007": OfferStatus.OFFERED,
        "Y90008": OfferStatus.OFFERED,
    }


def test_the_demo_people_see_national_services(client, db_session):
    load_demo_data(db_session)
    db_session.commit()
    sign_in(client, "ruth.evans@example.nhs.net", DEMO_PASSWORD)
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "National services" in page
