"""Per-request plumbing: request ids, the signed-in user, the current organisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, g, request, request_started, session
from flask_login import current_user

from claims_portal import request_context, session_timeout
from claims_portal.access import services as access_services
from claims_portal.access.models import Membership, User
from claims_portal.db import utcnow
from claims_portal.extensions import db, login_manager
from claims_portal.organisations.models import Organisation
from claims_portal.request_context import CURRENT_ORGANISATION_KEY


def _load_user(token: str) -> User | None:
    """The person of a live session, or None. Writes nothing itself: an expiry it records
    and the throttled ``last_seen_at`` are part of the request's unit of work (committed
    with the request; a refused request leaves them for the next one)."""
    config = current_app.config
    try:
        user_session = access_services.load_session(
            db.session,
            token,
            now=utcnow(),
            idle=dt.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            lifetime=dt.timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        )
    except access_services.SessionExpired:
        return None
    user = user_session.user
    user.session_token = token
    return user


def _start_request(_sender: Flask, **_extra: Any) -> None:
    """Before every ``before_request`` (a refused host's request has an id too): the
    request's id, a proxy's ``X-Request-ID`` when it is safe to keep."""
    g.request_id = request_context.adopt_request_id(request.headers.get("X-Request-ID"))


def _resolve_organisation() -> None:
    """Pick the organisation the user acts for: the one chosen, else their first."""
    g.current_organisation = None
    g.memberships = []
    if not current_user.is_authenticated:
        return
    from claims_portal.clock import today

    memberships = access_services.active_memberships(current_user, today())
    g.memberships = memberships
    organisations: dict[int, Organisation] = {}
    for membership in memberships:
        organisations.setdefault(membership.organisation_id, membership.organisation)
    g.organisations = list(organisations.values())
    chosen = session.get(CURRENT_ORGANISATION_KEY)
    if chosen in organisations:
        g.current_organisation = organisations[chosen]
    elif organisations:
        g.current_organisation = next(iter(organisations.values()))
        session[CURRENT_ORGANISATION_KEY] = g.current_organisation.id
    current = g.current_organisation
    request_context.set_acting(current_user.id, current.id if current is not None else None)


def _end_request(response: Any) -> Any:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def _forget_request(_error: BaseException | None) -> None:
    # After the access line (logs.py): nothing of this request is left for the thread's next.
    request_context.forget()


def _template_context() -> dict[str, Any]:
    roles: list[str] = []
    organisation = g.get("current_organisation")
    if organisation is not None:
        memberships: list[Membership] = g.get("memberships", [])
        roles = [str(m.role) for m in memberships if m.organisation_id == organisation.id]
    return {
        "current_organisation": organisation,
        "user_organisations": g.get("organisations", []),
        "current_roles": roles,
        "service_name": current_app.config["SERVICE_NAME"],
    }


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.login_view = "access.sign_in"
    login_manager.session_protection = None  # the server-side session token does this job
    request_started.connect(_start_request, app)
    app.before_request(_resolve_organisation)
    # Signed-out requests go to sign in (a first visit with no message, an ended session
    # saying so and keeping a posted form); the timeout warning's settings.
    session_timeout.init_app(app)
    app.after_request(_end_request)
    app.teardown_request(_forget_request)
    app.context_processor(_template_context)
