"""Emailed single-use links: registration, invitation and password reset (flush only).

A token is ``secrets.token_urlsafe(32)``; only its SHA-256 is stored, with its purpose, its
expiry and the moment it was used. Issuing a new link of a purpose revokes the person's older
unused ones. Using a link sets the password, ends every session of the person, unlocks the
account and resets the failure count, all audited.

A link's status (:class:`LinkStatus`) is read from those moments; its steps are the table
:data:`INVITATION` (the same for registration and password-reset links): sent, then used
once (:func:`find_token` locks and re-checks it), replaced, or expired.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import ColumnElement, select, update

from claims_portal.access.links import Links
from claims_portal.access.models import AccessToken, TokenPurpose, User
from claims_portal.access.passwords import hash_password, verify_password
from claims_portal.access.roles import Capability
from claims_portal.access.services import emails
from claims_portal.access.services.accounts import (
    AccessError,
    end_all_sessions,
    hash_token,
    normalise_email,
    record_failed_sign_in,
)
from claims_portal.access.services.policy import password_problem
from claims_portal.access.services.settings import AccessSettings
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import lock
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import enqueue
from claims_portal.statemachine import Machine, Step

EXPIRED_LINK = (
    "This link has expired or has already been used. Links work once and only for a limited time."
)


class LinkStatus(enum.StrEnum):
    """Where an emailed link stands (read from its moments, not stored)."""

    SENT = "Sent"
    USED = "Used"
    #: A newer link of the purpose, a password set, or a resent invitation replaced it.
    REPLACED = "Replaced"
    EXPIRED = "Expired"


_SENT, _USED, _REPLACED, _EXPIRED = LinkStatus

#: An invitation's (and every emailed link's) life. Using one is audited on the person
#: (``user.registered``; ``password.reset`` for a reset link); being replaced is recorded by
#: the newer link's ``access_token.issued``; expiring happens by time alone.
INVITATION = Machine(
    object_type="access_token",
    title="Invitation (emailed link)",
    initial=_SENT,
    created="issued",
    creator=Capability.ADMINISTER_USERS,
    final=frozenset({_USED, _REPLACED}),
    steps=(
        Step(
            "use",
            frozenset({_SENT}),
            _USED,
            None,
            "used",
            EXPIRED_LINK,
            who="the person holding the link",
            audit="user.registered",
        ),
        Step(
            "replace",
            frozenset({_SENT, _EXPIRED}),
            _REPLACED,
            None,
            "replaced",
            who="a newer link, or the password being set",
            audit=None,
        ),
        Step("expire", frozenset({_SENT}), _EXPIRED, None, "expired", who="time", audit=None),
    ),
)


def link_status(row: AccessToken, now: dt.datetime | None = None) -> LinkStatus:
    if row.used_at is not None:
        return LinkStatus.USED
    if row.revoked_at is not None:
        return LinkStatus.REPLACED
    if row.expires_at <= (now or utcnow()):
        return LinkStatus.EXPIRED
    return LinkStatus.SENT


def _replace_links(session: DbSession, user: User, purpose: TokenPurpose | None = None) -> None:
    """The ``replace`` step for every replaceable link of the person (of ``purpose``)."""
    replaceable: list[ColumnElement[bool]] = [
        AccessToken.used_at.is_(None),
        AccessToken.revoked_at.is_(None),
    ]
    if purpose is not None:
        replaceable.append(AccessToken.purpose == purpose)
    session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user.id, *replaceable)
        .values(revoked_at=utcnow())
    )


class InvalidLink(AccessError):
    """The link is unknown, used, replaced, expired, or its account is disabled."""

    def __init__(self, message: str = EXPIRED_LINK) -> None:
        super().__init__(message)


#: A reset or a change refuses the password the person has now.
SAME_PASSWORD = "Your new password must be different from your current password"  # noqa: S105


def issue_token(
    session: DbSession,
    user: User,
    purpose: TokenPurpose,
    *,
    settings: AccessSettings,
    actor: User | None = None,
) -> tuple[str, AccessToken]:
    """A new link for ``user``; older unused links of the same purpose stop working. It
    works for ``settings.link_lifetime(purpose)``."""
    now = utcnow()
    _replace_links(session, user, purpose)
    token = secrets.token_urlsafe(32)
    row = AccessToken(
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + settings.link_lifetime(purpose),
        created_by_id=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        action="access_token.issued",
        object_type="user",
        object_id=user.id,
        actor=actor,
        after={"purpose": purpose, "expires_at": row.expires_at},
    )
    return token, row


def find_token(
    session: DbSession, token: str, purposes: set[TokenPurpose], *, for_update: bool = False
) -> AccessToken:
    """The live link for ``token``. Raises :class:`InvalidLink`.

    ``for_update`` (using the link): the person's row, then the link's, are locked and read
    afresh, so a link used twice at once (two tabs, a double click) works once; the second
    use is told the link has been used.
    """
    if not token or len(token) > 200 or not token.isascii():  # ours are token_urlsafe
        raise InvalidLink
    row = session.scalar(select(AccessToken).where(AccessToken.token_hash == hash_token(token)))
    if row is not None and for_update:
        lock(session, User, row.user_id)
        row = lock(session, AccessToken, row.id)
    if (
        row is None
        or row.purpose not in purposes
        or not INVITATION.allows(link_status(row), "use")
        or row.user.is_disabled
    ):
        raise InvalidLink
    return row


def _set_password(
    session: DbSession, row: AccessToken, password: str, *, action: str, links: Links
) -> User:
    user = row.user
    problem = password_problem(password, user.email)
    if problem:
        raise AccessError(problem, field="password")
    if user.password_hash is not None and verify_password(user.password_hash, password):
        raise AccessError(SAME_PASSWORD, field="password")
    now = utcnow()
    row.used_at = now
    had_password = user.password_hash is not None
    user.password_hash = hash_password(password)
    ended = end_all_sessions(session, user)
    if user.is_locked:
        record_event(
            session,
            action="account.unlocked",
            object_type="user",
            object_id=user.id,
            actor=user,
            before={"locked_until": user.locked_until, "failed_sign_ins": user.failed_sign_ins},
            reason="password reset by emailed link",
        )
    user.locked_at = None
    user.locked_until = None
    user.failed_sign_ins = 0
    user.lockout_count = 0
    _revoke_links(session, user)  # every other link of the person stops working too
    record_event(
        session,
        action=action,
        object_type="user",
        object_id=user.id,
        actor=user,
        after={"purpose": row.purpose, "sessions_ended": ended},
    )
    if had_password:
        _tell_password_changed(session, user, links, this_session_kept=False)
    return user


def _revoke_links(session: DbSession, user: User) -> None:
    _replace_links(session, user)


def _tell_password_changed(
    session: DbSession, user: User, links: Links, *, this_session_kept: bool
) -> None:
    subject, body = emails.password_changed(
        user.full_name, links.forgotten_password(), this_session_kept=this_session_kept
    )
    kind = EmailKind.PASSWORD_CHANGED
    enqueue(session, to=user.email, subject=subject, body=body, kind=kind, user=user)


def change_password(
    session: DbSession,
    user: User,
    current: str,
    new: str,
    *,
    session_token: str,
    links: Links,
    settings: AccessSettings,
    ip_address: str | None = None,
) -> int:
    """A signed-in person changes their password; returns how many other sessions ended.

    The current password is checked first: a wrong one counts as a failed sign-in (so a
    stolen session cannot guess it for ever), and a locked account changes nothing (the
    emailed reset link unlocks it). The new one follows the rules of any new password and
    must differ from the current one. Every other session and unused emailed link ends; this
    session stays signed in; the person is emailed.
    """
    if user.is_locked:
        raise AccessError(
            "Your account is locked after too many wrong passwords. Sign out and use "
            "'Forgotten your password?' to choose a new one",
            field="current",
        )
    if not verify_password(user.password_hash, current):
        record_failed_sign_in(
            session,
            user,
            email=user.email,
            ip_address=ip_address,
            reason="wrong current password",
            settings=settings,
        )
        raise AccessError("Enter your current password correctly", field="current")
    if new == current:
        raise AccessError(SAME_PASSWORD, field="password")
    problem = password_problem(new, user.email)
    if problem:
        raise AccessError(problem, field="password")
    user.password_hash = hash_password(new)
    user.failed_sign_ins = 0
    ended = end_all_sessions(session, user, except_token=session_token)
    _revoke_links(session, user)
    record_event(
        session,
        action="password.changed",
        object_type="user",
        object_id=user.id,
        actor=user,
        after={"other_sessions_ended": ended, "ip_address": ip_address},
    )
    _tell_password_changed(session, user, links, this_session_kept=True)
    return ended


def complete_registration(session: DbSession, token: str, password: str, *, links: Links) -> User:
    """Set the first password through a registration or invitation link."""
    row = find_token(
        session, token, {TokenPurpose.REGISTRATION, TokenPurpose.INVITATION}, for_update=True
    )
    return _set_password(session, row, password, action="user.registered", links=links)


def reset_password(session: DbSession, token: str, password: str, *, links: Links) -> User:
    """Set a new password through a reset link: ends every session and unlocks."""
    row = find_token(session, token, {TokenPurpose.PASSWORD_RESET}, for_update=True)
    return _set_password(session, row, password, action="password.reset", links=links)


def request_password_reset(
    session: DbSession,
    email: str,
    *,
    links: Links,
    settings: AccessSettings,
    ip_address: str | None = None,
) -> None:
    """Email a reset link if ``email`` has an account that is not disabled.

    The caller shows the same answer either way; only the audit trail says which.
    """
    email = normalise_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or user.is_disabled:
        record_event(
            session,
            action="password_reset.requested",
            object_type="user",
            object_id=user.id if user else "unknown",
            after={"email": email, "ip_address": ip_address, "sent": False},
        )
        return
    token, row = issue_token(session, user, TokenPurpose.PASSWORD_RESET, settings=settings)
    record_event(
        session,
        action="password_reset.requested",
        object_type="user",
        object_id=user.id,
        after={"email": email, "ip_address": ip_address, "sent": True},
    )
    subject, body = emails.password_reset(
        user.full_name, links.password_reset(token), row.expires_at
    )
    enqueue(session, to=user.email, subject=subject, body=body, kind=EmailKind.PASSWORD_RESET)
