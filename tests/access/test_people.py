"""Administrators: the People page, invitations, revoking, disabling, tenant isolation."""

from __future__ import annotations

import html as html_module
import re

import pytest
from sqlalchemy import select

from claims_portal.access.models import Membership, User
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.organisations.models import ApprovalMode
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory, SubLocationFactory
from tests.helpers import csrf_token, sign_in
from tests.smtp_fixtures import body_of


@pytest.fixture
def icb(db_session):
    return IcbFactory(name="NHS Vale Integrated Care Board")


@pytest.fixture
def practice(icb):
    return PracticeFactory(parent=SubLocationFactory(parent=icb), name="Millbrook Surgery")


@pytest.fixture
def admin(icb):
    return user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")


@pytest.fixture
def staff(practice):
    return user_with_role(Role.PROVIDER_USER_SINGLE, practice, full_name="Aisha Rahman")


def _post(client, path, **data):
    token = csrf_token(client.get("/account"))
    return client.post(path, data={"csrf_token": token, **data})


def test_people_page_lists_everyone_under_the_icb(client, db_session, admin, staff):
    outsider = user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=IcbFactory()))
    sign_in(client, admin.email)
    html = client.get("/people").get_data(as_text=True)
    assert "Aisha Rahman" in html
    assert "Priya Shah" in html
    assert outsider.full_name not in html
    assert ">People<" in html  # in the navigation


def test_people_page_is_for_administrators_only(client, db_session, staff):
    sign_in(client, staff.email)
    assert client.get("/people").status_code == 403
    assert client.get(f"/people/{staff.id}").status_code == 403


def test_invite_a_new_person_who_sets_a_password(client, db_session, admin, practice, mailbox):
    sign_in(client, admin.email)
    page = client.get("/people/invite")
    response = client.post(
        "/people/invite",
        data={
            "full_name": "Ben Carter",
            "email": "Ben.Carter@nhs.net",
            "organisation_id": practice.id,
            "role": Role.PROVIDER_USER_SINGLE.name,
            "csrf_token": csrf_token(page),
        },
    )
    assert response.status_code == 302
    message = mailbox.wait_for("ben.carter@nhs.net", "You have been invited")
    link = re.search(r"http://localhost(/complete-registration/\S+)", body_of(message)).group(1)
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    page = client.get(link)
    password = "ben carter chooses this one"
    client.post(
        link, data={"password": password, "confirm": password, "csrf_token": csrf_token(page)}
    )
    assert sign_in(client, "ben.carter@nhs.net", password).headers["Location"] == "/"
    assert "user.invited" in db_session.scalars(select(AuditEvent.action)).all()


def test_invite_refuses_a_shared_mailbox_and_a_role_that_does_not_fit(
    client, db_session, admin, practice
):
    sign_in(client, admin.email)
    page = client.get("/people/invite")
    data = {
        "full_name": "Front Desk",
        "email": "reception@nhs.net",
        "organisation_id": practice.id,
        "role": Role.PROVIDER_USER_SINGLE.name,
        "csrf_token": csrf_token(page),
    }
    html = html_module.unescape(client.post("/people/invite", data=data).get_data(as_text=True))
    assert "not a shared or team mailbox" in html
    # The administrator is typing someone else's address: not "your own".
    assert "Enter the person's own email address" in html
    assert "Enter your own email address" not in html
    data |= {"email": "ben.carter@nhs.net", "full_name": "Ben"}
    html = html_module.unescape(client.post("/people/invite", data=data).get_data(as_text=True))
    assert "Enter the person's first name and last name" in html
    data |= {"email": "ben.carter@nhs.net", "full_name": "Ben Carter"}
    data["role"] = Role.PROVIDER_APPROVER.name
    html = client.post("/people/invite", data=data).get_data(as_text=True)
    assert "one-step practice" in html
    assert practice.approval_mode is ApprovalMode.ONE_STEP


def test_a_revoked_membership_removes_access_at_the_next_request(
    app, client, db_session, admin, staff, practice
):
    staff_client = app.test_client()
    sign_in(staff_client, staff.email)
    assert "Millbrook Surgery" in staff_client.get("/").get_data(as_text=True)
    sign_in(client, admin.email)
    membership = db_session.scalars(select(Membership).where(Membership.user_id == staff.id)).one()
    response = _post(client, f"/people/{staff.id}/memberships/{membership.id}/revoke")
    assert response.status_code == 302
    html = staff_client.get("/").get_data(as_text=True)
    assert "You do not have access to any organisation yet" in html
    membership = db_session.get(Membership, membership.id)
    assert membership.revoked_by_id == admin.id
    assert "membership.revoked" in db_session.scalars(select(AuditEvent.action)).all()


def test_disabling_ends_sessions_at_once_and_is_audited(app, client, db_session, admin, staff):
    staff_client = app.test_client()
    sign_in(staff_client, staff.email)
    sign_in(client, admin.email)
    _post(client, f"/people/{staff.id}/disable", reason="Left the practice")
    assert staff_client.get("/").status_code == 302
    assert db_session.get(User, staff.id).is_disabled
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "user.disabled")).one()
    assert event.reason == "Left the practice"
    assert event.after == {"sessions_ended": 1}
    _post(client, f"/people/{staff.id}/enable")
    assert not db_session.get(User, staff.id).is_disabled


def test_an_administrator_cannot_disable_themselves(client, db_session, admin):
    sign_in(client, admin.email)
    _post(client, f"/people/{admin.id}/disable")
    assert not db_session.get(User, admin.id).is_disabled


def test_an_administrator_of_another_icb_is_refused(client, db_session, staff):
    other_admin = user_with_role(Role.ADMINISTRATOR, IcbFactory())
    sign_in(client, other_admin.email)
    membership_id = db_session.scalars(
        select(Membership.id).where(Membership.user_id == staff.id)
    ).one()
    assert client.get(f"/people/{staff.id}").status_code == 403
    for path in (
        f"/people/{staff.id}/disable",
        f"/people/{staff.id}/unlock",
        f"/people/{staff.id}/memberships/{membership_id}/revoke",
    ):
        assert _post(client, path).status_code == 403, path
    assert not db_session.get(User, staff.id).is_disabled
    assert db_session.get(Membership, membership_id).revoked_at is None


def test_reset_two_factor_for_a_person_who_lost_their_phone(client, db_session, icb, admin):
    from tests.access.helpers import enrol

    approver = user_with_role(Role.APPROVER_TIER_1, icb)
    enrol(approver)
    sign_in(client, admin.email)
    _post(client, f"/people/{approver.id}/reset-two-factor")
    assert not db_session.get(User, approver.id).mfa_enabled
    assert "mfa.reset" in db_session.scalars(select(AuditEvent.action)).all()
