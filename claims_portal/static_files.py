"""The portal's CSS, JavaScript and images (its own ``static/`` and nhsuk-frontend's, from npm):
served from memory, compressed once per process, at fingerprinted addresses cached for a year.

``url_for('static', filename='portal.css')`` (and ``core.assets``) adds ``?v=<fingerprint>``,
the first 16 hex digits of the file's SHA-256. A request naming the current fingerprint is
answered ``Cache-Control: public, max-age=31536000, immutable``: the browser and any proxy keep
it for a year without asking again, and a release that changes the file changes its address.
Any other request for the file (no ``v``, as the stylesheet's own ``url(/assets/...)`` images,
or an old page's stale ``v`` during a rolling release) is answered with the current bytes and
an hour's caching, never cached as the old version.

Text files (CSS, JavaScript, SVG, JSON, source maps) are compressed the first time they are
asked for, with gzip and with Brotli where the ``brotli`` package is installed, and kept beside
the original: the response carries the smallest encoding the request accepts (``Vary:
Accept-Encoding``). nhsuk-frontend's 278 KB stylesheet goes as about 25 KB.

Files are read once per process: they are fixed for a release, and holding them in memory means
no file handle outlives a response that a client abandons half-way.

``GET`` and ``HEAD`` of a file that exists are answered by :class:`StaticFilesMiddleware`
before the app (as WhiteNoise does): no session, no signed-in user loaded from the database,
no ``Vary: Cookie`` that would keep shared caches from holding them, and no access log line.
It sits inside the host guard (a request for an untrusted host reaches the app and its 400)
and sets the security headers itself (:data:`SECURITY_HEADERS`, a CSP allowing nothing but
the stylesheet's own images and the NHS font). Anything else (a missing file, a ``POST``)
goes on to the app's ``static`` and ``core.assets`` views, which answer the same way.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from claims_portal.hosts import UNTRUSTED_HOST_KEY
from claims_portal.security import NHS_FONT_HOST

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

try:  # Brotli is optional: gzip alone where it is not installed.
    import brotli as _brotli
except ImportError:  # pragma: no cover - the package is a dependency; kept optional for forks
    _brotli = None

#: A fingerprinted address never changes content: a year, and no revalidation.
IMMUTABLE = "public, max-age=31536000, immutable"
#: An address without the current fingerprint: kept an hour, then asked again.
REVALIDATE_HOURLY = "public, max-age=3600"
#: The query parameter carrying the fingerprint.
FINGERPRINT_PARAMETER = "v"

_COMPRESSIBLE = {
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "text/plain",
    "image/x-icon",
    "image/vnd.microsoft.icon",
}
#: Below this, compression saves less than its headers cost.
_MIN_COMPRESSED_BYTES = 512
#: Brotli's quality 9 compresses the NHS stylesheet in about 16 ms (11 takes 0.4 s for 7% less).
_BROTLI_QUALITY = 9


@dataclass(frozen=True)
class StaticFile:
    """One file's bytes, type, fingerprint and its compressed copies (encoding -> bytes)."""

    data: bytes
    mimetype: str
    fingerprint: str
    modified: float
    encoded: dict[str, bytes]

    def body_for(self, accepted: Callable[[str], float]) -> tuple[str | None, bytes]:
        """The smallest body whose encoding ``accepted`` (a quality lookup) allows."""
        choices = [(enc, body) for enc, body in self.encoded.items() if accepted(enc) > 0]
        if not choices:
            return None, self.data
        return min(choices, key=lambda choice: len(choice[1]))


def _compressed(data: bytes, mimetype: str) -> dict[str, bytes]:
    if mimetype not in _COMPRESSIBLE or len(data) < _MIN_COMPRESSED_BYTES:
        return {}
    encoded = {"gzip": gzip.compress(data, compresslevel=9, mtime=0)}
    if _brotli is not None:
        encoded["br"] = _brotli.compress(data, quality=_BROTLI_QUALITY)
    return {name: body for name, body in encoded.items() if len(body) < len(data)}


@functools.lru_cache(maxsize=256)
def _read(folders: tuple[str, ...], filename: str) -> tuple[bytes, float] | None:
    """``filename``'s bytes and modification time from the first of ``folders`` holding it
    (``safe_join`` refuses ``..``), or None."""
    for folder in folders:
        path = safe_join(folder, filename)
        try:
            if path is None or not Path(path).is_file():
                continue
            return Path(path).read_bytes(), Path(path).stat().st_mtime
        except OSError:  # a name the file system refuses (too long, say) is no file
            continue
    return None


@functools.lru_cache(maxsize=256)
def fingerprint(folders: tuple[str, ...], filename: str) -> str | None:
    """The file's fingerprint (16 hex digits of its SHA-256), or None when there is no file."""
    found = _read(folders, filename)
    return None if found is None else hashlib.sha256(found[0]).hexdigest()[:16]


@functools.lru_cache(maxsize=256)
def load(folders: tuple[str, ...], filename: str) -> StaticFile | None:
    """The file with its compressed copies, built the first time it is asked for."""
    found = _read(folders, filename)
    if found is None:
        return None
    data, modified = found
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return StaticFile(
        data=data,
        mimetype=mimetype,
        fingerprint=fingerprint(folders, filename) or "",
        modified=modified,
        encoded=_compressed(data, mimetype),
    )


def send(folders: tuple[str, ...], filename: str) -> Response:
    """Answer a request for ``filename`` from the first of ``folders`` holding it (404 if
    none): compressed as the request accepts, immutable when it names the fingerprint."""
    found = load(folders, filename)
    if found is None:
        abort(404)
    response = current_app.response_class()
    _answer(found, request, response)
    response.make_conditional(request)  # in place: a 304 keeps this response's headers
    return response


def _answer(found: StaticFile, asked: WerkzeugRequest, response: WerkzeugResponse) -> None:
    encoding, body = found.body_for(asked.accept_encodings.quality)
    response.set_data(body)
    response.mimetype = found.mimetype
    if encoding is not None:
        response.headers["Content-Encoding"] = encoding
    if found.encoded:
        response.vary.add("Accept-Encoding")
    current = asked.args.get(FINGERPRINT_PARAMETER) == found.fingerprint
    response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE_HOURLY
    # Each encoding is its own representation, with its own validator.
    response.set_etag(f"{found.fingerprint}-{encoding or 'identity'}")
    response.last_modified = found.modified  # type: ignore[assignment]


_OWN_STATIC = str(Path(__file__).resolve().parent / "static")

#: Where each static endpoint's files are, from the app's configuration.
FOLDERS: dict[str, Callable[[Flask], tuple[str, ...]]] = {
    "static": lambda app: (_OWN_STATIC,),
    "core.assets": lambda app: (
        str(Path(app.config["NHSUK_FRONTEND_DIR"]) / "assets"),
        app.config["NHSUK_FRONTEND_DIR"],
    ),
}


def folders_for(endpoint: str, app: Flask) -> tuple[str, ...]:
    """The endpoint's folders, worked out once per app (every page's ``url_for`` of a
    stylesheet or script asks)."""
    known: dict[str, tuple[str, ...]] = app.extensions.setdefault("static_folders", {})
    if endpoint not in known:
        known[endpoint] = FOLDERS[endpoint](app)
    return known[endpoint]


def add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for`` of a static file names its fingerprint (``?v=``)."""
    if endpoint not in FOLDERS or FINGERPRINT_PARAMETER in values:
        return
    filename = values.get("filename")
    if not isinstance(filename, str):
        return
    found = fingerprint(folders_for(endpoint, current_app), filename)
    if found is not None:
        values[FINGERPRINT_PARAMETER] = found


#: The headers of a file answered before the app. A stylesheet or script is not a document,
#: so its own CSP rarely applies; it does to an SVG opened on its own, which may do nothing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"font-src 'self' {NHS_FONT_HOST}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_HSTS = "max-age=31536000; includeSubDomains"


class StaticFilesMiddleware:
    """WSGI middleware answering ``GET``/``HEAD`` of the static files that exist under
    ``/static/`` and ``/assets/`` before the app does (see the module's docstring)."""

    def __init__(self, wsgi_app: WSGIApplication, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.config = app.config  # read per request: HSTS_ENABLED may change in tests
        self.mounts = {
            "/static/": folders_for("static", app),
            "/assets/": folders_for("core.assets", app),
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        found = self._file(environ)
        if found is None:
            return self.wsgi_app(environ, start_response)
        asked = WerkzeugRequest(environ)
        response = WerkzeugResponse()
        _answer(found, asked, response)
        response.headers.update(SECURITY_HEADERS)
        if self.config.get("HSTS_ENABLED"):
            response.headers["Strict-Transport-Security"] = _HSTS
        return response.make_conditional(asked)(environ, start_response)

    def _file(self, environ: WSGIEnvironment) -> StaticFile | None:
        if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"} or UNTRUSTED_HOST_KEY in environ:
            return None
        path = environ.get("PATH_INFO") or ""
        for prefix, folders in self.mounts.items():
            if path.startswith(prefix) and "\x00" not in path:
                return load(folders, path[len(prefix) :])
        return None


def init_app(app: Flask) -> None:
    """Answer static files before the app. Call it before ``hosts.init_app``, so that the
    host guard (and ProxyFix) wrap this middleware and an untrusted host is still refused."""
    app.wsgi_app = StaticFilesMiddleware(app.wsgi_app, app)  # type: ignore[method-assign]
