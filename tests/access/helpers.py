"""Signing in through two-factor authentication in tests, as a person with an app would."""

from __future__ import annotations

import time
from typing import Any

import pyotp
from sqlalchemy import select

from claims_portal.access import mfa
from claims_portal.access.models import User
from claims_portal.db import utcnow
from claims_portal.extensions import db


def enrol(user: User, secret: str | None = None) -> str:
    """Give ``user`` an authenticator (as if they had scanned the QR code); returns the secret."""
    user.mfa_secret = secret or pyotp.random_base32()
    user.mfa_enabled_at = utcnow()
    user.mfa_last_step = None
    db.session.commit()
    return user.mfa_secret


def ensure_enrolled_if_required(email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is not None and not user.mfa_enabled and mfa.is_required(user):
        enrol(user)


def fresh_code(secret: str, last_step: int | None) -> str:
    """A code the server has not accepted yet (waits for the next step when needed)."""
    totp = pyotp.TOTP(secret)
    while True:
        current = int(time.time() // totp.interval)
        step = current - 1 if last_step is None else max(current - 1, last_step + 1)
        if step <= current + 1:
            return totp.generate_otp(step)
        time.sleep(1)


def code_for(email: str) -> str:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    assert user is not None
    assert user.mfa_secret
    db.session.refresh(user)
    return fresh_code(user.mfa_secret, user.mfa_last_step)


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
