"""The portal's own address: the start of emailed links, the hosts it answers to, proxies.

- Every emailed link starts with ``PUBLIC_BASE_URL`` (:func:`public_base_url`), never with
  the request's ``Host`` header, which anyone can forge to have a reset token mailed on
  their own site.
- A request for a host outside ``TRUSTED_HOSTS`` (by default the host of
  ``PUBLIC_BASE_URL``) is refused with a 400 NHS error page or JSON problem. Flask's own
  check would leave the request without a URL adapter, so the error page itself failed
  (a 500): the WSGI guard below checks first, renders the refusal under the portal's own
  host, and a ``before_request`` raises :class:`UntrustedHost` before anything else runs.
  ``/healthz``, ``/readyz`` and ``/metrics`` answer whatever the host: load balancers and
  the metrics scraper reach them by the instance's own address, and they build no links.
- Behind a load balancer the ``X-Forwarded-*`` headers are believed only as far as the
  ``PROXY_FIX_*`` counts say (Werkzeug's ProxyFix); unset, they are ignored. With
  ``PROXY_FIX_X_FOR`` right, ``request.remote_addr`` -- the throttling key and the address in
  sessions and the audit trail -- is the person's, not the proxy's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Set in the WSGI environ (to the refused Host) when the host is not trusted.
UNTRUSTED_HOST_KEY = "claims_portal.untrusted_host"
#: Answered for any host: probes and the scraper name the instance's own address, and these
#: build no links.
ANY_HOST_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: ProxyFix's arguments, each read from ``PROXY_FIX_<NAME>`` (0: that header is ignored).
PROXY_FIX_SETTINGS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")


class UntrustedHost(BadRequest):
    """The request named a host the portal does not answer to (``TRUSTED_HOSTS``)."""

    description = (
        "This web address is not the claims portal's. Check the link, or type the "
        "portal's address yourself."
    )


def base_url_problem(value: str) -> str | None:
    """Why ``value`` cannot be ``PUBLIC_BASE_URL`` (``None`` when it can)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        return (
            f"PUBLIC_BASE_URL must be the portal's address as people reach it, such as "
            f"https://claims.example.nhs.uk, not {value!r}"
        )
    return None


def host_of(base_url: str) -> str:
    """The host name of a base URL, as ``TRUSTED_HOSTS`` lists it (no port)."""
    return urlsplit(base_url).hostname or ""


def public_base_url() -> str:
    """The start of every emailed link, without a trailing slash: ``PUBLIC_BASE_URL``.

    Raises ``RuntimeError`` if it is not set (production refuses to start without it; the
    development and test configurations set it).
    """
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise RuntimeError("PUBLIC_BASE_URL is not set: emailed links need the portal's address")
    return str(base).rstrip("/")


def default_trusted_hosts(base_url: str | None, extra: Iterable[str] = ()) -> list[str] | None:
    """``TRUSTED_HOSTS`` when unset: the host of ``PUBLIC_BASE_URL`` (and ``extra``)."""
    if not base_url:
        return None
    hosts: list[str] = []
    for host in (host_of(base_url), *extra):
        if host and host not in hosts:
            hosts.append(host)
    return hosts


class _HostGuard:
    """WSGI middleware: marks a request for an untrusted host and gives it the portal's own
    host, so that Flask can render the refusal (the error page builds URLs)."""

    def __init__(self, wsgi_app: WSGIApplication, config: Mapping[str, Any]) -> None:
        self.wsgi_app = wsgi_app
        self.config = config  # read per request: tests change it on a running app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        trusted = self.config.get("TRUSTED_HOSTS")
        if trusted:
            try:
                get_host(environ, trusted)
            except SecurityError:
                environ = dict(environ)
                if environ.get("PATH_INFO") not in ANY_HOST_PATHS:
                    environ[UNTRUSTED_HOST_KEY] = environ.get("HTTP_HOST", "")
                environ["HTTP_HOST"] = self._own_host(trusted)
        return self.wsgi_app(environ, start_response)

    def _own_host(self, trusted: list[str]) -> str:
        base = self.config.get("PUBLIC_BASE_URL")
        if base and (netloc := urlsplit(base).netloc):
            return netloc
        return trusted[0].lstrip(".")


def _refuse_untrusted_host() -> None:
    if UNTRUSTED_HOST_KEY in request.environ:
        raise UntrustedHost


def proxy_fix_counts(config: Mapping[str, Any]) -> dict[str, int]:
    """ProxyFix's arguments from ``PROXY_FIX_X_FOR`` and the like (0 when unset)."""
    return {name: int(config.get(f"PROXY_FIX_{name.upper()}") or 0) for name in PROXY_FIX_SETTINGS}


def init_app(app: Flask) -> None:
    """Default ``TRUSTED_HOSTS``, refuse other hosts, and trust the configured proxies.

    Call it before any other ``before_request`` is registered, so a refused host reaches
    nothing else.
    """
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = default_trusted_hosts(app.config.get("PUBLIC_BASE_URL"))
    app.before_request(_refuse_untrusted_host)
    app.wsgi_app = _HostGuard(app.wsgi_app, app.config)  # type: ignore[method-assign]
    counts = proxy_fix_counts(app.config)
    if any(counts.values()):
        # Outermost: the forwarded host, once believed, is the one the guard checks.
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)  # type: ignore[method-assign]
