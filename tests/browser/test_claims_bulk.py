"""In Chromium on the demo data: the commissioner's list with filters, bulk approval of
ticked claims, and bulk claims from the downloaded template (errors by row and column, then
claims made). axe checks every page. Each test makes its own schemes, so tests sharing the
live database never meet each other's claims."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.claims import services
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.clock import today
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation
from claims_portal.schemes.models import Scheme
from tests.browser.helpers import assert_accessible
from tests.browser.test_claims_journey import (
    AISHA,
    TOM,
    _as,
    _previous_month_label,
    _see,
    fresh_scheme,
)

pytestmark = pytest.mark.browser


def claim_waiting_for_tier_1(app: Any, code: str) -> str:
    """Millbrook's claim under scheme ``code``, submitted through the services; its ID."""
    with app.app_context():
        session = db.session
        aisha = session.scalars(select(User).where(User.email == AISHA)).one()
        scheme = session.scalars(select(Scheme).where(Scheme.code == code)).one()
        millbrook = session.scalars(
            select(Organisation).where(Organisation.ods_code == "Y90002")
        ).one()
        window = next(w for w in scheme.windows if w.is_open_on(today()))
        claim = services.start_claim(session, millbrook, scheme, window, aisha, today())
        entries = services.parse_entries(claim, {f"units-{line.id}": "4" for line in claim.lines})
        services.transition(
            session,
            claim.id,
            ClaimAction.SUBMIT,
            aisha,
            expected_version=claim.version,
            entries=entries,
        )
        session.commit()
        reference = claim.reference
        session.remove()
    return reference


def test_tier_1_filters_the_list_and_approves_ticked_claims(
    browser, live_server, live_app, tmp_path_factory
):
    screenshots = tmp_path_factory.mktemp("bulk")
    references = []
    for _ in range(2):
        code, _name = fresh_scheme(live_app, "Y90002", AISHA)
        references.append(claim_waiting_for_tier_1(live_app, code))
    page = _as(browser, live_server, TOM)
    page.get_by_role("link", name="Claims", exact=True).click()
    expect(page.locator("h1")).to_have_text("Claims")
    assert_accessible(page)

    page.get_by_label("Status").select_option("AWAITING_COMMISSIONER_REVIEW")
    page.get_by_label("Claim ID, practice name or ODS code").fill("Y90002")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"status=AWAITING_COMMISSIONER_REVIEW"))
    table = page.get_by_test_id("claims-all")
    for reference in references:
        _see(table, reference)
    assert_accessible(page)

    for reference in references:
        page.get_by_label(f"Select {reference}").check()
    page.get_by_role("button", name="Approve selected claims").click()
    # Asked first: how many claims and their total value (4 + 4 units of each: £150.00 each).
    _see(page.locator("h1"), "Are you sure you want to approve 2 claims?")
    _see(page.get_by_test_id("bulk-confirm-summary"), "£300.00")
    for reference in references:
        _see(page.get_by_test_id("bulk-confirm-claims"), reference)
    page.screenshot(path=str(screenshots / "bulk-confirm.png"), full_page=True)
    assert_accessible(page)
    page.get_by_role("button", name="Approve 2 claims").click()
    _see(page.get_by_test_id("bulk-summary"), "2 claims approved, 0 not approved.")
    approved = page.get_by_test_id("bulk-approved")
    for reference in references:
        _see(approved, reference)
    _see(approved, "Awaiting payment approval")
    assert_accessible(page)
    page.wait_for_load_state("networkidle")  # no request left half-served
    page.context.close()


def test_tier_1_makes_bulk_claims_from_the_template(browser, live_server, live_app):
    code, name = fresh_scheme(live_app, "Y90002", AISHA)
    page = _as(browser, live_server, TOM)
    page.get_by_role("link", name="Claims", exact=True).click()
    page.get_by_role("link", name="Make claims in bulk from a spreadsheet").click()
    expect(page.locator("h1")).to_have_text("Bulk claims")
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role(
            "link", name=re.compile(rf"\({code}\), {_previous_month_label()}.* template")
        ).click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = workbook["Claims"]
    assert sheet.cell(row=6, column=1).value == "Y90002"
    assert sheet.cell(row=7, column=1).value is None  # only Millbrook accepted the scheme

    sheet.cell(row=6, column=3, value="ten")
    page.get_by_label(re.compile("Template with your figures")).set_input_files(
        files=[
            {
                "name": "bulk.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": _bytes(workbook),
            }
        ]
    )
    page.get_by_role("button", name="Upload and create claims").click()
    summary = page.locator(".nhsuk-error-summary")
    _see(
        summary,
        "Row 6, column C (NHS Health Check (HC1): health checks completed): enter a whole number",
    )
    assert_accessible(page)

    sheet.cell(row=6, column=3, value=12)
    sheet.cell(row=6, column=4, value=3)
    page.get_by_label(re.compile("Template with your figures")).set_input_files(
        files=[
            {
                "name": "bulk.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": _bytes(workbook),
            }
        ]
    )
    page.get_by_role("button", name="Upload and create claims").click()
    _see(page.locator(".nhsuk-panel"), "1 claims created")
    created = page.get_by_test_id("bulk-created")
    _see(created, "Millbrook Surgery")
    _see(created, "£337.50")  # 12 x £25.00 + 3 x £12.50
    assert_accessible(page)

    with live_app.app_context():
        claim = db.session.scalars(select(Claim).join(Scheme).where(Scheme.code == code)).one()
        assert claim.status.name == "AWAITING_COMMISSIONER_REVIEW"
        db.session.remove()
    # The uploader cannot give the second review: the claim page says why.
    page.get_by_role("link", name=re.compile(r"CLM-\d+")).first.click()
    _see(page.locator("main"), "You created this claim, so someone else must approve it")
    assert_accessible(page)
    page.wait_for_load_state("networkidle")  # no request left half-served
    page.context.close()
    del name


def _bytes(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
