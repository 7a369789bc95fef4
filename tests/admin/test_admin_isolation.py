"""Tenant isolation: another ICB's records cannot be listed, read, exported or changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Offer,
    OfferStatus,
    Scheme,
    SchemeStatus,
    SupplementaryQuestion,
    Tariff,
)
from tests.admin.helpers import post, xlsx_text
from tests.factories.schemes import OfferFactory, QuestionFactory, SchemeFactory, ready_scheme
from tests.helpers import sign_in


@pytest.fixture
def their_records(db_session, theirs):
    scheme = ready_scheme(commissioner=theirs.sub_location, code="THEIRS-1")
    QuestionFactory(scheme=scheme)
    published = SchemeFactory(
        commissioner=theirs.icb, code="THEIRS-2", status=SchemeStatus.PUBLISHED
    )
    offer = OfferFactory(scheme=published, provider=theirs.practice)
    return {
        "schemes": (Scheme, scheme.id, "publish"),
        "components": (Component, scheme.components[0].id, "delete"),
        "tariffs": (Tariff, scheme.components[0].tariffs[0].id, "delete"),
        "claim-windows": (ClaimWindow, scheme.windows[0].id, "delete"),
        "questions": (SupplementaryQuestion, scheme.questions[0].id, "delete"),
        "offers": (Offer, offer.id, "withdraw"),
    }


@pytest.mark.parametrize(
    "view", ["schemes", "components", "tariffs", "claim-windows", "questions", "offers"]
)
def test_another_icbs_records_are_out_of_reach(client, db_session, ours, their_records, view):
    model, key, bulk_action = their_records[view]
    ready_scheme(commissioner=ours.icb, code="OURS-1")
    sign_in(client, ours.admin.email)

    listing = client.get(f"/admin/{view}/").get_data(as_text=True)
    assert "THEIRS-" not in listing
    searched = client.get(f"/admin/{view}/?search=THEIRS").get_data(as_text=True)
    assert "THEIRS-" not in searched
    export = client.get(f"/admin/{view}/export/csv/", buffered=True).get_data(as_text=True)
    assert "THEIRS-" not in export
    assert "THEIRS-" not in xlsx_text(client.get(f"/admin/{view}/export/xlsx/", buffered=True))

    assert client.get(f"/admin/{view}/details/?id={key}").status_code == 404
    # Offers have no edit or delete page at all (Flask-Admin sends you back to the list).
    refused = {302} if view == "offers" else {404}
    assert client.get(f"/admin/{view}/edit/?id={key}").status_code in refused
    assert post(client, f"/admin/{view}/edit/?id={key}", {"name": "Taken"}).status_code in refused
    assert post(client, f"/admin/{view}/delete/", {"id": key}).status_code in refused
    response = post(client, f"/admin/{view}/action/", {"action": bulk_action, "rowid": [key]})
    assert response.status_code == 302

    db_session.expire_all()
    record = db_session.get(model, key)
    assert record is not None
    if isinstance(record, Scheme):
        assert record.status is SchemeStatus.DRAFT
    if isinstance(record, Offer):
        assert record.status is OfferStatus.PENDING


def test_scheme_buttons_refuse_another_icbs_scheme(client, db_session, ours, their_records):
    _, key, _ = their_records["schemes"]
    sign_in(client, ours.admin.email)
    for button in ["publish", "close", "generate-windows"]:
        assert post(client, f"/admin/schemes/{button}/", {"id": key}).status_code == 404
    db_session.expire_all()
    assert db_session.get(Scheme, key).status is SchemeStatus.DRAFT


def test_our_sub_locations_schemes_are_ours(client, ours):
    ready_scheme(commissioner=ours.sub_location, code="OURS-SUB")
    sign_in(client, ours.admin.email)
    assert "OURS-SUB" in client.get("/admin/schemes/").get_data(as_text=True)


def test_the_offer_form_lists_only_our_providers_and_schemes(client, ours, theirs, their_records):
    ours_published = SchemeFactory(
        commissioner=ours.icb, code="OURS-PUB", status=SchemeStatus.PUBLISHED
    )
    sign_in(client, ours.admin.email)
    page = client.get("/admin/offers/new/").get_data(as_text=True)
    assert ours_published.code in page
    assert ours.practice.ods_code in page
    assert "THEIRS-2" not in page
    assert theirs.practice.ods_code not in page
    # Posting another ICB's scheme or practice is not a valid choice.
    foreign_scheme = their_records["schemes"][1]
    response = post(
        client,
        "/admin/offers/new/",
        {"scheme_id": foreign_scheme, "provider_ids": [theirs.practice.id]},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_a_shared_scheme_can_be_seen_and_offered_but_not_changed(client, db_session, ours, theirs):
    shared = ready_scheme(commissioner=theirs.icb, code="SHARED-1", status=SchemeStatus.PUBLISHED)
    from claims_portal.schemes.models import SchemeShare
    from tests.factories import BaseFactory

    class ShareFactory(BaseFactory):
        class Meta:
            model = SchemeShare

    ShareFactory(scheme=shared, commissioner=ours.icb)
    sign_in(client, ours.admin.email)
    assert "SHARED-1" in client.get("/admin/schemes/").get_data(as_text=True)
    assert client.get(f"/admin/schemes/details/?id={shared.id}").status_code == 200
    assert client.get(f"/admin/schemes/edit/?id={shared.id}").status_code == 403
    assert post(client, "/admin/schemes/close/", {"id": shared.id}).status_code == 403
    assert post(client, "/admin/schemes/delete/", {"id": shared.id}).status_code == 403
    response = post(
        client, "/admin/offers/new/", {"scheme_id": shared.id, "provider_ids": [ours.practice.id]}
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Scheme, shared.id).status is SchemeStatus.PUBLISHED
    offer = db_session.scalar(select(Offer).where(Offer.scheme_id == shared.id))
    assert offer.provider_id == ours.practice.id
