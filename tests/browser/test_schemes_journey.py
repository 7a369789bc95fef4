"""What will be checked: an ICB administrator builds, publishes and offers a scheme in the
admin; the practice accepts it and sees its claim windows; another ICB cannot reach it.

Each test makes its own scheme (a fresh code) so that tests sharing the live database stay
independent of each other.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from claims_portal.clock import today
from claims_portal.demo import DEMO_PASSWORD
from claims_portal.schemes.demo import financial_year_start, health_checks_code
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

ADMIN = "priya.shah@example.nhs.net"
MILLBROOK_USER = "aisha.rahman@example.nhs.net"


#: The machine may be busy (other suites run on it): wait longer than expect's 5 seconds.
WAIT_MS = 20_000


def _see(locator, text: str) -> None:
    expect(locator).to_contain_text(text, timeout=WAIT_MS)


def _fresh_code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def _build_and_publish(page, code: str, name: str) -> str:
    """As the ICB administrator: create, add a component with a tariff, generate, publish."""
    page.get_by_role("link", name="Administration").click()
    _see(page.locator("body"), "Building a scheme, step by step")
    page.get_by_role("link", name="Create a scheme").click()
    page.locator("#code").fill(code)
    page.locator("#name").fill(name)
    page.locator("#description").fill("Made by the browser test")
    year = financial_year_start(today())  # the financial year of the moment the suite runs as
    page.locator("#financial_year").select_option(f"{year}/{(year + 1) % 100:02d}")
    page.locator("#start_date").fill(f"{year}-04-01")
    page.locator("#end_date").fill(f"{year + 1}-03-31")
    page.locator("#claim_frequency").select_option("MONTHLY")
    page.locator("#paycode").select_option("LESHC01")  # a demo paycode (payments/demo.py)
    # Inline component (Flask-Admin's "Add" button, bound by the CSP-safe script).
    page.get_by_role("button", name="Add Component").click()
    page.locator("#components-0-code").fill("HC1")
    page.locator("#components-0-name").fill("Health check")
    page.locator("#components-0-unit_label").fill("health check completed")
    page.locator("#components-0-new_unit_value").fill("25.00")
    page.locator("#components-0-new_effective_from").fill(f"{year}-04-01")
    page.get_by_role("button", name="Save", exact=True).click()
    panel = page.get_by_test_id("scheme-panel")
    _see(panel, f"{code} is Draft")
    _see(panel, "Add the claim windows")

    page.get_by_role("button", name="Generate claim windows").click()
    _see(page.locator("body"), "Claim windows: 12 added")
    page.get_by_role("button", name="Publish").click()
    _see(page.locator("body"), f"{code} is published")
    _see(page.get_by_test_id("scheme-panel"), f"{code} is Published")
    return page.url


def _offer_to(page, provider_label: str) -> None:
    page.get_by_role("link", name="Offer to providers").click()
    page.get_by_label(provider_label).check()
    page.get_by_role("button", name="Save", exact=True).click()
    _see(page.locator("body"), "offered to 1 provider")


def test_icb_builds_publishes_and_offers_a_scheme_the_practice_accepts(page, browser, live_server):
    code = _fresh_code("LES-E2E")
    name = f"Browser test scheme {code}"
    console_errors: list[str] = []
    page.on(
        "console",
        lambda m: console_errors.append(f"{page.url} {m.text}") if m.type == "error" else None,
    )

    sign_in_as(page, ADMIN, DEMO_PASSWORD)
    edit_url = _build_and_publish(page, code, name)
    _offer_to(page, "Millbrook Surgery (Y90002) - GP practice")
    _see(page.get_by_role("row").filter(has_text=code), "Pending")
    # Flask-Admin's pages work under the portal's CSP: no script was refused.
    assert not [e for e in console_errors if "Content Security Policy" in e and "script" in e]
    page.locator("form[action='/sign-out'] button, button:has-text('Sign out')").first.click()

    # The practice sees the offer, accepts it and sees its claim windows.
    sign_in_as(page, MILLBROOK_USER, DEMO_PASSWORD)
    page.get_by_role("link", name="Schemes", exact=True).click()
    _see(page.get_by_role("row").filter(has_text=name), "Pending")
    assert_accessible(page)
    page.get_by_role("link", name=name).click()
    _see(page.locator("body"), "You can claim once the offer is active")
    assert_accessible(page)
    page.get_by_role("link", name="Accept offer").click()
    _see(page.locator("h1"), f"Are you sure you want to accept {name}?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, accept the offer").click()
    _see(page.locator("body"), f"You accepted {name}")
    windows = page.locator("table").filter(has_text="Window opens")
    _see(windows, f"October {financial_year_start(today())}")
    text = windows.inner_text()
    assert f"October {financial_year_start(today())}" in text
    assert re.search(r"Open", text) or re.search(r"Upcoming", text)
    assert "Not claimed" in text
    assert_accessible(page)
    page.get_by_role("link", name="Back to schemes").click()
    _see(page.get_by_role("row").filter(has_text=name), "Active")

    # Another ICB's user (or any other practice) cannot reach it by URL.
    scheme_id = edit_url.split("id=")[1].split("&")[0]
    page.goto(f"/admin/schemes/edit/?id={scheme_id}")
    _see(page.locator("body"), "You do not have permission")


def test_reject_then_ask_again_then_the_icb_reissues(page, browser, live_server):
    code = _fresh_code("LES-REJ")
    name = f"Browser rejection scheme {code}"
    sign_in_as(page, ADMIN, DEMO_PASSWORD)
    _build_and_publish(page, code, name)
    _offer_to(page, "Millbrook Surgery (Y90002) - GP practice")
    page.locator("button:has-text('Sign out')").first.click()

    sign_in_as(page, MILLBROOK_USER, DEMO_PASSWORD)
    page.goto("/schemes")
    page.get_by_role("link", name=name).click()
    page.get_by_role("link", name="Reject offer").click()
    _see(page.locator("h1"), f"Are you sure you want to reject {name}?")
    assert_accessible(page)
    page.get_by_label("Why are you rejecting this offer? (optional)").fill("Clicked by mistake")
    page.get_by_role("button", name="Yes, reject the offer").click()
    _see(page.locator("body"), f"You rejected {name}")
    page.get_by_role("button", name="Ask for this offer again").click()
    _see(page.locator("body"), "You asked for this offer again")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in_as(page, ADMIN, DEMO_PASSWORD)
    page.goto(f"/admin/offers/?search={code}")
    row = page.get_by_role("row").filter(has_text=code)
    _see(row, "Re-requested")
    row.locator("input.action-checkbox").check()
    page.get_by_role("button", name="With selected").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Reissue").click()
    _see(page.locator("body"), "Offers reissued: 1")
    _see(page.get_by_role("row").filter(has_text=code), "Pending")


def test_the_demo_practice_sees_open_and_missed_windows(page):
    sign_in_as(page, "sarah.bennett@example.nhs.net", DEMO_PASSWORD)
    page.get_by_role("link", name="Schemes", exact=True).click()
    assert_accessible(page)
    # Last year's health checks: every window has opened, the oldest were missed.
    last_year = health_checks_code(financial_year_start(today()) - 1)
    page.get_by_role("row", name=re.compile(last_year)).get_by_role("link").click()
    _see(page.locator("body"), "Missed")
    _see(page.locator("body"), "Active")
    assert_accessible(page)


def test_another_icbs_admin_urls_are_refused_to_a_practice(page):
    sign_in_as(page, MILLBROOK_USER, DEMO_PASSWORD)
    page.goto("/admin/")
    _see(page.locator("body"), "You do not have permission")
    page.goto("/admin/schemes/")
    _see(page.locator("body"), "You do not have permission")
