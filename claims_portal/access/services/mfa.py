"""Two-factor sign-in: time-based one-time codes (RFC 6238) and one-time recovery codes.

Codes are 6 digits every 30 seconds, accepted one step either side of now, and never twice
(the last accepted step is kept). Ten recovery codes are shown once at enrolment and stored
as SHA-256 (they are random, 50 bits each, so a slow hash adds nothing). Who must use it:
members holding a role in ``MFA_REQUIRED_ROLES`` while ``MFA_ENFORCED`` is on. The
configured values come in as ``settings`` (:class:`AccessSettings`), never from the app.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import select, update

from claims_portal import clock
from claims_portal.access import sealing
from claims_portal.access.models import MfaRecoveryCode, User
from claims_portal.access.services import lockout
from claims_portal.access.services.accounts import AccessError, record_failed_sign_in
from claims_portal.access.services.settings import AccessSettings
from claims_portal.audit.services import record_event
from claims_portal.clock import today
from claims_portal.db import DbSession, utcnow

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
WRONG_CODE = "Enter a correct code from your authenticator app, or one of your recovery codes"
CODE_JUST_USED = "This code has just been used. Wait for your authenticator app to show a new code."
CANNOT_CHECK = (
    "Your two-factor authentication cannot be checked at the moment. Ask your administrator "
    "to reset it, or sign in with one of your recovery codes"
)
logger = logging.getLogger(__name__)


def is_required(user: User, *, settings: AccessSettings) -> bool:
    """Whether ``user`` must sign in with a second factor (an active role needs it)."""
    if not settings.mfa_enforced:
        return False
    roles = settings.mfa_required_roles
    day = today()
    return any(m.role in roles and m.is_active_on(day) for m in user.memberships)


def needs_second_factor(user: User) -> bool:
    return user.mfa_enabled


def store_secret(user: User, secret: str, *, settings: AccessSettings) -> None:
    """Keep ``secret`` on ``user``, sealed (``access.sealing``); the user needs an id."""
    if user.id is None:
        raise ValueError("the user must be flushed before a secret is sealed for them")
    user.mfa_secret = sealing.seal(secret, user.id, settings.sealing_keys())


def secret_of(user: User, *, settings: AccessSettings) -> str:
    """The user's authenticator secret, resealed with the first key if it was not (a plain
    secret from before sealing, or one sealed with an older key).

    Raises :class:`sealing.Unreadable` if no configured key opens it.
    """
    assert user.mfa_secret is not None
    secret, current = sealing.unseal(user.mfa_secret, user.id, settings.sealing_keys())
    if not current:
        store_secret(user, secret, settings=settings)
    return secret


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, *, settings: AccessSettings) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=settings.mfa_issuer)


def qr_code_svg(data: str) -> str:
    """An inline SVG QR code (no image request, nothing for the CSP to allow)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), or ``None``."""
    code = re.sub(r"\s+", "", code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    moment = clock.timestamp() if now is None else now
    current = int(moment // totp.interval)
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode("ascii")).hexdigest()


def _new_recovery_codes(session: DbSession, user: User) -> list[str]:
    session.execute(
        update(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(MfaRecoveryCode(user_id=user.id, code_hash=_hash_code(raw)))
    session.flush()
    return codes


def enable(
    session: DbSession, user: User, secret: str, code: str, *, settings: AccessSettings
) -> list[str]:
    """Confirm enrolment with a code from the app; returns the recovery codes to show once.

    Raises :class:`AccessError` if the code does not match the new secret.
    """
    step = _matching_step(secret, code)
    if step is None:
        raise AccessError("Enter the 6-digit code your authenticator app shows now", field="code")
    replaced = user.mfa_enabled
    store_secret(user, secret, settings=settings)
    user.mfa_enabled_at = utcnow()
    user.mfa_last_step = step
    codes = _new_recovery_codes(session, user)
    record_event(
        session,
        action="mfa.enabled" if not replaced else "mfa.replaced",
        object_type="user",
        object_id=user.id,
        actor=user,
    )
    return codes


def disable(session: DbSession, user: User, *, actor: User, reason: str | None = None) -> None:
    """Turn two-factor sign-in off (the person, or an administrator resetting it)."""
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    session.execute(
        update(MfaRecoveryCode)
        .where(MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    record_event(
        session,
        action="mfa.disabled" if actor.id == user.id else "mfa.reset",
        object_type="user",
        object_id=user.id,
        actor=actor,
        reason=reason,
    )


def verify(
    session: DbSession,
    user: User,
    code: str,
    *,
    settings: AccessSettings,
    ip_address: str | None = None,
) -> str:
    """Check the second factor at sign-in; returns the method used (``totp``/``recovery code``).

    A wrong code counts as a failed sign-in (so the lockout applies) and raises
    :class:`AccessError`. A locked or disabled account is refused (a locked one is told
    until when: the password was right, so nothing is revealed to a stranger).
    """
    if user.is_locked and user.locked_until is not None:
        raise AccessError(lockout.locked_message(user.locked_until), field="code")
    if user.is_disabled or not user.mfa_enabled:
        raise AccessError(WRONG_CODE, field="code")
    secret: str | None
    try:
        secret = secret_of(user, settings=settings)
    except sealing.Unreadable:
        logger.error("two-factor secret of user %s does not open with MFA_SECRET_KEYS", user.id)
        secret = None  # recovery codes still work
    step = _matching_step(secret, code) if secret is not None else None
    if step is not None and (user.mfa_last_step is None or step > user.mfa_last_step):
        user.mfa_last_step = step
        return "totp"
    if step is None and len(re.sub(r"[\s-]", "", code)) == 10:
        row = session.scalar(
            select(MfaRecoveryCode).where(
                MfaRecoveryCode.user_id == user.id,
                MfaRecoveryCode.code_hash == _hash_code(re.sub(r"\s", "", code)),
                MfaRecoveryCode.used_at.is_(None),
            )
        )
        if row is not None:
            row.used_at = utcnow()
            record_event(
                session,
                action="mfa.recovery_code_used",
                object_type="user",
                object_id=user.id,
                actor=user,
                after={"remaining": remaining_recovery_codes(session, user)},
            )
            return "recovery code"
    locked_until = record_failed_sign_in(
        session,
        user,
        email=user.email,
        ip_address=ip_address,
        reason="code reused" if step is not None else "wrong code",
        settings=settings,
    )
    if locked_until is not None:
        raise AccessError(lockout.locked_message(locked_until), field="code")
    if step is not None:  # right, but already used: the app shows a new one within 30 s
        raise AccessError(CODE_JUST_USED, field="code")
    raise AccessError(WRONG_CODE if secret is not None else CANNOT_CHECK, field="code")


def remaining_recovery_codes(session: DbSession, user: User) -> int:
    session.flush()
    return len(
        session.scalars(
            select(MfaRecoveryCode.id).where(
                MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def regenerate_recovery_codes(session: DbSession, user: User) -> list[str]:
    if not user.mfa_enabled:
        raise AccessError("Set up two-factor authentication first")
    codes = _new_recovery_codes(session, user)
    record_event(
        session,
        action="mfa.recovery_codes_replaced",
        object_type="user",
        object_id=user.id,
        actor=user,
    )
    return codes


def code_for(secret: str, *, step_offset: int = 0) -> str:
    """The current code for ``secret`` (tests and the development helper use it)."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(int(clock.timestamp() // totp.interval) + step_offset)
