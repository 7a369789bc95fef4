"""Local schemes: what an ICB commissions, what it pays per unit and when practices claim.

A :class:`Scheme` belongs to a commissioner (an ICB or one of its sub-locations) and one
financial year. It holds :class:`Component` rows (each with a history of :class:`Tariff`
values and optional caps), :class:`ClaimWindow` rows (one per claim period),
:class:`SupplementaryQuestion` rows and :class:`Offer` rows (one per provider it is offered
to). The rules live in ``services.py``; these classes only describe the data.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from claims_portal.access.models import User
from claims_portal.db import Money, UTCDateTime, created_at, enum_column, intpk
from claims_portal.extensions import db
from claims_portal.formatting import long_date, month_year
from claims_portal.organisations.models import Organisation


class SchemeStatus(enum.StrEnum):
    DRAFT = "Draft"
    PUBLISHED = "Published"
    CLOSED = "Closed"


class ClaimFrequency(enum.StrEnum):
    MONTHLY = "Monthly"
    QUARTERLY = "Quarterly"
    ANNUAL = "Annual"
    AD_HOC = "Ad hoc"


class EvidenceRequirement(enum.StrEnum):
    NOT_REQUIRED = "Not required"
    WHOLE_SCHEME = "Required for every claim"
    PER_COMPONENT = "Set for each component"


class QuestionKind(enum.StrEnum):
    TEXT = "Text"
    NUMBER = "Number"
    YES_NO = "Yes or no"
    DATE = "Date"
    SINGLE_CHOICE = "Single choice"


class OfferStatus(enum.StrEnum):
    """Where an offer stands, as the provider and the commissioner read it."""

    PENDING = "Pending"
    ACTIVE = "Active"
    REJECTED = "Rejected"
    #: The provider rejected it, then asked for it again; the commissioner may reissue it.
    RE_REQUESTED = "Re-requested"
    #: The commissioner took it back before the provider answered.
    WITHDRAWN = "Withdrawn"
    #: The commissioner ended it after the provider had accepted or rejected it.
    CANCELLED = "Cancelled"


#: Offers in these states are history: a new offer of the same scheme may be made.
ENDED_OFFER_STATUSES = frozenset({OfferStatus.WITHDRAWN, OfferStatus.CANCELLED})


class Scheme(db.Model):  # type: ignore[name-defined,misc]
    """A local enhanced service or local incentive scheme for one financial year."""

    __tablename__ = "scheme"
    __table_args__ = (
        UniqueConstraint("commissioner_id", "code", name="uq_scheme_commissioner_code"),
        CheckConstraint("end_date >= start_date", name="dates_in_order"),
        CheckConstraint("window_days >= 1 AND window_days <= 366", name="window_days_range"),
        CheckConstraint("code = upper(code)", name="code_upper_case"),
        CheckConstraint(
            "pay_through_agency = (agency_enrolment_date IS NOT NULL)",
            name="enrolment_date_when_paid_through_agency",
        ),
    )

    id: Mapped[intpk]
    #: Short reference, upper case, unique within the commissioner (e.g. LES-HC-2627).
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The ICB or ICB sub-location that commissions and pays for the scheme.
    commissioner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    #: Financial year label, 1 April to 31 March, like ``2026/27``.
    financial_year: Mapped[str] = mapped_column(String(7))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[SchemeStatus] = mapped_column(
        enum_column(SchemeStatus, "scheme_status"), default=SchemeStatus.DRAFT
    )
    claim_frequency: Mapped[ClaimFrequency] = mapped_column(
        enum_column(ClaimFrequency, "claim_frequency")
    )
    #: Days a generated claim window stays open after its period ends.
    window_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    evidence_requirement: Mapped[EvidenceRequirement] = mapped_column(
        enum_column(EvidenceRequirement, "evidence_requirement"),
        default=EvidenceRequirement.NOT_REQUIRED,
    )
    multi_service_claims: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: No payment lines: providers confirm they take part (claims total 0.00).
    participation_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    pay_through_agency: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: From when the payments agency pays the scheme's claims: claims approved before it are
    #: never picked up by the payment run. Set exactly when paid through the agency (the
    #: scheme's start date unless given); locked once the scheme is published.
    agency_enrolment_date: Mapped[dt.date | None] = mapped_column(Date)
    #: The payments agency's code for this scheme; locked once the scheme is published.
    paycode: Mapped[str | None] = mapped_column(String(20))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    commissioner: Mapped[Organisation] = relationship(lazy="joined")
    components: Mapped[list[Component]] = relationship(
        back_populates="scheme", order_by="Component.code"
    )
    windows: Mapped[list[ClaimWindow]] = relationship(
        back_populates="scheme", order_by="ClaimWindow.period_start"
    )
    questions: Mapped[list[SupplementaryQuestion]] = relationship(
        back_populates="scheme",
        order_by="(SupplementaryQuestion.display_order, SupplementaryQuestion.id)",
    )
    shares: Mapped[list[SchemeShare]] = relationship(back_populates="scheme")
    offers: Mapped[list[Offer]] = relationship(back_populates="scheme", order_by="Offer.id")

    def __repr__(self) -> str:
        return f"<Scheme {self.code} {self.status.name}>"

    def __str__(self) -> str:
        return f"{self.code} - {self.name}"

    @property
    def is_draft(self) -> bool:
        return self.status is SchemeStatus.DRAFT

    @property
    def shared_with(self) -> list[Organisation]:
        return [share.commissioner for share in self.shares]


class SchemeShare(db.Model):  # type: ignore[name-defined,misc]
    """Another commissioner may see a scheme and offer it to its own providers."""

    __tablename__ = "scheme_share"
    __table_args__ = (
        UniqueConstraint(
            "scheme_id", "commissioner_id", name="uq_scheme_share_scheme_commissioner"
        ),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"))
    commissioner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[created_at]

    scheme: Mapped[Scheme] = relationship(back_populates="shares")
    commissioner: Mapped[Organisation] = relationship(lazy="joined")


class Component(db.Model):  # type: ignore[name-defined,misc]
    """Something a scheme pays for, by the unit (e.g. "health check completed").

    Caps are optional. ``max_units_per_claim`` limits one claim; the period and year caps
    limit what a provider is paid across its claims, in units or in pounds.
    """

    __tablename__ = "scheme_component"
    __table_args__ = (
        UniqueConstraint("scheme_id", "code", name="uq_scheme_component_scheme_code"),
        CheckConstraint(
            "(max_units_per_claim IS NULL OR max_units_per_claim >= 0)"
            " AND (period_cap_units IS NULL OR period_cap_units >= 0)"
            " AND (year_cap_units IS NULL OR year_cap_units >= 0)"
            " AND (period_cap_amount IS NULL OR period_cap_amount >= 0)"
            " AND (year_cap_amount IS NULL OR year_cap_amount >= 0)",
            name="caps_not_negative",
        ),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    unit_label: Mapped[str] = mapped_column(String(120))
    max_units_per_claim: Mapped[int | None] = mapped_column(Integer)
    period_cap_units: Mapped[int | None] = mapped_column(Integer)
    period_cap_amount: Mapped[Decimal | None] = mapped_column(Money)
    year_cap_units: Mapped[int | None] = mapped_column(Integer)
    year_cap_amount: Mapped[Decimal | None] = mapped_column(Money)
    #: Used when the scheme sets evidence per component.
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[created_at]

    scheme: Mapped[Scheme] = relationship(back_populates="components")
    tariffs: Mapped[list[Tariff]] = relationship(
        back_populates="component", order_by="Tariff.effective_from"
    )

    def __repr__(self) -> str:
        return f"<Component {self.code}>"

    def __str__(self) -> str:
        return f"{self.scheme.code} / {self.code} - {self.name}"


class Tariff(db.Model):  # type: ignore[name-defined,misc]
    """A component's unit value from a date. A new value is a new row (history is kept)."""

    __tablename__ = "scheme_tariff"
    __table_args__ = (
        UniqueConstraint(
            "component_id", "effective_from", name="uq_scheme_tariff_component_effective_from"
        ),
        CheckConstraint("unit_value >= 0", name="unit_value_not_negative"),
    )

    id: Mapped[intpk]
    component_id: Mapped[int] = mapped_column(ForeignKey("scheme_component.id"), index=True)
    #: Pounds per unit.
    unit_value: Mapped[Decimal] = mapped_column(Money)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[created_at]

    component: Mapped[Component] = relationship(back_populates="tariffs")

    def __repr__(self) -> str:
        return f"<Tariff {self.unit_value} from {self.effective_from}>"

    def __str__(self) -> str:
        return f"£{self.unit_value} from {self.effective_from.isoformat()}"


class ClaimWindow(db.Model):  # type: ignore[name-defined,misc]
    """One claim period of a scheme and the dates between which it can be claimed.

    Both periods and windows are inclusive of their end dates.
    """

    __tablename__ = "claim_window"
    __table_args__ = (
        UniqueConstraint("scheme_id", "period_start", name="uq_claim_window_scheme_period_start"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("closes_on >= opens_on", name="window_in_order"),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[created_at]

    scheme: Mapped[Scheme] = relationship(back_populates="windows")

    def __repr__(self) -> str:
        return f"<ClaimWindow {self.period_start}..{self.period_end}>"

    def __str__(self) -> str:
        return self.period_label

    @property
    def period_label(self) -> str:
        start, end = self.period_start, self.period_end
        if start.day == 1 and start.month == end.month and start.year == end.year:
            return month_year(start)
        return f"{long_date(start)} to {long_date(end)}"

    def is_open_on(self, day: dt.date) -> bool:
        return self.opens_on <= day <= self.closes_on


class SupplementaryQuestion(db.Model):  # type: ignore[name-defined,misc]
    """A question a provider answers on every claim under the scheme."""

    __tablename__ = "supplementary_question"

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "question_kind"))
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    help_text: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: Single choice only: the options, one per line.
    choices: Mapped[str] = mapped_column(Text, default="", server_default="")
    display_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[created_at]

    scheme: Mapped[Scheme] = relationship(back_populates="questions")

    def __str__(self) -> str:
        return self.text

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class Offer(db.Model):  # type: ignore[name-defined,misc]
    """A scheme offered to one provider (practice, PCN or federation).

    Offers are never deleted: withdrawn and cancelled ones stay as history, and at most one
    offer of a scheme to a provider is live (not withdrawn or cancelled) at a time.
    """

    __tablename__ = "scheme_offer"
    __table_args__ = (
        Index(
            "uq_scheme_offer_live",
            "scheme_id",
            "provider_id",
            unique=True,
            postgresql_where=text("status NOT IN ('WITHDRAWN', 'CANCELLED')"),
            sqlite_where=text("status NOT IN ('WITHDRAWN', 'CANCELLED')"),
        ),
    )

    id: Mapped[intpk]
    scheme_id: Mapped[int] = mapped_column(ForeignKey("scheme.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.PENDING
    )
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The provider's reason for rejecting, or the commissioner's for withdrawing/cancelling.
    reason: Mapped[str | None] = mapped_column(String(1000))
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[created_at]

    scheme: Mapped[Scheme] = relationship(back_populates="offers")
    provider: Mapped[Organisation] = relationship(lazy="joined")
    offered_by: Mapped[User | None] = relationship(foreign_keys=[offered_by_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.status.name}>"

    def __str__(self) -> str:
        return f"{self.scheme.code} to {self.provider.display_name}"

    @property
    def is_live(self) -> bool:
        return self.status not in ENDED_OFFER_STATUSES
