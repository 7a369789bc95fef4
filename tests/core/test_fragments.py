"""fragments.py: NHS components rendered in Python or once per set of inputs give the same
markup as the NHS macros, escaped the same way."""

from __future__ import annotations

import re

from markupsafe import Markup

from claims_portal import fragments


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
