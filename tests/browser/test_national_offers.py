"""A commissioner offers a national service to a practice (choose the service, the practice
and the dates, check the answers) and the practice accepts it (the message centre, the
offer's details, a confirmation): axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from claims_portal.access.roles import Role
from claims_portal.clock import today
from claims_portal.extensions import db
from tests.browser.helpers import assert_accessible, sign_in_as
from tests.factories.access import user_with_role
from tests.factories.national import IndicatorGroupFactory, QualityServiceFactory
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def scene(live_app) -> dict[str, str]:
    day = today()
    year = day.year if day.month >= 4 else day.year - 1
    with live_app.app_context():
        icb = IcbFactory(name="Browser ICB")
        practice = PracticeFactory(parent=icb, name="Browser Surgery")
        commissioner = user_with_role(Role.COMMISSIONING_MANAGEMENT, icb)
        manager = user_with_role(Role.SERVICE_MANAGEMENT, practice)
        service = QualityServiceFactory(name="Browser QOF", financial_year=year)
        IndicatorGroupFactory(service=service, description="Atrial fibrillation")
        db.session.commit()
        names = {
            "commissioner": commissioner.email,
            "manager": manager.email,
            "practice": practice.display_name,
            "service": str(service),
        }
        db.session.remove()
    return names


def _as(browser, live_server, email):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_as(page, email, TEST_PASSWORD)
    return page


def test_a_commissioner_offers_and_a_practice_accepts(browser, live_server, scene):
    page = _as(browser, live_server, scene["commissioner"])
    page.get_by_role("link", name="National services", exact=True).click()
    expect(page.locator("h1")).to_have_text("Offered services")
    assert_accessible(page)
    page.get_by_test_id("offer-a-service").click()
    page.get_by_label(re.compile(r"^Service \(")).select_option(label="Browser QOF (GP practice)")
    page.get_by_role("button", name="Choose this service").click()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()  # nobody chosen: the error summary
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose at least one provider")
    assert_accessible(page)
    page.get_by_label(scene["practice"]).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your answers before offering the service")
    expect(page.get_by_test_id("check-answers")).to_contain_text(scene["practice"])
    assert_accessible(page)
    page.get_by_role("button", name="Offer the service to 1 provider").click()
    expect(page.get_by_test_id("offered")).to_contain_text("Browser QOF offered")
    assert_accessible(page)

    practice = _as(browser, live_server, scene["manager"])
    practice.get_by_role("link", name=re.compile(r"^Pending actions \(\d+\)$")).click()
    tasks = practice.get_by_test_id("national-offers-to-answer")
    expect(tasks).to_contain_text(scene["service"])
    assert_accessible(practice)
    tasks.get_by_role("link", name=scene["service"]).click()
    expect(practice.get_by_test_id("offer-summary")).to_contain_text("Offered")
    practice.get_by_text(re.compile(r"^Clinical \(1 group\)$")).click()
    expect(practice.get_by_text("Atrial fibrillation")).to_be_visible()
    assert_accessible(practice)
    practice.get_by_role("link", name="National services", exact=True).click()
    expect(practice.locator("h1")).to_have_text("My services")
    assert_accessible(practice)
    practice.get_by_label(f"Select {scene['service']}").check()
    practice.get_by_role("button", name="Accept selected services").click()
    expect(practice.locator("h1")).to_have_text("Accept 1 service?")
    assert_accessible(practice)
    practice.get_by_role("button", name="Yes, accept 1 service").click()
    expect(practice.get_by_test_id("offers-done")).to_contain_text("1 offer accepted")
    expect(practice.get_by_test_id("done-offers")).to_contain_text("Approved")
    assert_accessible(practice)
