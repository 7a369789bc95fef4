"""Two people deciding the same access at once, on PostgreSQL with two real connections.

Access requests, invitations, registration links, removing access and disabling accounts:
exactly one wins; the other is told who acted first and nothing of theirs is recorded
(audit events, emails, accounts, memberships counted). The pages that tell them are checked
at the end, on the ordinary per-test database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from claims_portal.access.links import Links
from claims_portal.access.models import (
    AccessRequest,
    AccessRequestStatus,
    Membership,
    TokenPurpose,
    User,
)
from claims_portal.access.roles import Role
from claims_portal.access.services import (
    AccessConflict,
    AccessError,
    access_requests,
    people,
    tokens,
)
from claims_portal.audit.models import AuditEvent
from claims_portal.extensions import db
from claims_portal.organisations.models import ApprovalMode, Organisation
from claims_portal.service_settings import access_settings
from tests.factories.access import UserFactory, user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import csrf_token, migrated_app, sign_in
from tests.races import audit_count, count, emails_to, one_after_the_other, together

LINKS = Links("http://localhost")
NEW = "new.person@nhs.net"
PASSWORD = "kettle lamp orbit ninety"


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_access_race") as app:
        yield app


@pytest.fixture
def scene(race_app) -> dict[str, Any]:
    """A one-step practice, two ICB administrators and a pending request from a new person
    (committed; ids and the new person's address, unique per test)."""
    with race_app.app_context():
        icb = IcbFactory()
        practice = PracticeFactory(parent=icb, approval_mode=ApprovalMode.ONE_STEP)
        priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
        tom = user_with_role(Role.ADMINISTRATOR, icb, full_name="Tom Okafor")
        email = f"new.person.{practice.ods_code.lower()}@nhs.net"
        request = access_requests.submit_request(
            db.session,
            organisation=practice,
            role=Role.PROVIDER_USER_SINGLE,
            links=LINKS,
            settings=access_settings(),
            email=email,
            full_name="New Person",
        )
        db.session.commit()
        ids = {
            "request": request.id,
            "practice": practice.id,
            "priya": priya.id,
            "tom": tom.id,
            "email": email,
        }
        db.session.remove()
    return ids


def _decide(ids: dict[str, Any], who: str, approve: bool) -> Any:
    def work(session: Any) -> Any:
        return access_requests.decide(
            session,
            session.get(AccessRequest, ids["request"]),
            actor=session.get(User, ids[who]),
            approve=approve,
            reason=None if approve else "You do not work there",
            links=LINKS,
            settings=access_settings(),
        )

    return work


def _request(app: Any, ids: dict[str, Any]) -> AccessRequest:
    from sqlalchemy.orm import Session

    with app.app_context(), Session(db.engine) as session:
        request = session.get(AccessRequest, ids["request"])
        session.expunge(request)
        return request


def test_approve_then_reject_the_second_waits_and_is_told_who_approved(race_app, scene):
    """Priya approves and holds the lock; Tom's rejection waits for her commit, then finds
    the request approved. Only Priya's decision is recorded, audited and emailed, and the
    request cannot end Rejected with its membership active."""
    emails_before = emails_to(race_app, scene["email"])
    first, second, waited = one_after_the_other(
        race_app, _decide(scene, "priya", True), _decide(scene, "tom", False)
    )

    assert isinstance(first, AccessRequest)
    assert isinstance(second, AccessConflict), second
    assert waited >= 0.4  # blocked on the row lock, not refused early
    message = str(second)
    assert message.startswith("This request was already approved by Priya Shah at ")
    assert message.endswith("Nothing was changed.")
    request = _request(race_app, scene)
    assert request.status is AccessRequestStatus.APPROVED
    assert request.decided_by_id == scene["priya"]
    assert audit_count(race_app, "access_request.approved", scene["request"]) == 1
    assert audit_count(race_app, "access_request.rejected", scene["request"]) == 0
    assert emails_to(race_app, scene["email"]) == emails_before + 1  # the registration link
    assert count(race_app, User, User.email == scene["email"]) == 1
    assert count(race_app, Membership, Membership.id == request.membership_id) == 1


def test_reject_then_approve_leaves_no_account_or_membership(race_app, scene):
    emails_before = emails_to(race_app, scene["email"])
    first, second, _ = one_after_the_other(
        race_app, _decide(scene, "tom", False), _decide(scene, "priya", True)
    )

    assert isinstance(first, AccessRequest)
    assert isinstance(second, AccessConflict)
    assert str(second).startswith("This request was already rejected by Tom Okafor at ")
    assert _request(race_app, scene).status is AccessRequestStatus.REJECTED
    assert audit_count(race_app, "access_request.approved", scene["request"]) == 0
    assert audit_count(race_app, "access_request.rejected", scene["request"]) == 1
    assert emails_to(race_app, scene["email"]) == emails_before + 1  # "not approved"
    assert count(race_app, User, User.email == scene["email"]) == 0


@pytest.mark.parametrize("rounds", range(3))
def test_two_approvals_released_together_exactly_one_wins_and_none_fails(race_app, scene, rounds):
    """Both would create the new person's account: the loser used to get a 500."""
    outcomes = together(race_app, _decide(scene, "priya", True), _decide(scene, "tom", True))

    assert sorted(type(o).__name__ for o in outcomes) == ["AccessConflict", "AccessRequest"]
    assert audit_count(race_app, "access_request.approved", scene["request"]) == 1
    assert count(race_app, User, User.email == scene["email"]) == 1
    user_id = _request(race_app, scene).requester_id
    assert count(race_app, Membership, Membership.user_id == user_id) == 1
    assert audit_count(race_app, "user.created", user_id) == 1


def test_approve_and_reject_released_together_exactly_one_is_recorded(race_app, scene):
    outcomes = together(race_app, _decide(scene, "priya", True), _decide(scene, "tom", False))

    assert sorted(type(o).__name__ for o in outcomes) == ["AccessConflict", "AccessRequest"]
    approved = audit_count(race_app, "access_request.approved", scene["request"])
    rejected = audit_count(race_app, "access_request.rejected", scene["request"])
    assert approved + rejected == 1
    status = _request(race_app, scene).status
    assert status is (AccessRequestStatus.APPROVED if approved else AccessRequestStatus.REJECTED)
    assert count(race_app, User, User.email == scene["email"]) == approved


def test_the_requester_withdrawing_while_an_administrator_approves(race_app, scene):
    with race_app.app_context():
        requester = UserFactory(full_name="Jo Requester")
        practice = db.session.get(Organisation, scene["practice"])
        request = access_requests.submit_request(
            db.session,
            organisation=practice,
            role=Role.PROVIDER_USER_SINGLE,
            links=LINKS,
            settings=access_settings(),
            requester=requester,
        )
        db.session.commit()
        ids = {**scene, "request": request.id, "jo": requester.id}
        db.session.remove()

    def withdraw(session: Any) -> Any:
        access_requests.withdraw(
            session, session.get(AccessRequest, ids["request"]), actor=session.get(User, ids["jo"])
        )
        return "withdrawn"

    first, second, _ = one_after_the_other(race_app, withdraw, _decide(ids, "priya", True))

    assert first == "withdrawn"
    assert isinstance(second, AccessConflict)
    assert str(second).startswith("This request was already withdrawn by Jo Requester at ")
    assert audit_count(race_app, "access_request.approved", ids["request"]) == 0
    assert count(race_app, Membership, Membership.user_id == ids["jo"]) == 0


# --- Invitations, links, removing access -------------------------------------------------


def test_two_administrators_inviting_one_new_person_at_once(race_app, scene):
    """One account, one membership, one invitation email; the other is told, no 500."""
    email = f"invited.{scene['request']}@nhs.net"

    def invite(who: str) -> Any:
        def work(session: Any) -> Any:
            return people.invite(
                session,
                actor=session.get(User, scene[who]),
                organisation=session.get(Organisation, scene["practice"]),
                role=Role.PROVIDER_USER_SINGLE,
                email=email,
                full_name="Invited Person",
                links=LINKS,
                settings=access_settings(),
            )

        return work

    outcomes = together(race_app, invite("priya"), invite("tom"))

    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["AccessError", "Membership"], outcomes
    refusal = next(o for o in outcomes if isinstance(o, AccessError))
    assert "already holds this role" in str(refusal)
    assert count(race_app, User, User.email == email) == 1
    assert count(race_app, Membership, Membership.user_id.in_(_user_ids(race_app, email))) == 1
    assert emails_to(race_app, email) == 1


def _user_ids(app: Any, email: str) -> list[int]:
    from sqlalchemy.orm import Session

    with app.app_context(), Session(db.engine) as session:
        return list(session.scalars(select(User.id).where(User.email == email)))


def test_an_invitation_link_used_twice_at_once_works_once(race_app, scene):
    with race_app.app_context():
        user = UserFactory(password_hash=None, full_name="Link Person")
        token, _ = tokens.issue_token(
            db.session, user, TokenPurpose.INVITATION, settings=access_settings()
        )
        db.session.commit()
        user_id = user.id
        db.session.remove()

    def use(session: Any) -> Any:
        return tokens.complete_registration(session, token, PASSWORD, links=LINKS)

    first, second, waited = one_after_the_other(race_app, use, use)

    assert isinstance(first, User)
    assert isinstance(second, tokens.InvalidLink)
    assert waited >= 0.4
    assert audit_count(race_app, "user.registered", user_id) == 1


def test_two_administrators_removing_the_same_access(race_app, scene):
    with race_app.app_context():
        practice = db.session.get(Organisation, scene["practice"])
        member = user_with_role(Role.PROVIDER_USER_SINGLE, practice, full_name="Sam Member")
        membership_id = member.memberships[0].id
        email = member.email
        db.session.commit()
        db.session.remove()

    def revoke(who: str) -> Any:
        def work(session: Any) -> Any:
            people.revoke_membership(
                session, session.get(Membership, membership_id), actor=session.get(User, scene[who])
            )
            return "revoked"

        return work

    first, second, _ = one_after_the_other(race_app, revoke("priya"), revoke("tom"))

    assert first == "revoked"
    assert isinstance(second, AccessConflict)
    assert str(second).startswith("This access was already removed by Priya Shah at ")
    assert audit_count(race_app, "membership.revoked", membership_id) == 1
    assert emails_to(race_app, email) == 1


def test_two_administrators_disabling_the_same_account(race_app, scene):
    with race_app.app_context():
        practice = db.session.get(Organisation, scene["practice"])
        member = user_with_role(Role.PROVIDER_USER_SINGLE, practice)
        member_id = member.id
        db.session.remove()

    def disable(who: str) -> Any:
        def work(session: Any) -> Any:
            return people.disable_user(
                session, session.get(User, member_id), actor=session.get(User, scene[who])
            )

        return work

    first, second, _ = one_after_the_other(race_app, disable("tom"), disable("priya"))

    assert first == 0
    assert isinstance(second, AccessConflict)
    assert "was already disabled by Tom Okafor at " in str(second)
    assert audit_count(race_app, "user.disabled", member_id) == 1


# --- What the second person sees ----------------------------------------------------------


def test_the_second_decider_gets_a_409_page_saying_who_decided(client, db_session, mailbox):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb, approval_mode=ApprovalMode.ONE_STEP)
    priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
    tom = user_with_role(Role.ADMINISTRATOR, icb, full_name="Tom Okafor")
    request = access_requests.submit_request(
        db_session,
        organisation=practice,
        role=Role.PROVIDER_USER_SINGLE,
        links=LINKS,
        settings=access_settings(),
        email=NEW,
        full_name="New Person",
    )
    db_session.commit()
    sign_in(client, tom.email)
    page = client.get(f"/access-requests/{request.id}")  # Tom opens it ...
    assert "Save decision" in page.get_data(as_text=True)
    access_requests.decide(  # ... Priya approves it meanwhile ...
        db_session,
        db_session.get(AccessRequest, request.id),
        actor=db_session.get(User, priya.id),
        approve=True,
        reason=None,
        links=LINKS,
        settings=access_settings(),
    )
    db_session.commit()

    response = client.post(  # ... and Tom rejects what he saw.
        f"/access-requests/{request.id}",
        data={"decision": "reject", "reason": "Not known here", "csrf_token": csrf_token(page)},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "There is a problem" in html
    assert "This request was already approved by Priya Shah at " in html
    assert "Nothing was changed." in html
    assert "Save decision" not in html
    rejected = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_request.rejected")
    ).all()
    assert rejected == []
