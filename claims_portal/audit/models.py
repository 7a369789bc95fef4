"""The append-only audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.models import User
from claims_portal.db import UTCDateTime
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One decision or change, never updated or deleted.

    Inserted by the transaction that made the decision, without taking any lock; chained
    after that transaction commits by its :class:`AuditSeal`. On PostgreSQL a trigger refuses
    UPDATE, DELETE and TRUNCATE on this table.

    ``previous_hash`` and ``event_hash`` are the chain as events recorded before revision
    0013 held it (copied to their seals then); newer events leave them empty.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_organisation", "organisation_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True
    )
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: Who acted, as shown at the time (email), or "system" for scheduled and CLI work.
    actor_label: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    event_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class AuditSeal(db.Model):  # type: ignore[name-defined,misc]
    """An event's place in the chain, written by the sealer after the event committed.

    ``position`` counts 1, 2, 3, ... without gaps: it, not the event's id, is the chain's
    order (an event committed late is sealed late). ``event_hash`` is the SHA-256 of the
    event's content together with ``previous_hash``, the seal before it's hash, so
    changing, removing or reordering an event or a seal breaks the chain
    (``claims-portal audit verify``). Never updated or deleted: on PostgreSQL a trigger
    refuses UPDATE, DELETE and TRUNCATE.
    """

    __tablename__ = "audit_seal"

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"),
        ForeignKey("audit_event.id"),
        unique=True,
    )
    previous_hash: Mapped[str] = mapped_column(String(64))
    event_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    event: Mapped[AuditEvent] = relationship()
