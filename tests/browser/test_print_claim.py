"""The claim page printed in Chromium: the claim in full, without the header's navigation and
account links, the footer or buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from claims_portal.demo import DEMO_PASSWORD
from tests.browser.helpers import sign_in_as

pytestmark = pytest.mark.browser

SARAH = "sarah.bennett@example.nhs.net"  # provider approver, Riverside


def test_the_printed_claim_page_is_the_claim_alone(page):
    sign_in_as(page, SARAH, DEMO_PASSWORD)
    page.goto("/claims")
    page.locator("table a[href^='/claims/']").first.click()
    heading = page.locator("h1")
    details = page.locator("details").first
    expect(page.locator(".nhsuk-header__navigation")).to_be_visible()
    expect(details.locator(".nhsuk-details__text")).to_be_hidden()
    page.emulate_media(media="print")
    expect(heading).to_be_visible()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    for hidden in (".nhsuk-header__navigation", ".nhsuk-header__account", ".nhsuk-footer"):
        expect(page.locator(hidden)).to_be_hidden()
    for button in page.locator(".nhsuk-button").all():
        expect(button).to_be_hidden()
    # How the value was calculated: a closed "details" on screen, printed open.
    expect(details.locator(".nhsuk-details__text")).to_be_visible()
