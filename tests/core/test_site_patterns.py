"""Site-wide NHS patterns: the cookies page, print styles, the 500 page's reference, the font."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask

from claims_portal.access.roles import Role
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token, make_test_app, sign_in


def _set_cookie_names(response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie")}


def test_the_cookies_page_names_every_cookie_the_portal_sets(app, client, db_session):
    page = client.get("/cookies")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Cookies</h1>" in html
    assert app.config["SESSION_COOKIE_NAME"] in html
    assert "We do not use any analytics, advertising or tracking cookies" in html
    # Every cookie set while signing in, working and signing out is the one the page names.
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    names: set[str] = set()
    form = client.get("/sign-in")
    names |= _set_cookie_names(form)
    signed_in = client.post(
        "/sign-in",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(form)},
    )
    names |= _set_cookie_names(signed_in)
    for path in ("/", "/claims", "/account"):
        names |= _set_cookie_names(client.get(path))
    token = csrf_token(client.get("/account"))
    names |= _set_cookie_names(client.post("/sign-out", data={"csrf_token": token}))
    assert names == {app.config["SESSION_COOKIE_NAME"]}


def test_every_page_links_to_the_cookies_page_from_its_footer(client, db_session):
    for path in ("/sign-in", "/cookies", "/privacy", "/accessibility"):
        html = client.get(path).get_data(as_text=True)
        footer = html[html.index('class="nhsuk-footer') :]
        assert 'href="/cookies"' in footer, path
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    assert 'href="/cookies"' in client.get("/").get_data(as_text=True)
    assert 'href="/cookies"' in client.get("/privacy").get_data(as_text=True)


def test_print_styles_hide_the_navigation_footer_and_buttons(client):
    css = client.get("/static/portal.css").get_data(as_text=True)
    printed = css[css.index("@media print") :]
    for selector in (
        ".nhsuk-header__navigation",
        ".nhsuk-footer",
        ".nhsuk-button",
        ".nhsuk-back-link",
        ".app-timeout-warning",
    ):
        assert selector in printed, selector
    assert "details::details-content" in printed  # closed details print open
    script = client.get("/static/portal.js").get_data(as_text=True)
    assert "beforeprint" in script


def test_the_content_security_policy_lets_the_nhs_font_load_and_nothing_else(client):
    policy = client.get("/sign-in").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["font-src"] == "'self' https://assets.nhs.uk"
    assert directives["style-src"] == "'self'"  # the stylesheet naming the font is ours
    css = client.get("/assets/nhsuk-frontend.min.css").get_data(as_text=True)
    fonts = set(re.findall(r"url\((https://[^/)]+)/fonts/", css))
    assert fonts == {"https://assets.nhs.uk"}


@pytest.fixture
def crashing_app(database_url) -> Flask:
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    return app


def test_the_500_page_gives_the_request_id_to_quote_to_support(crashing_app, caplog):
    caplog.set_level(logging.ERROR)
    response = crashing_app.test_client().get("/boom")
    assert response.status_code == 500
    reference = response.headers["X-Request-Id"]
    assert reference.startswith("req-")
    html = response.get_data(as_text=True)
    assert f'data-testid="error-reference">{reference}</strong>' in html
    assert "quote this reference" in html
    assert reference in caplog.text  # support finds the entry by it
    assert "secret internal detail" not in html


def test_the_500_json_problem_carries_the_reference_too(crashing_app):
    response = crashing_app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["reference"] == response.headers["X-Request-Id"]
    assert problem["status"] == 500


def test_pages_other_than_server_errors_give_no_reference(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "error-reference" not in response.get_data(as_text=True)
    problem = client.get("/api/nothing", headers={"Accept": "application/json"}).get_json()
    assert "reference" not in problem
