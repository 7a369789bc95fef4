"""The NHS timeout warning in Chromium: the dialog opens before an idle session ends, keeps
focus, passes axe, "Stay signed in" extends the session, and when the time runs out the page
signs out and says why. The idle timeout is shortened through the live app's config."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from claims_portal.demo import DEMO_PASSWORD
from claims_portal.session_timeout import TOUCH_SECONDS, WARNING_SECONDS
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

SARAH = "sarah.bennett@example.nhs.net"  # provider approver, Riverside (no second factor)


def _idle_minutes(seconds_before_warning: float) -> float:
    """An idle timeout whose warning opens this long after a page loads."""
    return (seconds_before_warning + WARNING_SECONDS + TOUCH_SECONDS) / 60


def _signed_in_with_idle(page, live_app, monkeypatch, minutes: float) -> None:
    """Signed in as Sarah, the idle timeout then set to ``minutes``. The home page she lands
    on may come from the page cache with another test's timeout: the time it left in the
    browser's storage is cleared."""
    sign_in_as(page, SARAH, DEMO_PASSWORD)
    monkeypatch.setitem(live_app.config, "SESSION_IDLE_MINUTES", minutes)
    page.evaluate("window.localStorage.clear()")


def _watch_console(page) -> list[str]:
    errors: list[str] = []

    def seen(message) -> None:
        if message.type != "error":
            return
        # The NHS font's host cannot be reached from here: the page falls back to Arial.
        if message.location.get("url", "").startswith("https://assets.nhs.uk/fonts/"):
            return
        errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", seen)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_the_warning_opens_keeps_focus_and_stay_signed_in_extends(page, live_app, monkeypatch):
    errors = _watch_console(page)
    # Ten seconds before the warning: time enough to check it is not there yet, on a busy
    # machine too.
    _signed_in_with_idle(page, live_app, monkeypatch, _idle_minutes(10))
    page.goto("/account")
    search = page.get_by_role("link", name="Your account").first
    search.focus()
    dialog = page.get_by_role("dialog", name="You're about to be signed out")
    expect(dialog).to_be_hidden()
    expect(dialog).to_be_visible(timeout=30_000)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog).to_contain_text(
        re.compile(r"we will sign you out in (2 minutes|1 minute|\d+ seconds)")
    )
    assert page.evaluate("document.getElementById('app-timeout-warning').matches(':modal')")
    page.keyboard.press("Tab")  # focus stays inside the modal dialog
    expect(dialog.get_by_role("button", name="Sign out")).to_be_focused()
    assert_accessible(page)

    with page.expect_response("**/stay-signed-in") as answer:
        stay.click()
    assert answer.value.status == 200
    assert answer.value.json()["expires_in"] == int(_idle_minutes(10) * 60)
    expect(dialog).to_be_hidden()
    expect(search).to_be_focused()  # back where the person was
    time.sleep(2)
    expect(dialog).to_be_hidden()  # the session was extended: no second warning yet

    # Escape means "stay signed in" too, never a silent sign-out.
    monkeypatch.setitem(live_app.config, "SESSION_IDLE_MINUTES", _idle_minutes(-5))
    page.evaluate("window.localStorage.clear()")  # what the longer timeout left there
    page.reload()
    expect(dialog).to_be_visible()
    with page.expect_response("**/stay-signed-in"):
        page.keyboard.press("Escape")
    page.goto("/account")
    expect(page.locator("h1")).to_have_text("Your account")
    assert errors == []


def test_when_the_time_runs_out_the_page_signs_out_and_says_why(page, live_app, monkeypatch):
    errors = _watch_console(page)
    # The warning at once, and five seconds left.
    _signed_in_with_idle(page, live_app, monkeypatch, (5 + TOUCH_SECONDS) / 60)
    page.goto("/account")
    dialog = page.get_by_role("dialog", name="You're about to be signed out")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(re.compile(r"in \d seconds?"))
    expect(page).to_have_url(re.compile(r"/sign-in$"), timeout=15_000)
    expect(page.get_by_text("For your security, we signed you out")).to_be_visible()
    assert_accessible(page)
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/account$"))
    assert errors == []


def test_sign_out_in_the_warning_signs_out(page, live_app, monkeypatch):
    _signed_in_with_idle(page, live_app, monkeypatch, _idle_minutes(-5))
    page.goto("/account")
    dialog = page.get_by_role("dialog", name="You're about to be signed out")
    dialog.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_text("You have signed out.")).to_be_visible()
