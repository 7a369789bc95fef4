"""In Chromium on the demo data: the header's Pending actions link with the number of things
waiting, the Pending actions page, an outcome message marked as read (the Messages count
going to 0), and an offer's news reaching the other side. axe checks every page."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.claims import services
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.extensions import db
from tests.browser.helpers import assert_accessible
from tests.browser.test_claims_bulk import claim_waiting_for_tier_1
from tests.browser.test_claims_journey import AISHA, TOM, _as, _see, fresh_scheme

pytestmark = pytest.mark.browser


def test_tasks_and_messages(browser, live_server, live_app):
    code, _ = fresh_scheme(live_app, "Y90002", AISHA)
    reference = claim_waiting_for_tier_1(live_app, code)

    page = _as(browser, live_server, TOM)
    page.get_by_role("link", name=re.compile(r"^Pending actions \(\d+\)$")).click()
    expect(page.locator("h1")).to_have_text("Message centre")
    tasks = page.get_by_test_id("tasks")
    _see(tasks, reference)
    _see(tasks, "Review (tier 1)")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()
    expect(page).to_have_url(re.compile(rf"/claims/{int(reference.removeprefix('CLM-'))}$"))
    page.wait_for_load_state("networkidle")  # no request left half-served
    page.context.close()

    with live_app.app_context():
        session = db.session
        tom = session.scalars(select(User).where(User.email == TOM)).one()
        claim = session.scalars(
            select(Claim).where(Claim.id == int(reference.removeprefix("CLM-")))
        ).one()
        services.transition(
            session,
            claim.id,
            ClaimAction.TIER_1_DECLINE,
            tom,
            expected_version=claim.version,
            reason="Please attach the clinic list",
        )
        session.commit()
        session.remove()

    page = _as(browser, live_server, AISHA)
    page.goto("/messages/updates")
    messages = page.get_by_test_id("messages")
    _see(messages, f"{reference} was declined")
    _see(messages, "Please attach the clinic list")
    assert_accessible(page)
    page.get_by_role("button", name="Mark all as read").click()
    _see(page.get_by_test_id("unread-count"), "0 unread")
    expect(page.get_by_role("link", name="Messages (0)")).to_be_visible()
    page.get_by_role("link", name="Pending actions", exact=True).click()
    _see(page.get_by_test_id("tasks"), reference)  # the declined claim to fix
    _see(page.get_by_test_id("tasks"), "Change and submit again, or withdraw")
    assert_accessible(page)
    page.wait_for_load_state("networkidle")  # no request left half-served
    page.context.close()


def _shot(page, name: str) -> None:
    """A screenshot to look at, when BROWSER_SHOTS names a folder (never in CI)."""
    folder = os.environ.get("BROWSER_SHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


MARCUS = "marcus.lee@example.nhs.net"  # Approver in Northvale Central PCN (answers its offers)
PRIYA = "priya.shah@example.nhs.net"  # ICB administrator


def test_an_offer_to_the_pcn_is_answered_there_and_the_icb_is_told(browser, live_server):
    page = _as(browser, live_server, MARCUS)
    page.get_by_role("link", name=re.compile(r"^Pending actions \(\d+\)$")).click()
    offers = page.get_by_test_id("offers-to-answer")
    _see(offers, "Care home ward rounds (participation)")
    assert_accessible(page)
    page.get_by_role("link", name="Messages", exact=True).click()
    _see(page.get_by_test_id("notices"), "Care home ward rounds (participation) is offered to")
    assert_accessible(page)
    page.goto("/messages")
    page.get_by_test_id("offers-to-answer").get_by_role("link").first.click()
    page.get_by_role("link", name="Reject offer").click()
    page.get_by_label(re.compile("Why are you rejecting")).fill("The PCN does not cover care homes")
    page.get_by_role("button", name="Yes, reject the offer").click()
    _see(page.locator("body"), "You rejected")
    _shot(page, "pcn-rejected")
    page.context.close()

    page = _as(browser, live_server, PRIYA)
    page.get_by_role("link", name=re.compile(r"^Messages \(\d+\)$")).click()
    notices = page.get_by_test_id("notices")
    _see(notices, "rejected Care home ward rounds (participation)")
    _see(notices, "The PCN does not cover care homes")
    assert_accessible(page)
    _shot(page, "icb-messages")
    page.wait_for_load_state("networkidle")
    page.context.close()
