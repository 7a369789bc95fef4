"""A practice enters its achievement by hand: its services, the achievement date, the task
list of indicator groups, a group's form (a figure refused in the error summary, then put
right), saved as work in progress, checked and submitted: axe on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from claims_portal import clock
from claims_portal.extensions import db
from tests.browser.helpers import assert_accessible, sign_in_as
from tests.helpers import TEST_PASSWORD
from tests.national.manual_entry_helpers import extract_loaded, make_scene, month_end_before

pytestmark = pytest.mark.browser


@pytest.fixture
def scene(live_app) -> dict[str, str]:
    with live_app.app_context():
        # Two month ends back, so that an extract finished two days ago came after it.
        day = month_end_before(month_end_before(clock.today()))
        scene = make_scene(day, code="BQOF", name="Browser QOF entry")
        extract_loaded(scene, clock.now() - dt.timedelta(days=2))
        db.session.commit()
        names = {"email": scene.provider.email, "day": f"{scene.day.day} {scene.day:%B %Y}"}
        db.session.remove()
    return names


def test_a_practice_enters_saves_and_submits_its_figures(browser, live_server, scene):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_as(page, scene["email"], TEST_PASSWORD)
    page.goto("/national/entry")
    expect(page.locator("h1")).to_have_text("Record achievement")
    assert_accessible(page)
    page.get_by_role("link", name="Browser QOF entry").click()
    assert_accessible(page)
    page.get_by_label("Achievement date").select_option(label=f"{scene['day']} (payment date)")
    page.get_by_role("button", name="Add new achievement").click()
    expect(page.get_by_test_id("entry-groups")).to_contain_text("Indicators submitted: 0 of 2")
    assert_accessible(page)
    page.get_by_role("link", name="Atrial fibrillation (AF)").click()
    expect(page.locator("h1")).to_have_text("Atrial fibrillation")
    assert_accessible(page)

    indicator = page.get_by_test_id("indicator-AF006")
    page.get_by_test_id("indicator-QI013").get_by_label("Yes").check()
    indicator.get_by_label("Numerator").fill("60")
    indicator.get_by_label("Denominator").fill("50")
    page.get_by_label("AF register (patients)").fill("120")
    page.get_by_label("List size (patients)").fill("8000")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("AF006 numerator (60) cannot be more than its denominator")
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    expect(indicator.get_by_label("Numerator")).to_be_focused()

    indicator.get_by_label("Numerator").fill("40")
    page.get_by_label("Submission notes").fill("Numerator checked against the audit")
    page.get_by_role("button", name="Save work in progress").click()
    expect(page.get_by_test_id("entry-groups")).to_contain_text("Work in progress")
    assert_accessible(page)
    page.get_by_role("link", name="Atrial fibrillation (AF)").click()
    expect(page.get_by_test_id("wip-note")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your answers before submitting")
    expect(page.get_by_test_id("check-figures")).to_contain_text("AF006 numerator")
    assert_accessible(page)
    page.get_by_role("button", name="Submit achievement data").click()
    expect(page.locator("h1")).to_have_text("Achievement data submitted")
    expect(page.get_by_test_id("group-progress")).to_have_text("Indicators submitted: 2 of 2")
    assert_accessible(page)
    page.get_by_role("link", name="Back to the indicator groups").click()
    expect(page.get_by_test_id("submission-notes")).to_contain_text(
        "Numerator checked against the audit"
    )
    assert_accessible(page)
    context.close()
