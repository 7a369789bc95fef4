"""Evidence files through the claim page: accepted types, hostile files refused with their
reasons in the error summary and the claim unchanged, size limits, downloads, removal,
failures part-way (store down, database error) and the S3 store through moto."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from claims_portal.claims.models import Claim, ClaimEvidence, ClaimStatus
from tests.claims.evidence import samples
from tests.claims.evidence.helpers import BUCKET
from tests.claims.helpers import (
    check_and_submit,
    signed_in,
    start,
    stored_files,
)
from tests.claims.test_pages import error_links, form_of, reload, text
from tests.helpers import sign_in

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def draft(db_session, scene):
    claim = start(db_session, scene)
    db_session.commit()
    return claim


@pytest.fixture
def practice(client, scene, draft):
    """The practice user, signed in (after the draft exists: a request ends the session the
    scene's objects were loaded in)."""
    sign_in(client, scene.user.email)
    return client


def post_multipart(client, url: str, form: dict, name: str, data: bytes):
    """POST a form with a file, encoded in memory (the test client's own encoder spools big
    bodies to a temporary file it never closes)."""
    values = {**form, "evidence-file": FileStorage(io.BytesIO(data), filename=name)}
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def upload(client, claim, name: str, data: bytes, **fields):
    page = client.get(f"/claims/{claim.id}/edit")
    form = form_of(page, action="upload", **fields)
    return post_multipart(client, f"/claims/{claim.id}/edit", form, name, data)


def _rows(session, claim):
    session.expire_all()
    return session.scalars(select(ClaimEvidence).where(ClaimEvidence.claim_id == claim.id)).all()


REAL_FILES = [
    "report.docx",
    "figures.xlsx",
    "report.odt",
    "figures.ods",
    "scan.pdf",
    "libreoffice.doc",
    "libreoffice.xls",
    "libreoffice.pdf",
]


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_files_of_every_allowed_type_are_accepted(
    practice, db_session, draft, real_files, evidence_dir, name
):
    response = upload(practice, draft, name, real_files[name])
    assert response.status_code == 302, text(response)[:3000]
    assert response.headers["Location"].endswith(f"/claims/{draft.id}/edit#evidence")
    (row,) = _rows(db_session, draft)
    assert row.filename == name
    assert row.size == len(real_files[name])
    assert [p.name for p in stored_files(evidence_dir)] == [row.key.rsplit("/", 1)[-1]]
    page = text(practice.get(f"/claims/{draft.id}/edit"))
    assert f"File added: {name}" in page
    with practice.get(f"/claims/{draft.id}/evidence/{row.id}") as download:
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.get_data() == real_files[name]


HOSTILE = [
    ("setup.pdf", lambda files: samples.WINDOWS_PROGRAM, "but it is a Windows program"),
    ("invoice.pdf", lambda files: samples.HTML, "This file is named .pdf but its content is HTML"),
    ("claim.docx", lambda files: samples.fixture("macros.docm"), "This file contains macros"),
    ("claim.xlsx", lambda files: samples.fixture("encrypted.xlsx"), "password protected"),
    ("scan.pdf", lambda files: samples.pdf(encrypt="pass-123"), "password protected"),
    ("report.docx", lambda files: files["bomb"], "unpacks to far more data"),
    (
        "big.pdf",
        lambda files: b"%PDF-1.7\n" + b"0" * (FIVE_MB + 1 - 9),
        "The selected file must be smaller than 5MB",
    ),
    ("notes.txt", lambda files: b"just text", "Upload a Word, Excel, OpenDocument or PDF file"),
]


@pytest.mark.parametrize(("name", "make", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_with_their_reason_and_the_claim_is_unchanged(
    practice, db_session, draft, zip_bomb, evidence_dir, name, make, reason
):
    line = draft.lines[0]
    version = draft.version
    response = upload(practice, draft, name, make({"bomb": zip_bomb}), **{f"units-{line.id}": "7"})
    assert response.status_code == 400
    ((href, message),) = error_links(text(response))
    assert href == "#evidence-file"
    assert reason in message
    assert _rows(db_session, draft) == []
    claim = reload(db_session, draft)
    assert claim.version == version
    assert claim.lines[0].units is None  # nothing saved, not even the figures
    assert stored_files(evidence_dir) == []


def test_a_request_over_the_limit_comes_back_with_a_clear_message(practice, draft, app):
    # What was typed is kept too: tests/claims/test_evidence_limits.py.
    too_much = app.config["MAX_CONTENT_LENGTH"]  # ten files of 5 MB and the form
    response = upload(practice, draft, "huge.pdf", b"%PDF-1.7\n" + b"0" * too_much)
    assert response.status_code == 413
    assert error_links(text(response)) == [
        ("#evidence-file", "The selected file must be smaller than 5MB")
    ]


def test_upload_without_a_file_asks_for_one(practice, draft):
    page = practice.get(f"/claims/{draft.id}/edit")
    response = practice.post(f"/claims/{draft.id}/edit", data=form_of(page, action="upload"))
    assert error_links(text(response)) == [("#evidence-file", "Choose a file to upload")]


def test_a_file_removed_from_a_draft_is_deleted(
    practice, db_session, draft, real_files, evidence_dir
):
    upload(practice, draft, "scan.pdf", real_files["scan.pdf"])
    (row,) = _rows(db_session, draft)
    page = practice.get(f"/claims/{draft.id}/edit")
    response = practice.post(f"/claims/{draft.id}/edit", data=form_of(page, remove=str(row.id)))
    # Asked first: nothing is removed until the person says yes.
    assert response.headers["Location"] == f"/claims/{draft.id}/evidence/{row.id}/remove"
    question = practice.get(response.headers["Location"])
    assert "Are you sure you want to remove scan.pdf?" in text(question)
    assert len(_rows(db_session, draft)) == 1
    response = practice.post(response.headers["Location"], data=form_of(question))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/claims/{draft.id}/edit#evidence"
    assert "File removed: scan.pdf" in text(practice.get(response.headers["Location"]))
    assert _rows(db_session, draft) == []
    assert stored_files(evidence_dir) == []


def test_removing_a_file_of_a_claim_changed_meanwhile_removes_nothing(
    practice, db_session, draft, real_files, evidence_dir
):
    upload(practice, draft, "scan.pdf", real_files["scan.pdf"])
    (row,) = _rows(db_session, draft)
    question = practice.get(f"/claims/{draft.id}/evidence/{row.id}/remove")
    page = practice.get(f"/claims/{draft.id}/edit")  # another tab saves the draft meanwhile
    first = f"units-{reload(db_session, draft).lines[0].id}"
    assert (
        practice.post(f"/claims/{draft.id}/edit", data=form_of(page, **{first: "3"})).status_code
        == 302
    )
    response = practice.post(f"/claims/{draft.id}/evidence/{row.id}/remove", data=form_of(question))
    assert response.status_code == 409
    assert "while you were looking at it. Nothing was changed." in text(response)
    assert len(_rows(db_session, draft)) == 1
    assert len(stored_files(evidence_dir)) == 1


def test_a_file_removed_after_submission_is_kept_for_the_history(
    app, client, db_session, one_step, real_files, evidence_dir
):
    from claims_portal.access.models import User
    from claims_portal.claims.models import ClaimAction
    from tests.claims.helpers import act, submit

    practice = client
    claim = start(db_session, one_step)
    db_session.commit()
    sign_in(practice, one_step.user.email)
    upload(practice, claim, "scan.pdf", real_files["scan.pdf"])
    # The request ended the session the scene was loaded in: load the people again.
    claim = reload(db_session, claim)
    user, tier_1 = (db_session.get(User, p.id) for p in (one_step.user, one_step.tier_1))
    submit(db_session, one_step, claim, actor=user)
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, tier_1, reason="Wrong file")
    db_session.commit()
    (row,) = _rows(db_session, claim)
    page = practice.get(f"/claims/{claim.id}/edit")
    asked = practice.post(f"/claims/{claim.id}/edit", data=form_of(page, remove=str(row.id)))
    question = practice.get(asked.headers["Location"])
    assert "It stays in the claim's history" in text(question)
    practice.post(asked.headers["Location"], data=form_of(question))
    (row,) = _rows(db_session, claim)
    assert row.removed_at is not None
    assert len(stored_files(evidence_dir)) == 1
    body = text(practice.get(f"/claims/{claim.id}"))
    assert "Removed files" in body
    # The commissioner may still read what the first round was decided on.
    tom = signed_in(app, one_step.tier_1)
    with tom.get(f"/claims/{claim.id}/evidence/{row.id}") as download:
        assert download.status_code == 200


def test_evidence_required_by_the_scheme_blocks_submission(
    client, db_session, evidence_dir, real_files
):
    from claims_portal.schemes.models import EvidenceRequirement
    from tests.factories.claims import claim_scene

    scene = claim_scene(evidence=EvidenceRequirement.WHOLE_SCHEME)
    claim = start(db_session, scene)
    db_session.commit()
    practice = client
    sign_in(practice, scene.user.email)
    first, second = (f"units-{line.id}" for line in claim.lines)
    page = practice.get(f"/claims/{claim.id}/edit")
    response = practice.post(
        f"/claims/{claim.id}/edit", data=form_of(page, **{first: "1", second: "1"}, action="check")
    )
    assert error_links(text(response)) == [
        ("#evidence-file", "Add an evidence file: this scheme needs evidence with every claim")
    ]
    # Choosing the file and pressing Continue adds it; the answers to check list it.
    page = practice.get(f"/claims/{claim.id}/edit")
    form = form_of(page, **{first: "1", second: "1"}, action="check")
    response = post_multipart(
        practice, f"/claims/{claim.id}/edit", form, "scan.pdf", real_files["scan.pdf"]
    )
    assert response.headers["Location"] == f"/claims/{claim.id}/check-your-answers"
    assert "scan.pdf" in text(practice.get(response.headers["Location"]))
    response = check_and_submit(practice, claim.id)
    assert response.status_code == 302
    claim = reload(db_session, claim)
    assert claim.status is ClaimStatus.AWAITING_PROVIDER_APPROVAL
    assert len(claim.current_evidence) == 1


# --- Failures part-way ---------------------------------------------------------------------


def test_a_store_that_is_down_leaves_no_row_and_no_claim_change(
    app, practice, db_session, draft, real_files, monkeypatch, aws_credentials
):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "s3")
    monkeypatch.setitem(app.config, "EVIDENCE_S3_BUCKET", BUCKET)
    monkeypatch.setitem(app.config, "EVIDENCE_S3_REGION", "eu-west-2")
    # A closed port on this machine: nothing listens there.
    monkeypatch.setitem(app.config, "EVIDENCE_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    version = draft.version
    response = upload(
        practice, draft, "scan.pdf", real_files["scan.pdf"], **{f"units-{draft.lines[0].id}": "3"}
    )
    assert response.status_code == 503
    assert error_links(text(response)) == [
        ("#evidence-file", "The evidence store is not available at the moment. Try again later")
    ]
    assert _rows(db_session, draft) == []
    claim = reload(db_session, draft)
    assert (claim.version, claim.lines[0].units) == (version, None)


def test_a_database_failure_after_the_put_deletes_the_object(
    practice, db_session, draft, real_files, evidence_dir, monkeypatch
):
    from claims_portal.claims.services import saving

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(saving, "attach_evidence", broken)
    with pytest.raises(RuntimeError, match="database went away"):
        upload(practice, draft, "scan.pdf", real_files["scan.pdf"])
    assert stored_files(evidence_dir) == []
    assert _rows(db_session, draft) == []
    assert reload(db_session, draft).version == draft.version


def test_claims_store_evidence_in_s3(
    app, practice, db_session, draft, real_files, s3_client, s3_config, monkeypatch
):
    for key, value in s3_config.items():
        monkeypatch.setitem(app.config, key, value)
    response = upload(practice, draft, "scan.pdf", real_files["scan.pdf"])
    assert response.status_code == 302
    (row,) = _rows(db_session, draft)
    assert row.key.startswith("evidence/")
    stored = s3_client.get_object(Bucket=BUCKET, Key=row.key)
    assert stored["Body"].read() == real_files["scan.pdf"]
    assert stored["ServerSideEncryption"] == "aws:kms"
    with practice.get(f"/claims/{draft.id}/evidence/{row.id}") as download:
        assert download.get_data() == real_files["scan.pdf"]
    claim = db_session.get(Claim, draft.id)
    assert claim.current_evidence
