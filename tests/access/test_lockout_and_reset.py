"""Lockout after repeated failures, unlocking, and the emailed password reset."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from claims_portal.access.models import AccessToken, User, UserSession
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.db import utcnow
from claims_portal.mail.models import EmailMessage
from tests.conftest import TEST_PASSWORD, sign_in
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import csrf_token
from tests.smtp_fixtures import body_of

NEW_PASSWORD = "a brand new passphrase 7"
GENERIC = "Enter a correct email address and password"


@pytest.fixture
def icb(db_session):
    return IcbFactory()


@pytest.fixture
def person(icb):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=icb))


def _user(db_session, user) -> User:
    return db_session.get(User, user.id)


def _actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(
    client, db_session, person
):
    for _ in range(4):
        sign_in(client, person.email, "wrong password here")
    assert _user(db_session, person).locked_at is None
    sign_in(client, person.email, "wrong password here")
    assert _user(db_session, person).locked_at is not None
    assert "account.locked" in _actions(db_session)
    response = sign_in(client, person.email, TEST_PASSWORD)
    assert response.status_code == 200
    assert GENERIC in response.get_data(as_text=True)  # the same message: nothing revealed
    assert client.get("/").status_code == 302


def test_the_threshold_is_configurable(app, client, db_session, person, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_THRESHOLD", 2)
    sign_in(client, person.email, "wrong password here")
    sign_in(client, person.email, "wrong password here")
    assert _user(db_session, person).locked_at is not None


def test_a_success_resets_the_count(client, db_session, person):
    for _ in range(4):
        sign_in(client, person.email, "wrong password here")
    sign_in(client, person.email)
    assert _user(db_session, person).failed_sign_ins == 0


def test_an_administrator_unlocks_and_it_is_audited(client, db_session, icb, person):
    user = _user(db_session, person)
    user.locked_at = utcnow()
    user.failed_sign_ins = 5
    db_session.commit()
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, admin.email)
    page = client.get(f"/people/{person.id}")
    assert "Locked" in page.get_data(as_text=True)
    client.post(f"/people/{person.id}/unlock", data={"csrf_token": csrf_token(page)})
    user = _user(db_session, person)
    assert user.locked_at is None
    assert user.failed_sign_ins == 0
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.unlocked")
    ).one()
    assert event.actor_id == admin.id


def _ask_for_reset(client, email):
    page = client.get("/forgotten-password")
    return client.post("/forgotten-password", data={"email": email, "csrf_token": csrf_token(page)})


def _reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/reset-password/\S+)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


def _set(client, link, password=NEW_PASSWORD, confirm=None):
    page = client.get(link)
    return client.post(
        link,
        data={
            "password": password,
            "confirm": confirm if confirm is not None else password,
            "csrf_token": csrf_token(page),
        },
    )


def test_the_same_answer_whether_or_not_the_address_has_an_account(
    client, db_session, person, mailbox
):
    known = _ask_for_reset(client, person.email)
    unknown = _ask_for_reset(client, "nobody.here@nhs.net")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    known_page = client.get("/sign-in").get_data(as_text=True)
    assert "has an account, we have emailed it a link" in known_page
    mailbox.wait_for(person.email, "Reset your claims portal password")
    assert mailbox.to("nobody.here@nhs.net") == []
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password_reset.requested")
    ).all()
    assert [e.after["sent"] for e in events] == [True, False]


def test_reset_sets_the_password_ends_other_sessions_and_unlocks(
    app, client, db_session, person, mailbox
):
    other_device = app.test_client()
    sign_in(other_device, person.email)
    user = _user(db_session, person)
    user.locked_at = utcnow()
    user.failed_sign_ins = 7
    db_session.commit()
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    response = _set(client, link)
    assert response.headers["Location"] == "/sign-in"
    assert other_device.get("/").status_code == 302  # signed out everywhere
    user = _user(db_session, person)
    assert user.locked_at is None
    assert user.failed_sign_ins == 0
    open_sessions = db_session.scalars(
        select(UserSession).where(
            UserSession.user_id == person.id, UserSession.revoked_at.is_(None)
        )
    ).all()
    assert open_sessions == []
    assert sign_in(client, person.email, NEW_PASSWORD).headers["Location"] == "/"
    assert {"password.reset", "account.unlocked"} <= set(_actions(db_session))
    mailbox.wait_for(person.email, "Your claims portal password has changed")


def test_a_reset_link_works_once(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    _set(client, link)
    again = client.get(link)
    assert again.status_code == 410
    assert "expired or has already been used" in again.get_data(as_text=True)


def test_an_expired_reset_link_is_refused(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    token = db_session.scalars(select(AccessToken)).one()
    token.created_at = utcnow() - dt.timedelta(hours=2)
    token.expires_at = utcnow() - dt.timedelta(minutes=1)
    db_session.commit()
    assert client.get(link).status_code == 410
    page = client.get("/sign-in")
    response = client.post(
        link,
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 410
    assert sign_in(client, person.email, NEW_PASSWORD).status_code == 200


def test_a_newer_reset_link_replaces_the_older(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    first = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    mailbox.clear()
    _ask_for_reset(client, person.email)
    second = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", None, "at least 12 characters"),
        ("password1234", None, "too common"),
        (NEW_PASSWORD, "something else entirely", "The passwords do not match"),
    ],
)
def test_a_weak_new_password_is_refused_and_the_link_still_works(
    client, db_session, person, mailbox, password, confirm, message
):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    response = _set(client, link, password, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Error: " in html
    assert client.get(link).status_code == 200


def test_a_disabled_account_gets_no_reset_email(client, db_session, person, mailbox):
    _user(db_session, person).is_disabled = True
    db_session.commit()
    _ask_for_reset(client, person.email)
    assert db_session.scalars(select(EmailMessage)).all() == []
