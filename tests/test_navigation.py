"""The header shows each person only links they may follow (claims_portal/navigation.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import has_capability
from claims_portal.demo import DEMO_PASSWORD, PEOPLE, load_demo_data
from claims_portal.navigation import NAVIGATION
from claims_portal.organisations.models import Organisation
from claims_portal.routes import Kind, requirements
from tests.admin.helpers import make_tenant
from tests.factories.access import user_with_role
from tests.helpers import csrf_token, sign_in

_NAV = re.compile(r'<nav class="nhsuk-header__navigation.*?</nav>', re.DOTALL)
_HREF = re.compile(r'href="([^"]+)"')


def _header_links(html: str) -> list[str]:
    found = _NAV.search(html)
    return _HREF.findall(found.group(0)) if found else []


@pytest.fixture(autouse=True)
def _evidence_in_a_folder_of_the_test(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))


def test_every_link_leads_to_a_route_a_link_can_check(app):
    declared = requirements(app)
    for link in NAVIGATION:
        assert declared[link.endpoint].kind is not Kind.OBJECT, link.endpoint


@pytest.mark.parametrize(("email", "memberships"), [(p[0], p[2]) for p in PEOPLE])
def test_every_header_link_answers_200_for_each_demo_person(
    app, client, db_session, email, memberships
):
    load_demo_data(db_session)
    db_session.commit()
    sign_in(client, email, DEMO_PASSWORD)
    followed = 0
    for ods_code, _role in memberships:
        organisation = db_session.scalar(
            select(Organisation).where(Organisation.ods_code == ods_code)
        )
        page = client.get("/switch-organisation")
        if page.status_code == 200 and 'name="organisation_id"' in page.get_data(as_text=True):
            client.post(
                "/switch-organisation",
                data={"organisation_id": organisation.id, "csrf_token": csrf_token(page)},
            )
        home = client.get("/")
        assert home.status_code == 200
        links = _header_links(home.get_data(as_text=True))
        assert "/" in links
        for href in links:
            response = client.get(href)
            assert response.status_code == 200, f"{email} at {ods_code}: {href} -> {response}"
            followed += 1
    assert followed >= len(memberships)


# --- The payments settings link: an ICB's administrators' and finance staff's --------------
# (from the header's Payments, the payment files page: the header has room for so many links)


def _links_of(client, email):
    sign_in(client, email)
    return _header_links(client.get("/").get_data(as_text=True))


def _settings_linked(client) -> bool:
    page = client.get("/payments/files")
    return page.status_code == 200 and 'href="/payments/settings"' in page.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_the_icbs_administrators_and_finance_see_the_payments_settings(client, db_session, role):
    tenant = make_tenant()
    assert "/payments/files" in _links_of(client, getattr(tenant, role).email)
    assert _settings_linked(client)
    assert client.get("/payments/settings").status_code == 200


@pytest.mark.parametrize("role", ["tier_1", "tier_2", "provider", "pcn_lead"])
def test_others_are_not_shown_the_payments_settings(client, db_session, role):
    tenant = make_tenant()
    assert "/payments/settings" not in _links_of(client, getattr(tenant, role).email)
    assert not _settings_linked(client)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.FINANCE])
def test_a_sub_locations_staff_are_not_shown_the_icbs_payments_settings(
    app, client, db_session, role
):
    tenant = make_tenant()
    person = user_with_role(role, tenant.sub_location)
    # The route's declared capability is theirs in the sub-location; the page is the ICB's.
    declared = requirements(app)["payments.settings"].capabilities
    assert any(has_capability(person, c, tenant.sub_location) for c in declared)
    assert "/payments/settings" not in _links_of(client, person.email)
    assert not _settings_linked(client)
    assert client.get("/payments/settings").status_code == 404  # what the link would lead to
