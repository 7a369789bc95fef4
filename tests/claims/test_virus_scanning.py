"""The virus check on the claim page, against a real clamd (tests/claims/evidence/clamav.py):
a clean file is added and downloadable; an infected one is refused, kept in quarantine (never
downloadable), the uploader told on the page, the ICB's administrators told in the message
centre and by email, and audited; clamd down refuses the post ("try again later") with
nothing saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.evidence import LocalEvidenceStore, sweep_orphans
from claims_portal.claims.evidence.scanning import UNAVAILABLE_MESSAGE
from claims_portal.claims.evidence.storage import is_generated_key
from claims_portal.claims.models import ClaimEvidence, QuarantinedEvidence
from claims_portal.claims.services.quarantine import AUDIT_TRAIL_LINK, QUARANTINED_MESSAGE
from claims_portal.db import utcnow
from claims_portal.mail.models import EmailMessage, Notice
from tests.claims.evidence.clamav import FOUND, infected_pdf
from tests.claims.helpers import signed_in, start, stored_files
from tests.claims.test_evidence_pages import post_multipart, upload
from tests.claims.test_pages import error_links, form_of, plain, reload, text
from tests.factories.access import user_with_role


@pytest.fixture
def scanned(app, clamd, monkeypatch):
    """The app scans with the run's clamd."""
    monkeypatch.setitem(app.config, "VIRUS_SCANNER", "clamd")
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd.socket_path)
    monkeypatch.setitem(app.config, "CLAMD_HOST", None)
    return clamd


@pytest.fixture
def setting(db_session, scene):
    """A draft, the ICB's two administrators, and the practice user signed in."""
    claim = start(db_session, scene)
    admins = [
        user_with_role(Role.ADMINISTRATOR, scene.icb, full_name="Priya Shah"),
        user_with_role(Role.ADMINISTRATOR, scene.icb, full_name="Owen Hughes"),
    ]
    db_session.commit()
    return claim, admins


def _evidence(session, claim):
    session.expire_all()
    return session.scalars(select(ClaimEvidence).where(ClaimEvidence.claim_id == claim.id)).all()


def _quarantined(session, claim):
    return session.scalars(
        select(QuarantinedEvidence).where(QuarantinedEvidence.claim_id == claim.id)
    ).all()


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_a_clean_file_is_scanned_added_and_downloadable(
    app, scanned, scene, setting, db_session, real_files, evidence_dir
):
    claim, _admins = setting
    practice = signed_in(app, scene.user)
    response = upload(practice, claim, "scan.pdf", real_files["scan.pdf"])
    assert response.status_code == 302, text(response)[:3000]
    (row,) = _evidence(db_session, claim)
    with practice.get(f"/claims/{claim.id}/evidence/{row.id}") as download:
        assert download.status_code == 200
        assert download.get_data() == real_files["scan.pdf"]
    (added,) = _events(db_session, "claim.evidence_added")
    assert added.after["virus_scanned"] is True
    assert _quarantined(db_session, claim) == []


def test_an_infected_file_is_quarantined_the_uploader_and_the_icb_told(
    app, scanned, scene, setting, db_session, evidence_dir
):
    claim, admins = setting
    practice = signed_in(app, scene.user)
    version = claim.version
    line = claim.lines[0]
    response = upload(practice, claim, "scan.pdf", infected_pdf(), **{f"units-{line.id}": "7"})

    # The uploader: the page says why, and nothing of the post is saved.
    assert response.status_code == 400
    assert error_links(text(response)) == [("#evidence-file", QUARANTINED_MESSAGE)]
    assert _evidence(db_session, claim) == []
    assert (reload(db_session, claim).version, reload(db_session, claim).lines[0].units) == (
        version,
        None,
    )

    # Kept in quarantine: a row, and the bytes under the quarantine folder of the store.
    (kept,) = _quarantined(db_session, claim)
    assert (kept.filename, kept.scanner, kept.signature) == ("scan.pdf", "clamav", FOUND)
    assert (kept.icb_id, kept.uploaded_by_id) == (scene.icb.id, scene.user.id)
    assert kept.key.startswith("quarantine/")
    assert is_generated_key(kept.key, "")
    (stored,) = stored_files(evidence_dir)
    assert stored.read_bytes() == infected_pdf()
    assert stored.relative_to(evidence_dir).as_posix() == kept.key
    key, sha256 = kept.key, kept.sha256  # the row is not read again after the next requests

    # Never downloadable: no claim_evidence row points at it.
    assert practice.get(f"/claims/{claim.id}/evidence/{kept.id}").status_code == 404
    assert "scan.pdf" not in plain(text(practice.get(f"/claims/{claim.id}/edit")))

    # Audited.
    (event,) = _events(db_session, "claim.evidence_quarantined")
    assert (event.object_type, event.object_id) == ("claim", str(claim.id))
    assert event.actor_id == scene.user.id
    assert event.after["signature"] == FOUND
    assert event.after["key"] == key
    assert event.after["sha256"] == sha256

    # The ICB's administrators (not its approvers, not the uploader): a message and an email.
    notices = db_session.scalars(select(Notice).order_by(Notice.user_id)).all()
    assert [n.user_id for n in notices] == sorted(a.id for a in admins)
    subject = f"A file uploaded to claim {claim.reference} was quarantined by the virus check"
    assert {n.subject for n in notices} == {subject}
    assert notices[0].link == AUDIT_TRAIL_LINK
    assert notices[0].organisation_id == scene.icb.id
    assert FOUND in notices[0].body
    assert "James Whitfield" in notices[0].body
    emails = db_session.scalars(select(EmailMessage).where(EmailMessage.subject == subject)).all()
    assert sorted(e.user_id for e in emails) == sorted(a.id for a in admins)
    assert {e.kind for e in emails} == {"evidence_quarantined"}

    administrator = signed_in(app, admins[0])
    messages = plain(text(administrator.get("/messages/updates")))
    assert subject in messages

    # The orphan sweep keeps it (it has a row), and would remove it without one.
    store = LocalEvidenceStore(evidence_dir)
    from datetime import timedelta

    later = utcnow() + timedelta(days=366)  # (a year on from 29 February is no date)

    assert sweep_orphans(store, {key}, timedelta(hours=1), later).kept == 1
    assert sweep_orphans(store, set(), timedelta(hours=1), later).deleted == [key]


def test_a_clean_and_an_infected_file_in_one_post(
    app, scanned, scene, setting, db_session, real_files, evidence_dir
):
    claim, _admins = setting
    practice = signed_in(app, scene.user)
    page = practice.get(f"/claims/{claim.id}/edit")
    from io import BytesIO

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(form_of(page, action="upload"))
    values.add("evidence-file", FileStorage(BytesIO(real_files["report.docx"]), "report.docx"))
    values.add("evidence-file", FileStorage(BytesIO(infected_pdf()), "minutes.pdf"))
    boundary, body = encode_multipart(values)
    response = practice.post(
        f"/claims/{claim.id}/edit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 400
    assert error_links(text(response)) == [
        ("#evidence-file", f"minutes.pdf: {QUARANTINED_MESSAGE}")
    ]
    assert [row.filename for row in _evidence(db_session, claim)] == ["report.docx"]
    assert [row.filename for row in _quarantined(db_session, claim)] == ["minutes.pdf"]
    assert len(stored_files(evidence_dir)) == 2


def test_clamd_down_refuses_the_upload_for_now_and_saves_nothing(
    app, scanned, scene, setting, db_session, real_files, evidence_dir, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "clamd-is-down.sock"))
    claim, _admins = setting
    practice = signed_in(app, scene.user)
    line = claim.lines[0]
    for name, data in (("scan.pdf", real_files["scan.pdf"]), ("virus.pdf", infected_pdf())):
        page = practice.get(f"/claims/{claim.id}/edit")
        form = form_of(page, action="upload", **{f"units-{line.id}": "3"})
        response = post_multipart(practice, f"/claims/{claim.id}/edit", form, name, data)
        assert response.status_code == 503
        assert error_links(text(response)) == [("#evidence-file", UNAVAILABLE_MESSAGE)]
        assert "Try again later" in UNAVAILABLE_MESSAGE
    assert _evidence(db_session, claim) == []
    assert _quarantined(db_session, claim) == []
    assert stored_files(evidence_dir) == []
    assert reload(db_session, claim).lines[0].units is None
    assert db_session.scalars(select(Notice)).all() == []
