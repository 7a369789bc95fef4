"""People, their sessions and their roles in organisations."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, String, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.roles import Role
from claims_portal.db import UTCDateTime, created_at, intpk
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
    locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", order_by="Membership.id", foreign_keys="Membership.user_id"
    )

    #: The session token this request was authenticated with (not stored; see UserSession).
    session_token = cast("str | None", None)

    def __repr__(self) -> str:
        return f"<User {self.email}>"

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
        UTCDateTime(), server_default=func.current_timestamp()
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
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="role", native_enum=False, length=40, validate_strings=True)
    )
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
