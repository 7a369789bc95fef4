"""What will be checked, in Chromium on the demo data: a two-step practice's user makes a
claim with two components and a PDF, meets the errors list, fixes it and submits; the
provider approver, tier 1 and tier 2 approve; a one-step practice's claim goes straight to
the commissioner, is declined, edited and resubmitted. axe checks every claim page.

Each test makes its own scheme (a fresh code) offered to and accepted by the demo practice,
so tests sharing the live database never meet each other's claims.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
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
from claims_portal.schemes.models import ClaimFrequency, EvidenceRequirement
from claims_portal.schemes.services import offers as offer_services
from tests.browser.helpers import assert_accessible, sign_in_as
from tests.claims.evidence import samples

pytestmark = pytest.mark.browser

JAMES = "james.whitfield@example.nhs.net"  # User (multi-level), Riverside Y90001 (two-step)
SARAH = "sarah.bennett@example.nhs.net"  # Approver (multi-level), Riverside
AISHA = "aisha.rahman@example.nhs.net"  # User (single-level), Millbrook Y90002 (one-step)
TOM = "tom.okafor@example.nhs.net"  # Approver tier 1, QXV
HELEN = "helen.morris@example.nhs.net"  # Approver tier 2, QXV
ADMIN = "priya.shah@example.nhs.net"


@pytest.fixture(scope="module", autouse=True)
def _evidence_in_a_temporary_folder(live_app, tmp_path_factory):
    """The live app keeps these tests' evidence files out of the project's uploads/ folder."""
    before = live_app.config["EVIDENCE_LOCAL_DIR"]
    live_app.config["EVIDENCE_LOCAL_DIR"] = str(tmp_path_factory.mktemp("evidence"))
    yield
    live_app.config["EVIDENCE_LOCAL_DIR"] = before


def _previous_month() -> dt.date:
    """The last day of the month before today's: its window is open all of this month."""
    return today().replace(day=1) - dt.timedelta(days=1)


def _previous_month_label() -> str:
    return _previous_month().strftime("%B %Y")


def fresh_scheme(app: Any, provider: str, answerer: str, **options: Any) -> tuple[str, str]:
    """A published monthly scheme with two components, accepted by ``provider``; (code, name).

    It runs in the financial year of last month (in April, the year just ended), so that
    last month's window (40 days from the 1st) is open whatever the day; in the first days of
    a month the window of the month before is still open too."""
    code = f"LES-CL-{uuid.uuid4().hex[:6].upper()}"
    name = f"Browser claims scheme {code}"
    day = _previous_month()
    start_year = day.year if day.month >= 4 else day.year - 1
    with app.app_context():
        session = db.session
        people = {u.email: u for u in session.scalars(select(User))}
        organisations = {o.ods_code: o for o in session.scalars(select(Organisation))}
        admin = people[ADMIN]
        scheme = scheme_services.create_scheme(
            session,
            actor=admin,
            commissioner=organisations["QXV"],
            code=code,
            name=name,
            financial_year=f"{start_year}/{(start_year + 1) % 100:02d}",
            start_date=dt.date(start_year, 4, 1),
            end_date=dt.date(start_year + 1, 3, 31),
            claim_frequency=ClaimFrequency.MONTHLY,
            window_days=40,
            multi_service_claims=True,
            paycode="LESHC01",  # a demo paycode (payments/demo.py)
            **options,
        )
        for component_code, component_name, unit, value in (
            ("HC1", "NHS Health Check", "health checks completed", "25.00"),
            ("HC2", "Follow-up of raised risk", "follow-up appointments", "12.50"),
        ):
            component = scheme_services.add_component(
                session,
                scheme,
                actor=admin,
                code=component_code,
                name=component_name,
                unit_label=unit,
            )
            scheme_services.add_tariff(
                session,
                component,
                actor=admin,
                unit_value=value,
                effective_from=scheme.start_date,
            )
        scheme_services.generate_windows(session, scheme, actor=admin)
        scheme_services.publish_scheme(session, scheme, actor=admin)
        offer = offer_services.offer_scheme(session, scheme, organisations[provider], actor=admin)
        offer_services.accept_offer(session, offer, actor=people[answerer])
        session.commit()
        session.remove()
    return code, name


def _see(locator: Any, text: str) -> None:
    expect(locator).to_contain_text(text, timeout=20_000)


def _as(browser: Any, live_server: Any, email: str) -> Any:
    """A fresh browser context signed in as ``email`` (each person their own browser)."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in_as(page, email, DEMO_PASSWORD)
    return page


def _start_claim(page: Any, code: str) -> str:
    page.get_by_role("link", name="Claims", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Start a new claim").click()
    assert_accessible(page)
    page.get_by_label(re.compile(rf"\({code}\), {_previous_month_label()}")).check()
    page.get_by_role("button", name="Start claim").click()
    _see(page.locator("h1"), _previous_month_label())
    match = re.search(r"/claims/(\d+)/edit", page.url)
    assert match, page.url
    return match.group(1)


def _choose_files(page: Any, *paths: Any) -> None:
    """Choose files in the claim page's file upload (the NHS component hides the input
    behind its own button; the files go to the input)."""
    page.locator('input[type="file"][name="evidence-file"]').set_input_files(
        [str(path) for path in paths]
    )


def _error_summary(page: Any) -> Any:
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    return summary


DECLARATION = re.compile("I confirm the information in this claim is accurate")


def _check_and_submit(page: Any, *, accessible: bool = False) -> None:
    """Continue, Check your answers, tick the declaration and submit; then the claim page
    (from the confirmation page's link)."""
    page.get_by_role("button", name="Continue").click()
    _see(page.locator("h1"), "Check your answers")
    if accessible:
        assert_accessible(page)
    page.get_by_label(DECLARATION).check()
    page.get_by_role("button", name="Submit claim").click()
    _see(page.locator(".nhsuk-panel"), "Your claim reference is")
    if accessible:
        assert_accessible(page)
    page.get_by_role("link", name="View the claim").click()


def test_two_step_claim_with_a_pdf_through_every_approval(browser, live_server, live_app, tmp_path):
    code, name = fresh_scheme(live_app, "Y90001", SARAH)
    page = _as(browser, live_server, JAMES)
    claim_id = _start_claim(page, code)
    _see(page.locator("body"), "No patient-identifiable information")
    assert_accessible(page)

    # A renamed program chosen with a real file: it is listed with its reason, the real file
    # is added.
    program = tmp_path / "setup.pdf"
    program.write_bytes(samples.WINDOWS_PROGRAM)
    notes = tmp_path / "clinic-notes.docx"
    notes.write_bytes(samples.docx())
    _choose_files(page, program, notes)
    page.get_by_role("button", name="Upload files").click()
    _see(_error_summary(page), "setup.pdf: This file is named .pdf but it is a Windows program")
    _see(page.locator(".nhsuk-notification-banner--success"), "clinic-notes.docx")
    _see(page.get_by_test_id("evidence-files"), "clinic-notes.docx")
    page.screenshot(path=str(tmp_path / "one-file-refused.png"), full_page=True)
    assert_accessible(page)

    # One figure and two real files chosen at once (the NHS file upload), then Submit with
    # the second figure missing.
    page.get_by_label("NHS Health Check (HC1)").fill("10")
    pdf = tmp_path / "health-checks-october.pdf"
    pdf.write_bytes(samples.pdf())
    sheet = tmp_path / "clinic-list.xlsx"
    sheet.write_bytes(samples.xlsx())
    _choose_files(page, pdf, sheet)
    _see(page.locator(".nhsuk-file-upload"), "2 files chosen")
    page.get_by_role("button", name="Upload files").click()
    _see(page.locator("body"), "2 files added: health-checks-october.pdf, clinic-list.xlsx")
    _see(page.get_by_test_id("evidence-files"), "health-checks-october.pdf")
    _see(page.get_by_test_id("evidence-files"), "clinic-list.xlsx")
    page.screenshot(path=str(tmp_path / "two-files-added.png"), full_page=True)
    _see(page.get_by_test_id("claim-total"), "£250.00")
    page.get_by_role("button", name="Continue").click()
    summary = _error_summary(page)
    _see(summary, "Enter the units for Follow-up of raised risk (0 if none)")
    assert_accessible(page)

    # The error links to its field; fix it and submit.
    summary.get_by_role("link", name=re.compile("Follow-up of raised risk")).click()
    expect(page.get_by_label("Follow-up of raised risk (HC2)")).to_be_focused()
    page.get_by_label("Follow-up of raised risk (HC2)").fill("4")
    page.get_by_role("button", name="Save draft").click()
    _see(page.get_by_test_id("claim-total"), "£300.00")
    _see(page.get_by_test_id("value-explained"), "10 units at £25.00 each come to £250.00.")
    page.get_by_text("The rules used and their sources").click()
    _see(page.locator("body"), "units \u00d7 tariff, rounded half up to the penny")
    assert_accessible(page)
    # Check your answers: the lines, values, files and total, each with a Change link.
    page.get_by_role("button", name="Continue").click()
    _see(page.locator("h1"), "Check your answers before submitting your claim")
    _see(page.get_by_test_id("check-lines"), "£300.00")
    _see(page.get_by_test_id("check-evidence"), "health-checks-october.pdf")
    _see(page.get_by_test_id("check-next"), "provider approver")
    page.screenshot(path=str(tmp_path / "check-your-answers.png"), full_page=True)
    assert_accessible(page)
    # Not ticking the declaration submits nothing and says why.
    page.get_by_role("button", name="Submit claim").click()
    _see(_error_summary(page), "Confirm that the information in this claim is accurate")
    assert_accessible(page)
    _error_summary(page).get_by_role("link").first.click()
    expect(page.get_by_label(DECLARATION)).to_be_focused()
    page.get_by_label(DECLARATION).check()
    page.get_by_role("button", name="Submit claim").click()
    _see(page.locator(".nhsuk-panel"), "Claim submitted")
    _see(page.locator(".nhsuk-panel"), f"CLM-{int(claim_id):06d}")
    _see(page.get_by_test_id("claim-next"), "provider approver")
    page.screenshot(path=str(tmp_path / "claim-submitted.png"), full_page=True)
    assert_accessible(page)
    page.get_by_role("link", name="View the claim").click()
    _see(page.get_by_test_id("claim-status"), "Awaiting provider approval")
    assert_accessible(page)
    page.context.close()

    steps = [
        (SARAH, "Approve and send to the commissioner", "Awaiting commissioner review"),
        (TOM, "Approve (tier 1)", "Awaiting payment approval"),
        (HELEN, "Approve for payment (tier 2)", "Approved for payment"),
    ]
    for email, button, status in steps:
        page = _as(browser, live_server, email)
        page.goto(f"/claims/{claim_id}")
        _see(page.locator("h1"), name)
        assert_accessible(page)
        page.get_by_role("button", name=button).click()
        _see(page.get_by_test_id("claim-status"), status)
        assert_accessible(page)
        if email != HELEN:
            page.context.close()

    history = page.get_by_test_id("claim-history")
    for line in ("Approved at tier 2 by Helen Morris", "Approved at tier 1 by Tom Okafor"):
        _see(history, line)
    # The commissioner can download the evidence, as an attachment.
    with page.expect_download() as download:
        page.get_by_role("link", name="health-checks-october.pdf").click()
    assert download.value.suggested_filename == "health-checks-october.pdf"
    page.context.close()


def test_one_step_claim_goes_to_the_commissioner_is_declined_and_resubmitted(
    browser, live_server, live_app
):
    code, _ = fresh_scheme(live_app, "Y90002", AISHA)
    page = _as(browser, live_server, AISHA)
    claim_id = _start_claim(page, code)
    page.get_by_label("NHS Health Check (HC1)").fill("12")
    page.get_by_label("Follow-up of raised risk (HC2)").fill("0")
    _check_and_submit(page)
    # No provider approval step in a one-step practice.
    _see(page.get_by_test_id("claim-status"), "Awaiting commissioner review")
    page.context.close()

    tom = _as(browser, live_server, TOM)
    tom.goto("/claims")
    _see(tom.get_by_test_id("claims-waiting"), f"CLM-{int(claim_id):06d}")
    assert_accessible(tom)
    tom.goto(f"/claims/{claim_id}")
    tom.get_by_role("link", name="Decline").click()
    assert_accessible(tom)
    tom.get_by_role("button", name="Decline claim").click()
    _see(_error_summary(tom), "Enter the reason")
    assert_accessible(tom)
    tom.get_by_label("Why are you declining this claim?").fill(
        "Twelve checks but the audit shows ten"
    )
    tom.get_by_role("button", name="Decline claim").click()
    _see(tom.get_by_test_id("claim-status"), "Declined")
    tom.context.close()

    page = _as(browser, live_server, AISHA)
    page.goto(f"/claims/{claim_id}")
    _see(page.get_by_test_id("claim-history"), "Twelve checks but the audit shows ten")
    assert_accessible(page)
    page.get_by_role("link", name="Change and resubmit").click()
    page.get_by_label("NHS Health Check (HC1)").fill("10")
    page.get_by_role("button", name="Continue").click()
    _see(page.locator("h1"), "Check your answers before resubmitting your claim")
    page.get_by_label(DECLARATION).check()
    page.get_by_role("button", name="Submit claim").click()
    _see(page.locator(".nhsuk-panel"), "Claim resubmitted")
    page.get_by_role("link", name="View the claim").click()
    _see(page.get_by_test_id("claim-status"), "Awaiting commissioner review")
    _see(page.get_by_test_id("claim-history"), "round 2")
    _see(page.get_by_test_id("claim-value"), "£250.00")
    assert_accessible(page)
    page.context.close()


def test_another_practice_cannot_open_the_claim(browser, live_server, live_app):
    code, _ = fresh_scheme(live_app, "Y90002", AISHA)
    page = _as(browser, live_server, AISHA)
    claim_id = _start_claim(page, code)
    page.context.close()
    outsider = _as(browser, live_server, JAMES)
    outsider.goto(f"/claims/{claim_id}")
    _see(outsider.locator("h1"), "Page not found")
    outsider.goto(f"/claims/{claim_id}/edit")
    _see(outsider.locator("h1"), "Page not found")
    outsider.context.close()


def test_evidence_required_by_the_scheme_is_listed_before_submission(
    browser, live_server, live_app
):
    code, _ = fresh_scheme(
        live_app, "Y90002", AISHA, evidence_requirement=EvidenceRequirement.WHOLE_SCHEME
    )
    page = _as(browser, live_server, AISHA)
    _start_claim(page, code)
    page.get_by_label("NHS Health Check (HC1)").fill("1")
    page.get_by_label("Follow-up of raised risk (HC2)").fill("1")
    page.get_by_role("button", name="Continue").click()
    summary = _error_summary(page)
    _see(summary, "Add an evidence file: this scheme needs evidence with every claim")
    summary.get_by_role("link").first.click()
    expect(page.locator("#evidence-file")).to_be_focused()
    page.context.close()


def test_a_file_over_the_request_limit_comes_back_with_the_reason(
    browser, live_server, live_app, tmp_path
):
    code, _ = fresh_scheme(live_app, "Y90002", AISHA)
    page = _as(browser, live_server, AISHA)
    _start_claim(page, code)
    big = tmp_path / "scan-of-everything.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * live_app.config["MAX_CONTENT_LENGTH"] + b"\n%%EOF\n")
    page.get_by_label("NHS Health Check (HC1)").fill("12")
    _choose_files(page, big)
    page.get_by_role("button", name="Upload files").click()
    _see(_error_summary(page), "The selected file must be smaller than 5MB")
    expect(page.get_by_label("NHS Health Check (HC1)")).to_have_value("12")  # kept
    assert_accessible(page)
    # A file of 5 MB and one byte reaches the checks and is refused by them.
    limit = tmp_path / "just-over.pdf"
    limit.write_bytes(b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024 + 1 - 9))
    _choose_files(page, limit)
    page.get_by_role("button", name="Upload files").click()
    _see(_error_summary(page), "The selected file must be smaller than 5MB")
    expect(page.get_by_label("NHS Health Check (HC1)")).to_have_value("12")
    expect(page.get_by_test_id("evidence-files")).to_have_count(0)
    page.context.close()


def test_the_provider_approver_returns_a_claim_and_the_practice_withdraws_it(
    browser, live_server, live_app
):
    code, _ = fresh_scheme(live_app, "Y90001", SARAH)
    page = _as(browser, live_server, JAMES)
    claim_id = _start_claim(page, code)
    page.get_by_label("NHS Health Check (HC1)").fill("3")
    page.get_by_label("Follow-up of raised risk (HC2)").fill("1")
    _check_and_submit(page, accessible=True)
    _see(page.get_by_test_id("claim-status"), "Awaiting provider approval")
    page.context.close()

    sarah = _as(browser, live_server, SARAH)
    sarah.goto(f"/claims/{claim_id}")
    sarah.get_by_role("link", name="Return to the practice").click()
    assert_accessible(sarah)
    sarah.get_by_label("Why are you returning this claim?").fill("HC2 belongs to November")
    sarah.get_by_role("button", name="Return claim").click()
    _see(sarah.get_by_test_id("claim-status"), "Returned by provider approver")
    sarah.context.close()

    page = _as(browser, live_server, JAMES)
    page.goto(f"/claims/{claim_id}")
    _see(page.get_by_test_id("claim-history"), "HC2 belongs to November")
    page.get_by_role("link", name="Withdraw claim").click()
    assert_accessible(page)
    page.get_by_role("button", name="Withdraw claim").click()
    _see(page.get_by_test_id("claim-status"), "Withdrawn")
    assert_accessible(page)
    page.context.close()


def test_the_icb_administrator_sees_the_finance_threshold_page(browser, live_server):
    page = _as(browser, live_server, ADMIN)
    page.get_by_role("link", name="Claims", exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Change the finance threshold").click()
    expect(page.get_by_label("Finance threshold, in pounds")).to_have_value("15000.00")
    assert_accessible(page)
    page.get_by_label("Finance threshold, in pounds").fill("not a number")
    page.get_by_role("button", name="Save").click()
    _see(_error_summary(page), "Enter the threshold in pounds")
    assert_accessible(page)
    page.context.close()


def test_files_for_a_part_of_the_claim_when_the_scheme_asks_per_component(
    browser, live_server, live_app, tmp_path
):
    from claims_portal.schemes.models import Component, Scheme

    code, _ = fresh_scheme(
        live_app, "Y90002", AISHA, evidence_requirement=EvidenceRequirement.PER_COMPONENT
    )
    with live_app.app_context():
        follow_up = db.session.scalar(
            select(Component).join(Scheme).where(Scheme.code == code, Component.code == "HC2")
        )
        follow_up.evidence_required = True
        db.session.commit()
        db.session.remove()
    page = _as(browser, live_server, AISHA)
    _start_claim(page, code)
    page.get_by_label("NHS Health Check (HC1)").fill("2")
    page.get_by_label("Follow-up of raised risk (HC2)").fill("1")
    letters, register = tmp_path / "follow-up-letters.pdf", tmp_path / "follow-up-register.pdf"
    letters.write_bytes(samples.pdf())
    register.write_bytes(samples.pdf())
    # Not saying which part the files are for: none is added, and the summary leads there.
    _choose_files(page, letters, register)
    page.get_by_role("button", name="Upload files").click()
    summary = _error_summary(page)
    _see(summary, "Select which part of the claim the files are for")
    assert_accessible(page)
    summary.get_by_role("link").first.click()
    question = page.get_by_label("Which part of the claim are these files for?")
    expect(question).to_be_focused()
    question.select_option(label="Follow-up of raised risk (HC2)")
    _choose_files(page, letters, register)
    page.get_by_role("button", name="Upload files").click()
    _see(page.locator("body"), "2 files added: follow-up-letters.pdf, follow-up-register.pdf")
    files = page.get_by_test_id("evidence-files")
    expect(files.get_by_text("For Follow-up of raised risk")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "files-per-component.png"), full_page=True)
    assert_accessible(page)
    page.context.close()


def test_removing_a_file_asks_first(browser, live_server, live_app, tmp_path):
    code, _ = fresh_scheme(live_app, "Y90002", AISHA)
    page = _as(browser, live_server, AISHA)
    _start_claim(page, code)
    pdf = tmp_path / "wrong-month.pdf"
    pdf.write_bytes(samples.pdf())
    page.locator('input[type="file"][name="evidence-file"]').set_input_files(str(pdf))
    page.get_by_role("button", name=re.compile("^Upload file")).click()
    _see(page.get_by_test_id("evidence-files"), "wrong-month.pdf")
    page.get_by_label("NHS Health Check (HC1)").fill("7")
    page.get_by_role("button", name=re.compile("^Remove")).click()
    _see(page.locator("h1"), "Are you sure you want to remove wrong-month.pdf?")
    assert_accessible(page)
    page.get_by_role("link", name="No, keep it").click()
    _see(page.get_by_test_id("evidence-files"), "wrong-month.pdf")
    expect(page.get_by_label("NHS Health Check (HC1)")).to_have_value("7")  # saved on the way
    page.get_by_role("button", name=re.compile("^Remove")).click()
    page.get_by_role("button", name="Yes, remove it").click()
    _see(page.locator("body"), "File removed: wrong-month.pdf")
    expect(page.get_by_test_id("evidence-files")).to_have_count(0)
    assert_accessible(page)
    page.context.close()
