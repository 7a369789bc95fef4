"""Administrators managing people: invite, revoke a membership, disable, enable, unlock.

An administrator (``ADMINISTER_USERS``) acts on people who hold (or held) a membership in an
organisation the administrator reaches: their ICB, its sub-locations and the providers under
them. Anyone else is refused with :class:`PermissionDenied` (403). Accounts are never
deleted. Every action is audited.

Two administrators acting on the same person at once: revoking, disabling and enabling lock
the row and re-check it (the second is told who acted first, :class:`AccessConflict`);
inviting takes a lock on the email address, so the second invitation finds the first's
account and membership instead of making another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from claims_portal.access.links import Links
from claims_portal.access.models import Membership, TokenPurpose, User
from claims_portal.access.roles import Capability, Role
from claims_portal.access.services import emails, mfa
from claims_portal.access.services.access_requests import role_problem
from claims_portal.access.services.accounts import (
    AccessConflict,
    AccessError,
    create_user,
    end_all_sessions,
    grant_membership,
    normalise_email,
)
from claims_portal.access.services.permissions import (
    PermissionDenied,
    ensure_capability,
    has_capability,
)
from claims_portal.access.services.policy import email_problem, full_name_problem
from claims_portal.access.services.settings import AccessSettings
from claims_portal.access.services.tokens import issue_token
from claims_portal.audit.services import record_event
from claims_portal.clock import today
from claims_portal.db import DbSession, utcnow
from claims_portal.decisions import already, by_event, by_whom, last_event, lock, lock_name
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.services import enqueue
from claims_portal.organisations.models import Organisation


def organisations_under(session: DbSession, root: Organisation) -> list[Organisation]:
    """``root`` and every organisation below it, breadth first."""
    found = [root]
    frontier = [root.id]
    seen = {root.id}
    while frontier:
        children = session.scalars(
            select(Organisation)
            .where(Organisation.parent_id.in_(frontier))
            .order_by(Organisation.name)
        ).all()
        frontier = [c.id for c in children if c.id not in seen]
        seen.update(frontier)
        found.extend(c for c in children if c.id in frontier)
    return found


@dataclass(frozen=True)
class Person:
    user: User
    memberships: list[Membership]


def people_in_scope(session: DbSession, actor: User, root: Organisation) -> list[Person]:
    """People with a membership in ``root`` or below it, with those memberships."""
    ensure_capability(actor, Capability.ADMINISTER_USERS, root)
    ids = [o.id for o in organisations_under(session, root)]
    memberships = session.scalars(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id.in_(ids))
        .order_by(User.full_name, User.id, Membership.id)
    ).all()
    people: dict[int, Person] = {}
    for membership in memberships:
        people.setdefault(membership.user_id, Person(membership.user, [])).memberships.append(
            membership
        )
    return list(people.values())


def can_manage(actor: User, user: User) -> bool:
    return any(
        has_capability(actor, Capability.ADMINISTER_USERS, m.organisation) for m in user.memberships
    )


def ensure_can_manage(actor: User, user: User) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` has a membership ``actor`` administers."""
    if not can_manage(actor, user):
        raise PermissionDenied(f"{actor.email} may not manage {user.email}")


def memberships_managed_by(actor: User, user: User) -> list[Membership]:
    return [
        m
        for m in user.memberships
        if has_capability(actor, Capability.ADMINISTER_USERS, m.organisation)
    ]


def invite(
    session: DbSession,
    *,
    actor: User,
    organisation: Organisation,
    role: Role,
    email: str,
    full_name: str,
    links: Links,
    settings: AccessSettings,
) -> Membership:
    """Give a person a role directly; a new person gets an emailed link to set a password.

    Raises :class:`PermissionDenied` outside the administrator's organisations and
    :class:`AccessError` for an unacceptable email, name or role.
    """
    ensure_capability(actor, Capability.ADMINISTER_USERS, organisation)
    problem = role_problem(organisation, role)
    if problem:
        raise AccessError(problem, field="role")
    email = normalise_email(email)
    full_name = " ".join(full_name.split())
    lock_name(session, f"person:{email}")
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        names = settings.generic_mailbox_names
        problem = email_problem(email, names, typed_by_the_person=False)
        if problem:
            raise AccessError(problem, field="email")
        problem = full_name_problem(full_name, names, typed_by_the_person=False)
        if problem:
            raise AccessError(problem, field="full_name")
        user = create_user(
            session, email=email, full_name=full_name, actor=actor, settings=settings
        )
    elif user.is_disabled:
        raise AccessError(f"The account of {email} is disabled: enable it first")
    membership = grant_membership(
        session, user=user, organisation=organisation, role=role, start_date=today(), actor=actor
    )
    record_event(
        session,
        action="user.invited",
        object_type="user",
        object_id=user.id,
        actor=actor,
        organisation=organisation,
        after={"email": email, "role": role, "new_account": user.password_hash is None},
    )
    if user.password_hash is None:
        token, row = issue_token(
            session, user, TokenPurpose.INVITATION, actor=actor, settings=settings
        )
        subject, body = emails.invitation(
            user.full_name,
            actor.full_name,
            organisation.display_name,
            role,
            links.registration(token),
            row.expires_at,
        )
        enqueue(session, to=email, subject=subject, body=body, kind=EmailKind.REGISTRATION_LINK)
    else:
        subject, body = emails.access_given(
            user.full_name, actor.full_name, organisation.display_name, role, links.sign_in()
        )
        enqueue(
            session, to=email, subject=subject, body=body, kind=EmailKind.ACCESS_CHANGED, user=user
        )
    return membership


def resend_invitation(
    session: DbSession, user: User, *, actor: User, links: Links, settings: AccessSettings
) -> None:
    """A fresh set-up link for someone who has not set a password yet."""
    ensure_can_manage(actor, user)
    if user.password_hash is not None:
        raise AccessError(f"{user.full_name} has already set up their account")
    if user.is_disabled:
        raise AccessError(f"The account of {user.email} is disabled: enable it first")
    token, row = issue_token(session, user, TokenPurpose.INVITATION, actor=actor, settings=settings)
    active = [m for m in memberships_managed_by(actor, user) if m.revoked_at is None]
    where = active[0] if active else None
    subject, body = emails.invitation(
        user.full_name,
        actor.full_name,
        where.organisation.display_name if where else "your organisation",
        where.role if where else "your role",
        links.registration(token),
        row.expires_at,
    )
    enqueue(session, to=user.email, subject=subject, body=body, kind=EmailKind.REGISTRATION_LINK)


def revoke_membership(
    session: DbSession, membership: Membership, *, actor: User, reason: str | None = None
) -> None:
    """End a membership now (kept, marked revoked); access goes at the person's next request."""
    ensure_capability(actor, Capability.ADMINISTER_USERS, membership.organisation)
    locked = lock(session, Membership, membership.id)
    assert locked is not None  # memberships are never deleted
    membership = locked
    if membership.revoked_at is not None:
        remover = session.get(User, membership.revoked_by_id) if membership.revoked_by_id else None
        raise AccessConflict(
            already("This access", "removed", by_whom(remover, membership.revoked_at))
        )
    membership.revoked_at = utcnow()
    membership.revoked_by_id = actor.id
    session.flush()
    record_event(
        session,
        action="membership.revoked",
        object_type="membership",
        object_id=membership.id,
        actor=actor,
        organisation=membership.organisation,
        after={"user": membership.user.email, "role": membership.role.name},
        reason=reason,
    )
    subject, body = emails.access_removed(
        membership.user.full_name, membership.organisation.display_name, membership.role
    )
    enqueue(
        session,
        to=membership.user.email,
        subject=subject,
        body=body,
        kind=EmailKind.ACCESS_CHANGED,
        user=membership.user,
    )


def disable_user(session: DbSession, user: User, *, actor: User, reason: str | None = None) -> int:
    """Disable an account: every session ends at once. Returns how many sessions ended."""
    ensure_can_manage(actor, user)
    if user.id == actor.id:
        raise AccessError("You cannot disable your own account")
    user = _lock_user(session, user)
    if user.is_disabled:
        event = last_event(session, "user", user.id, ["user.disabled"])
        raise AccessConflict(already(f"The account of {user.email}", "disabled", by_event(event)))
    user.is_disabled = True
    ended = end_all_sessions(session, user)
    record_event(
        session,
        action="user.disabled",
        object_type="user",
        object_id=user.id,
        actor=actor,
        after={"sessions_ended": ended},
        reason=reason,
    )
    return ended


def enable_user(session: DbSession, user: User, *, actor: User) -> None:
    ensure_can_manage(actor, user)
    user = _lock_user(session, user)
    if not user.is_disabled:
        event = last_event(session, "user", user.id, ["user.enabled"])
        if event is None:
            raise AccessError(f"The account of {user.email} is not disabled")
        raise AccessConflict(already(f"The account of {user.email}", "enabled", by_event(event)))
    user.is_disabled = False
    record_event(session, action="user.enabled", object_type="user", object_id=user.id, actor=actor)


def _lock_user(session: DbSession, user: User) -> User:
    locked = lock(session, User, user.id)
    assert locked is not None  # accounts are never deleted
    return locked


def unlock_user(session: DbSession, user: User, *, actor: User) -> None:
    """Unlock an account locked by failed sign-ins before its lock ends by itself."""
    ensure_can_manage(actor, user)
    if not user.is_locked:
        raise AccessError(f"The account of {user.email} is not locked")
    record_event(
        session,
        action="account.unlocked",
        object_type="user",
        object_id=user.id,
        actor=actor,
        before={"locked_until": user.locked_until, "failed_sign_ins": user.failed_sign_ins},
        reason="unlocked by an administrator",
    )
    user.locked_at = None
    user.locked_until = None
    user.failed_sign_ins = 0
    user.lockout_count = 0


def reset_mfa(session: DbSession, user: User, *, actor: User) -> None:
    """Remove a person's authenticator (lost phone); they set it up again at next sign-in."""
    ensure_can_manage(actor, user)
    if user.id == actor.id:
        raise AccessError("Use Your account to change your own two-factor authentication")
    if not user.mfa_enabled:
        raise AccessError(f"{user.full_name} has not set up two-factor authentication")
    mfa.disable(session, user, actor=actor, reason="reset by an administrator")
    end_all_sessions(session, user)


def scope_organisations(
    session: DbSession, actor: User, root: Organisation
) -> Sequence[Organisation]:
    """Organisations an administrator may invite people to, from ``root`` down."""
    ensure_capability(actor, Capability.ADMINISTER_USERS, root)
    return [
        o
        for o in organisations_under(session, root)
        if o.is_active_on(today()) and has_capability(actor, Capability.ADMINISTER_USERS, o)
    ]
