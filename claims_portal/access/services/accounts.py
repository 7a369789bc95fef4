"""Accounts, sign-in sessions and memberships: the rules (flush only; views commit)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from claims_portal.access.models import Membership, User, UserSession
from claims_portal.access.passwords import hash_password, needs_rehash, verify_password
from claims_portal.access.roles import Role, roles_allowed_for
from claims_portal.access.services import lockout
from claims_portal.access.services.policy import email_problem
from claims_portal.access.services.settings import AccessSettings
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.rules import RuleError

# Deliberately simple: one @, something on each side, a dot in the domain. Deliverability is
# checked by the emailed link, not by a pattern.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccessError(RuleError):
    """A rule about accounts or memberships was broken; the message is for the user.

    ``AccessError(message, field="email")`` names the form field the problem is about.
    """


class AccessConflict(AccessError):
    """Someone else decided first (the request, the membership, the account changed while
    the page was open). The message says who and when, and that nothing was changed."""

    status_code = 409


class SessionExpired(Exception):
    """The session token is unknown, revoked, idle too long or past its lifetime."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: DbSession,
    *,
    email: str,
    full_name: str,
    settings: AccessSettings,
    password: str | None = None,
    actor: User | None = None,
) -> User:
    """Create an account. Raises :class:`AccessError` for a bad or taken email or no name."""
    email = normalise_email(email)
    full_name = " ".join(full_name.split())
    if not _EMAIL.match(email):
        raise AccessError("Enter an email address in the correct format, like name@nhs.net")
    if not full_name:
        raise AccessError("Enter the person's full name")
    # Every way of making an account (approval, invitation, the demo, any admin or command)
    # passes here: a shared mailbox is refused even when the word list grew after a request.
    problem = email_problem(
        email,
        settings.generic_mailbox_names,
        typed_by_the_person=actor is None or actor.email == email,
    )
    if problem:
        raise AccessError(problem, field="email")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccessError("An account with this email address already exists")
    user = User(
        email=email, full_name=full_name, is_disabled=False, failed_sign_ins=0, lockout_count=0
    )
    if password is not None:
        user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    record_event(
        session,
        action="user.created",
        object_type="user",
        object_id=user.id,
        actor=actor,
        after={"email": email, "full_name": full_name},
    )
    return user


def grant_membership(
    session: DbSession,
    *,
    user: User,
    organisation: Organisation,
    role: Role,
    start_date: dt.date,
    end_date: dt.date | None = None,
    actor: User | None = None,
) -> Membership:
    """Give ``user`` a role in ``organisation``. Raises :class:`AccessError`."""
    if role not in roles_allowed_for(organisation.kind):
        raise AccessError(f"The role {role} cannot be held in {organisation.kind.with_article}")
    if end_date is not None and end_date < start_date:
        raise AccessError("The end date must be the same as or after the start date")
    existing = session.scalars(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.role == role,
            Membership.revoked_at.is_(None),
        )
    ).all()
    for other in existing:
        if (other.end_date is None or other.end_date >= start_date) and (
            end_date is None or end_date >= other.start_date
        ):
            raise AccessError(f"{user.full_name} already holds this role in {organisation.name}")
    membership = Membership(
        user_id=user.id,
        organisation_id=organisation.id,
        role=role,
        start_date=start_date,
        end_date=end_date,
    )
    session.add(membership)
    session.flush()
    record_event(
        session,
        action="membership.granted",
        object_type="membership",
        object_id=membership.id,
        actor=actor,
        organisation=organisation,
        after={
            "user": user.email,
            "role": role.name,
            "start_date": start_date,
            "end_date": end_date,
        },
    )
    return membership


def active_memberships(user: User, today: dt.date) -> list[Membership]:
    """The user's memberships in force today, in organisations active today.

    Read from ``user.memberships`` (one query, with their organisations, the first time), the
    collection the capability checks read too: a request loads them once."""
    return [
        m for m in user.memberships if m.is_active_on(today) and m.organisation.is_active_on(today)
    ]


# --- Sign-in -------------------------------------------------------------------------------

GENERIC_SIGN_IN_ERROR = "Enter a correct email address and password"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class PasswordCheck:
    """The first step of signing in: whose password was right (``None`` if refused)."""

    user: User | None
    error: str | None = None


def end_expired_lock(session: DbSession, user: User) -> None:
    """A lock whose time is up ends: the failures count afresh (the lockouts in a row stay,
    so the next lock lasts longer)."""
    if user.locked_at is None or user.is_locked:
        return
    record_event(
        session,
        action="account.lock_ended",
        object_type="user",
        object_id=user.id,
        actor=None,
        before={"locked_until": user.locked_until, "failed_sign_ins": user.failed_sign_ins},
        reason="the lockout time ended",
    )
    user.locked_at = None
    user.locked_until = None
    user.failed_sign_ins = 0


def record_failed_sign_in(
    session: DbSession,
    user: User | None,
    *,
    email: str,
    ip_address: str | None,
    reason: str,
    settings: AccessSettings,
) -> dt.datetime | None:
    """Count a failure against ``user`` (locking the account at the threshold) and audit it.

    Returns when the account's lock ends if it is locked now. ``None`` for ``user`` (or a
    disabled account) counts against the address instead (``access.services.lockout``).
    """
    locked_until: dt.datetime | None = None
    if user is not None and not user.is_disabled:
        end_expired_lock(session, user)
        user.failed_sign_ins += 1
        if not user.is_locked and user.failed_sign_ins >= settings.lockout_threshold:
            now = utcnow()
            user.lockout_count += 1
            user.locked_at = now
            user.locked_until = now + lockout.duration(user.lockout_count, settings=settings)
            record_event(
                session,
                action="account.locked",
                object_type="user",
                object_id=user.id,
                actor=None,
                after={
                    "failed_sign_ins": user.failed_sign_ins,
                    "ip_address": ip_address,
                    "locked_until": user.locked_until,
                    "lockouts_in_a_row": user.lockout_count,
                },
                reason=f"{user.failed_sign_ins} failed sign-in attempts in a row",
            )
        locked_until = user.locked_until if user.is_locked else None
    else:
        locked_until = lockout.no_account_locked_until(
            email, settings=settings
        ) or lockout.no_account_failed(email, settings=settings)
    record_event(
        session,
        action="sign_in.failed",
        object_type="user",
        object_id=user.id if user else "unknown",
        actor=None,
        after={"email": email, "ip_address": ip_address, "why": reason},
    )
    return locked_until


def check_password(
    session: DbSession,
    *,
    email: str,
    password: str,
    settings: AccessSettings,
    ip_address: str | None = None,
) -> PasswordCheck:
    """Check an email and password (the first factor). Nothing is opened yet.

    Exactly one argon2 verification whatever the address (:func:`verify_password`), and the
    error never says whether the address has an account or is disabled. Failures are
    counted and audited; at ``LOCKOUT_THRESHOLD`` failures in a row the account locks for a
    while (``access.services.lockout``), during which even the right password is refused with a
    message saying until when. An address without an account locks and is told the same.
    """
    email = normalise_email(email)
    user = session.scalar(select(User).where(User.email == email))
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is not None:
        end_expired_lock(session, user)
    reason = None
    if user is None:
        reason = "unknown email"
    elif user.is_disabled:
        reason = "account disabled"
    elif user.is_locked:
        reason = "account locked"
    elif not password_ok:
        reason = "wrong password"
    if reason is not None:
        locked_until = record_failed_sign_in(
            session, user, email=email, ip_address=ip_address, reason=reason, settings=settings
        )
        if locked_until is not None:
            return PasswordCheck(None, lockout.locked_message(locked_until))
        return PasswordCheck(None, GENERIC_SIGN_IN_ERROR)
    assert user is not None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return PasswordCheck(user)


def complete_sign_in(
    session: DbSession,
    user: User,
    *,
    method: str = "password",
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> str:
    """Every factor passed: reset the failure and lockout counts, open a session, audit.
    Returns the token."""
    user.failed_sign_ins = 0
    user.lockout_count = 0
    token = open_session(session, user, user_agent=user_agent, ip_address=ip_address)
    record_event(
        session,
        action="sign_in.succeeded",
        object_type="user",
        object_id=user.id,
        actor=user,
        after={"ip_address": ip_address, "method": method},
    )
    return token


def open_session(
    session: DbSession,
    user: User,
    *,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> str:
    """A new random session token for ``user``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:255] or None,
            ip_address=ip_address,
        )
    )
    session.flush()
    return token


#: Every signed-in request's one query, built once (building it took a tenth of a request
#: that only reads the session): the session by its token's hash, with its person and their
#: memberships and organisations, and each organisation's parents up to the region (a
#: practice, its sub-location, its ICB, its region): who may do what, and the ICB a page
#: works for, are read from the organisation up (``permissions.ancestors_and_self``), which
#: otherwise cost a query a level on every page of a practice's or a sub-location's people.
_LIVE_SESSION = (
    select(UserSession)
    .options(
        joinedload(UserSession.user)
        .joinedload(User.memberships)
        .joinedload(Membership.organisation)
        .joinedload(Organisation.parent)
        .joinedload(Organisation.parent)
        .joinedload(Organisation.parent)
    )
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def load_session(
    session: DbSession,
    token: str,
    *,
    now: dt.datetime,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
    touch_after: dt.timedelta = dt.timedelta(minutes=1),
) -> UserSession:
    """The live session for ``token``. Raises :class:`SessionExpired`.

    ``last_seen_at`` is refreshed at most once a ``touch_after`` so that reading a page does
    not always write to the database. The user's memberships, with their organisations,
    come in the same query: every signed-in page reads them (:func:`active_memberships`).
    """
    user_session = (
        session.execute(_LIVE_SESSION, {"token_hash": hash_token(token)})
        .unique()
        .scalar_one_or_none()
    )
    if user_session is None or user_session.revoked_at is not None:
        raise SessionExpired
    if user_session.user.is_disabled:
        raise SessionExpired
    if now - user_session.last_seen_at > idle or now - user_session.created_at > lifetime:
        user_session.revoked_at = now
        raise SessionExpired
    if now - user_session.last_seen_at > touch_after:
        user_session.last_seen_at = now
    return user_session


def end_session(session: DbSession, token: str, *, actor: User) -> None:
    """Sign out: the token is revoked on the server, so the old cookie no longer works."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    record_event(
        session, action="user.signed_out", object_type="user", object_id=actor.id, actor=actor
    )


def end_all_sessions(session: DbSession, user: User, *, except_token: str | None = None) -> int:
    """Revoke every open session of ``user`` (but the one of ``except_token``, if given);
    returns how many were open."""
    statement = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if except_token is not None:
        statement = statement.where(UserSession.token_hash != hash_token(except_token))
    result = session.execute(statement.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
