"""Access requests: asking, routing to the right deciders, deciding, emails, audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from claims_portal.access.links import Links
from claims_portal.access.models import AccessRequest, AccessRequestStatus, Membership, User
from claims_portal.access.roles import Capability, Role
from claims_portal.access.services import access_requests
from claims_portal.audit.models import AuditEvent
from claims_portal.organisations.models import ApprovalMode
from claims_portal.service_settings import access_settings
from tests.factories.access import UserFactory, user_with_role
from tests.factories.organisations import (
    IcbFactory,
    PcnFactory,
    PracticeFactory,
    SubLocationFactory,
)
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in
from tests.smtp_fixtures import body_of

LINKS = Links("http://localhost")
NEW_PASSWORD = "kettle lamp orbit ninety"


@pytest.fixture
def icb(db_session):
    return IcbFactory(name="NHS Vale Integrated Care Board")


@pytest.fixture
def two_step(icb):
    return PracticeFactory(
        parent=icb, name="Riverside Medical Centre", approval_mode=ApprovalMode.TWO_STEP
    )


@pytest.fixture
def one_step(icb):
    return PracticeFactory(
        parent=icb, name="Millbrook Surgery", approval_mode=ApprovalMode.ONE_STEP
    )


@pytest.fixture
def approver(two_step):
    return user_with_role(Role.PROVIDER_APPROVER, two_step, full_name="Sarah Bennett")


@pytest.fixture
def administrator(icb):
    return user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")


def _ask(client, organisation, role, email="new.person@nhs.net", name="New Person", **extra):
    page = client.get(f"/request-access/{organisation.ods_code}")
    assert page.status_code == 200
    data = {"role": role.name, "csrf_token": csrf_token(page), **extra}
    if email is not None:
        data |= {"email": email, "full_name": name}
    return client.post(f"/request-access/{organisation.ods_code}", data=data)


def _decide(client, request_id, decision, reason=""):
    page = client.get(f"/access-requests/{request_id}")
    return client.post(
        f"/access-requests/{request_id}",
        data={"decision": decision, "reason": reason, "csrf_token": csrf_token(page)},
    )


def _link(message) -> str:
    match = re.search(r"http://localhost(/complete-registration/\S+)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


# --- Roles that fit ------------------------------------------------------------------------


def test_role_choices_follow_the_practice_approval_mode(two_step, one_step, icb):
    assert access_requests.requestable_roles(one_step)[0] is Role.PROVIDER_USER_SINGLE
    assert Role.PROVIDER_USER_MULTI not in access_requests.requestable_roles(one_step)
    two = access_requests.requestable_roles(two_step)
    assert {Role.PROVIDER_USER_MULTI, Role.PROVIDER_APPROVER} <= set(two)
    assert Role.PROVIDER_USER_SINGLE not in two
    assert Role.ADMINISTRATOR in access_requests.requestable_roles(icb)
    assert Role.PROVIDER_APPROVER not in access_requests.requestable_roles(PcnFactory(parent=icb))
    assert Role.ACHIEVEMENT_ENTRY in two
    assert Role.FINANCE_MANAGEMENT not in two
    assert Role.FINANCE_MANAGEMENT in access_requests.requestable_roles(icb)
    assert Role.DECLARATION_MANAGEMENT not in access_requests.requestable_roles(icb)


def test_a_role_that_does_not_fit_is_refused_with_a_clear_message(client, one_step):
    response = _ask(client, one_step, Role.PROVIDER_APPROVER)
    html = response.get_data(as_text=True)
    assert "Not a valid choice" in html or "one-step practice" in html
    problem = access_requests.role_problem(one_step, Role.PROVIDER_APPROVER)
    assert "Millbrook Surgery is a one-step practice" in problem
    assert "User (single-level practice)" in problem


# --- Routing -------------------------------------------------------------------------------


def test_two_step_practice_requests_go_to_its_provider_approvers(
    db_session, two_step, approver, administrator
):
    assert access_requests.deciders(db_session, two_step) == [approver]


def test_one_step_pcn_and_commissioner_requests_go_to_the_icb_administrators(
    db_session, icb, one_step, administrator
):
    sub = SubLocationFactory(parent=icb)
    pcn = PcnFactory(parent=sub)
    for organisation in (one_step, pcn, sub, icb):
        assert access_requests.deciders(db_session, organisation) == [administrator]


def test_a_two_step_practice_without_an_approver_falls_back_to_the_administrators(
    db_session, two_step, administrator
):
    capability = access_requests.deciding_capability(db_session, two_step)
    assert capability is Capability.ADMINISTER_USERS
    assert access_requests.deciders(db_session, two_step) == [administrator]


# --- The whole journey, as a new person ----------------------------------------------------


def test_new_person_two_step_practice_approved_registers_and_signs_in(
    app, client, db_session, two_step, approver, mailbox
):
    response = _ask(client, two_step, Role.PROVIDER_USER_MULTI, note="Practice nurse")
    assert response.status_code == 302
    request = db_session.scalars(select(AccessRequest)).one()
    assert request.status is AccessRequestStatus.PENDING
    mailbox.wait_for("new.person@nhs.net", "We have your request")
    told = mailbox.wait_for(approver.email, "Access request to decide")
    assert "/pending-actions" in body_of(told)

    sign_in(client, approver.email)
    pending = client.get("/pending-actions").get_data(as_text=True)
    assert "New Person" in pending
    assert "Pending actions (1)" in pending
    assert _decide(client, request.id, "approve").status_code == 302
    request = db_session.get(AccessRequest, request.id)
    assert request.status is AccessRequestStatus.APPROVED
    assert request.decided_by_id == approver.id
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})

    email = mailbox.wait_for("new.person@nhs.net", "set up your account")
    link = _link(email)
    page = client.get(link)
    assert "new.person@nhs.net" in page.get_data(as_text=True)
    done = client.post(
        link,
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert done.headers["Location"] == "/sign-in"
    assert sign_in(client, "new.person@nhs.net", NEW_PASSWORD).headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Riverside Medical Centre" in home
    # The link works once.
    assert client.get(link).status_code == 410

    actions = set(db_session.scalars(select(AuditEvent.action)).all())
    assert {
        "access_request.submitted",
        "access_request.approved",
        "membership.granted",
        "user.created",
        "user.registered",
    } <= actions


def test_one_step_practice_request_is_decided_by_the_icb_administrator(
    client, db_session, one_step, administrator, mailbox
):
    _ask(client, one_step, Role.PROVIDER_USER_SINGLE)
    request = db_session.scalars(select(AccessRequest)).one()
    mailbox.wait_for(administrator.email, "Access request to decide")
    sign_in(client, administrator.email)
    assert "New Person" in client.get("/pending-actions").get_data(as_text=True)
    assert _decide(client, request.id, "approve").status_code == 302
    mailbox.wait_for("new.person@nhs.net", "set up your account")
    user = db_session.scalar(select(User).where(User.email == "new.person@nhs.net"))
    assert [m.role for m in user.memberships] == [Role.PROVIDER_USER_SINGLE]


def test_rejecting_needs_a_reason_which_is_emailed(client, db_session, two_step, approver, mailbox):
    _ask(client, two_step, Role.PROVIDER_APPROVER)
    request = db_session.scalars(select(AccessRequest)).one()
    sign_in(client, approver.email)
    response = _decide(client, request.id, "reject")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the reason for rejecting the request" in html
    assert 'href="#reason"' in html
    assert "Error: " in html
    reason = "You do not work at Riverside; ask your own practice"
    assert _decide(client, request.id, "reject", reason).status_code == 302
    request = db_session.get(AccessRequest, request.id)
    assert request.status is AccessRequestStatus.REJECTED
    email = mailbox.wait_for("new.person@nhs.net", "was not approved")
    assert reason in body_of(email)
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_request.rejected")
    ).one()
    assert event.reason == reason
    assert db_session.scalar(select(User).where(User.email == "new.person@nhs.net")) is None


def test_generic_mailbox_and_non_personal_name_are_refused(client, db_session, one_step):
    response = _ask(client, one_step, Role.PROVIDER_USER_SINGLE, email="reception@nhs.net")
    html = response.get_data(as_text=True)
    assert "not a shared or team mailbox" in html
    assert 'href="#email"' in html
    response = _ask(client, one_step, Role.PROVIDER_USER_SINGLE, name="Reception Team")
    assert "not a team or a role" in response.get_data(as_text=True)
    assert db_session.scalars(select(AccessRequest)).all() == []


def test_the_same_request_twice_is_refused(client, db_session, one_step):
    _ask(client, one_step, Role.PROVIDER_USER_SINGLE)
    again = _ask(client, one_step, Role.PROVIDER_USER_SINGLE)
    assert "already waiting for a decision" in again.get_data(as_text=True)


def test_existing_user_asks_for_another_organisation(
    client, db_session, one_step, two_step, approver, mailbox
):
    user = user_with_role(Role.PROVIDER_USER_SINGLE, one_step)
    sign_in(client, user.email)
    response = _ask(client, two_step, Role.PROVIDER_USER_MULTI, email=None)
    assert response.headers["Location"] == "/account"
    request = db_session.scalars(select(AccessRequest)).one()
    assert request.requester_id == user.id
    assert "Pending" in client.get("/account").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    sign_in(client, approver.email)
    _decide(client, request.id, "approve")
    email = mailbox.wait_for(user.email, "is approved")
    assert "/sign-in" in body_of(email)
    roles = db_session.scalars(select(Membership.role).where(Membership.user_id == user.id))
    assert set(roles) == {Role.PROVIDER_USER_SINGLE, Role.PROVIDER_USER_MULTI}


def test_an_approver_cannot_decide_another_practice_request_by_editing_the_url(
    client, db_session, icb, two_step, approver
):
    other = PracticeFactory(parent=icb, approval_mode=ApprovalMode.TWO_STEP)
    user_with_role(Role.PROVIDER_APPROVER, other)
    request = access_requests.submit_request(
        db_session,
        organisation=other,
        role=Role.PROVIDER_USER_MULTI,
        links=LINKS,
        settings=access_settings(),
        email="someone.else@nhs.net",
        full_name="Someone Else",
    )
    db_session.commit()
    sign_in(client, approver.email)
    assert client.get(f"/access-requests/{request.id}").status_code == 403
    token = csrf_token(client.get("/pending-actions"))
    response = client.post(
        f"/access-requests/{request.id}",
        data={"decision": "approve", "reason": "", "csrf_token": token},
    )
    assert response.status_code == 403
    request = db_session.get(AccessRequest, request.id)
    assert request.status is AccessRequestStatus.PENDING
    assert "Someone Else" not in client.get("/pending-actions").get_data(as_text=True)


def test_an_administrator_of_another_icb_cannot_decide(client, db_session, one_step):
    other_admin = user_with_role(Role.ADMINISTRATOR, IcbFactory())
    request = access_requests.submit_request(
        db_session,
        organisation=one_step,
        role=Role.PROVIDER_USER_SINGLE,
        links=LINKS,
        settings=access_settings(),
        email="new.person@nhs.net",
        full_name="New Person",
    )
    db_session.commit()
    sign_in(client, other_admin.email)
    assert client.get(f"/access-requests/{request.id}").status_code == 403


def test_nobody_decides_their_own_request(db_session, two_step, approver):
    request = access_requests.submit_request(
        db_session,
        organisation=two_step,
        role=Role.ACHIEVEMENT_ENTRY,
        links=LINKS,
        settings=access_settings(),
        requester=approver,
    )
    assert not access_requests.can_decide(db_session, approver, request)
    from claims_portal.access.services.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        access_requests.decide(
            db_session,
            request,
            actor=approver,
            approve=True,
            reason=None,
            links=LINKS,
            settings=access_settings(),
        )


def test_requester_can_withdraw(client, db_session, one_step, two_step, approver):
    user = user_with_role(Role.PROVIDER_USER_SINGLE, one_step)
    sign_in(client, user.email)
    _ask(client, two_step, Role.PROVIDER_USER_MULTI, email=None)
    request = db_session.scalars(select(AccessRequest)).one()
    account = client.get("/account")
    client.post(f"/access-requests/{request.id}/withdraw", data={"csrf_token": csrf_token(account)})
    request = db_session.get(AccessRequest, request.id)
    assert request.status is AccessRequestStatus.WITHDRAWN


def test_search_finds_organisations_by_name_or_code(client, db_session, two_step):
    by_name = client.get("/request-access", query_string={"q": "riverside"})
    assert two_step.ods_code in by_name.get_data(as_text=True)
    by_code = client.get("/request-access", query_string={"q": two_step.ods_code.lower()})
    assert "Riverside Medical Centre" in by_code.get_data(as_text=True)
    empty = client.get("/request-access", query_string={"q": "x"})
    assert "Enter at least 2 characters" in empty.get_data(as_text=True)


def test_approving_an_existing_account_does_not_send_a_registration_link(
    db_session, two_step, approver, mailbox
):
    existing = UserFactory(email="known.person@nhs.net")
    request = access_requests.submit_request(
        db_session,
        organisation=two_step,
        role=Role.PROVIDER_USER_MULTI,
        links=LINKS,
        settings=access_settings(),
        email="known.person@nhs.net",
        full_name="Known Person",
    )
    access_requests.decide(
        db_session,
        request,
        actor=approver,
        approve=True,
        reason=None,
        links=LINKS,
        settings=access_settings(),
    )
    assert request.requester_id == existing.id
    assert existing.password_hash is not None
    from claims_portal.access.models import AccessToken

    assert db_session.scalars(select(AccessToken)).all() == []


def test_sign_in_still_works_with_the_default_password(client, db_session, approver):
    assert sign_in(client, approver.email, TEST_PASSWORD).headers["Location"] == "/"


def test_a_practices_user_administrator_decides_its_requests_and_manages_its_people(
    client, db_session, one_step, administrator, mailbox
):
    """CQRS's User Administrator: the practice's own, beside the ICB's administrators; it
    manages people but sets up no schemes."""
    user_admin = user_with_role(Role.USER_ADMINISTRATOR, one_step, email="ua@nhs.net")
    db_session.commit()
    assert set(access_requests.deciders(db_session, one_step)) == {administrator, user_admin}
    _ask(client, one_step, Role.PROVIDER_USER_SINGLE)
    request = db_session.scalars(select(AccessRequest)).one()
    mailbox.wait_for(user_admin.email, "Access request to decide")
    sign_in(client, user_admin.email)
    assert "New Person" in client.get("/pending-actions").get_data(as_text=True)
    assert _decide(client, request.id, "approve").status_code == 302
    assert db_session.get(AccessRequest, request.id).decided_by_id == user_admin.id
    assert client.get("/people").status_code == 200
    assert client.get("/admin/").status_code == 403
