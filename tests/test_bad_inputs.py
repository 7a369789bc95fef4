"""Inputs that once made the portal answer 500, each now a clear 400, 404 or form error.

Found by a bounded fuzz run (issue 10: 168 responses with status 500 out of 4,783 requests,
from the seven causes below). ``tests/test_fuzz_routes.py`` keeps looking for new ones.
"""

from __future__ import annotations

import html
import re

import pytest

from claims_portal.access.models import TokenPurpose
from claims_portal.access.services.tokens import issue_token
from claims_portal.claims.models import ClaimLine
from claims_portal.schemes.models import SchemeStatus
from claims_portal.service_settings import access_settings
from tests.admin.helpers import make_tenant, post
from tests.claims.helpers import signed_in, start
from tests.factories.claims import claim_scene
from tests.factories.schemes import ready_scheme
from tests.helpers import csrf_token, sign_in

TOO_BIG = 2**31  # the first id a PostgreSQL ``integer`` cannot hold


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- 1. Ids of 2,147,483,648 or more --------------------------------------------------------


@pytest.mark.parametrize("value", [TOO_BIG, 2**63, 10**30, 0])
def test_an_id_no_row_can_have_is_not_found(client, db_session, value):
    scene = claim_scene()
    sign_in(client, scene.tier_1.email)
    for path in (
        f"/claims/{value}",
        f"/claims/{value}/evidence/{value}",
        f"/claims/1/evidence/{value}",
        f"/schemes/{value}",
        f"/people/{value}",
        f"/practices/{value}/approval-mode",
        f"/access-requests/{value}",
        f"/claims/bulk-claims/{value}/template",
    ):
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/schemes/details/?id={TOO_BIG}",
        f"/admin/schemes/edit/?id={TOO_BIG}",
        f"/admin/tariffs/details/?id={10**30}",
        f"/admin/audit-trail/details/?id={TOO_BIG}",
        f"/admin/organisations/details/?id={TOO_BIG}",
    ],
)
def test_an_admin_id_no_row_can_have_is_not_found(client, db_session, url):
    tenant = make_tenant()
    sign_in(client, tenant.admin.email)
    response = client.get(url)
    # Flask-Admin sends an unknown record back to the list with a message.
    assert response.status_code in (302, 404)


def test_an_admin_bulk_action_ignores_ids_no_row_can_have(client, db_session):
    tenant = make_tenant()
    sign_in(client, tenant.admin.email)
    response = post(
        client, "/admin/schemes/action/", {"action": "close", "rowid": [str(TOO_BIG), "1"]}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("search", ["2147483648", "CLM-99999999999", "clm-000002147483648"])
def test_the_claim_search_takes_a_number_too_big_for_an_id(client, db_session, search):
    scene = claim_scene()
    sign_in(client, scene.user.email)
    response = client.get("/claims", query_string={"q": search})
    assert response.status_code == 200
    for name in ("scheme", "practice", "page"):
        assert client.get("/claims", query_string={name: "9" * 40}).status_code == 200


# --- 2. Non-ASCII reset and registration tokens ---------------------------------------------


@pytest.mark.parametrize("path", ["/reset-password", "/complete-registration"])
@pytest.mark.parametrize("token", ["é", "tok€n", "\u202e" * 10, "\uff54\uff4f\uff4b\uff45\uff4e"])
def test_a_link_with_characters_no_token_has_is_an_expired_link(client, db_session, path, token):
    response = client.get(f"{path}/{token}")
    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert client.post(f"{path}/{token}", data={"password": "x"}).status_code in (400, 410)


def test_a_real_link_still_works(client, db_session):
    tenant = make_tenant()
    token, _ = issue_token(
        db_session, tenant.provider, TokenPurpose.PASSWORD_RESET, settings=access_settings()
    )
    db_session.commit()
    assert client.get(f"/reset-password/{token}").status_code == 200


# --- 3. Bad values in the admin's list filters ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/tariffs/?flt0_0=not-a-date",
        "/admin/tariffs/?flt0_0=0000-01-01",
        "/admin/tariffs/?flt0_2=2026-01-01+to+zzz",
        "/admin/tariffs/?flt0_0=10000-01-01",
        "/admin/claim-windows/?flt1_0=2026-02-31",
        "/admin/schemes/?flt0_0=NOPE",
        "/admin/schemes/?flt3_0=maybe",
        "/admin/schemes/?flt99_0=x",
        "/admin/schemes/?flt0_99=x",
        "/admin/schemes/?flt-1_0=x",
        "/admin/offers/?flt0_0=%F0%9F%92%A5",
        f"/admin/audit-trail/?flt0_0={'x' * 5000}",
        "/admin/organisations/?flt0_0=NOT_A_KIND",
        "/admin/schemes/?sort=99",
        "/admin/schemes/?sort=-1",
        f"/admin/schemes/?sort={10**30}",
        "/admin/schemes/?search=%25%25%5C",
    ],
)
def test_bad_admin_list_filters_are_ignored(client, db_session, url):
    tenant = make_tenant()
    ready_scheme(commissioner=tenant.icb, status=SchemeStatus.PUBLISHED)
    sign_in(client, tenant.admin.email)
    assert client.get(url).status_code == 200


# --- 4. A null character in a path segment --------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/request-access/A%00B", "/reset-password/a%00b", "/admin/tariffs/export/c%00sv/", "/%00"],
)
def test_a_null_character_in_the_path_is_refused(client, db_session, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "null character" in text(response)


def test_a_null_character_in_a_json_clients_path_gets_a_problem(client, db_session):
    response = client.get("/request-access/A%00B", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("folder", ["/static", "/assets", "/admin/static"])
def test_a_file_name_too_long_for_the_file_system_is_not_found(client, db_session, folder):
    # Found by tests/test_fuzz_routes.py: is_file() raised ENAMETOOLONG (an OSError).
    assert client.get(f"{folder}/{'x' * 3000}.css").status_code == 404
    assert client.get(f"{folder}/{'a/' * 1000}b.css").status_code == 404


# --- 5. A units value of 5,000 digits -------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("9" * 5000, "must be 1,000,000 or fewer"),
        ("1" + "0" * 12, "must be 1,000,000 or fewer"),
        ("\u0661" * 5000, "as a whole number, like 12"),  # Arabic-Indic digits
        ("\u00b2", "as a whole number, like 12"),  # a superscript two: isdigit() but not int()
    ],
)
def test_units_with_thousands_of_digits_are_a_form_error(client, db_session, units, message):
    scene = claim_scene()
    claim = start(db_session, scene)
    db_session.commit()
    browser = signed_in(client.application, scene.user)
    page = browser.get(f"/claims/{claim.id}/edit")
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    first = f"units-{claim.lines[0].id}"
    data = {"csrf_token": csrf_token(page), "version": version, first: units}
    response = browser.post(f"/claims/{claim.id}/edit", data=data)
    assert response.status_code == 400
    body = text(response)
    assert "nhsuk-error-summary" in body
    assert message in body
    # Leading zeros, however many, are still the number.
    response = browser.post(f"/claims/{claim.id}/edit", data={**data, first: "0" * 5000 + "7"})
    assert response.status_code == 302
    assert db_session.get(ClaimLine, claim.lines[0].id).units == 7


# --- 6. Admin page=-1 -----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["-1", "-99999", str(10**30), "1e9", str(2**62)])
def test_an_admin_list_page_out_of_range_shows_a_page(client, db_session, page):
    tenant = make_tenant()
    sign_in(client, tenant.admin.email)
    for view in ("schemes", "tariffs", "audit-trail", "organisations"):
        assert client.get(f"/admin/{view}/?page={page}").status_code == 200, view


# --- 7. Out-of-range dates and tariffs in the admin -----------------------------------------


@pytest.mark.parametrize("day", ["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01"])
def test_out_of_range_scheme_dates_are_form_errors(client, db_session, day):
    tenant = make_tenant()
    sign_in(client, tenant.admin.email)
    page = client.get("/admin/schemes/new/")
    data = {
        "csrf_token": csrf_token(page),
        "code": "LES-X-1",
        "name": "X",
        "commissioner_id": str(tenant.icb.id),
        "financial_year": re.search(r'<option value="(\d{4}/\d\d)"', text(page)).group(1),
        "start_date": day,
        "end_date": "9999-12-31",
        "claim_frequency": "MONTHLY",
        "window_days": "30",
        "evidence_requirement": "NOT_REQUIRED",
    }
    response = client.post("/admin/schemes/new/", data=data)
    assert response.status_code == 200  # the form again, with the problem
    assert "alert-danger" in text(response) or "invalid-feedback" in text(response)


@pytest.mark.parametrize("field", ["period_start", "period_end", "opens_on", "closes_on"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-31", "10000-01-01"])
def test_out_of_range_window_dates_are_form_errors(client, db_session, field, day):
    tenant = make_tenant()
    scheme = ready_scheme(commissioner=tenant.icb)
    window = scheme.windows[0]
    sign_in(client, tenant.admin.email)
    values = {
        "period_start": window.period_start.isoformat(),
        "period_end": window.period_end.isoformat(),
        "opens_on": window.opens_on.isoformat(),
        "closes_on": window.closes_on.isoformat(),
        field: day,
    }
    response = post(client, f"/admin/claim-windows/edit/?id={window.id}", values)
    assert response.status_code == 200
    response = post(client, "/admin/claim-windows/new/", {"scheme_id": scheme.id, **values})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "1e100",
        "99999999999999999999999999999999",
        "1" * 5000,
        "1.234",
        "0.0000000001",
        "sNaN",
        "NaN",
        "Infinity",
        "-0.001",
        "1E+999999999",
    ],
)
def test_out_of_range_tariffs_are_form_errors(client, db_session, value):
    tenant = make_tenant()
    scheme = ready_scheme(commissioner=tenant.icb)
    component = scheme.components[0]
    tariff = component.tariffs[0]
    sign_in(client, tenant.admin.email)
    day = scheme.start_date.isoformat()
    response = post(
        client,
        "/admin/tariffs/new/",
        {"component_id": component.id, "unit_value": value, "effective_from": day},
    )
    assert response.status_code == 200, value
    response = post(
        client,
        f"/admin/tariffs/edit/?id={tariff.id}",
        {"unit_value": value, "effective_from": tariff.effective_from.isoformat()},
    )
    assert response.status_code == 200, value
    response = post(
        client,
        f"/admin/components/edit/?id={component.id}",
        {
            "code": component.code,
            "name": component.name,
            "unit_label": component.unit_label,
            "period_cap_amount": value,
            "year_cap_units": "9" * 12,
            "tariffs-0-id": str(tariff.id),
            "tariffs-0-unit_value": value,
            "tariffs-0-effective_from": day,
        },
    )
    assert response.status_code == 200, value


@pytest.mark.parametrize("number", ["9" * 12, "-" + "9" * 12, "9" * 5000])
def test_out_of_range_whole_numbers_in_the_admin_are_form_errors(client, db_session, number):
    tenant = make_tenant()
    scheme = ready_scheme(commissioner=tenant.icb)
    component = scheme.components[0]
    sign_in(client, tenant.admin.email)
    response = post(
        client,
        f"/admin/components/edit/?id={component.id}",
        {
            "code": component.code,
            "name": component.name,
            "unit_label": component.unit_label,
            "max_units_per_claim": number,
            "period_cap_units": number,
        },
    )
    assert response.status_code == 200
    response = post(
        client,
        "/admin/questions/new/",
        {"scheme_id": scheme.id, "text": "Q?", "kind": "TEXT", "display_order": number},
    )
    assert response.status_code == 200


def test_units_whose_value_the_claim_cannot_hold_are_a_form_error(client, db_session):
    # Found while fixing the 5,000 digits: a million units of a large tariff overflowed
    # the claim's Numeric(12, 2) value at submission.
    scene = claim_scene(tariffs=("9999999999.99", "1.00"))
    claim = start(db_session, scene)
    db_session.commit()
    browser = signed_in(client.application, scene.user)
    page = browser.get(f"/claims/{claim.id}/edit")
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    first = f"units-{claim.lines[0].id}"
    second = f"units-{claim.lines[1].id}"
    data = {"csrf_token": csrf_token(page), "version": version, first: "1000000", second: "0"}
    response = browser.post(f"/claims/{claim.id}/edit", data={**data, "action": "check"})
    assert response.status_code == 400
    assert "nhsuk-error-summary" in text(response)
