"""Security headers on every response, the CSP nonce, and safe redirects."""

from __future__ import annotations

import secrets
from typing import TypeGuard
from urllib.parse import urljoin, urlsplit

from flask import Flask, Response, g, request
from werkzeug.exceptions import BadRequest


class NullCharacter(BadRequest):
    """A request whose path, parameters or form fields hold a null character (U+0000), which
    no one types and PostgreSQL cannot store: refused before anything reads it."""

    description = (
        "The request contained a character that cannot be accepted (a null character). "
        "Remove it and try again."
    )


def _refuse_null_characters() -> None:
    if "\x00" in request.path:  # a path segment reaches views (and queries) as text too
        raise NullCharacter
    fields = [request.args]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        fields.append(request.form)  # already parsed for the CSRF check
    for values in fields:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise NullCharacter


def csp_nonce() -> str:
    """This request's Content-Security-Policy nonce, for inline scripts."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return str(nonce)


#: Where nhsuk-frontend's stylesheet (served from here) loads the NHS font, Frutiger: where
#: that host cannot be reached, pages fall back to Arial without a word.
NHS_FONT_HOST = "https://assets.nhs.uk"


def _content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"font-src 'self' {NHS_FONT_HOST}",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    from flask import current_app

    if current_app.config.get("HSTS_ENABLED"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint not in {"core.assets", "static"}:
        # Pages may show personal or financial data: never keep them in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def is_safe_redirect(target: str | None) -> TypeGuard[str]:
    """True only for a path on this site (no scheme, host, or protocol-relative tricks)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    joined = urlsplit(urljoin(request.host_url, target))
    return joined.scheme in {"http", "https"} and joined.netloc == urlsplit(request.host_url).netloc


def init_app(app: Flask) -> None:
    app.before_request(_refuse_null_characters)
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
