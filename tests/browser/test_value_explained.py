"""In Chromium on the demo data: a practice user claims more than one claim may hold and is
told on save what submission will say; with the units put right, the value is explained in
plain words, the rules and their sources behind a details. axe checks each page."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from claims_portal.extensions import db
from claims_portal.schemes.models import Component, Scheme
from tests.browser.helpers import assert_accessible
from tests.browser.test_claims_journey import _as, _see, _start_claim, fresh_scheme

pytestmark = pytest.mark.browser

AISHA = "aisha.rahman@example.nhs.net"  # User (single-level), Millbrook Y90002 (one-step)
REFUSAL = "NHS Health Check: at most 150 can be claimed in one claim (you entered 160)"


def _limit_health_checks(app: Any, code: str, limit: int) -> None:
    with app.app_context():
        scheme = db.session.scalars(select(Scheme).where(Scheme.code == code)).one()
        component = next(c for c in scheme.components if c.code == "HC1")
        db.session.get(Component, component.id).max_units_per_claim = limit
        db.session.commit()
        db.session.remove()


def test_the_limit_on_save_and_the_value_in_plain_words(browser, live_app, live_server, tmp_path):
    code, _name = fresh_scheme(live_app, "Y90002", AISHA)
    _limit_health_checks(live_app, code, 150)
    page = _as(browser, live_server, AISHA)
    _start_claim(page, code)
    _see(page.locator("body"), "Enter the number of units (one unit is one health checks")

    page.get_by_label("NHS Health Check (HC1)").fill("160")
    page.get_by_label("Follow-up of raised risk (HC2)").fill("1200")
    page.get_by_role("button", name="Save draft").click()
    _see(page.locator("body"), REFUSAL)  # what submission will say, on save
    body = page.locator("body").inner_text()
    assert "of the 160" not in body  # never priced down to the limit
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "over-the-limit.png"), full_page=True)

    page.get_by_label("NHS Health Check (HC1)").fill("150")
    page.get_by_role("button", name="Save draft").click()
    explained = page.get_by_test_id("value-explained")
    _see(explained, "150 units at £25.00 each come to £3,750.00.")
    _see(explained, "1,200 units at £12.50 each come to £15,000.00.")
    _see(explained, "the first day of the claim period")
    _see(page.get_by_test_id("claim-total"), "£18,750.00")
    assert REFUSAL not in page.locator("body").inner_text()
    page.get_by_text("The rules used and their sources").click()
    _see(explained, "Source: the commissioner's local scheme specification")
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "value-explained.png"), full_page=True)
    page.context.close()
