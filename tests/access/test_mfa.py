"""Two-factor sign-in: enrolment by QR code, codes, recovery codes, who must use it."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.access.services import mfa
from claims_portal.access.services.settings import AccessSettings, parse_roles
from claims_portal.audit.models import AuditEvent
from claims_portal.service_settings import access_settings
from tests.access.helpers import enrol, fresh_code
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token


def _password_step(client, email, password=TEST_PASSWORD):
    page = client.get("/sign-in")
    return client.post(
        "/sign-in", data={"email": email, "password": password, "csrf_token": csrf_token(page)}
    )


def _code_step(client, code):
    page = client.get("/sign-in/security-code")
    return client.post(
        "/sign-in/security-code", data={"code": code, "csrf_token": csrf_token(page)}
    )


@pytest.fixture
def commissioner(db_session):
    return user_with_role(Role.APPROVER_TIER_1, IcbFactory())


@pytest.fixture
def provider(db_session):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory())


def _secret_on(page) -> str:
    match = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', page.get_data(as_text=True))
    assert match
    return match.group(1).replace(" ", "")


def test_a_required_user_is_sent_to_enrolment_before_anything_else(
    client, db_session, commissioner
):
    assert _password_step(client, commissioner.email).headers["Location"] == "/"
    for path in ("/", "/practices", "/account"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/account/two-factor-authentication"
    page = client.get("/account/two-factor-authentication")
    html = page.get_data(as_text=True)
    assert "Your role needs two-factor authentication" in html
    assert "<svg" in html  # the QR code, inline
    secret = _secret_on(page)
    response = client.post(
        "/account/two-factor-authentication",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page)},
    )
    html = response.get_data(as_text=True)
    assert "Two-factor authentication is on" in html
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", html)
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    user = db_session.get(User, commissioner.id)
    assert mfa.secret_of(user, settings=access_settings()) == secret
    assert secret not in user.mfa_secret  # sealed at rest (tests/access/test_sealing.py)
    assert "mfa.enabled" in db_session.scalars(select(AuditEvent.action)).all()


def test_a_wrong_enrolment_code_is_refused(client, db_session, provider):
    _password_step(client, provider.email)
    page = client.get("/account/two-factor-authentication")
    response = client.post(
        "/account/two-factor-authentication",
        data={"code": "000000", "csrf_token": csrf_token(page)},
    )
    html = response.get_data(as_text=True)
    assert "Enter the 6-digit code your authenticator app shows now" in html
    assert 'href="#code"' in html
    assert db_session.get(User, provider.id).mfa_secret is None


def test_sign_in_with_a_code_from_the_app(client, db_session, commissioner):
    secret = enrol(commissioner)
    response = _password_step(client, commissioner.email)
    assert response.headers["Location"] == "/sign-in/security-code"
    assert client.get("/").status_code == 302  # not signed in yet
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in.succeeded")
    ).one()
    assert event.after["method"] == "password and totp"


def test_a_wrong_code_is_refused_and_counts_towards_the_lockout(client, db_session, commissioner):
    secret = enrol(commissioner)
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    wrong = next(c for c in ("123456", "654321", "111111") if c not in valid)
    _password_step(client, commissioner.email)
    response = _code_step(client, wrong)
    html = response.get_data(as_text=True)
    assert "Enter a correct code" in html
    assert "Error: " in html
    assert db_session.get(User, commissioner.id).failed_sign_ins == 1


def test_a_code_is_accepted_only_once(app, client, db_session, commissioner):
    secret = enrol(commissioner)
    code = fresh_code(secret, None)
    _password_step(client, commissioner.email)
    assert _code_step(client, code).headers["Location"] == "/"
    other = app.test_client()
    _password_step(other, commissioner.email)
    response = _code_step(other, code)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert mfa.CODE_JUST_USED in html
    assert "Wait for your authenticator app to show a new code" in html
    assert "Enter a correct code" not in html
    assert 'href="#code"' in html  # on the field, in the error summary
    assert db_session.get(User, commissioner.id).failed_sign_ins == 1  # still counted


def test_a_recovery_code_works_once(app, client, db_session, provider):
    secret = pyotp.random_base32()
    codes = mfa.enable(
        db_session, provider, secret, pyotp.TOTP(secret).now(), settings=access_settings()
    )
    db_session.commit()
    _password_step(client, provider.email)
    response = _code_step(client, codes[0].upper())
    assert response.headers["Location"] == "/"
    assert "You have 9 left" in client.get("/").get_data(as_text=True)
    other = app.test_client()
    _password_step(other, provider.email)
    assert _code_step(other, codes[0]).status_code == 200
    assert "mfa.recovery_code_used" in db_session.scalars(select(AuditEvent.action)).all()


def test_the_pending_sign_in_times_out(client, db_session, commissioner, monkeypatch):
    enrol(commissioner)
    _password_step(client, commissioner.email)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 301)
    response = client.get("/sign-in/security-code")
    assert response.headers["Location"] == "/sign-in"


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(client, db_session):
    assert client.get("/sign-in/security-code").headers["Location"] == "/sign-in"


def test_mfa_is_optional_for_providers_and_can_be_turned_off(client, db_session, provider):
    assert not mfa.is_required(provider, settings=access_settings())
    secret = enrol(provider)
    _password_step(client, provider.email)
    _code_step(client, pyotp.TOTP(secret).now())
    page = client.get("/account/two-factor-authentication/turn-off")
    response = client.post(
        "/account/two-factor-authentication/turn-off",
        data={"password": TEST_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/account"
    assert not db_session.get(User, provider.id).mfa_enabled


def test_required_users_cannot_turn_it_off(client, db_session, commissioner):
    from tests.helpers import sign_in

    sign_in(client, commissioner.email)
    response = client.get("/account/two-factor-authentication/turn-off")
    assert response.headers["Location"] == "/account"
    assert db_session.get(User, commissioner.id).mfa_enabled


def test_enforcement_and_roles_are_configurable(app, db_session, commissioner, monkeypatch):
    assert mfa.is_required(commissioner, settings=AccessSettings.from_config(app.config))
    monkeypatch.setitem(app.config, "MFA_ENFORCED", False)
    assert not mfa.is_required(commissioner, settings=AccessSettings.from_config(app.config))
    monkeypatch.setitem(app.config, "MFA_ENFORCED", True)
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", "ADMINISTRATOR")
    assert not mfa.is_required(commissioner, settings=AccessSettings.from_config(app.config))
    assert parse_roles("FINANCE, VIEW") == {Role.FINANCE, Role.VIEW}


def test_new_recovery_codes_replace_the_old(client, db_session, provider):
    secret = pyotp.random_base32()
    old = mfa.enable(
        db_session, provider, secret, pyotp.TOTP(secret).now(), settings=access_settings()
    )
    db_session.commit()
    _password_step(client, provider.email)
    _code_step(client, fresh_code(secret, db_session.get(User, provider.id).mfa_last_step))
    page = client.get("/account/recovery-codes")
    response = client.post(
        "/account/recovery-codes", data={"password": TEST_PASSWORD, "csrf_token": csrf_token(page)}
    )
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.get_data(as_text=True))
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert mfa.remaining_recovery_codes(db_session, provider) == 10
