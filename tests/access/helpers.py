"""Signing in through two-factor authentication in tests, as a person with an app would;
access settings changed for one test (:func:`configure`)."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.access.services import mfa
from claims_portal.access.services.settings import AccessSettings
from claims_portal.db import utcnow
from claims_portal.extensions import db
from claims_portal.service_settings import ACCESS, access_settings


def enrol(user: User, secret: str | None = None) -> str:
    """Give ``user`` an authenticator (as if they had scanned the QR code); returns the secret."""
    secret = secret or pyotp.random_base32()
    db.session.flush()
    mfa.store_secret(user, secret, settings=access_settings())
    user.mfa_enabled_at = utcnow()
    user.mfa_last_step = None
    db.session.commit()
    return secret


def ensure_enrolled_if_required(email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if (
        user is not None
        and not user.mfa_enabled
        and mfa.is_required(user, settings=access_settings())
    ):
        enrol(user)


def fresh_code(secret: str, last_step: int | None) -> str:
    """A code the server has not accepted yet (waits for the next step when needed)."""
    totp = pyotp.TOTP(secret)
    while True:
        current = int(time.time() // totp.interval)
        # Now's step (still accepted if the server's clock moves on a step meanwhile), or
        # the next one when now's was used; beyond that, wait.
        step = current if last_step is None else max(current, last_step + 1)
        if step <= current + 1:
            return totp.generate_otp(step)
        time.sleep(1)


def code_for(email: str) -> str:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    assert user is not None
    assert user.mfa_secret
    db.session.refresh(user)
    return fresh_code(mfa.secret_of(user, settings=access_settings()), user.mfa_last_step)


def complete_second_factor(client: Any, response: Any, email: str) -> Any:
    """If the sign-in asks for a security code, enter a fresh one; returns the last response."""
    if response.status_code != 302 or response.headers["Location"] != "/sign-in/security-code":
        return response
    from tests.helpers import csrf_token

    page = client.get("/sign-in/security-code")
    return client.post(
        "/sign-in/security-code",
        data={"code": code_for(email), "csrf_token": csrf_token(page)},
    )


def second_factor_in_browser(page: Any, app: Any, email: str) -> None:
    """After the password step in Chromium: set up the app, or enter its code, if asked."""
    from urllib.parse import urlsplit

    page.wait_for_load_state()
    path = urlsplit(page.url).path
    if path == "/sign-in/security-code":
        with app.app_context():
            # The browser tests share demo users and sign them in many times a minute: forget
            # the last accepted step rather than wait for the next one (the refusal of a
            # reused code is tested in tests/access/test_mfa.py).
            user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
            assert user is not None
            user.mfa_last_step = None
            db.session.commit()
            code = code_for(email)
            db.session.remove()
        page.get_by_label("Security code").fill(code)
        page.get_by_role("button", name="Continue").click()
    elif path == "/account/two-factor-authentication":
        secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
        page.get_by_label("Enter the 6-digit code from your app").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on two-factor authentication").click()
        page.get_by_role("link", name=re.compile(r"I have kept my codes")).click()


def configure(app: Any, monkeypatch: pytest.MonkeyPatch, **config: Any) -> AccessSettings:
    """Set access's ``config`` for one test, as if the app had started with it; returns the
    settings the services are now given."""
    for key, value in config.items():
        monkeypatch.setitem(app.config, key, value)
    settings = AccessSettings.from_config(app.config)
    monkeypatch.setitem(app.extensions, ACCESS, settings)
    return settings
