"""What the access views share: the signed-in user, emailed links, errors on forms."""

from __future__ import annotations

from typing import Any

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from claims_portal.access import current
from claims_portal.access.links import Links
from claims_portal.access.services import AccessError, mfa
from claims_portal.hosts import public_base_url
from claims_portal.rules import put_on_form
from claims_portal.service_settings import access_settings
from claims_portal.unit_of_work import refuse


def links() -> Links:
    # PUBLIC_BASE_URL, never the request's Host header (claims_portal/hosts.py).
    return Links(public_base_url())


def show_error(form: FlaskForm, error: AccessError) -> None:
    """Refuse the request with a service's error: what it wrote is rolled back (unless the
    view called ``unit_of_work.keep_on_refusal`` first) and the problems are put on their
    fields (linked from the error summary) or the form."""
    put_on_form(form, refuse(error))


#: Pages a person who must set up two-factor authentication can still reach.
_ALLOWED_BEFORE_MFA = frozenset(
    {
        "access.mfa_set_up",
        "access.sign_out",
        "access.sign_out_everywhere",
        "static",
        "core.assets",
        "core.healthz",
        "core.readyz",
        "core.accessibility",
        "core.privacy",
    }
)


def _require_mfa_enrolment() -> Any:
    if not current_user.is_authenticated or request.endpoint in _ALLOWED_BEFORE_MFA:
        return None
    user = current.person()
    if not user.mfa_enabled and mfa.is_required(user, settings=access_settings()):
        return redirect(url_for("access.mfa_set_up"))
    return None


def install(app: Flask) -> None:
    app.before_request(_require_mfa_enrolment)
