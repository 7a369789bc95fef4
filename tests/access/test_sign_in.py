from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.access.models import User, UserSession
from claims_portal.access.passwords import verify_password
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.db import utcnow
from tests.factories.access import UserFactory, user_with_role
from tests.factories.organisations import PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in


@pytest.fixture
def practice_user(db_session):
    practice = PracticeFactory(name="Riverside Medical Centre", ods_code="Y12345")
    return user_with_role(Role.PROVIDER_USER_SINGLE, practice, full_name="Aisha Rahman")


def test_signing_in_shows_the_person_and_their_organisation(client, practice_user):
    response = sign_in(client, practice_user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Aisha Rahman" in page
    assert "Riverside Medical Centre (Y12345)" in page


def test_email_is_case_insensitive(client, practice_user):
    response = sign_in(client, practice_user.email.upper())
    assert response.headers["Location"] == "/"


def test_password_is_stored_as_argon2id(practice_user):
    assert practice_user.password_hash.startswith("$argon2id$")
    assert verify_password(practice_user.password_hash, TEST_PASSWORD)
    assert not verify_password(practice_user.password_hash, "wrong")


@pytest.mark.parametrize(
    ("email", "password"),
    [("person.unknown@example.nhs.net", TEST_PASSWORD), (None, "not-the-password")],
    ids=["unknown-email", "wrong-password"],
)
def test_failed_sign_in_gives_one_message_that_reveals_nothing(
    client, practice_user, db_session, email, password
):
    response = sign_in(client, email or practice_user.email, password)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Enter a correct email address and password" in page
    assert "Error: Sign in" in page  # the page title says there is an error
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in.failed")
    ).all()
    assert len(events) == 1


def test_empty_form_lists_each_problem(client, db_session):
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"csrf_token": csrf_token(page)})
    html = response.get_data(as_text=True)
    assert 'href="#email"' in html
    assert "Enter your email address" in html
    assert 'href="#password"' in html
    assert "Enter your password" in html


def test_sign_in_without_csrf_token_is_refused(client, practice_user):
    response = client.post("/sign-in", data={"email": practice_user.email, "password": "x"})
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_signed_out_cookie_no_longer_works(client, practice_user, db_session):
    sign_in(client, practice_user.email)
    stolen_cookie = client.get_cookie("claims_portal_session").value
    home = client.get("/")
    assert home.status_code == 200
    response = client.post("/sign-out", data={"csrf_token": csrf_token(home)})
    assert response.headers["Location"] == "/sign-in"
    # Replaying the cookie from before sign-out: the server has revoked its token.
    client.set_cookie("claims_portal_session", stolen_cookie)
    replay = client.get("/")
    assert replay.status_code == 302
    assert replay.headers["Location"].startswith("/sign-in")


def test_each_sign_in_gets_a_new_token(client, practice_user, db_session):
    sign_in(client, practice_user.email)
    first = client.get_cookie("claims_portal_session").value
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    sign_in(client, practice_user.email)
    second = client.get_cookie("claims_portal_session").value
    assert first != second
    sessions = db_session.scalars(
        select(UserSession).where(UserSession.user_id == practice_user.id).order_by(UserSession.id)
    ).all()
    assert len(sessions) == 2
    assert sessions[0].revoked_at is not None
    assert sessions[1].revoked_at is None


def test_sign_out_everywhere_ends_other_sessions(app, client, practice_user, db_session):
    other_device = app.test_client()
    sign_in(other_device, practice_user.email)
    sign_in(client, practice_user.email)
    client.post("/sign-out-everywhere", data={"csrf_token": csrf_token(client.get("/"))})
    assert other_device.get("/").status_code == 302


def test_idle_session_expires(client, practice_user, db_session):
    sign_in(client, practice_user.email)
    user_session = db_session.scalar(
        select(UserSession).where(UserSession.user_id == practice_user.id)
    )
    user_session.last_seen_at = utcnow() - dt.timedelta(minutes=31)
    db_session.commit()
    assert client.get("/").status_code == 302


def test_session_past_its_lifetime_expires(client, practice_user, db_session):
    sign_in(client, practice_user.email)
    user_session = db_session.scalar(
        select(UserSession).where(UserSession.user_id == practice_user.id)
    )
    user_session.created_at = utcnow() - dt.timedelta(hours=13)
    db_session.commit()
    assert client.get("/").status_code == 302


def test_disabled_user_cannot_sign_in_and_is_signed_out(client, practice_user, db_session):
    sign_in(client, practice_user.email)
    db_session.get(User, practice_user.id).is_disabled = True
    db_session.commit()
    assert client.get("/").status_code == 302
    response = sign_in(client, practice_user.email)
    assert "Enter a correct email address and password" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/switch-organisation", "/switch-organisation"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
    ids=["same-site", "absolute", "protocol-relative", "backslash", "javascript"],
)
def test_next_redirect_stays_on_this_site(client, practice_user, next_url, expected):
    page = client.get("/sign-in", query_string={"next": next_url})
    response = client.post(
        "/sign-in",
        query_string={"next": next_url},
        data={
            "email": practice_user.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )
    assert response.headers["Location"] == expected


def test_protected_page_sends_anonymous_user_to_sign_in_with_next(client):
    response = client.get("/switch-organisation")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_user_with_no_password_cannot_sign_in(client, db_session):
    user = UserFactory(password_hash=None)
    response = sign_in(client, user.email, "")
    assert response.status_code == 200
    assert "There is a problem" in response.get_data(as_text=True)
