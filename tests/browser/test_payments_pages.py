"""The payments pages as finance and a practice see them with the demo data (the demo's run
paid one claim and had the other's row rejected): what they say, and axe on each."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from claims_portal.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

FINANCE = "gareth.lewis@example.nhs.net"
PRACTICE = "aisha.rahman@example.nhs.net"


def _as(browser, live_server, email):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_as(page, email, DEMO_PASSWORD)
    return page


def test_finance_follows_the_payment_files_and_its_tasks(browser, live_server):
    page = _as(browser, live_server, FINANCE)
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.locator("h1")).to_have_text("Payment files")
    expect(page.get_by_role("cell", name="Partly rejected")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^QXV-\d{8}-R\d{6}\.csv$")).click()
    expect(page.get_by_text("Practice not set up for this paycode")).to_be_visible()
    assert_accessible(page)
    page.goto("/payments/files")
    page.get_by_role("link", name="Payments the agency rejected").click()
    expect(page.get_by_text("Practice not set up for this paycode")).to_be_visible()
    assert_accessible(page)
    page.goto("/payments/run")
    expect(page.locator("h1")).to_have_text("Start a payment run")
    assert_accessible(page)
    page.goto("/payments/accruals")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Pending actions \(\d+\)$")).click()
    expect(page.get_by_test_id("rejected-payments-task")).to_contain_text(
        "1 payment to send again or hold"
    )
    assert_accessible(page)


def test_a_practice_sees_its_payments_and_statements(browser, live_server):
    page = _as(browser, live_server, PRACTICE)
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.locator("h1")).to_have_text("Payments")
    expect(page.get_by_text("Rejected by the agency")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Monthly statements").click()
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("PDF")).first.click()
    assert download.value.suggested_filename.startswith("statement-Y90002-")
