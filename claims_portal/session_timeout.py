"""The end of an idle session: the warning before it, and what a form posted after it keeps.

- **The warning** (the NHS "timeout warning" pattern). Every signed-in page carries a dialog
  (``templates/macros/timeout_warning.html``) that ``static/timeout.js`` opens
  ``WARNING_SECONDS`` before the session would end for want of activity
  (``SESSION_IDLE_MINUTES``): "Stay signed in" posts to ``access.stay_signed_in``, which
  counts as activity; "Sign out" signs out. When the time runs out the page signs out by
  itself and the sign-in page says why. Tabs share the time of the last activity (the
  browser's local storage), so an idle tab does not sign out someone busy in another.
- **What a form posted afterwards keeps.** A request from someone whose session ended (idle,
  too old, signed out elsewhere) or who never signed in goes to the sign-in page
  (:func:`sign_in_again`, Flask-Login's unauthorized handler). A form posted with an ended
  session, its CSRF token already checked, is kept in the Flask session (its fields; never
  files, passwords or the token) for the person whose session it was. Once that person signs
  in again they are taken back to the form's page, which shows what they typed:
  every ``FlaskForm`` on that page reads the kept fields as its data (:func:`init_app`), and
  pages reading their form by hand ask :func:`kept_form` (the claim page). The form comes
  back with a fresh CSRF token; nothing was saved until they send it again.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, cast
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from wtforms import PasswordField

from claims_portal.access import current
from claims_portal.access.models import UserSession
from claims_portal.access.services import hash_token, load_session
from claims_portal.db import utcnow
from claims_portal.extensions import db, login_manager
from claims_portal.security import is_safe_redirect

#: The dialog opens this long before the session would end.
WARNING_SECONDS = 120
#: ``access.services.load_session`` refreshes ``last_seen_at`` at most once a minute (its
#: ``touch_after``): a page may be shown up to this long after the activity the server counts,
#: so the page counts its time from that much earlier.
TOUCH_SECONDS = 60
#: Flask-session key of a form kept across signing in again.
KEPT_FORM = "kept_form"
#: Fields never kept: the CSRF token (the form comes back with a fresh one), secrets by
#: name, and every field any form of the portal declares as a ``PasswordField``.
_NEVER_KEPT = ("csrf_token", "password", "code", "secret")
#: Posts not worth keeping (signing out, staying signed in).
_NOT_KEPT_ENDPOINTS = {"access.sign_out", "access.sign_out_everywhere", "access.stay_signed_in"}
#: The session cookie must stay under the browsers' 4 KB: a larger form is not kept.
_COOKIE_BUDGET = 3800
#: Flask-Login's key of the signed-in session (our session token).
_LOGIN_KEY = "_user_id"


def idle_seconds(app: Flask | None = None) -> int:
    return int(float((app or current_app).config["SESSION_IDLE_MINUTES"]) * 60)


def timeout_settings() -> dict[str, int]:
    """What ``static/timeout.js`` needs (the same for every page: pages may be cached)."""
    return {
        "idle": idle_seconds(),
        "warning": WARNING_SECONDS,
        "touch": TOUCH_SECONDS,
    }


# --- Sent to sign in -------------------------------------------------------------------------


def _ended_session() -> UserSession | None:
    """The session row of the login token this browser still carries (its session ended)."""
    token = session.get(_LOGIN_KEY)
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))


def _answers_get(path: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:  # not found, not allowed, or a redirect: not the form's page
        return False
    return True


def _form_page() -> str | None:
    """Where the person typed what they posted: the same-site page that sent it, else the
    address posted to when it also shows a page."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        if is_safe_redirect(path):
            return path
    return request.path if _answers_get(request.path) else None


@functools.cache
def _password_field_names() -> frozenset[str]:
    names: set[str] = set()
    classes: list[type] = [FlaskForm]
    while classes:
        form_class = classes.pop()
        classes.extend(form_class.__subclasses__())
        for name, value in vars(form_class).items():
            field_class = getattr(value, "field_class", None)  # an unbound field
            if isinstance(field_class, type) and issubclass(field_class, PasswordField):
                names.add(name)
    return frozenset(names)


def _is_secret(name: str) -> bool:
    return name in _password_field_names() or any(w in name.lower() for w in _NEVER_KEPT)


def _fields() -> list[list[str]]:
    return [[name, value] for name, value in request.form.items(multi=True) if not _is_secret(name)]


def _fits_the_cookie(kept: dict[str, Any]) -> bool:
    interface = current_app.session_interface
    if not isinstance(interface, SecureCookieSessionInterface):
        return len(json.dumps(kept)) <= _COOKIE_BUDGET  # a server-side session: any size
    serializer = interface.get_signing_serializer(cast(Flask, current_app))
    if serializer is None:
        return False
    return len(serializer.dumps({**dict(session), KEPT_FORM: kept})) <= _COOKIE_BUDGET


def _keep_posted_form(ended: UserSession) -> bool:
    """Keep the posted form for ``ended``'s person; whether it was kept."""
    if request.method != "POST" or request.endpoint in _NOT_KEPT_ENDPOINTS:
        return False
    page = _form_page()
    fields = _fields()
    if page is None or not fields:
        return False
    kept = {"user": ended.user_id, "path": urlsplit(page).path, "fields": fields}
    if not _fits_the_cookie(kept):
        return False
    session[KEPT_FORM] = kept
    return True


def _wants_json() -> bool:
    if request.endpoint == "access.stay_signed_in" or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _next_page() -> str | None:
    if request.method == "GET":
        path = request.full_path.rstrip("?")
        return None if path == "/" else path
    page = _form_page()
    return None if page == "/" else page


def _ended_message(ended: UserSession, kept: bool) -> str:
    idle = dt.timedelta(seconds=idle_seconds())
    # Otherwise too old, or ended elsewhere (signed out everywhere, a new password).
    idle_out = ended.last_seen_at + idle <= utcnow()
    said = timed_out_message() if idle_out else "You were signed out."
    if kept:
        return f"{said} Sign in again to go back to your form: we have kept what you typed."
    return f"{said} Sign in again to continue."


def sign_in_again() -> ResponseReturnValue:
    """Flask-Login's unauthorized handler: the sign-in page, then back to where they were.

    A first visit is sent there without a message (the page says what to do); a session that
    ended says so, and keeps a form posted with it (:func:`_keep_posted_form`)."""
    ended = _ended_session()
    kept = ended is not None and _keep_posted_form(ended)
    if ended is not None or _LOGIN_KEY in session:
        session.pop(_LOGIN_KEY, None)  # said once; the next request is simply signed out
    if _wants_json():
        problem = {"type": "about:blank", "title": "Sign in to continue", "status": 401}
        response = jsonify(problem)
        response.mimetype = "application/problem+json"
        return response, 401
    if ended is not None:
        flash(_ended_message(ended, kept), "info")
    next_page = _next_page()
    target = url_for("access.sign_in", next=next_page) if next_page else url_for("access.sign_in")
    return redirect(target)


def timed_out_message() -> str:
    """What the sign-in page says after the session ended for want of activity."""
    minutes = max(1, round(idle_seconds() / 60))
    return (
        "For your security, we signed you out because you had not used the service for "
        f"{minutes} minute{'' if minutes == 1 else 's'}."
    )


def stay_signed_in(token: str) -> int:
    """Count now as activity on the session of ``token``; how many seconds it now has left
    (the idle timeout, or less when its absolute lifetime ends sooner). Raises
    ``access.services.SessionExpired`` for a session that has already ended."""
    config = current_app.config
    now = utcnow()
    lifetime = dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    live = load_session(
        db.session,
        token,
        now=now,
        idle=dt.timedelta(seconds=idle_seconds()),
        lifetime=lifetime,
        touch_after=dt.timedelta(0),
    )
    left = min(float(idle_seconds()), (live.created_at + lifetime - now).total_seconds())
    return max(0, int(left))


# --- Signing in again -----------------------------------------------------------------------


def clear_session_keeping_form() -> None:
    """``session.clear()`` for signing in, but a kept form stays for the next request to
    check against the person who signs in."""
    kept = session.get(KEPT_FORM)
    session.clear()
    if kept is not None:
        session[KEPT_FORM] = kept


def _bring_back_kept_form() -> None:
    """On the first page a signed-in person opens after signing in again: the kept form's
    fields, if it is that form's page and it was their form (dropped otherwise)."""
    kept = session.get(KEPT_FORM)
    if kept is None or request.method != "GET" or request.endpoint in {"static", "core.assets"}:
        return
    if not current_user.is_authenticated:
        return
    session.pop(KEPT_FORM)
    if kept.get("user") != current.person().id or kept.get("path") != request.path:
        return
    g.kept_form = MultiDict([(str(name), str(value)) for name, value in kept.get("fields", [])])
    flash(
        "We have kept what you typed before you were signed out. Check it, then send it again: "
        "nothing was saved.",
        "info",
    )


def kept_form() -> MultiDict[str, str] | None:
    """The fields this page's form had when it was posted after the session ended."""
    if not has_request_context():
        return None
    return cast(MultiDict[str, str] | None, g.get("kept_form"))


def _install_form_hook() -> None:
    """Every ``FlaskForm`` reads the kept fields as its data on the page they came from.

    The project's forms subclass ``FlaskForm`` directly, so the hook wraps its
    ``Meta.wrap_formdata`` once per process; it does nothing outside a page with a kept form,
    nor for a form sharing no field with it.
    """
    meta = FlaskForm.Meta
    if getattr(meta.wrap_formdata, "keeps_forms", False):
        return
    original = meta.wrap_formdata

    def wrap_formdata(self: Any, form: Any, formdata: Any) -> Any:
        kept = kept_form()
        if kept is not None and formdata is _Auto and request.method == "GET":
            names = {name for name in getattr(form, "_fields", {}) if name != "csrf_token"}
            if names & set(kept.keys()):
                return kept
        return original(self, form, formdata)

    wrap_formdata.keeps_forms = True  # type: ignore[attr-defined]
    meta.wrap_formdata = wrap_formdata  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    login_manager.unauthorized_handler(sign_in_again)
    _install_form_hook()
    app.before_request(_bring_back_kept_form)
    app.jinja_env.globals["timeout_settings"] = timeout_settings
