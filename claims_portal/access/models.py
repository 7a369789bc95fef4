"""People, their sessions and their roles in organisations."""

from __future__ import annotations

import datetime as dt
import enum
from typing import cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.roles import Role
from claims_portal.db import UTCDateTime, created_at, enum_column, intpk, utcnow
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation


class User(db.Model):  # type: ignore[name-defined,misc]
    """One person. The username is their own email address, stored lower case."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("length(trim(full_name)) > 0", name="full_name_present"),
    )

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash (PHC string); null until the person sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: When the account locked after too many failed sign-ins, and when that lock ends
    #: (``access.services.lockout``); both null when it is not locked.
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Lockouts in a row since the last successful sign-in or password reset (each doubles
    #: the next one's length).
    lockout_count: Mapped[int] = mapped_column(default=0, server_default="0")
    #: The authenticator's TOTP secret, set once enrolment is confirmed and stored sealed
    #: (``access/sealing.py``, docs/access.md): read it through ``access.services.mfa`` only.
    mfa_secret: Mapped[str | None] = mapped_column(String(128))
    mfa_enabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The last TOTP time step accepted, so that a code cannot be used twice.
    mfa_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[created_at]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id", foreign_keys="Membership.user_id"
    )

    #: The session token this request was authenticated with (not stored; see UserSession).
    session_token = cast("str | None", None)

    def __repr__(self) -> str:
        return f"<User {self.email}>"

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_enabled_at is not None and self.mfa_secret is not None

    @property
    def is_locked(self) -> bool:
        """Locked now: the lock's end (``locked_until``) is still to come."""
        return self.locked_until is not None and self.locked_until > utcnow()

    # Flask-Login's user protocol. The id it keeps in the cookie is the session token, so
    # revoking the token on the server ends the session wherever the cookie is replayed.
    @property
    def is_authenticated(self) -> bool:
        return self.session_token is not None

    @property
    def is_active(self) -> bool:
        return not self.is_disabled

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in session, revocable on the server.

    The browser's cookie carries a random token; only its SHA-256 is stored. Signing in
    creates a new row (a new token), signing out revokes it, and "sign out everywhere",
    disabling an account or a password reset revoke all of a user's rows.
    """

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_active", "user_id", "revoked_at"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp()
    )
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User] = relationship(lazy="joined")


class Membership(db.Model):  # type: ignore[name-defined,misc]
    """A role a user holds in an organisation over a dated period (``end_date`` inclusive)."""

    __tablename__ = "membership"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
        Index("ix_membership_user_org", "user_id", "organisation_id"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def is_active_on(self, day: dt.date) -> bool:
        return (
            self.revoked_at is None
            and self.start_date <= day
            and (self.end_date is None or day <= self.end_date)
        )


class AccessRequestStatus(enum.StrEnum):
    PENDING = "Pending"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    WITHDRAWN = "Withdrawn"


class AccessRequest(db.Model):  # type: ignore[name-defined,misc]
    """A person asking for a role in an organisation, and the decision on it.

    The requester is an existing user (``requester_id``) or a new person known by the name
    and email they gave; ``email`` and ``full_name`` are kept in both cases, so the request
    reads the same after the person's details change.
    """

    __tablename__ = "access_request"
    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(
            "(status = 'PENDING') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
        CheckConstraint(
            "status != 'REJECTED' OR length(trim(decision_reason)) > 0",
            name="rejection_has_reason",
        ),
        Index("ix_access_request_status_organisation", "status", "organisation_id"),
    )

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    #: What the person said about why they need access (optional).
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AccessRequestStatus] = mapped_column(
        enum_column(AccessRequestStatus, "access_request_status"),
        default=AccessRequestStatus.PENDING,
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Why it was rejected (required) or a note on the approval (optional).
    decision_reason: Mapped[str | None] = mapped_column(Text)
    #: The membership granted by the approval.
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id"))
    created_at: Mapped[created_at]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    requester: Mapped[User | None] = relationship(foreign_keys=[requester_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class TokenPurpose(enum.StrEnum):
    REGISTRATION = "Registration after an approved request"
    INVITATION = "Invitation by an administrator"
    PASSWORD_RESET = "Password reset"  # noqa: S105 - a purpose, not a password


class AccessToken(db.Model):  # type: ignore[name-defined,misc]
    """A single-use, expiring link sent by email. Only the SHA-256 of the token is stored."""

    __tablename__ = "access_token"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Set when a newer link of the same purpose replaced this one.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class MfaRecoveryCode(db.Model):  # type: ignore[name-defined,misc]
    """A one-time recovery code for two-factor sign-in; only its SHA-256 is stored."""

    __tablename__ = "mfa_recovery_code"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[created_at]
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
