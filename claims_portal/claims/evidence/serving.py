"""Downloads of evidence files: always as attachments, never rendered by the browser.

Permission checks belong to the view that calls :func:`evidence_response` (only people
allowed to see the claim may download its evidence).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote

from flask import Response

from claims_portal.claims.evidence.filetypes import EvidenceType
from claims_portal.claims.evidence.storage import EvidenceStore
from claims_portal.claims.evidence.validation import safe_filename

CHUNK_SIZE = 64 * 1024
_SERVED_TYPES = frozenset(t.content_type for t in EvidenceType)
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,-]")


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _ASCII_UNSAFE.sub("_", plain).strip(" ._")


def attachment_disposition(filename: str) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266/8187).

    The name is sanitised first (:func:`safe_filename`), so it cannot carry folders, quotes
    or line breaks; the plain ``filename`` is an ASCII fallback for old clients.
    """
    name = safe_filename(filename)
    stem, dot, extension = name.rpartition(".") if "." in name else (name, "", "")
    fallback = _ascii(stem) or "evidence"
    if dot and _ascii(extension):
        fallback += "." + _ascii(extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def evidence_response(
    store: EvidenceStore,
    key: str,
    *,
    filename: str,
    content_type: str,
    size: int | None = None,
) -> Response:
    """A streamed download of a stored evidence file.

    Headers: ``Content-Disposition: attachment`` with the sanitised original name,
    ``Content-Type`` the canonical type (anything not an evidence type is served as
    ``application/octet-stream``), ``X-Content-Type-Options: nosniff``,
    ``Cache-Control: private, no-store`` and ``Content-Length`` when ``size`` is given.
    The object is opened before the response is built, so a missing object raises
    :class:`~claims_portal.claims.evidence.errors.EvidenceNotFound` (404 in the view) and a
    store that is down raises :class:`~claims_portal.claims.evidence.errors.EvidenceStorageError`
    before any byte is sent. The stream is closed when the response is.
    """
    stream = store.open(key)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := stream.read(CHUNK_SIZE):
                yield chunk
        finally:
            stream.close()

    served_type = content_type if content_type in _SERVED_TYPES else "application/octet-stream"
    response = Response(chunks(), content_type=served_type, direct_passthrough=True)
    response.call_on_close(stream.close)
    response.headers["Content-Disposition"] = attachment_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if size is not None:
        response.content_length = size
    return response
