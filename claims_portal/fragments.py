"""NHS components rendered once per set of inputs, then reused (the header, the footer, the
skip link, a list's pagination), the layout's fixed parts likewise (``kept_template``: the
scripts at the end of the body with the timeout warning), and the summary list and the back
link rendered in Python.

Every page renders the NHS.UK header and footer macros (``nhsuk_frontend_jinja``): dozens of
macro calls and attribute lookups, the same output for the same inputs. ``nhs_component``
(a template global) renders a component once per exact set of its parameters and keeps the
HTML in this process (least recently used out past ``_KEPT``): a page is never shown a
fragment made from other inputs, since the inputs are the key. The one value a fragment
must not share, the CSRF token of the header's sign-out form, is written into the template
as :data:`CSRF_SLOT` and filled in per response; a kept template's script nonce likewise,
as :data:`NONCE_SLOT`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from claims_portal.security import csp_nonce

#: Where a fragment's CSRF token goes (unguessable, so page content cannot forge it).
CSRF_SLOT = f"cp-csrf-slot-{secrets.token_hex(12)}"
#: Where a kept template's CSP nonce goes (filled in per response, like the token).
NONCE_SLOT = f"cp-nonce-slot-{secrets.token_hex(12)}"
#: Fragments kept per process.
_KEPT = 4096
#: component -> macro name in ``nhsuk/components/<component>/macro.jinja``.
_MACROS = {
    "header": "header",
    "footer": "footer",
    "pagination": "pagination",
    "skip-link": "skipLink",
    "summary-list": "summaryList",
    "back-link": "backLink",
}


class _Fragments:
    def __init__(self) -> None:
        self._html: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            html = self._html.get(key)
            if html is not None:
                self._html.move_to_end(key)
            return html

    def put(self, key: tuple[str, str], html: str) -> None:
        with self._lock:
            self._html[key] = html
            while len(self._html) > _KEPT:
                self._html.popitem(last=False)


def _kept(key: tuple[str, str], make: Callable[[], str]) -> str:
    """What ``make`` gives, made the first time ``key`` is seen in this process."""
    fragments: _Fragments = current_app.extensions["fragments"]
    html = fragments.get(key)
    if html is None:
        html = make()
        fragments.put(key, html)
    return html


def _nhs_macro(component: str, params: dict[str, Any]) -> str:
    """The NHS macro's HTML for ``params``, rendered now."""
    module = current_app.jinja_env.get_template(f"nhsuk/components/{component}/macro.jinja")
    return str(getattr(module.module, _MACROS[component])(params))


def nhs_component(component: str, params: dict[str, Any]) -> Markup:
    """The component's HTML for ``params`` (rendered the first time these exact
    parameters are seen)."""
    key = (component, json.dumps(params, sort_keys=True, default=str))
    html = _kept(key, lambda: _nhs_macro(component, params))
    return Markup(_filled_in(html))  # noqa: S704 - rendered by the NHS macros, which escape


def _filled_in(html: str) -> str:
    """A kept fragment with this response's CSRF token and script nonce in their slots."""
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, str(escape(generate_csrf())))
    if NONCE_SLOT in html:
        html = html.replace(NONCE_SLOT, str(escape(csp_nonce())))
    return html


def kept_url(endpoint: str) -> str:
    """``url_for(endpoint)`` for an endpoint without parameters (the header's, the footer's),
    worked out once per path prefix (kept with the fragments, so bounded with them)."""
    return _kept((f"url:{endpoint}", request.script_root), lambda: url_for(endpoint))


def kept_template(name: str, **inputs: Any) -> Markup:
    """The template ``name`` rendered once per exact ``inputs`` (and path prefix, which its
    links start with), then reused. It sees only ``inputs`` and the environment's globals,
    so what it shows can only come from its key; ``csrf_token()`` and ``cspNonce`` give
    slots filled in per response."""
    key = (
        f"template:{name}",
        json.dumps([request.script_root, inputs], sort_keys=True, default=str),
    )
    html = _kept(
        key,
        lambda: current_app.jinja_env.get_template(name).render(
            **inputs, cspNonce=NONCE_SLOT, csrf_token=lambda: CSRF_SLOT
        ),
    )
    return Markup(_filled_in(html))  # noqa: S704 - a template rendered with autoescape


_PLAIN_ROW_PARTS = frozenset({"key", "value"})
_PLAIN_CELL_PARTS = frozenset({"text", "html"})


def _cell(cell: Any) -> str | None:
    """A key or value cell (``{"text": ...}`` escaped, or ``{"html": ...}`` as given, as the
    NHS macro does), or None for anything else."""
    if not isinstance(cell, dict) or len(cell) != 1 or not cell.keys() <= _PLAIN_CELL_PARTS:
        return None
    if "html" in cell:
        return str(cell["html"])
    return str(escape(cell["text"]))


def summary_list(params: dict[str, Any]) -> Markup:
    """The NHS summary list: plain rows (a key and a value, no actions) in Python, the same
    markup as the macro, which is dozens of macro calls and imports per row; anything else
    through the NHS macro itself."""
    rows = params.get("rows") or []
    cells = []
    if params.keys() <= {"rows"}:
        for row in rows:
            if not isinstance(row, dict) or row.keys() != _PLAIN_ROW_PARTS:
                break
            key, value = _cell(row["key"]), _cell(row["value"])
            if key is None or value is None:
                break
            cells.append((key, value))
        else:
            return Markup(  # noqa: S704 - text escaped above, html given as markup
                '<dl class="nhsuk-summary-list">'
                + "".join(
                    f'<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">'
                    f'{key}</dt><dd class="nhsuk-summary-list__value">{value}</dd></div>'
                    for key, value in cells
                )
                + "</dl>"
            )
    return Markup(_nhs_macro("summary-list", params))  # noqa: S704 - the NHS macro escapes


def back_link(params: dict[str, Any]) -> Markup:
    """The NHS back link: a link with its text (the shape every page uses) in Python, the
    macro's markup; anything else through the NHS macro itself."""
    href, text = params.get("href"), params.get("text")
    if params.keys() == {"href", "text"} and isinstance(href, str) and isinstance(text, str):
        return Markup(  # noqa: S704 - both escaped here
            f'<a class="nhsuk-back-link" href="{escape(href)}">\n  {escape(text)}\n</a>'
        )
    return Markup(_nhs_macro("back-link", params))  # noqa: S704 - the NHS macro escapes


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = _Fragments()
    app.jinja_env.globals["nhs_component"] = nhs_component
    app.jinja_env.globals["kept_template"] = kept_template
    app.jinja_env.globals["kept_url"] = kept_url
    app.jinja_env.globals["csrf_slot"] = CSRF_SLOT
    app.jinja_env.globals["summary_list"] = summary_list
    app.jinja_env.globals["back_link"] = back_link
