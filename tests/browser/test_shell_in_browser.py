"""The shell as a person meets it: sign in, see who and where you are, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from claims_portal.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser


def test_demo_user_signs_in_sees_organisation_and_signs_out(page, browser, live_server):
    page.goto("/")
    # A first visit to the home page is a plain sign-in page: no "next", no banner.
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator(".nhsuk-notification-banner")).to_have_count(0)
    assert_accessible(page)

    sign_in_as(page, "sarah.bennett@example.nhs.net", DEMO_PASSWORD)
    header = page.locator("header")
    expect(header).to_contain_text("Sarah Bennett")
    expect(header).to_contain_text("Riverside Medical Centre (Y90001)")
    assert_accessible(page)

    # Sarah approves for two practices: the switcher moves her to the other one.
    page.get_by_role("link", name="Change organisation").first.click()
    expect(page.get_by_label("Oakfield Health Centre (Y90003)")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Oakfield Health Centre (Y90003)").check()
    page.get_by_role("button", name="Continue").click()
    expect(header).to_contain_text("Oakfield Health Centre (Y90003)")

    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator("main")).to_contain_text("You have signed out")

    # The cookie from before signing out no longer opens the portal.
    replay = browser.new_context(base_url=live_server.url)
    replay.add_cookies(cookies)
    other = replay.new_page()
    other.goto("/")
    expect(other).to_have_url(re.compile(r"/sign-in"))
    replay.close()


def test_wrong_password_shows_the_error_summary(page):
    sign_in_as(page, "sarah.bennett@example.nhs.net", "not the password at all")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter a correct email address and password")
    # The NHS error summary takes focus so screen reader users hear it first.
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_commissioner_pages_are_accessible(page):
    sign_in_as(page, "priya.shah@example.nhs.net", DEMO_PASSWORD)
    page.get_by_role("link", name="Practices").click()
    expect(page.locator("main")).to_contain_text("Riverside Medical Centre")
    assert_accessible(page)
    page.get_by_role("link", name="Change approval for Millbrook Surgery").click()
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Practices commissioned by")


def test_not_found_page_is_accessible(page):
    page.goto("/no-such-page")
    expect(page.locator("main")).to_contain_text("Page not found")
    assert_accessible(page)
