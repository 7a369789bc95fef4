"""Downloads: streamed attachments with safe headers."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from flask import Flask

from claims_portal.claims.evidence import (
    EvidenceNotFound,
    LocalEvidenceStore,
    attachment_disposition,
    evidence_response,
    new_evidence_key,
)
from claims_portal.claims.evidence.serving import CHUNK_SIZE

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def store(tmp_path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "uploads")


@pytest.fixture
def download_app(store) -> Flask:
    """A bare app with one download route, as a claims view would have (minus permissions)."""
    app = Flask(__name__)

    @app.get("/evidence/<path:key>")
    def download(key: str):
        return evidence_response(
            store,
            key,
            filename="Zoë\u2019s \u201cMarch\u201d claim.docx",
            content_type=DOCX,
            size=None,
        )

    return app


def test_a_download_is_a_streamed_attachment_with_safe_headers(store, download_app):
    key = new_evidence_key("", NOW)
    payload = b"PK" + bytes(range(256)) * (3 * CHUNK_SIZE // 256)
    store.put(key, payload, DOCX)

    response = download_app.test_client().get(f"/evidence/{key}")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.data == payload
    assert response.headers["Content-Type"] == DOCX
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Zoes March claim.docx"; ')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "Zoë\u2019s \u201cMarch\u201d claim.docx"


def test_the_stream_is_closed_when_the_response_is(store):
    key = new_evidence_key("", NOW)
    store.put(key, b"data", DOCX)
    opened = []
    original_open = store.open

    def tracking_open(k):
        stream = original_open(k)
        opened.append(stream)
        return stream

    store.open = tracking_open  # type: ignore[method-assign]
    response = evidence_response(store, key, filename="a.docx", content_type=DOCX, size=4)
    assert response.content_length == 4
    response.close()  # the client went away before reading
    assert opened[0].closed


def test_a_missing_object_raises_before_anything_is_sent(store):
    with pytest.raises(EvidenceNotFound):
        evidence_response(store, new_evidence_key("", NOW), filename="a.pdf", content_type=DOCX)


def test_content_types_other_than_evidence_types_are_served_as_bytes(store):
    key = new_evidence_key("", NOW)
    store.put(key, b"<script>", "text/html")
    response = evidence_response(store, key, filename="a.pdf", content_type="text/html")
    try:
        assert response.headers["Content-Type"] == "application/octet-stream"
    finally:
        response.close()


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ('evil"\r\nSet-Cookie: x=1.pdf', "evil_Set-Cookie_ x_1.pdf", None),
        ("../../etc/passwd", "passwd", "passwd"),
        ("日本語.pdf", "evidence.pdf", "%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf"),
        ("", "evidence", "evidence"),
    ],
)
def test_attachment_disposition(name, fallback, encoded):
    header = attachment_disposition(name)
    assert header.startswith(f"attachment; filename=\"{fallback}\"; filename*=UTF-8''")
    assert "\r" not in header
    assert "\n" not in header
    if encoded is not None:
        assert header.endswith(encoded)
