"""Who may use the admin: commissioners read, ICB administrators write, providers never."""

from __future__ import annotations

import io

import pytest

from claims_portal.schemes.models import Scheme, SchemeStatus
from tests.admin.helpers import post, xlsx_text
from tests.factories.schemes import QuestionFactory, ready_scheme
from tests.helpers import sign_in

VIEWS = ["schemes", "components", "tariffs", "claim-windows", "questions", "offers"]


def _ids(scheme):
    return {
        "schemes": scheme.id,
        "components": scheme.components[0].id,
        "tariffs": scheme.components[0].tariffs[0].id,
        "claim-windows": scheme.windows[0].id,
        "questions": scheme.questions[0].id,
    }


@pytest.fixture
def scheme(ours):
    scheme = ready_scheme(commissioner=ours.icb, code="OURS-1")
    QuestionFactory(scheme=scheme)
    return scheme


def test_signed_out_people_are_sent_to_sign_in(client):
    for url in ["/admin/", "/admin/schemes/", "/admin/schemes/new/", "/admin/offers/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


def test_provider_users_get_403_on_every_admin_page(client, ours, scheme):
    ids = _ids(scheme)
    sign_in(client, ours.provider.email)
    assert client.get("/admin/").status_code == 403
    for view in [*VIEWS, "organisations", "audit-trail"]:
        for page in ["", "new/", "export/csv/", "export/xlsx/"]:
            assert client.get(f"/admin/{view}/{page}").status_code == 403, (view, page)
    for view, key in ids.items():
        for page in ["edit/", "details/"]:
            assert client.get(f"/admin/{view}/{page}?id={key}").status_code == 403, (view, page)
        assert post(client, f"/admin/{view}/delete/", {"id": key}).status_code == 403
        assert (
            post(client, f"/admin/{view}/action/", {"action": "delete", "rowid": key}).status_code
            == 403
        )
    assert post(client, "/admin/schemes/publish/", {"id": scheme.id}).status_code == 403


@pytest.mark.parametrize("who", ["tier_1", "tier_2", "finance"])
def test_tier_1_tier_2_and_finance_read_but_cannot_change(client, db_session, ours, scheme, who):
    ids = _ids(scheme)
    sign_in(client, getattr(ours, who).email)
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/schemes/").get_data(as_text=True)
    assert "OURS-1" in listing
    assert "/admin/schemes/new/" not in listing
    assert "Export CSV" in listing
    assert "Export XLSX" in listing
    assert "/admin/schemes/edit/" not in listing
    assert client.get(f"/admin/schemes/details/?id={scheme.id}").status_code == 200
    export = client.get("/admin/schemes/export/csv/", buffered=True)
    assert "OURS-1" in export.get_data(as_text=True)
    assert "OURS-1" in xlsx_text(client.get("/admin/schemes/export/xlsx/", buffered=True))
    for view, key in ids.items():
        assert client.get(f"/admin/{view}/").status_code == 200
        assert client.get(f"/admin/{view}/new/").status_code == 403
        assert client.get(f"/admin/{view}/edit/?id={key}").status_code == 403
        assert post(client, f"/admin/{view}/edit/?id={key}", {"name": "x"}).status_code == 403
        assert post(client, f"/admin/{view}/delete/", {"id": key}).status_code == 403
        assert (
            post(client, f"/admin/{view}/action/", {"action": "delete", "rowid": key}).status_code
            == 403
        )
    for button in ["publish", "close", "generate-windows"]:
        assert post(client, f"/admin/schemes/{button}/", {"id": scheme.id}).status_code == 403
    # Only administrators see the audit trail.
    assert client.get("/admin/audit-trail/").status_code == 403
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id).status is SchemeStatus.DRAFT


def test_administrators_see_create_and_edit(client, ours, scheme):
    sign_in(client, ours.admin.email)
    listing = client.get("/admin/schemes/").get_data(as_text=True)
    assert "/admin/schemes/new/" in listing
    assert "/admin/schemes/edit/" in listing
    assert client.get("/admin/audit-trail/").status_code == 200


def test_the_xlsx_export_reads_back_with_formulas_kept_as_text(client, db_session, ours):
    ready_scheme(commissioner=ours.icb, code="OURS-2", name='=HYPERLINK("http://x")')
    sign_in(client, ours.admin.email)
    response = client.get("/admin/schemes/export/xlsx/", buffered=True)
    lines = xlsx_text(response).splitlines()
    assert "Code" in lines[0]
    assert any("'=HYPERLINK" in line for line in lines[1:])
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert client.get("/admin/schemes/export/json/").status_code == 302  # not offered
