"""Organisations shared by local claims and national services."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.db import created_at, enum_column, intpk
from claims_portal.extensions import db


class OrganisationKind(enum.StrEnum):
    NATIONAL_COMMISSIONER = "National commissioner"
    ICB = "Integrated care board"
    ICB_SUB_LOCATION = "ICB sub-location"
    PCN = "Primary care network"
    GP_PRACTICE = "GP practice"
    FEDERATION = "Federation"
    #: One of NHS England's seven regions (ODS role RO209): a commissioner above its ICBs.
    REGION = "NHS England region"

    @property
    def is_commissioner(self) -> bool:
        return self in COMMISSIONER_KINDS

    @property
    def is_provider(self) -> bool:
        return not self.is_commissioner

    @property
    def in_sentence(self) -> str:
        """The kind inside a sentence: "integrated care board", "GP practice" (an
        abbreviation keeps its capitals)."""
        first, _, rest = self.value.partition(" ")
        if first.isupper():
            return self.value
        return f"{first.lower()} {rest}".rstrip()

    @property
    def with_article(self) -> str:
        """ "an integrated care board", "a GP practice", "an ICB sub-location"."""
        words = self.in_sentence
        vowel_sound = words[0] in "aeiou" or (words[0] in "AEFHILMNORSX" and words[1].isupper())
        return f"{'an' if vowel_sound else 'a'} {words}"


COMMISSIONER_KINDS = frozenset(
    {
        OrganisationKind.NATIONAL_COMMISSIONER,
        OrganisationKind.REGION,
        OrganisationKind.ICB,
        OrganisationKind.ICB_SUB_LOCATION,
    }
)


class ApprovalMode(enum.StrEnum):
    """How a practice's claims reach the commissioner."""

    ONE_STEP = "One-step"
    TWO_STEP = "Two-step"


class Organisation(db.Model):  # type: ignore[name-defined,misc]
    """An NHS organisation, identified by its ODS code."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'GP_PRACTICE') = (approval_mode IS NOT NULL)",
            name="approval_mode_only_for_practices",
        ),
        CheckConstraint(
            "active_to IS NULL OR active_to >= active_from", name="active_dates_in_order"
        ),
        CheckConstraint("ods_code = upper(ods_code)", name="ods_code_upper_case"),
    )

    id: Mapped[intpk]
    #: Organisation Data Service code, upper case (e.g. A81001 for a GP practice).
    ods_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        enum_column(OrganisationKind, "organisation_kind")
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    active_from: Mapped[dt.date] = mapped_column(Date)
    active_to: Mapped[dt.date | None] = mapped_column(Date)
    #: Practices only: one-step or two-step claim approval. Changed by the ICB alone.
    approval_mode: Mapped[ApprovalMode | None] = mapped_column(
        enum_column(ApprovalMode, "approval_mode")
    )
    created_at: Mapped[created_at]

    parent: Mapped[Organisation | None] = relationship(remote_side="Organisation.id", lazy="joined")

    def __repr__(self) -> str:
        return f"<Organisation {self.ods_code} {self.name!r}>"

    def __str__(self) -> str:
        # What the admin shows for a related organisation (a parent), as people read it.
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.ods_code})"

    def is_active_on(self, day: dt.date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class NetworkMembership(db.Model):  # type: ignore[name-defined,misc]
    """A practice's membership of a primary care network over a dated period.

    ``end_date`` is inclusive; an open membership has none. Periods of one practice never
    overlap: the service refuses them and, on PostgreSQL, an exclusion constraint created by
    the migration does too.
    """

    __tablename__ = "network_membership"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_in_order"),
        Index("ix_network_membership_practice_start", "practice_id", "start_date"),
    )

    id: Mapped[intpk]
    practice_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    network_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[created_at]

    practice: Mapped[Organisation] = relationship(foreign_keys=[practice_id])
    network: Mapped[Organisation] = relationship(foreign_keys=[network_id])

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class OdsImport(db.Model):  # type: ignore[name-defined,misc]
    """One import of Organisation Data Service files (``claims-portal organisations
    import-ods``): the files read (name, layout, SHA-256, records), what it did, who ran it
    and when. Its changes are the :class:`OrganisationChange` rows."""

    __tablename__ = "ods_import"

    id: Mapped[intpk]
    #: ``[{"name", "layout", "sha256", "records"}]``, in the order they were read.
    files: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    #: SHA-256 of the files' own hashes in order: the same files give the same value.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: The day the mapping file describes (its memberships start then; an ORD file's dates
    #: are its own).
    as_of: Mapped[dt.date] = mapped_column(Date)
    records: Mapped[int] = mapped_column(Integer, default=0)
    organisations_created: Mapped[int] = mapped_column(Integer, default=0)
    organisations_changed: Mapped[int] = mapped_column(Integer, default=0)
    memberships_added: Mapped[int] = mapped_column(Integer, default=0)
    memberships_ended: Mapped[int] = mapped_column(Integer, default=0)
    participations_ended: Mapped[int] = mapped_column(Integer, default=0)
    #: Changes found but not made (a practice with claims moving commissioner).
    changes_held: Mapped[int] = mapped_column(Integer, default=0)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Who ran it when no person is signed in (the command line: the system user).
    run_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[created_at]


class OrganisationChange(db.Model):  # type: ignore[name-defined,misc]
    """One thing an ODS import changed about an organisation (or found and held back).

    ``field`` is what changed: ``created``, ``name``, ``active_from``, ``active_to``,
    ``parent``, ``membership_added``, ``membership_ended``, ``participation_ended``; ``old``
    and ``new`` are as the file and the portal spell them (ODS codes, ISO dates).
    ``held_reason`` set: the change was not made, and says why.
    """

    __tablename__ = "organisation_change"
    __table_args__ = (Index("ix_organisation_change_organisation", "organisation_id", "id"),)

    id: Mapped[intpk]
    import_id: Mapped[int] = mapped_column(ForeignKey("ods_import.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    field: Mapped[str] = mapped_column(String(40))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    held_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at]

    ods_import: Mapped[OdsImport] = relationship()
    organisation: Mapped[Organisation] = relationship()
