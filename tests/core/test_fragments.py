"""fragments.py: NHS components rendered in Python or once per set of inputs give the same
markup as the NHS macros, escaped the same way."""

from __future__ import annotations

import re

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from claims_portal import fragments
from claims_portal.security import csp_nonce
from claims_portal.session_timeout import timeout_settings


def _squeezed(html: str) -> str:
    return re.sub(r"\s*\n\s*|\s+(?=>)", "", str(html)).strip()


def _nhs_summary_list(app, params):
    module = app.jinja_env.get_template("nhsuk/components/summary-list/macro.jinja").module
    return module.summaryList(params)


def test_a_plain_summary_list_is_the_nhs_markup(app):
    params = {
        "rows": [
            {"key": {"text": "A & <b>B</b>"}, "value": {"text": 'x<y "quoted"'}},
            {"key": {"text": "Kept"}, "value": {"html": Markup("<strong>as given</strong>")}},
        ]
    }
    with app.test_request_context():
        ours = fragments.summary_list(params)
        theirs = _nhs_summary_list(app, params)
    assert _squeezed(ours) == _squeezed(theirs)
    assert "A &amp; &lt;b&gt;B&lt;/b&gt;" in ours
    assert "<strong>as given</strong>" in ours


def test_rows_with_actions_go_through_the_nhs_macro(app):
    params = {
        "rows": [
            {
                "key": {"text": "Units"},
                "value": {"text": "3"},
                "actions": {"items": [{"href": "/change", "text": "Change"}]},
            }
        ]
    }
    with app.test_request_context():
        ours = fragments.summary_list(params)
        theirs = _nhs_summary_list(app, params)
    assert _squeezed(ours) == _squeezed(theirs)
    assert 'href="/change"' in ours


def test_the_header_is_made_once_per_set_of_inputs_and_its_token_filled_in(app):
    params = {
        "service": {"text": "Claims portal", "href": "/"},
        "account": {"items": [{"html": Markup(f'<input value="{fragments.CSRF_SLOT}">')}]},  # noqa: S704 - a fixed test string
    }
    with app.test_request_context():
        first = fragments.nhs_component("header", params)
        again = fragments.nhs_component("header", params)
        other = fragments.nhs_component("header", {**params, "service": {"text": "Other"}})
    assert fragments.CSRF_SLOT not in first
    assert first == again
    assert "Other" in other
    assert "Other" not in first


def test_the_layouts_scripts_are_kept_with_each_responses_nonce_and_token(app):
    """The body's end is rendered once per input: each response still gets its own nonce
    (the one its Content-Security-Policy names) and its own session's CSRF token."""
    pages = []
    for _ in range(2):
        with app.test_request_context():
            html = str(
                fragments.kept_template(
                    "layout_body_end.html", signed_in=True, timeout=timeout_settings()
                )
            )
            pages.append((html, csp_nonce(), generate_csrf()))
    for html, nonce, token in pages:
        assert fragments.NONCE_SLOT not in html
        assert fragments.CSRF_SLOT not in html
        assert html.count(f'nonce="{nonce}"') == 3
        assert f'name="csrf_token" value="{token}"' in html
        assert "app-timeout-warning" in html
    assert pages[0][1] != pages[1][1]
    assert pages[0][0] != pages[1][0]
    with app.test_request_context():
        signed_out = str(
            fragments.kept_template("layout_body_end.html", signed_in=False, timeout={})
        )
    assert "app-timeout-warning" not in signed_out
    assert "portal.js" in signed_out


def test_a_kept_template_is_kept_per_input(app, monkeypatch):
    """What a kept fragment shows comes from its key: the timeout warning's settings are an
    input, so a changed setting is shown at once, not the fragment kept before it."""
    with app.test_request_context():
        before = str(
            fragments.kept_template(
                "layout_body_end.html", signed_in=True, timeout=timeout_settings()
            )
        )
        monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 7)
        after = str(
            fragments.kept_template(
                "layout_body_end.html", signed_in=True, timeout=timeout_settings()
            )
        )
    assert 'data-idle-seconds="420"' in after
    assert 'data-idle-seconds="420"' not in before


def test_kept_urls_follow_the_path_prefix(app):
    with app.test_request_context("/", base_url="http://localhost/portal"):
        under = fragments.kept_url("core.accessibility")
    with app.test_request_context("/"):
        plain = fragments.kept_url("core.accessibility")
    assert under == "/portal" + plain
    assert plain == "/accessibility"


def test_every_page_has_the_nonce_of_its_own_policy(client):
    for _ in range(2):
        response = client.get("/accessibility")
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
        assert nonce is not None
        scripts = re.findall(r'<script[^>]*nonce="([^"]+)"', response.get_data(as_text=True))
        assert scripts
        assert set(scripts) == {nonce.group(1)}


def test_the_back_link_is_the_nhs_markup(app):
    module = app.jinja_env.get_template("nhsuk/components/back-link/macro.jinja").module
    for params in (
        {"href": "/claims?status=a&page=<2>", "text": 'Back to "claims" & <more>'},
        {"href": "/", "text": "Back"},
        {"href": "/x", "text": "Back", "classes": "nhsuk-u-margin-bottom-0"},
        {"text": "No link"},
    ):
        with app.test_request_context():
            assert fragments.back_link(params) == module.backLink(params)
    with app.test_request_context():
        html = fragments.back_link({"href": '"><script>', "text": "<b>"})
    assert "<script>" not in html
    assert "<b>" not in html
