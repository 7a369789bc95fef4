"""The shell as a person meets it: sign in, see who and where you are, sign out."""

from __future__ import annotations

import pytest

from claims_portal.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser


def test_demo_user_signs_in_sees_organisation_and_signs_out(page, browser, live_server):
    page.goto("/")
    assert page.url.endswith("/sign-in?next=%2F")
    assert_accessible(page)

    sign_in_as(page, "sarah.bennett@example.nhs.net", DEMO_PASSWORD)
    header = page.locator("header")
    assert "Sarah Bennett" in header.inner_text()
    assert "Riverside Medical Centre (Y90001)" in header.inner_text()
    assert_accessible(page)

    # Sarah approves for two practices: the switcher moves her to the other one.
    page.get_by_role("link", name="Change organisation").first.click()
    assert_accessible(page)
    page.get_by_label("Oakfield Health Centre (Y90003)").check()
    page.get_by_role("button", name="Continue").click()
    assert "Oakfield Health Centre (Y90003)" in page.locator("header").inner_text()

    cookies = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    assert page.url.endswith("/sign-in")
    assert "You have signed out" in page.content()

    # The cookie from before signing out no longer opens the portal.
    replay = browser.new_context(base_url=live_server.url)
    replay.add_cookies(cookies)
    other = replay.new_page()
    other.goto("/")
    assert "/sign-in" in other.url
    replay.close()


def test_wrong_password_shows_the_error_summary(page):
    sign_in_as(page, "sarah.bennett@example.nhs.net", "not the password at all")
    summary = page.locator(".nhsuk-error-summary")
    assert "Enter a correct email address and password" in summary.inner_text()
    # The NHS error summary takes focus so screen reader users hear it first.
    assert page.evaluate("document.activeElement.classList.contains('nhsuk-error-summary')")
    assert page.title().startswith("Error: ")
    assert_accessible(page)


def test_commissioner_pages_are_accessible(page):
    sign_in_as(page, "priya.shah@example.nhs.net", DEMO_PASSWORD)
    page.get_by_role("link", name="Practices").click()
    assert "Riverside Medical Centre" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="Change approval for Millbrook Surgery").click()
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    assert "Practices commissioned by" in page.content()


def test_not_found_page_is_accessible(page):
    page.goto("/no-such-page")
    assert "Page not found" in page.content()
    assert_accessible(page)
