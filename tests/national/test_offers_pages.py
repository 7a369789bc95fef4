"""The offers pages: a commissioner offers a service (check your answers), withdraws and
cancels with a confirmation; a practice lists, views (groups by domain), accepts and rejects
with a confirmation; refusals show the NHS error summary; another organisation's offer is not
found; the pending actions list the offers to answer."""

from __future__ import annotations

import html

import pytest

from claims_portal.clock import today
from claims_portal.national.models import OfferStatus
from claims_portal.national.services import offers
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.national import IndicatorGroupFactory, QualityServiceFactory
from tests.national.offer_helpers import make_scene

S = OfferStatus


def _year() -> int:
    day = today()
    return day.year if day.month >= 4 else day.year - 1


@pytest.fixture
def scene(db_session):
    return make_scene()


@pytest.fixture
def service(db_session):
    return QualityServiceFactory(name="Quality and Outcomes Framework", financial_year=_year())


def _dates(service) -> dict[str, str]:
    data = {}
    for name, day in (("start_date", service.start_date), ("end_date", service.end_date)):
        data |= {f"{name}-day": day.day, f"{name}-month": day.month, f"{name}-year": day.year}
    return data


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_commissioner_offers_a_service_after_checking_the_answers(app, scene, service):
    browser = signed_in(app, scene.commissioner)
    page = browser.get(f"/national/offers/new?service={service.id}")
    assert page.status_code == 200
    assert scene.practice.display_name in _text(page)
    assert scene.other_practice.display_name not in _text(page)
    form = {"service": service.id, "to": "chosen", "provider": scene.practice.id, **_dates(service)}
    check = post(browser, "/national/offers/new", form)
    assert check.status_code == 200
    assert "Check your answers before offering the service" in _text(check)
    assert offers.live_offer_provider_ids(scene_session(), service) == set()
    done = post(browser, "/national/offers/new", {**form, "confirmed": "1"})
    assert done.status_code == 200
    assert "Quality and Outcomes Framework offered" in _text(done)
    assert offers.live_offer_provider_ids(scene_session(), service) == {scene.practice.id}
    listed = browser.get(f"/national/offers/made?year={_year()}")
    assert scene.practice.display_name in _text(listed)


def _status(offer_id):
    from sqlalchemy import select

    from claims_portal.national.models import ServiceOffer

    return scene_session().scalar(select(ServiceOffer.status).where(ServiceOffer.id == offer_id))


def scene_session():
    from claims_portal.extensions import db

    return db.session


def test_the_offer_form_shows_its_problems_in_the_error_summary(app, scene, service):
    browser = signed_in(app, scene.commissioner)
    response = post(
        browser,
        "/national/offers/new",
        {"service": service.id, "to": "chosen", "start_date-day": "31", "start_date-month": "2"},
    )
    assert response.status_code == 400
    text = _text(response)
    assert "nhsuk-error-summary" in text
    assert "Choose at least one provider, or all of them" in text
    assert "Enter a real start date" in text
    assert "Error: Offer a service" in text
    # A date outside the service's.
    early = {**_dates(service), "start_date-year": str(service.start_date.year - 1)}
    response = post(
        browser,
        "/national/offers/new",
        {"service": service.id, "to": "all", "confirmed": "1", **early},
    )
    assert response.status_code == 400
    assert "The start date must be on or after" in _text(response)
    assert offers.live_offer_provider_ids(scene_session(), service) == set()


def test_a_practice_accepts_after_confirming(app, scene, service):
    IndicatorGroupFactory(service=service, domain_description="Clinical", description="Asthma")
    offer = offers.offer_service(
        scene_session(), service, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )[0]
    offer_id = offer.id
    browser = signed_in(app, scene.manager)
    listed = browser.get("/national/offers/received")
    assert str(service) in _text(listed)
    details = browser.get(f"/national/offers/received/{offer_id}")
    assert "Clinical (1 group)" in _text(details)
    assert "Asthma" in _text(details)
    confirm = post(browser, "/national/offers/received", {"action": "accept", "offer": offer_id})
    assert "Accept 1 service?" in _text(confirm)
    assert _status(offer_id) is S.OFFERED
    done = post(
        browser,
        "/national/offers/received",
        {"action": "accept", "offer": offer_id, "confirmed": "1"},
    )
    assert done.status_code == 200
    assert "1 offer accepted" in _text(done)
    assert _status(offer_id) is S.APPROVED


def test_a_rejection_needs_a_reason(app, scene, service):
    offer = offers.offer_service(
        scene_session(), service, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )[0]
    offer_id = offer.id
    browser = signed_in(app, scene.manager)
    form = {"action": "reject", "offer": offer_id, "confirmed": "1"}
    refused = post(browser, "/national/offers/received", form)
    assert refused.status_code == 400
    assert "Enter why the offer is rejected" in _text(refused)
    assert _status(offer_id) is S.OFFERED
    done = post(browser, "/national/offers/received", {**form, "reason": "No nurse"})
    assert done.status_code == 200
    assert _status(offer_id) is S.REJECTED


def test_nothing_ticked_is_refused_on_the_list(app, scene, service):
    browser = signed_in(app, scene.manager)
    response = post(browser, "/national/offers/received", {"action": "accept"})
    assert response.status_code == 400
    assert "Select at least one offer" in _text(response)


def test_the_commissioner_withdraws_and_a_late_acceptance_is_told(app, scene, service):
    offer = offers.offer_service(
        scene_session(), service, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )[0]
    offer_id = offer.id
    commissioner = signed_in(app, scene.commissioner)
    practice = signed_in(app, scene.manager)
    confirm = post(practice, "/national/offers/received", {"action": "accept", "offer": offer_id})
    assert confirm.status_code == 200
    done = post(
        commissioner,
        "/national/offers/made",
        {"action": "withdraw", "offer": offer_id, "confirmed": "1"},
    )
    assert "1 offer withdrawn" in _text(done)
    late = post(
        practice,
        "/national/offers/received",
        {"action": "accept", "offer": offer_id, "confirmed": "1"},
    )
    assert late.status_code == 409
    assert "this one was withdrawn by Tom Okafor" in _text(late)
    assert _status(offer_id) is S.WITHDRAWN


def test_another_organisations_offer_is_not_found(app, scene, service):
    offer = offers.offer_service(
        scene_session(), service, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )[0]
    offer_id = offer.id
    outsider = signed_in(app, scene.other_manager)
    assert outsider.get(f"/national/offers/received/{offer_id}").status_code == 404
    answer = post(
        outsider,
        "/national/offers/received",
        {"action": "accept", "offer": offer_id, "confirmed": "1"},
    )
    assert answer.status_code == 404
    other_commissioner = signed_in(app, scene.other_commissioner)
    assert other_commissioner.get(f"/national/offers/made/{offer_id}").status_code == 404
    assert _status(offer_id) is S.OFFERED


def test_each_side_needs_its_capability(app, scene):
    assert signed_in(app, scene.manager).get("/national/offers/made").status_code == 403
    assert signed_in(app, scene.commissioner).get("/national/offers/received").status_code == 403


def test_the_lists_filter_by_year_and_status(app, scene, service):
    old = QualityServiceFactory(name="Old service", financial_year=_year() - 1)
    session = scene_session()
    for item in (service, old):
        offers.offer_service(
            session, item, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
        )
    browser = signed_in(app, scene.commissioner)
    this_year = _text(browser.get("/national/offers/made"))
    assert "Quality and Outcomes Framework" in this_year
    assert "Old service" not in this_year
    last_year = _text(browser.get(f"/national/offers/made?year={_year() - 1}"))
    assert "Old service" in last_year
    approved = _text(browser.get("/national/offers/made?year=all&status=APPROVED"))
    assert "No offers match." in approved


def test_the_lists_open_on_the_newest_year_with_services_when_this_one_has_none(
    app, scene, db_session
):
    """Services for a new year are loaded after 1 April: until then the lists and the offer
    page open on last year's, not on an empty year."""
    old = QualityServiceFactory(name="Last year's service", financial_year=_year() - 1)
    QualityServiceFactory(name="Older service", financial_year=_year() - 2)
    offers.offer_service(
        scene_session(), old, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )
    made = _text(signed_in(app, scene.commissioner).get("/national/offers/made"))
    assert "Last year's service" in made
    assert "No offers match." not in made
    received = _text(signed_in(app, scene.manager).get("/national/offers/received"))
    assert "Last year's service" in received
    choose = _text(signed_in(app, scene.commissioner).get("/national/offers/new"))
    assert "Last year's service" in choose
    assert "Older service" not in choose


def test_the_lists_open_on_this_year_when_it_has_services(app, scene, service):
    old = QualityServiceFactory(name="Old service", financial_year=_year() - 1)
    offers.offer_service(
        scene_session(), old, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )
    made = _text(signed_in(app, scene.commissioner).get("/national/offers/made"))
    assert "No offers match." in made  # this year has a service, but no offer of it yet
    assert "Old service" not in made


def test_the_pending_actions_list_offers_to_answer(app, scene, service):
    offers.offer_service(
        scene_session(), service, [scene.practice], commissioner=scene.icb, actor=scene.commissioner
    )
    browser = signed_in(app, scene.manager)
    page = _text(browser.get("/messages"))
    assert "National services to answer (1)" in page
    assert str(service) in page
    assert "1 waiting for you." in page
    assert "Pending actions (1)" in page  # the header counts it too


def test_the_header_links_national_services_for_those_who_hold_the_capabilities(app, scene):
    from claims_portal.access.roles import Role
    from tests.factories.access import user_with_role

    def header(user) -> str:
        page = _text(signed_in(app, user).get("/"))
        return page[page.index("<header") : page.index("</header>")]

    assert 'href="/national/offers/made"' in header(scene.commissioner)
    assert "National services" in header(scene.commissioner)
    assert 'href="/national/offers/received"' in header(scene.manager)
    administrator = header(user_with_role(Role.ADMINISTRATOR, scene.icb))
    assert "National services" not in administrator  # the ICB administrator's header as it was


def test_the_national_commissioner_offers_to_every_practice_of_one_icb(app, scene, service):
    browser = signed_in(app, scene.national_commissioner)
    page = _text(browser.get(f"/national/offers/new?service={service.id}&within={scene.icb.id}"))
    assert scene.practice.display_name in page
    assert scene.other_practice.display_name not in page
    assert f"Every provider of {scene.icb.name} without an offer (2)" in page
    form = {"service": service.id, "to": "all", "within": scene.icb.id, **_dates(service)}
    check = _text(post(browser, "/national/offers/new", form))
    assert "Offered to (2)" in check
    done = post(browser, "/national/offers/new", {**form, "confirmed": "1"})
    assert "To 2 providers" in _text(done)
    live = offers.live_offer_provider_ids(scene_session(), service)
    assert live == {scene.practice.id, scene.second_practice.id}


def test_the_commissioners_list_comes_in_pages_keeping_its_filters(
    app, scene, service, monkeypatch
):
    from claims_portal.national.services import offer_lists

    monkeypatch.setattr(offer_lists, "PER_PAGE", 1)
    offers.offer_service(
        scene_session(), service, [scene.practice, scene.second_practice],
        commissioner=scene.icb, actor=scene.commissioner,
    )  # fmt: skip
    browser = signed_in(app, scene.commissioner)
    first = _text(browser.get(f"/national/offers/made?year={_year()}&status=OFFERED"))
    assert "Page 1 of 2 (2 offers)" in first
    assert f"/national/offers/made?year={_year()}&amp;status=OFFERED&amp;page=2" in (
        browser.get(f"/national/offers/made?year={_year()}&status=OFFERED").get_data(as_text=True)
    )
    second = _text(browser.get(f"/national/offers/made?year={_year()}&status=OFFERED&page=2"))
    assert "Page 2 of 2 (2 offers)" in second
    names = [scene.practice.display_name, scene.second_practice.display_name]
    assert sum(name in first for name in names) == 1
    assert sum(name in second for name in names) == 1
    assert sum(name in first + second for name in names) == 2
    past = _text(browser.get(f"/national/offers/made?year={_year()}&status=OFFERED&page=99"))
    assert "Page 2 of 2" in past
    one_page = _text(browser.get("/national/offers/made?status=APPROVED"))
    assert "Page 1 of" not in one_page
