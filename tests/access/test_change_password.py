"""Changing one's password while signed in (Your account > Change your password)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.access.models import AccessToken, TokenPurpose, User
from claims_portal.access.roles import Role
from claims_portal.access.services.tokens import issue_token
from claims_portal.audit.models import AuditEvent
from claims_portal.db import utcnow
from claims_portal.service_settings import access_settings
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in
from tests.smtp_fixtures import body_of

NEW_PASSWORD = "a brand new passphrase 7"


@pytest.fixture
def person(db_session):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=IcbFactory()))


def change(client, current, new, confirm=None):
    page = client.get("/account/password")
    assert page.status_code == 200
    return client.post(
        "/account/password",
        data={
            "current": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
            "csrf_token": csrf_token(page),
        },
    )


def test_the_password_changes_here_and_every_other_session_ends(
    app, client, db_session, person, mailbox
):
    other_device = app.test_client()
    sign_in(other_device, person.email)
    sign_in(client, person.email)
    assert "Change your password" in client.get("/account").get_data(as_text=True)
    issue_token(db_session, person, TokenPurpose.PASSWORD_RESET, settings=access_settings())
    db_session.commit()

    response = change(client, TEST_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    account = client.get("/account").get_data(as_text=True)
    assert "Your password has changed. 1 other signed-in session ended." in account
    assert other_device.get("/").status_code == 302  # signed out there
    link = db_session.scalar(select(AccessToken).where(AccessToken.user_id == person.id))
    assert link.revoked_at is not None  # an emailed link no longer works
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "password.changed"))
    assert event.after["other_sessions_ended"] == 1
    message = mailbox.wait_for(person.email, "Your claims portal password has changed")
    assert "every other signed-in session was ended" in body_of(message)
    fresh = app.test_client()
    assert sign_in(fresh, person.email).status_code == 200  # the old password: refused
    assert sign_in(fresh, person.email, NEW_PASSWORD).headers["Location"] == "/"


def test_a_wrong_current_password_is_refused_and_counted(client, db_session, person):
    sign_in(client, person.email)
    response = change(client, "not my password", NEW_PASSWORD)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Error: " in html
    assert 'href="#current"' in html
    assert "Enter your current password correctly" in html
    user = db_session.get(User, person.id)
    assert user.failed_sign_ins == 1
    assert "password.changed" not in db_session.scalars(select(AuditEvent.action)).all()
    assert sign_in(app_client := client.application.test_client(), person.email).status_code == 302
    assert app_client.get("/").status_code == 200  # the password is as it was


@pytest.mark.parametrize(
    ("new", "confirm", "message", "field"),
    [
        (TEST_PASSWORD, None, "must be different from your current password", "password"),
        ("short", None, "at least 12 characters", "password"),
        (NEW_PASSWORD, "something else entirely", "The passwords do not match", "confirm"),
        ("", None, "Enter a new password", "password"),
    ],
)
def test_a_new_password_breaking_the_rules_is_refused(
    client, db_session, person, new, confirm, message, field
):
    sign_in(client, person.email)
    response = change(client, TEST_PASSWORD, new, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert f'href="#{field}"' in html
    assert db_session.get(User, person.id).failed_sign_ins == 0


def test_a_locked_account_cannot_change_its_password_here(client, db_session, person):
    sign_in(client, person.email)
    user = db_session.get(User, person.id)
    user.locked_at = utcnow()
    user.locked_until = utcnow() + dt.timedelta(minutes=30)
    db_session.commit()
    response = change(client, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 400
    assert "Forgotten your password?" in response.get_data(as_text=True)
    assert "password.changed" not in db_session.scalars(select(AuditEvent.action)).all()


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_the_error_summary_follows_the_page_order(client, db_session, person):
    sign_in(client, person.email)
    html = change(client, "", NEW_PASSWORD, "different").get_data(as_text=True)
    assert "Enter your current password" in html
    assert html.index('href="#current"') < html.index('href="#confirm"')
