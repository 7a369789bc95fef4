"""Bulk claims: the template, the checks by row and column, the claims made, and the second
review that separation of duties brings."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import BulkUpload, Claim, ClaimAction, ClaimStatus
from claims_portal.claims.services import ClaimRefused
from claims_portal.claims.services.bulk_reading import ONLY_XLSX
from claims_portal.claims.services.bulk_upload import ABOUT_SHEET, CLAIMS_SHEET, FIRST_ROW
from claims_portal.mail.models import EmailMessage
from claims_portal.schemes.models import OfferStatus
from tests.claims.helpers import act, signed_in
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import PracticeFactory
from tests.factories.schemes import OfferFactory
from tests.helpers import csrf_token

A = ClaimAction
S = ClaimStatus
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def bulk_scene(db_session):
    """The two-component scheme (HC1 £25.00 with at most 40 a claim, HC2 £12.50) accepted
    by three practices; a fourth practice of the ICB has not accepted it."""
    scene = claim_scene(two_step=False, max_units_per_claim=40)
    parent = scene.practice.parent
    scene.practice.name = "Alder Surgery"
    scene.extra["birch"] = PracticeFactory(parent=parent, name="Birch Practice")
    scene.extra["cedar"] = PracticeFactory(parent=parent, name="Cedar Health Centre")
    scene.extra["not_accepted"] = PracticeFactory(parent=parent, name="Damson Surgery")
    for practice in (scene.extra["birch"], scene.extra["cedar"]):
        OfferFactory(scheme=scene.scheme, provider=practice, status=OfferStatus.ACTIVE)
    OfferFactory(scheme=scene.scheme, provider=scene.extra["not_accepted"])
    scene.extra["second_tier_1"] = user_with_role(
        Role.APPROVER_TIER_1, scene.icb, full_name="Ada Shaw"
    )
    db_session.commit()
    return scene


def download_template(browser, scene) -> Workbook:
    page = browser.get("/claims/bulk-claims")
    assert page.status_code == 200
    assert scene.scheme.name in text(page)
    response = browser.get(f"/claims/bulk-claims/{scene.window.id}/template")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert "attachment;" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    return load_workbook(io.BytesIO(data))


def as_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(browser, data: bytes, filename: str = "bulk.xlsx"):
    page = browser.get("/claims/bulk-claims")
    return browser.post(
        "/claims/bulk-claims",
        data={"csrf_token": csrf_token(page), "bulk-file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def rows_by_code(sheet) -> dict[str, int]:
    return {
        sheet.cell(row=r, column=1).value: r
        for r in range(FIRST_ROW, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value
    }


def test_the_template_lists_providers_with_an_active_offer(app, db_session, bulk_scene):
    workbook = download_template(signed_in(app, bulk_scene.tier_1), bulk_scene)
    sheet = workbook[CLAIMS_SHEET]
    names = [sheet.cell(row=r, column=2).value for r in range(FIRST_ROW, sheet.max_row + 1)]
    assert names == ["Alder Surgery", "Birch Practice", "Cedar Health Centre"]
    headings = [c.value for c in sheet[FIRST_ROW - 1]]
    assert headings[:2] == ["ODS code", "Provider name"]
    assert headings[2].startswith("Health check part 1 (HC1)")
    assert headings[-1] == "Notes"
    about = workbook[ABOUT_SHEET]
    assert about.sheet_state == "veryHidden"
    values = {row[0]: row[1] for row in about.iter_rows(values_only=True)}
    assert values["window_id"] == bulk_scene.window.id


def test_only_tier_1_approvers_make_bulk_claims(app, db_session, bulk_scene):
    for person in (bulk_scene.tier_2, bulk_scene.user):
        browser = signed_in(app, person)
        assert browser.get("/claims/bulk-claims").status_code == 403
        assert (
            browser.get(f"/claims/bulk-claims/{bulk_scene.window.id}/template").status_code == 403
        )
    browser = signed_in(app, bulk_scene.tier_1)
    assert browser.get("/claims/bulk-claims/999999/template").status_code == 404


def test_a_filled_template_makes_claims_that_need_a_second_review(
    app, db_session, bulk_scene, mailbox
):
    browser = signed_in(app, bulk_scene.tier_1)
    workbook = download_template(browser, bulk_scene)
    sheet = workbook[CLAIMS_SHEET]
    rows = rows_by_code(sheet)
    alder, birch = rows[bulk_scene.practice.ods_code], rows[bulk_scene.extra["birch"].ods_code]
    sheet.cell(row=alder, column=3, value=10)
    sheet.cell(row=alder, column=4, value=4.0)  # Excel's numbers are floats
    sheet.cell(row=birch, column=3, value="2")
    sheet.cell(row=birch, column=5, value="Figures from the practice's March report")
    # Cedar's row stays empty: no claim for it.

    response = upload(browser, as_bytes(workbook))
    assert response.status_code == 200, text(response)[:2000]
    body = text(response)
    assert "2 claims created" in body

    claims = db_session.scalars(
        select(Claim).where(Claim.scheme_id == bulk_scene.scheme.id).order_by(Claim.id)
    ).all()
    assert [c.provider.name for c in claims] == ["Alder Surgery", "Birch Practice"]
    alder_claim, birch_claim = claims
    assert alder_claim.status is S.AWAITING_COMMISSIONER_REVIEW
    assert alder_claim.value == 300  # 10 x £25.00 + 4 x £12.50, by the calculation core
    assert birch_claim.value == 50
    assert alder_claim.created_by_id == bulk_scene.tier_1.id
    assert alder_claim.reached_commissioner_at is not None
    assert [e.action for e in alder_claim.events] == [A.START, A.BULK_SUBMIT]
    assert birch_claim.events[-1].reason == "Figures from the practice's March report"
    upload_row = db_session.scalars(select(BulkUpload)).one()
    assert upload_row.claim_count == 2
    assert [item.row_number for item in upload_row.claims] == [alder, birch]
    assert (
        db_session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "claim.bulk_created")
        )
        == 2
    )
    assert db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "claim.bulk_uploaded")
    ).one().after["claims"] == [alder_claim.id, birch_claim.id]
    queued = db_session.scalars(select(EmailMessage.recipient)).all()
    assert bulk_scene.extra["second_tier_1"].email in queued
    assert bulk_scene.tier_1.email not in queued

    # The second review: not the uploader, but another tier 1 approver; then tier 2.
    def person(user):
        return db_session.get(User, user.id)

    with pytest.raises(ClaimRefused, match="You created this claim"):
        act(db_session, alder_claim, A.TIER_1_APPROVE, person(bulk_scene.tier_1))
    act(db_session, alder_claim, A.TIER_1_APPROVE, person(bulk_scene.extra["second_tier_1"]))
    act(db_session, alder_claim, A.TIER_2_APPROVE, person(bulk_scene.tier_2))
    assert alder_claim.status is S.APPROVED_FOR_PAYMENT
    db_session.commit()

    # The practice sees the claim made on its behalf.
    assert alder_claim.reference in text(signed_in(app, bulk_scene.user).get("/claims"))


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_made(app, db_session, bulk_scene):
    browser = signed_in(app, bulk_scene.tier_1)
    workbook = download_template(browser, bulk_scene)
    sheet = workbook[CLAIMS_SHEET]
    rows = rows_by_code(sheet)
    alder = rows[bulk_scene.practice.ods_code]
    birch = rows[bulk_scene.extra["birch"].ods_code]
    cedar = rows[bulk_scene.extra["cedar"].ods_code]
    sheet.cell(row=alder, column=3, value="ten")
    sheet.cell(row=birch, column=3, value=41)
    sheet.cell(row=birch, column=4, value=-1)
    sheet.cell(row=cedar, column=3, value=2.5)
    extra = sheet.max_row + 1
    sheet.cell(row=extra, column=1, value="ZZZ999")
    sheet.cell(row=extra, column=3, value=1)
    sheet.cell(row=extra + 1, column=1, value=bulk_scene.extra["not_accepted"].ods_code)
    sheet.cell(row=extra + 1, column=3, value=1)
    sheet.cell(row=extra + 2, column=1, value=bulk_scene.extra["cedar"].ods_code)
    sheet.cell(row=extra + 2, column=3, value=1)
    sheet.cell(row=extra + 3, column=3, value=5)  # units but no ODS code
    sheet.cell(row=extra + 3, column=5, value="Patient 943 476 5919 was seen")

    response = upload(browser, as_bytes(workbook))
    assert response.status_code == 400
    body = text(response)
    expected = [
        f"Row {alder}, column C (Health check part 1 (HC1): check completed): enter a whole "
        "number, 0 or more",
        f"Row {birch}, column C (Health check part 1 (HC1): check completed): enter 40 or fewer",
        f"Row {birch}, column D (Health check part 2 (HC2): check completed): enter a whole "
        "number, 0 or more",
        f"Row {cedar}, column C (Health check part 1 (HC1): check completed): enter a whole",
        f"Row {extra}, column A (ODS code): no provider has the ODS code ZZZ999",
        f"Row {extra + 1}, column A (ODS code): Damson Surgery has not accepted",
        f"Row {extra + 2}, column A (ODS code): {bulk_scene.extra['cedar'].ods_code} is already "
        f"on row {cedar}",
        f"Row {extra + 3}, column A (ODS code): enter the provider's ODS code",
        f"Row {extra + 3}, column E (Notes):",
    ]
    for message in expected:
        assert message in body, message
    assert 'class="nhsuk-error-summary' in body
    assert db_session.scalar(select(func.count(Claim.id))) == 0
    assert db_session.scalar(select(func.count(BulkUpload.id))) == 0


def test_a_provider_that_already_claimed_is_refused(app, db_session, bulk_scene):
    from tests.claims.helpers import start

    existing = start(db_session, bulk_scene)
    db_session.commit()
    browser = signed_in(app, bulk_scene.tier_1)
    workbook = download_template(browser, bulk_scene)
    sheet = workbook[CLAIMS_SHEET]
    sheet.cell(row=rows_by_code(sheet)[bulk_scene.practice.ods_code], column=3, value=1)
    body = text(upload(browser, as_bytes(workbook)))
    assert f"Alder Surgery already has a claim for {bulk_scene.window.period_label}" in body
    assert f"{existing.reference} (draft)" in body


def test_files_that_are_not_the_template_are_refused(app, db_session, bulk_scene, real_files):
    browser = signed_in(app, bulk_scene.tier_1)
    stranger = Workbook()
    stranger.active["A1"] = "My own spreadsheet"
    cases = [
        (as_bytes(stranger), "mine.xlsx", "is not a bulk claims template from this portal"),
        (real_files["scan.pdf"], "claims.pdf", ONLY_XLSX),
        (b"HC1,12\n", "claims.txt", ONLY_XLSX),
        (b"not a spreadsheet at all", "bulk.xlsx", ""),
    ]
    for data, name, message in cases:
        response = upload(browser, data, name)
        assert response.status_code == 400
        assert message in text(response)
        # Bulk claims take the .xlsx template only: never the evidence files' list of types.
        assert "Upload a Word, Excel, OpenDocument or PDF file" not in text(response)
    assert "must be an Excel workbook (.xlsx)" in ONLY_XLSX
    page = browser.get("/claims/bulk-claims")
    response = browser.post("/claims/bulk-claims", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert "Select the filled-in template to upload" in text(response)
    # An outdated template: the scheme gained a component since.
    workbook = download_template(browser, bulk_scene)
    from tests.factories.schemes import ComponentFactory

    ComponentFactory(scheme=bulk_scene.scheme, code="HC9", name="Late addition")
    db_session.commit()
    body = text(upload(browser, as_bytes(workbook)))
    assert re.search(r"The components of \S+ changed since the template was made", body)
