"""Access as people meet it in Chromium, against the demo data, with real email over SMTP."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from claims_portal.demo import DEMO_PASSWORD
from tests.browser.helpers import assert_accessible, sign_in_as
from tests.smtp_fixtures import body_of

pytestmark = pytest.mark.browser

SARAH = "sarah.bennett@example.nhs.net"  # provider approver, Riverside (two-step)
PRIYA = "priya.shah@example.nhs.net"  # ICB administrator
NEW_PASSWORD = "tea kettle orbit lantern"


def _new_person() -> tuple[str, str]:
    """A name and address of its own: the browser tests share one live database. The
    address's tag is digits: random letters sometimes spelt a shared-mailbox word ("gp" in
    "ikgphb"), and the invitation then asked whether the address was personal."""
    unique = uuid.uuid4()
    tag = "".join(chr(ord("a") + int(c, 16) % 26) for c in unique.hex[:6])
    return f"Nina Patel-{tag.capitalize()}", f"nina.patel.{unique.int % 10**9:09d}@nhs.net"


def _request_access(page, organisation: str, ods_code: str, role: str, name: str, email: str):
    page.goto("/sign-in")
    page.get_by_role("link", name="Request access to an organisation").click()
    assert_accessible(page)
    page.get_by_label("Organisation name or ODS code").fill(organisation)
    page.get_by_role("button", name="Search").click()
    assert_accessible(page)
    page.get_by_role("link", name=f"{organisation} ({ods_code})").click()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label(role, exact=True).check()
    assert_accessible(page)
    page.get_by_role("button", name="Send request").click()


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def _decide(page, approver: str, password: str, name: str, decision: str, reason: str = ""):
    sign_in_as(page, approver, password)
    page.get_by_role("link", name=re.compile(r"Pending actions")).first.click()
    assert_accessible(page)
    page.get_by_role("link", name=f"Decide on the request from {name}").click()
    assert_accessible(page)
    page.get_by_label(decision, exact=True).check()
    if reason:
        page.get_by_label("Reason (required if you reject the request)").fill(reason)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator("body")).to_contain_text("We have emailed them")
    _sign_out(page)


def _register_from_email(page, mailbox, email: str, name: str):
    message = mailbox.wait_for(email, "set up your account")
    link = re.search(r"https?://\S+/complete-registration/\S+", body_of(message)).group(0)
    page.goto(link)
    assert email in page.get_by_test_id("account-email").inner_text()
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill("too-short")
    page.get_by_label("Confirm new password").fill("too-short")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("at least 12 characters")
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("body")).to_contain_text("Your account is ready")
    sign_in_as(page, email, NEW_PASSWORD)
    expect(page.locator("header")).to_contain_text(name)
    return link


def test_new_person_joins_a_two_step_practice_through_its_approver(page, mailbox):
    name, email = _new_person()
    _request_access(
        page, "Riverside Medical Centre", "Y90001", "User (multi-level practice)", name, email
    )
    expect(page.locator("body")).to_contain_text(
        "Your request for access to Riverside Medical Centre (Y90001) has been sent"
    )
    mailbox.wait_for(email, "We have your request")
    mailbox.wait_for(SARAH, "Access request to decide")
    _decide(page, SARAH, DEMO_PASSWORD, name, "Approve")
    link = _register_from_email(page, mailbox, email, name)
    expect(page.locator("header")).to_contain_text("Riverside Medical Centre (Y90001)")
    assert_accessible(page)
    # The emailed link works once.
    _sign_out(page)
    page.goto(link)
    expect(page.locator("body")).to_contain_text("expired or has already been used")
    assert_accessible(page)


def test_new_person_joins_a_one_step_practice_through_the_icb_administrator(page, mailbox):
    name, email = _new_person()
    _request_access(
        page, "Millbrook Surgery", "Y90002", "User (single-level practice)", name, email
    )
    mailbox.wait_for(PRIYA, "Access request to decide")
    _decide(page, PRIYA, DEMO_PASSWORD, name, "Approve")
    _register_from_email(page, mailbox, email, name)
    expect(page.locator("header")).to_contain_text("Millbrook Surgery (Y90002)")


def test_a_rejected_request_emails_the_reason(page, mailbox):
    name, email = _new_person()
    _request_access(
        page, "Riverside Medical Centre", "Y90001", "Approver (multi-level practice)", name, email
    )
    sign_in_as(page, SARAH, DEMO_PASSWORD)
    page.get_by_role("link", name=re.compile(r"Pending actions")).first.click()
    page.get_by_role("link", name=f"Decide on the request from {name}").click()
    page.get_by_label("Reject", exact=True).check()
    page.get_by_role("button", name="Save decision").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the reason for rejecting the request")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    reason = "Approver access is given by the partners; ask for the user role instead"
    page.get_by_label("Reason (required if you reject the request)").fill(reason)
    page.get_by_role("button", name="Save decision").click()
    message = mailbox.wait_for(email, "was not approved")
    assert reason in body_of(message)


def test_a_generic_address_is_refused(page):
    page.goto("/request-access/Y90002")
    page.get_by_label("Full name").fill("Front Desk")
    page.get_by_label("Email address").fill("reception@millbrook.nhs.net")
    page.get_by_label("User (single-level practice)", exact=True).check()
    page.get_by_role("button", name="Send request").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("not a shared or team mailbox")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    summary.get_by_role("link", name=re.compile("shared or team mailbox")).click()
    assert page.evaluate("document.activeElement.id") == "email"


def test_forgotten_password_link_resets_and_cannot_be_reused(page, mailbox):
    name, email = _new_person()
    _request_access(
        page, "Millbrook Surgery", "Y90002", "User (single-level practice)", name, email
    )
    _decide(page, PRIYA, DEMO_PASSWORD, name, "Approve")
    _register_from_email(page, mailbox, email, name)
    _sign_out(page)
    page.get_by_role("link", name="Forgotten your password?").click()
    assert_accessible(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("body")).to_contain_text("has an account, we have emailed it a link")
    message = mailbox.wait_for(email, "Reset your claims portal password")
    link = re.search(r"https?://\S+/reset-password/\S+", body_of(message)).group(0)
    page.goto(link)
    assert_accessible(page)
    password = "a different kettle orbit"
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("Confirm new password").fill(password)
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("body")).to_contain_text("Your password has been changed")
    page.goto(link)
    expect(page.locator("body")).to_contain_text("expired or has already been used")
    sign_in_as(page, email, password)
    expect(page.locator("header")).to_contain_text(name)


def test_account_pages_and_two_factor_set_up_are_accessible(page):
    sign_in_as(page, SARAH, DEMO_PASSWORD)
    page.get_by_role("link", name="Your account").click()
    assert_accessible(page)
    page.get_by_role("link", name="Choose which emails you get").click()
    assert_accessible(page)
    page.get_by_role("link", name="Back to your account").click()
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.locator(".app-qr-code svg")).to_be_visible()  # the QR code, inline
    assert_accessible(page)
    page.get_by_label("Enter the 6-digit code from your app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_two_factor_sign_in_and_the_administrator_pages(page, browser, live_server):
    # Priya (administrator) must use two-factor: the helper enrols her the first time and
    # then enters codes, as her phone would.
    sign_in_as(page, PRIYA, DEMO_PASSWORD)
    _sign_out(page)
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(PRIYA)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sign-in/security-code$"))
    assert_accessible(page)
    page.get_by_label("Security code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a correct code")
    assert_accessible(page)
    from tests.access.helpers import second_factor_in_browser
    from tests.browser.helpers import _LIVE

    second_factor_in_browser(page, _LIVE["app"], PRIYA)
    page.get_by_role("link", name="People").click()
    expect(page.locator("body")).to_contain_text("Sarah Bennett")
    assert_accessible(page)
    page.get_by_role("link", name="Sarah Bennett").click()
    assert_accessible(page)
    page.get_by_role("link", name="Back to people").click()
    page.get_by_role("link", name="Invite a person").click()
    assert_accessible(page)
    page.get_by_role("button", name="Invite").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)


def test_invited_person_locked_out_unlocked_then_access_removed(
    page, browser, live_server, mailbox
):
    name, email = _new_person()
    sign_in_as(page, PRIYA, DEMO_PASSWORD)
    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite a person").click()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Organisation").select_option(label="Millbrook Surgery (Y90002)")
    page.get_by_label("Role").select_option(label="User (single-level practice)")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("body")).to_contain_text("We have emailed them")

    context = browser.new_context(base_url=live_server.url)
    person = context.new_page()
    message = mailbox.wait_for(email, "You have been invited")
    link = re.search(r"https?://\S+/complete-registration/\S+", body_of(message)).group(0)
    person.goto(link)
    person.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    person.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    person.get_by_role("button", name="Create account").click()
    expect(person.locator("body")).to_contain_text("Your account is ready")

    for _ in range(5):
        sign_in_as(person, email, "not my password at all")
    sign_in_as(person, email, NEW_PASSWORD)  # locked: the right password is refused too
    expect(person.locator(".nhsuk-error-summary")).to_contain_text(
        re.compile(
            r"Your account is locked until \d\d:\d\d( on \d{1,2} [A-Z][a-z]+)?\. "
            r"You can reset your password now"
        )
    )
    assert_accessible(person)

    page.reload()  # the invitation led to the person's page
    expect(page.locator("main")).to_contain_text("Locked")
    assert_accessible(page)
    page.get_by_role("button", name="Unlock account").click()
    expect(page.locator("body")).to_contain_text("account is unlocked")

    sign_in_as(person, email, NEW_PASSWORD)
    expect(person.locator("header")).to_contain_text("Millbrook Surgery (Y90002)")

    page.get_by_role("button", name="Remove access").click()
    expect(page.locator("body")).to_contain_text("no longer has the role")
    person.goto("/")
    expect(person.locator("main")).to_contain_text("You do not have access to any organisation")
    context.close()


def test_the_change_password_page_and_its_errors_are_accessible(page):
    sign_in_as(page, "lucy.turner@example.nhs.net", DEMO_PASSWORD)
    page.goto("/account")
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter your current password correctly")
    assert_accessible(page)
    summary.get_by_role("link", name="Enter your current password correctly").click()
    expect(page.get_by_label("Current password")).to_be_focused()
