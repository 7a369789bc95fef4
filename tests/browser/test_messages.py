"""In Chromium on the demo data: the header's Messages link with the number of tasks, the
tasks page, and an outcome message marked as read. axe checks every page."""

from __future__ import annotations

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
    page.get_by_role("link", name=re.compile(r"^Messages \(\d+\)$")).click()
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
    page.get_by_role("link", name="Tasks").click()
    _see(page.get_by_test_id("tasks"), reference)  # the declined claim to fix
    _see(page.get_by_test_id("tasks"), "Change and submit again, or withdraw")
    assert_accessible(page)
    page.wait_for_load_state("networkidle")  # no request left half-served
    page.context.close()
