"""The NHS header and footer rendered once per set of inputs, then reused.

Every page renders the NHS.UK header and footer macros (``nhsuk_frontend_jinja``): dozens of
macro calls and attribute lookups, the same output for the same inputs. ``nhs_component``
(a template global) renders a component once per exact set of its parameters and keeps the
HTML in this process (least recently used out past ``_KEPT``): a page is never shown a
fragment made from other inputs, since the inputs are the key. The one value a fragment
must not share, the CSRF token of the header's sign-out form, is written into the template
as :data:`CSRF_SLOT` and filled in per response.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

#: Where a fragment's CSRF token goes (unguessable, so page content cannot forge it).
CSRF_SLOT = f"cp-csrf-slot-{secrets.token_hex(12)}"
#: Fragments kept per process.
_KEPT = 4096
#: component -> macro name in ``nhsuk/components/<component>/macro.jinja``.
_MACROS = {"header": "header", "footer": "footer"}


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


def nhs_component(component: str, params: dict[str, Any]) -> Markup:
    """The component's HTML for ``params`` (rendered the first time these exact
    parameters are seen)."""
    fragments: _Fragments = current_app.extensions["fragments"]
    key = (component, json.dumps(params, sort_keys=True, default=str))
    html = fragments.get(key)
    if html is None:
        module = current_app.jinja_env.get_template(
            f"nhsuk/components/{component}/macro.jinja"
        ).module
        html = str(getattr(module, _MACROS[component])(params))
        fragments.put(key, html)
    if CSRF_SLOT in html:
        html = html.replace(CSRF_SLOT, str(escape(generate_csrf())))
    return Markup(html)  # noqa: S704 - rendered by the NHS macros, which escape


def init_app(app: Flask) -> None:
    app.extensions["fragments"] = _Fragments()
    app.jinja_env.globals["nhs_component"] = nhs_component
    app.jinja_env.globals["csrf_slot"] = CSRF_SLOT
