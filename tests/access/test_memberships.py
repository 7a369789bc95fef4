from __future__ import annotations

import datetime as dt

import pytest

from claims_portal.access import services
from claims_portal.access.roles import Role
from claims_portal.organisations.models import OrganisationKind
from claims_portal.service_settings import access_settings
from tests.factories.access import MembershipFactory, UserFactory, user_with_role
from tests.factories.organisations import (
    IcbFactory,
    OrganisationFactory,
    PracticeFactory,
    SubLocationFactory,
)
from tests.helpers import counted_queries, csrf_token, sign_in


def test_create_user_normalises_email_and_name(db_session):
    user = services.create_user(
        db_session,
        email="  Jo.Bloggs@Example.NHS.net ",
        full_name=" Jo   Bloggs ",
        settings=access_settings(),
    )
    assert user.email == "jo.bloggs@example.nhs.net"
    assert user.full_name == "Jo Bloggs"


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [
        ("not-an-email", "Jo Bloggs", "correct format"),
        ("jo@example.nhs.net", "   ", "full name"),
    ],
)
def test_create_user_refuses_bad_input(db_session, email, name, message):
    with pytest.raises(services.AccessError, match=message):
        services.create_user(db_session, email=email, full_name=name, settings=access_settings())


def test_email_is_unique_whatever_its_case(db_session):
    UserFactory(email="jo.bloggs@example.nhs.net")
    with pytest.raises(services.AccessError, match="already exists"):
        services.create_user(
            db_session,
            email="JO.BLOGGS@example.nhs.net",
            full_name="Jo B",
            settings=access_settings(),
        )


def test_role_must_suit_the_organisation(db_session):
    with pytest.raises(services.AccessError, match="cannot be held"):
        services.grant_membership(
            db_session,
            user=UserFactory(),
            organisation=PracticeFactory(),
            role=Role.ADMINISTRATOR,
            start_date=dt.date(2025, 1, 1),
        )


def test_the_same_role_twice_at_once_is_refused(db_session):
    membership = MembershipFactory()
    with pytest.raises(services.AccessError, match="already holds"):
        services.grant_membership(
            db_session,
            user=membership.user,
            organisation=membership.organisation,
            role=membership.role,
            start_date=dt.date(2025, 1, 1),
        )


def test_person_with_several_organisations_switches_between_them(client, db_session):
    first = PracticeFactory(name="Riverside Medical Centre")
    second = PracticeFactory(name="Oakfield Health Centre")
    user = user_with_role(Role.PROVIDER_APPROVER, first)
    MembershipFactory(user=user, organisation=second, role=Role.PROVIDER_APPROVER)
    sign_in(client, user.email)
    home = client.get("/").get_data(as_text=True)
    assert "Riverside Medical Centre" in home
    assert "Change organisation" in home
    page = client.get("/switch-organisation")
    response = client.post(
        "/switch-organisation",
        data={"organisation_id": second.id, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    header = client.get("/").get_data(as_text=True)
    assert f"Oakfield Health Centre ({second.ods_code})" in header


def test_switching_to_an_organisation_you_do_not_belong_to_is_refused(client, db_session):
    own = PracticeFactory()
    foreign = PracticeFactory(name="Somebody Else's Surgery")
    user = user_with_role(Role.PROVIDER_APPROVER, own)
    sign_in(client, user.email)
    page = client.get("/switch-organisation")
    response = client.post(
        "/switch-organisation",
        data={"organisation_id": foreign.id, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert "Somebody Else" not in client.get("/").get_data(as_text=True)


def test_commissioner_sees_practices_link_in_navigation(client, db_session):
    icb = IcbFactory()
    user = user_with_role(Role.APPROVER_TIER_1, icb)
    sign_in(client, user.email)
    assert 'href="/practices"' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.PROVIDER_USER_SINGLE, Role.APPROVER_TIER_1])
def test_a_page_reads_the_organisation_chain_with_the_session(client, db_session, role):
    """Who may see what is decided from the organisation up to its region: the chain comes
    with the session's one query, not a query a level on every page (practice -> sub-location
    -> ICB -> region)."""
    region = OrganisationFactory(kind=OrganisationKind.REGION, name="NHS England North West")
    sub_location = SubLocationFactory(parent=IcbFactory(parent=region))
    practice = PracticeFactory(parent=sub_location)
    user = user_with_role(role, practice if role.name.startswith("PROVIDER") else sub_location)
    db_session.commit()
    sign_in(client, user.email)
    assert client.get("/claims").status_code == 200

    with counted_queries() as statements:
        assert client.get("/claims").status_code == 200

    lookups = [s for s in statements if s.startswith("SELECT organisation.")]
    assert lookups == []
