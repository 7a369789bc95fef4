"""Error pages (HTML, or a JSON problem for API and JSON clients) without stack traces."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.access.throttling import TooManyAttempts
from claims_portal.extensions import db
from claims_portal.hosts import UntrustedHost
from claims_portal.rules import Problem, RuleError, problem_json, problems_of
from claims_portal.security import NullCharacter

log = logging.getLogger(__name__)

_TITLES = {
    400: "There is a problem with your request",
    403: "You do not have permission to see this page",
    404: "Page not found",
    405: "This action is not allowed here",
    413: "The file is too large",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _render(
    status: int, detail: str | None = None, problems: list[Problem] | None = None
) -> tuple[Response | str, int]:
    """The NHS error page, or one ``application/problem+json`` for JSON clients (``detail``,
    and with a rule error's problems an ``errors`` list of ``{"detail", "field"}``). A server
    error gives the request id as a ``reference`` to quote to support (it is in the log)."""
    title = _TITLES.get(status, "There is a problem")
    reference = g.get("request_id") if status >= 500 else None
    if _wants_json():
        problem = problem_json(title, status, problems or [])
        if detail:
            problem["detail"] = detail
        if reference:
            problem["reference"] = reference
        response = jsonify(problem)
        response.mimetype = "application/problem+json"
        return response, status
    return render_template(
        "errors/error.html",
        status=status,
        title=title,
        detail=detail,
        problems=problems,
        reference=reference,
    ), status


def _http_error(error: HTTPException) -> tuple[Response | str, int]:
    status = error.code or 500
    if status >= 500:
        return _server_error(error)
    detail = None
    if isinstance(error, CSRFError):
        detail = "Your form expired or was sent from another site. Go back, reload and try again."
    elif isinstance(error, RequestEntityTooLarge):
        detail = "Each file must be 5 MB or smaller."
    elif isinstance(error, NullCharacter | UntrustedHost):
        detail = error.description
    elif isinstance(error, TooManyAttempts):
        response = make_response(_render(status, error.description))
        response.headers["Retry-After"] = str(error.retry_after)  # when the window resets
        return response, status
    return _render(status, detail)


def _permission_denied(error: PermissionDenied) -> tuple[Response | str, int]:
    return _render(403)  # the unit of work has rolled back


def _rule_error(error: RuleError) -> tuple[Response | str, int]:
    """A rule error no view showed on its own page (the unit of work has rolled back)."""
    return _render(error.status_code, problems=error.problems)


def _server_error(error: Exception) -> tuple[Response | str, int]:
    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, InternalServerError):
        # The reference the page gives, so support can find this entry.
        log.error("Unhandled error (reference %s)", g.get("request_id"), exc_info=original)
    return _render(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(PermissionDenied, _permission_denied)
    app.register_error_handler(RuleError, _rule_error)
    app.jinja_env.globals["problems_of"] = problems_of  # the error_summary macro's
    # Unhandled exceptions reach the InternalServerError handler (an HTTPException) with
    # ``original_exception`` set; in tests they propagate so the traceback is seen.
