"""The browser tests' helpers: signing in as a person would, and axe's accessibility check."""

from __future__ import annotations

from typing import Any

#: The WCAG 2.2 AA rule sets of axe-core.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

#: The live app, for helpers that read what the person would have on their phone.
_LIVE: dict[str, Any] = {}


def assert_accessible(page: Any) -> None:
    """axe finds no WCAG 2.2 AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_AA_TAGS}, "resultTypes": ["violations"]},
    )
    assert results.violations_count == 0, results.generate_report()


def sign_in_as(page: Any, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    from tests.access.helpers import second_factor_in_browser

    # Two-factor authentication (commissioner roles): enrol or enter a code, as with a phone.
    second_factor_in_browser(page, _LIVE["app"], email)
