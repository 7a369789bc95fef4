"""Rendered pages kept in each worker's memory until the data under them changes.

Signed-in pages cost most of their time in work that gives the same answer until something
is written: the header's counts, the list's rows and totals, Jinja rendering. A view marked
``@cached_page`` is rendered once per person, organisation, address, day and *page
generation* (``core.models``: a number every committed write moves on), and later requests
with the same key get the stored page. The generation is read at the start of the request,
before anything else it shows, so a stored page is never older than the generation it is
filed under, and a change anywhere means a fresh render.

What stays per request: signing in (the session row is checked on every request, so a
revoked or expired session is refused at once), the organisation chosen, and the two values
a page must never share: the CSRF token and the CSP nonce. While a page is rendered for the
cache the templates get placeholders for them, replaced in every response. If a view used
the real values anyway (a WTForms form with its own token, say), the page is served but not
stored.

A page is not stored when it carries flash messages, is not a 200 HTML page, or the cache
is switched off (``PAGE_CACHE_MAX_MB=0``). Entries are evicted least recently used once the
worker's cache holds ``PAGE_CACHE_MAX_MB`` of page bytes.

Only pages that show nothing from the tables in ``GENERATION_EXCLUDED`` (nor the columns
in ``GENERATION_EXCLUDED_COLUMNS``) may be cached.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from claims_portal import unit_of_work
from claims_portal.clock import today
from claims_portal.core.models import current_generation
from claims_portal.extensions import db
from claims_portal.request_context import CURRENT_ORGANISATION_KEY
from claims_portal.security import csp_nonce

F = TypeVar("F", bound=Callable[..., Any])

#: Stand-ins for the per-request values, unguessable so page content cannot forge them.
_NONCE = f"cp-nonce-{secrets.token_hex(12)}"
_CSRF = f"cp-csrf-{secrets.token_hex(12)}"
_NONCE_BYTES = _NONCE.encode()
_CSRF_BYTES = _CSRF.encode()


class PageCache:
    """A thread-safe least-recently-used store of page bodies, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        #: Pages being rendered: a lock and how many requests hold or wait for it.
        self._rendering: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextlib.contextmanager
    def rendering(self, key: Hashable, timeout: float = 10.0) -> Iterator[None]:
        """One render per key at a time: after a change, the requests that all miss the
        same page wait for the first to store it instead of all rendering it (after
        ``timeout`` seconds a waiter renders it itself)."""
        with self._lock:
            lock, holders = self._rendering.get(key, (threading.Lock(), 0))
            self._rendering[key] = (lock, holders + 1)
        acquired = lock.acquire(timeout=timeout)
        try:
            yield
        finally:
            if acquired:
                lock.release()
            with self._lock:
                lock, holders = self._rendering[key]
                if holders == 1:
                    del self._rendering[key]
                else:
                    self._rendering[key] = (lock, holders - 1)

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._pages[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, evicted = self._pages.popitem(last=False)
                self.size -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.size = 0


def page_cache(app: Flask | None = None) -> PageCache | None:
    """The app's cache, or None when it is switched off."""
    cache = (app or current_app).extensions.get("page_cache")
    return cast(PageCache | None, cache)


def cached_page(view: F) -> F:
    """Serve this GET view from the page cache (put it under the route's requirement).

    A stored page is served by ``_serve_stored_page`` before the view; this wrapper renders
    and stores it when it is not there yet.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache = page_cache()
        generation = g.get("page_generation")
        if cache is None or generation is None or not _cacheable_request():
            return view(*args, **kwargs)
        organisation_id = g.current_organisation.id
        # Whom the person acts for, by the organisation chosen before this request and as
        # the session records it now: the next request finds its page without resolving.
        for chosen in {g.page_cache_chosen, organisation_id}:
            cache.put(_organisation_key(generation, chosen), str(organisation_id).encode())
        key = _page_key(generation, organisation_id)
        with cache.rendering(key):
            body = cache.get(key)
            if body is not None:  # stored by another request meanwhile
                return _response(body)
            g.page_cache_filling = True
            try:
                response = current_app.make_response(view(*args, **kwargs))
            finally:
                g.page_cache_filling = False
            unit_of_work.finish(response)  # committed (or refused) before anything is stored
            if response.is_streamed or response.direct_passthrough:
                return response
            body = response.get_data()
            if _storable(response):
                cache.put(key, body)
        response.set_data(_fill(body))
        return response

    wrapper.page_cached = True  # type: ignore[attr-defined]
    return cast(F, wrapper)


def _serve_stored_page() -> Response | None:
    """Before the organisation is resolved: read the generation for a cached view's GET,
    and answer with the stored page if there is one.

    Everything that decided the stored page is in its key or under the generation: the
    person (their session was checked just now), the organisation they act for (resolved
    from the one chosen in their session when the page was stored), the address, the day,
    the data (memberships and two-factor set-up included, so the later checks would pass
    as they did).
    """
    cache = page_cache()
    view = current_app.view_functions.get(request.endpoint or "")
    if cache is None or request.method != "GET" or not getattr(view, "page_cached", False):
        return None
    g.page_generation = generation = current_generation(db.session)
    g.page_cache_chosen = session.get(CURRENT_ORGANISATION_KEY)
    if not current_user.is_authenticated or "_flashes" in session:
        return None
    organisation = cache.get(_organisation_key(generation, g.page_cache_chosen))
    body = organisation and cache.get(_page_key(generation, int(organisation)))
    return _response(body) if body else None


def _cacheable_request() -> bool:
    return (
        request.method == "GET"
        and current_user.is_authenticated
        and "_flashes" not in session
        and g.get("current_organisation") is not None
    )


def _organisation_key(generation: int, chosen: object) -> tuple[Hashable, ...]:
    """Which organisation the person acts for, given the one chosen in their session."""
    return ("organisation", generation, current_user.id, chosen, today())


def _page_key(generation: int, organisation_id: int) -> tuple[Hashable, ...]:
    return (
        "page",
        generation,
        request.endpoint,
        request.scheme,
        request.host,
        request.full_path,
        current_user.id,
        organisation_id,
        today(),
    )


def _storable(response: Response) -> bool:
    """A plain 200 page rendered with placeholders only (no real token or nonce)."""
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and "Set-Cookie" not in response.headers
        and "csrf_token" not in g
        and "csp_nonce" not in g
    )


def _fill(body: bytes) -> bytes:
    if _NONCE_BYTES in body:
        body = body.replace(_NONCE_BYTES, csp_nonce().encode())
    if _CSRF_BYTES in body:
        body = body.replace(_CSRF_BYTES, generate_csrf().encode())
    return body


def _response(body: bytes) -> Response:
    return Response(_fill(body), mimetype="text/html")


def _template_nonce() -> str:
    return _NONCE if g.get("page_cache_filling") else csp_nonce()


def _template_csrf_token() -> str:
    return _CSRF if g.get("page_cache_filling") else str(generate_csrf())


def init_app(app: Flask) -> None:
    """``web.init_app`` calls this between starting the request and resolving the
    organisation (after Flask-WTF and ``security``, whose template globals it wraps)."""
    max_bytes = int(app.config.get("PAGE_CACHE_MAX_MB", 0)) * 1024 * 1024
    app.extensions["page_cache"] = PageCache(max_bytes) if max_bytes > 0 else None
    app.before_request(_serve_stored_page)
    app.jinja_env.globals["csp_nonce"] = _template_nonce
    app.jinja_env.globals["csrf_token"] = _template_csrf_token
    app.context_processor(lambda: {"csrf_token": _template_csrf_token})
