"""The admin looks and reads like the rest of the portal (issue 12): the NHS header with its
logo, favicon and colours, its sections on one line at 1280 pixels, dates in long form on
England's clock, the audit trail in names, and every problem of a form listed once, together.

Set ``ADMIN_SCREENSHOTS=/some/folder`` to keep a screenshot of each page checked.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.clock import today
from claims_portal.demo import DEMO_PASSWORD
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.schemes import services as scheme_services
from claims_portal.schemes.models import ClaimFrequency
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

ADMIN = "priya.shah@example.nhs.net"
WAIT_MS = 20_000
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
LONG_DATE = re.compile(rf"\b\d{{1,2}} ({MONTHS}) \d{{4}}\b")
LONG_TIME = re.compile(rf"\b\d{{1,2}} ({MONTHS}) \d{{4}} at \d\d:\d\d\b")
ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")


@pytest.fixture
def admin_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Priya (ICB administrator) signed in, in a 1280 x 800 window."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    sign_in_as(page, ADMIN, DEMO_PASSWORD)
    yield page
    context.close()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("ADMIN_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def _draft_scheme(app: Any) -> tuple[int, str]:
    """A fresh draft of this financial year, one component, no claim windows: (id, code)."""
    code = f"LES-LK-{uuid.uuid4().hex[:6].upper()}"
    start_year = today().year if today().month >= 4 else today().year - 1
    with app.app_context():
        session = db.session
        admin = session.scalar(select(User).where(User.email == ADMIN))
        icb = session.scalar(select(Organisation).where(Organisation.ods_code == "QXV"))
        scheme = scheme_services.create_scheme(
            session,
            actor=admin,
            commissioner=icb,
            code=code,
            name=f"Admin look scheme {code}",
            financial_year=f"{start_year}/{(start_year + 1) % 100:02d}",
            start_date=dt.date(start_year, 4, 1),
            end_date=dt.date(start_year + 1, 3, 31),
            claim_frequency=ClaimFrequency.MONTHLY,
            window_days=30,
            paycode="LESHC01",  # a demo paycode (payments/demo.py)
        )
        scheme_services.add_component(
            session, scheme, actor=admin, code="LK1", name="Look check", unit_label="checks"
        )
        session.commit()
        scheme_id = scheme.id
        session.remove()
    return scheme_id, code


def _summary_and_messages(page: Any) -> list[str]:
    """Every line of the error summary and every message banner, as shown."""
    lines = page.locator("[data-testid=error-summary] li").all_inner_texts()
    return [line.strip() for line in lines + page.get_by_test_id("admin-message").all_inner_texts()]


def test_the_admin_wears_the_nhs_header_and_its_sections_fit_on_one_line(admin_page, live_server):
    page = admin_page
    page.goto("/admin/")
    header = page.locator("header.app-admin-header")
    expect(header).to_contain_text("Claims portal administration")
    expect(header.get_by_role("img", name="NHS")).to_be_visible()
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 94, 184)"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"Frutiger W01", Arial')

    links = page.get_by_test_id("admin-navigation").get_by_role("link")
    names = links.all_inner_texts()
    assert names[:3] == ["Home", "Schemes", "Components"]
    assert "Audit trail" in names
    tops = links.evaluate_all("links => links.map(link => link.offsetTop)")
    assert len(set(tops)) == 1, f"the admin's sections wrap onto {len(set(tops))} lines"

    icon = page.locator("link[rel=icon]").first.get_attribute("href")
    assert icon.split("?v=")[0].endswith("favicon.ico")  # fingerprinted (static_files.py)
    assert page.request.get(icon).status == 200
    _shot(page, "admin-index")
    assert_accessible(page)


def test_lists_show_dates_in_long_form(admin_page):
    page = admin_page
    page.goto("/admin/claim-windows/")
    table = page.locator("table.model-list")
    expect(table).to_contain_text(re.compile(LONG_DATE.pattern))
    text = table.inner_text()
    assert not ISO_DATE.search(text), "a date is shown as 2026-12-01"
    _shot(page, "admin-list")
    assert_accessible(page)

    page.goto("/admin/offers/")
    offered = page.locator("table.model-list td.col-offered_at").first.inner_text()
    assert LONG_TIME.fullmatch(offered.strip()), offered


def test_the_audit_trail_names_people_organisations_and_objects(admin_page):
    page = admin_page
    page.goto("/admin/audit-trail/")
    table = page.locator("table.model-list")
    expect(table).to_contain_text("Claim CLM-")
    who = table.locator("td.col-actor").all_inner_texts()
    assert who
    assert not [name for name in who if "@" in name], who
    assert "James Whitfield" in who
    organisations = table.locator("td.col-organisation").all_inner_texts()
    assert "Riverside Medical Centre (Y90001)" in organisations
    what = table.locator("td.col-object").all_inner_texts()
    assert not [name for name in what if re.fullmatch(r"\w+ \d+", name.strip())], what
    when = table.locator("td.col-occurred_at").first.inner_text().strip()
    assert LONG_TIME.fullmatch(when), when
    _shot(page, "admin-audit")
    assert_accessible(page)


def test_an_edit_form_lists_every_problem_once_and_together(admin_page, live_app):
    page = admin_page
    scheme_id, code = _draft_scheme(live_app)
    page.goto(f"/admin/schemes/edit/?id={scheme_id}")
    # As if the browser let anything through: the server's checks are what is tested.
    page.evaluate("document.querySelector('form.admin-form').noValidate = true")
    page.locator("#name").fill("")
    page.locator("#window_days").fill("400")
    page.locator("#end_date").fill(f"{today().year - 1}-01-01")  # before the start date
    page.get_by_role("button", name="Save", exact=True).click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("There is a problem")
    shown = _summary_and_messages(page)
    # The form's own checks and the scheme's rules, together.
    assert "Enter the name" in shown
    assert any("between 1 and 366" in line for line in shown), shown
    assert "The end date must be the same as or after the start date" in shown
    assert len(shown) == len(set(shown)), f"a message is shown twice: {shown}"
    assert "Failed to save record." not in page.locator("main").inner_text()
    # Each summary line leads to its field.
    expect(summary.get_by_role("link", name="Enter the name")).to_have_attribute("href", "#name")
    # Nothing was saved.
    page.goto(f"/admin/schemes/?search={code}")
    expect(page.locator("table.model-list")).to_contain_text(f"Admin look scheme {code}")
    page.goto(f"/admin/schemes/edit/?id={scheme_id}")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    _shot(page, "admin-publish-refused")
    shown = _summary_and_messages(page)
    panel = page.get_by_test_id("scheme-panel").inner_text()
    assert "Add the claim windows" in panel or "claim window" in panel
    # The publication problems stand in the scheme's panel, not also above it.
    assert not [line for line in shown if line and line in panel], shown
    assert len(shown) == len(set(shown)), shown


def test_an_edit_form_with_several_errors_passes_axe(admin_page, live_app):
    page = admin_page
    scheme_id, _ = _draft_scheme(live_app)
    page.goto(f"/admin/schemes/edit/?id={scheme_id}")
    page.evaluate("document.querySelector('form.admin-form').noValidate = true")
    page.locator("#name").fill("")
    page.locator("#code").fill("")
    page.locator("#end_date").fill(f"{today().year - 1}-01-01")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Enter the scheme's code")
    _shot(page, "admin-edit-errors")
    assert_accessible(page)
