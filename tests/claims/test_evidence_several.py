"""Several evidence files in one post of the claim page (issue 12): each file checked on its
own and its outcome listed; files that pass kept even when another file (or a figure) is
refused, what was typed shown again; at most ten at a time; a file tied to a component when
the scheme asks for evidence per component, and submission asking for a file for each
component needing evidence."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimEvidence
from claims_portal.claims.services import attachments
from claims_portal.schemes.models import EvidenceRequirement
from tests.claims.evidence import samples
from tests.claims.helpers import start, stored_files
from tests.claims.test_pages import error_links, form_of, reload, text
from tests.factories.claims import claim_scene
from tests.helpers import sign_in


@pytest.fixture
def draft(db_session, scene):
    claim = start(db_session, scene)
    db_session.commit()
    return claim


@pytest.fixture
def practice(client, scene, draft):
    sign_in(client, scene.user.email)
    return client


def post_files(client, claim_id: int, form: dict, files: list[tuple[str, bytes]]):
    """POST the claim page's form with ``files`` in its one file field (``multiple``)."""
    values = MultiDict(form)
    for name, data in files:
        values.add("evidence-file", FileStorage(io.BytesIO(data), filename=name))
    boundary, body = encode_multipart(values)
    return client.post(
        f"/claims/{claim_id}/edit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def upload_files(client, claim, files, **fields):
    page = client.get(f"/claims/{claim.id}/edit")
    return post_files(client, claim.id, form_of(page, action="upload", **fields), files)


def _rows(session, claim):
    session.expire_all()
    return session.scalars(
        select(ClaimEvidence).where(ClaimEvidence.claim_id == claim.id).order_by(ClaimEvidence.id)
    ).all()


def test_the_page_offers_the_nhs_file_upload_for_several_files(practice, draft):
    page = text(practice.get(f"/claims/{draft.id}/edit"))
    field = re.search(r'<input[^>]*name="evidence-file"[^>]*>', page).group(0)
    assert "multiple" in field
    assert 'data-module="nhsuk-file-upload"' in page
    assert "You can add up to 10 files at a time" in page
    # Not a per-component scheme: no question about which part the files are for.
    assert "Which part of the claim" not in page


def test_several_valid_files_are_added_in_one_go(
    practice, db_session, draft, real_files, evidence_dir
):
    names = ["report.docx", "figures.xlsx", "scan.pdf"]
    response = upload_files(practice, draft, [(n, real_files[n]) for n in names])
    assert response.status_code == 302, text(response)[:2000]
    assert response.headers["Location"].endswith(f"/claims/{draft.id}/edit#evidence")
    rows = _rows(db_session, draft)
    assert [r.filename for r in rows] == names
    assert [r.size for r in rows] == [len(real_files[n]) for n in names]
    assert {r.component_id for r in rows} == {None}
    assert len(stored_files(evidence_dir)) == 3
    page = text(practice.get(f"/claims/{draft.id}/edit"))
    assert "3 files added: report.docx, figures.xlsx, scan.pdf" in page
    events = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "claim.evidence_added", AuditEvent.object_id == str(draft.id)
        )
    ).all()
    assert sorted(e.after["filename"] for e in events) == sorted(names)
    for row in rows:
        with practice.get(f"/claims/{draft.id}/evidence/{row.id}") as download:
            assert download.get_data() == real_files[row.filename]


def test_a_refused_file_is_listed_with_its_reason_and_the_valid_one_is_kept(
    practice, db_session, draft, real_files, evidence_dir
):
    line = draft.lines[0]
    response = upload_files(
        practice,
        draft,
        [("scan.pdf", real_files["scan.pdf"]), ("setup.pdf", samples.WINDOWS_PROGRAM)],
        **{f"units-{line.id}": "7"},
    )
    assert response.status_code == 400
    page = text(response)
    assert error_links(page) == [
        ("#evidence-file", "setup.pdf: This file is named .pdf but it is a Windows program")
    ]
    # Each file's outcome: the one added in a success banner, the refused one under the field.
    assert "File added" in page
    assert "<li>scan.pdf</li>" in page
    assert "setup.pdf: This file is named .pdf but it is a Windows program" in page
    (row,) = _rows(db_session, draft)
    assert row.filename == "scan.pdf"
    assert len(stored_files(evidence_dir)) == 1
    # What was typed is shown again (not saved: the post was refused), on the new version.
    assert re.search(rf'name="units-{line.id}"[^>]*value="7"', page)
    claim = reload(db_session, draft)
    assert claim.lines[0].units is None
    assert f'name="version" value="{claim.version}"' in page
    # The page works on from there.
    saved = practice.post(
        f"/claims/{draft.id}/edit",
        data=form_of(practice.get(f"/claims/{draft.id}/edit"), **{f"units-{line.id}": "7"}),
    )
    assert saved.status_code == 302
    assert reload(db_session, draft).lines[0].units == 7


def test_continue_with_a_refused_file_keeps_the_valid_one_and_lists_every_problem(
    practice, db_session, draft, real_files
):
    first, second = draft.lines
    second_name = reload(db_session, draft).lines[1].component.name
    page = practice.get(f"/claims/{draft.id}/edit")
    response = post_files(
        practice,
        draft.id,
        form_of(page, action="check", **{f"units-{first.id}": "4"}),
        [("scan.pdf", real_files["scan.pdf"]), ("notes.txt", b"text")],
    )
    assert response.status_code == 400
    assert error_links(text(response)) == [
        ("#evidence-file", "notes.txt: Upload a Word, Excel, OpenDocument or PDF file"),
        (f"#units-{second.id}", f"Enter the units for {second_name} (0 if none)"),
    ]
    claim = reload(db_session, draft)
    assert [f.filename for f in claim.current_evidence] == ["scan.pdf"]
    assert claim.lines[0].units is None  # the figures and the check undone, the file kept


def test_files_that_pass_are_kept_when_a_figure_cannot_be_read(
    practice, db_session, draft, real_files
):
    line = draft.lines[0]
    response = upload_files(
        practice, draft, [("scan.pdf", real_files["scan.pdf"])], **{f"units-{line.id}": "12a"}
    )
    assert response.status_code == 400
    assert [href for href, _ in error_links(text(response))] == [f"#units-{line.id}"]
    assert [r.filename for r in _rows(db_session, draft)] == ["scan.pdf"]
    assert reload(db_session, draft).lines[0].units is None


def test_a_name_with_an_nhs_number_is_never_shown_among_several(
    practice, db_session, draft, real_files
):
    response = upload_files(
        practice,
        draft,
        [
            ("scan.pdf", real_files["scan.pdf"]),
            ("patient 943 476 5919.pdf", real_files["scan.pdf"]),
            ("943 476 5919.pdf", b""),  # refused as empty, before its name is checked
        ],
    )
    page = text(response)
    messages = [message for _, message in error_links(page)]
    assert messages[0].startswith("File 2 of 3: The file name must not include patient details")
    assert messages[1] == "File 3 of 3: The file is empty"
    assert "943 476 5919" not in page
    assert [r.filename for r in _rows(db_session, draft)] == ["scan.pdf"]


def test_more_than_ten_files_at_once_are_refused_and_none_is_added(
    practice, db_session, draft, evidence_dir, real_files
):
    line = draft.lines[0]
    files = [(f"scan-{n}.pdf", real_files["scan.pdf"]) for n in range(11)]
    response = upload_files(practice, draft, files, **{f"units-{line.id}": "3"})
    assert response.status_code == 400
    page = text(response)
    assert error_links(page) == [
        ("#evidence-file", "Select 10 files or fewer at a time (you selected 11)")
    ]
    assert re.search(rf'name="units-{line.id}"[^>]*value="3"', page)
    assert _rows(db_session, draft) == []
    assert stored_files(evidence_dir) == []


def test_ten_files_of_5_mb_fit_the_request_limit(app, practice, db_session, draft, evidence_dir):
    # Ten files of nearly 5 MB each and the form: under MAX_CONTENT_LENGTH, so every file
    # reaches its checks (and these pass them).
    big = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024 - 100) + b"\n%%EOF\n"
    files = [(f"part-{n}.pdf", big) for n in range(10)]
    assert sum(len(data) for _, data in files) < app.config["MAX_CONTENT_LENGTH"]
    response = upload_files(practice, draft, files)
    assert response.status_code == 302, error_links(text(response))
    assert len(_rows(db_session, draft)) == 10
    assert len(stored_files(evidence_dir)) == 10


def test_no_file_is_added_when_the_claim_has_no_room_for_all(
    practice, db_session, draft, real_files, evidence_dir, monkeypatch
):
    monkeypatch.setattr(attachments, "MAX_FILES_PER_CLAIM", 2)
    upload_files(practice, draft, [("scan.pdf", real_files["scan.pdf"])])
    response = upload_files(
        practice, draft, [("a.pdf", real_files["scan.pdf"]), ("b.pdf", real_files["scan.pdf"])]
    )
    assert response.status_code == 400
    assert error_links(text(response)) == [
        (
            "#evidence-file",
            "A claim can have at most 2 evidence files: you can add 1 more, so choose 1 or "
            "fewer, or remove a file first",
        )
    ]
    assert [r.filename for r in _rows(db_session, draft)] == ["scan.pdf"]
    assert len(stored_files(evidence_dir)) == 1  # the two stored for the post deleted again


def test_files_stored_for_a_refused_save_are_deleted_again(
    practice, db_session, draft, real_files, evidence_dir
):
    page = practice.get(f"/claims/{draft.id}/edit")
    stale = form_of(page, action="upload")
    practice.post(
        f"/claims/{draft.id}/edit", data=form_of(page, **{f"units-{draft.lines[0].id}": "1"})
    )  # another tab saved meanwhile
    response = post_files(
        practice,
        draft.id,
        stale,
        [("a.pdf", real_files["scan.pdf"]), ("b.pdf", real_files["scan.pdf"])],
    )
    assert response.status_code == 409
    assert _rows(db_session, draft) == []
    assert stored_files(evidence_dir) == []


# --- Evidence per component ------------------------------------------------------------------


@pytest.fixture
def per_component(db_session):
    scene = claim_scene(evidence=EvidenceRequirement.PER_COMPONENT)
    scene.components[1].evidence_required = True
    db_session.flush()
    claim = start(db_session, scene)
    db_session.commit()
    return scene, claim


def test_files_are_tied_to_the_component_chosen(client, db_session, per_component, real_files):
    scene, claim = per_component
    second = claim.lines[1]
    name = second.component.name
    sign_in(client, scene.user.email)
    page = text(client.get(f"/claims/{claim.id}/edit"))
    assert "Which part of the claim are these files for?" in page
    # Not answered: no file is added, and the question is where the summary leads.
    response = upload_files(client, claim, [("scan.pdf", real_files["scan.pdf"])])
    assert response.status_code == 400
    assert error_links(text(response)) == [
        ("#evidence-component", "Select which part of the claim the files are for")
    ]
    assert _rows(db_session, claim) == []
    # A component of the claim: both files tied to it, and the list says so.
    response = upload_files(
        client,
        claim,
        [("a.pdf", real_files["scan.pdf"]), ("b.pdf", real_files["scan.pdf"])],
        **{"evidence-component": str(second.component_id)},
    )
    assert response.status_code == 302
    assert [r.component_id for r in _rows(db_session, claim)] == [second.component_id] * 2
    page = text(client.get(f"/claims/{claim.id}/edit"))
    assert page.count(f"For {name}") == 2
    # Not one of the claim's components: refused like no answer.
    response = upload_files(
        client, claim, [("c.pdf", real_files["scan.pdf"])], **{"evidence-component": "999999"}
    )
    assert [h for h, _ in error_links(text(response))] == ["#evidence-component"]
    assert len(_rows(db_session, claim)) == 2


def test_the_choice_is_kept_when_the_post_is_refused(client, per_component, real_files):
    scene, claim = per_component
    second = claim.lines[1]
    sign_in(client, scene.user.email)
    response = upload_files(
        client,
        claim,
        [("notes.txt", b"text")],
        **{"evidence-component": str(second.component_id)},
    )
    assert response.status_code == 400
    chosen = re.search(rf'<option value="{second.component_id}"[^>]*>', text(response)).group(0)
    assert "selected" in chosen


def test_a_component_needing_evidence_is_satisfied_only_by_a_file_tied_to_it(
    client, db_session, per_component, real_files
):
    scene, claim = per_component
    first, second = claim.lines
    name = second.component.name
    sign_in(client, scene.user.email)
    units = {f"units-{first.id}": "2", f"units-{second.id}": "1"}
    # A file about the whole claim does not count for the component.
    upload_files(
        client,
        claim,
        [("claim.pdf", real_files["scan.pdf"])],
        **units,
        **{"evidence-component": "claim"},
    )
    # Nor does one for the other component.
    upload_files(
        client,
        claim,
        [("first.pdf", real_files["scan.pdf"])],
        **units,
        **{"evidence-component": str(first.component_id)},
    )
    page = client.get(f"/claims/{claim.id}/edit")
    response = client.post(f"/claims/{claim.id}/edit", data=form_of(page, action="check", **units))
    assert response.status_code == 400
    assert ("#evidence-file", f"{name} needs evidence: add a file for it") in error_links(
        text(response)
    )
    # A file tied to it does.
    response = upload_files(
        client,
        claim,
        [("second.pdf", real_files["scan.pdf"])],
        **units,
        **{"evidence-component": str(second.component_id)},
    )
    assert response.status_code == 302
    page = client.get(f"/claims/{claim.id}/edit")
    response = client.post(f"/claims/{claim.id}/edit", data=form_of(page, action="check", **units))
    assert response.status_code == 302, error_links(text(response))
    assert response.headers["Location"].endswith(f"/claims/{claim.id}/check-your-answers")


def test_check_your_answers_says_which_part_each_file_is_for(
    client, db_session, per_component, real_files
):
    scene, claim = per_component
    first, second = claim.lines
    name = second.component.name
    sign_in(client, scene.user.email)
    units = {f"units-{first.id}": "2", f"units-{second.id}": "1"}
    upload_files(
        client,
        claim,
        [("second.pdf", real_files["scan.pdf"])],
        **units,
        **{"evidence-component": str(second.component_id)},
    )
    page = client.get(f"/claims/{claim.id}/edit")
    client.post(f"/claims/{claim.id}/edit", data=form_of(page, action="check", **units))
    assert f"second.pdf (for {name})" in text(client.get(f"/claims/{claim.id}/check-your-answers"))
