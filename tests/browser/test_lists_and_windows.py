"""What will be checked: from an open claim window a link starts the claim; claim-list
filters that could not be read are named in the error summary; a provider approver can
approve in bulk; task lists show each claim's value; the claim history tells the changes.
Every page checked with axe. Nothing here changes the demo data other tests rely on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from claims_portal.clock import today
from claims_portal.demo import DEMO_PASSWORD
from claims_portal.schemes.demo import financial_year_start, health_checks_code
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

RIVERSIDE_USER = "james.whitfield@example.nhs.net"
RIVERSIDE_APPROVER = "sarah.bennett@example.nhs.net"
WAIT_MS = 20_000


def _see(locator, text: str) -> None:
    expect(locator).to_contain_text(text, timeout=WAIT_MS)


def test_a_window_starts_its_claim_and_unread_filters_are_said(page, tmp_path):
    sign_in_as(page, RIVERSIDE_USER, DEMO_PASSWORD)
    page.get_by_role("link", name="Schemes", exact=True).click()
    this_year = health_checks_code(financial_year_start(today()))
    page.get_by_role("row", name=re.compile(this_year)).get_by_role("link").first.click()
    start = page.get_by_role("link", name=re.compile(r"^Start a claim for "))
    expect(start.first).to_be_visible(timeout=WAIT_MS)
    assert_accessible(page)
    period = " ".join(start.first.inner_text().split()).removeprefix("Start a claim for ")
    start.first.click()
    _see(page.locator("h1"), "Start a new claim")
    chosen = page.locator("input[name='option']:checked")
    expect(chosen).to_have_count(1)
    label = page.locator(f"label[for='{chosen.get_attribute('id')}']")
    _see(label, period)
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "start-from-window.png"), full_page=True)

    page.goto("/claims?status=LOST&period-from=soon&scheme=999999")
    summary = page.locator(".nhsuk-error-summary")
    _see(summary, "The status was not recognised, so it is not applied")
    _see(summary, "The scheme was not recognised, so it is not applied")
    _see(summary, "Enter the period as a month and year, like 2026-10")
    expect(page).to_have_title(re.compile(r"^Error: Claims"))
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("The status was not recognised")).click()
    expect(page.locator("#filter-status")).to_be_focused()
    page.screenshot(path=str(tmp_path / "filter-errors.png"), full_page=True)


def test_a_provider_approver_sees_values_and_bulk_approval(page, tmp_path):
    sign_in_as(page, RIVERSIDE_APPROVER, DEMO_PASSWORD)
    page.goto("/claims")
    form = page.get_by_test_id("bulk-approval")
    expect(form).to_be_visible(timeout=WAIT_MS)
    _see(form, "Approve for the practice")
    expect(form.locator("input[name='claim']")).not_to_have_count(0)
    waiting = page.get_by_test_id("claims-waiting")
    _see(waiting, "Value")
    _see(waiting, "£")
    reference = page.locator("td.app-claim-reference").first
    assert reference.evaluate("cell => getComputedStyle(cell).whiteSpace") == "nowrap"
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "provider-bulk.png"), full_page=True)

    page.goto("/messages")
    tasks = page.get_by_test_id("tasks")
    _see(tasks, "Value")
    _see(tasks, "£")
    assert_accessible(page)

    # A claim's history, steps and changes in one list.
    page.goto("/claims")
    page.locator("td.app-claim-reference a").first.click()
    expect(page.get_by_test_id("claim-history")).to_be_visible(timeout=WAIT_MS)
    assert_accessible(page)
