"""National quality services (issue 16): services per financial year, their indicators and
reference values, offers and participation, achievement data and calculated results, and the
declaration a provider makes on them (the declaration's flow comes in the next issue).

Statuses are ``StrEnum``s named as users read them; every status change goes through a
transition table in ``services/`` (``Machine``). Money columns are ``Money`` and are computed
only by ``claims_portal.calculation``. The rules live in ``services/``.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
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

from claims_portal.db import (
    Money,
    Points,
    Prevalence,
    Ratio,
    Share,
    UTCDateTime,
    created_at,
    enum_column,
    intpk,
)
from claims_portal.extensions import db
from claims_portal.organisations.models import Organisation


class ServiceKind(enum.StrEnum):
    QOF = "Quality and Outcomes Framework"
    ENHANCED_SERVICE = "Enhanced service"
    VACCINATION = "Vaccination and immunisation"
    PARTICIPATION_ONLY = "Participation only"


class PaymentType(enum.StrEnum):
    ACHIEVEMENT = "Achievement"
    ASPIRATION = "Aspiration"
    ITEM_OF_SERVICE = "Item of service"
    PARTICIPATION_ONLY = "Participation only"


class ProviderLevel(enum.StrEnum):
    """Who a service is offered to: practices one by one, or a PCN as a whole (its member
    practices follow and cannot be deselected)."""

    PRACTICE = "GP practice"
    NETWORK = "Primary care network"


class QualityService(db.Model):  # type: ignore[name-defined,misc]
    """A national quality service in one financial year (1 April to 31 March).

    ``code`` is the service as CQRS names it in its exports (``QUALITY_SERVICE``, e.g. ``QOF``);
    a code is unique within a year. Loaded from the versioned data files the project ships
    (``national/data/``) and edited by national administrators; every change is audited, which
    is the service's history.
    """

    __tablename__ = "quality_service"
    __table_args__ = (
        UniqueConstraint("code", "financial_year", name="uq_quality_service_code_year"),
        CheckConstraint("end_date >= start_date", name="service_dates_in_order"),
        CheckConstraint("financial_year BETWEEN 2000 AND 2100", name="financial_year_plausible"),
        CheckConstraint(
            "amendment_window_days IS NULL OR amendment_window_days >= 0",
            name="amendment_window_not_negative",
        ),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(40))
    #: The year the financial year starts in: 2025 is 2025/26.
    financial_year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ServiceKind] = mapped_column(enum_column(ServiceKind, "service_kind"))
    payment_type: Mapped[PaymentType] = mapped_column(enum_column(PaymentType, "payment_type"))
    provider_level: Mapped[ProviderLevel] = mapped_column(
        enum_column(ProviderLevel, "provider_level")
    )
    #: The service dates (inclusive).
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    #: The date by which providers answer offers, unless an offer sets its own.
    response_date: Mapped[dt.date | None] = mapped_column(Date)
    #: Accepted without an answer (participation through membership).
    automatically_accepted: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: "No Declaration Required" / "No Approval Required" when false.
    declaration_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    approval_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: Days after an achievement date in which manual data may still be amended (none: no
    #: limit until approval).
    amendment_window_days: Mapped[int | None] = mapped_column(Integer)
    #: Where the figures come from (a publication, "not public: project estimate").
    source: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The data file and version it was loaded from (``qof-2025-26.json@1``).
    data_version: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[created_at]

    achievement_dates: Mapped[list[AchievementDate]] = relationship(
        back_populates="service", order_by="AchievementDate.date"
    )
    groups: Mapped[list[IndicatorGroup]] = relationship(
        back_populates="service", order_by="IndicatorGroup.position"
    )

    @property
    def year_label(self) -> str:
        """ "2025/26"."""
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

    def __str__(self) -> str:
        return f"{self.name} {self.year_label}"


class AchievementDate(db.Model):  # type: ignore[name-defined,misc]
    """A valid achievement date of a service: a month end; some are payment dates."""

    __tablename__ = "achievement_date"
    __table_args__ = (UniqueConstraint("service_id", "date", name="uq_achievement_date"),)

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    is_payment_date: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    service: Mapped[QualityService] = relationship(back_populates="achievement_dates")


class IndicatorGroup(db.Model):  # type: ignore[name-defined,misc]
    """A group of indicators (QOF: a clinical area, within a domain such as Clinical)."""

    __tablename__ = "indicator_group"
    __table_args__ = (UniqueConstraint("service_id", "code", name="uq_indicator_group_code"),)

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    domain_code: Mapped[str] = mapped_column(String(20))
    domain_description: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    service: Mapped[QualityService] = relationship(back_populates="groups")
    indicators: Mapped[list[QualityIndicator]] = relationship(
        back_populates="group", order_by="QualityIndicator.code"
    )


class IndicatorPurpose(enum.StrEnum):
    PAYMENT = "Payment"
    MANAGEMENT_INFORMATION = "Management information"


class QualityIndicator(db.Model):  # type: ignore[name-defined,misc]
    """An indicator of a service: points, thresholds (fractions: 0.40 is 40%), the register
    its payment is weighted by (none: list size only), or a tick-box (yes/no)."""

    __tablename__ = "quality_indicator"
    __table_args__ = (
        UniqueConstraint("service_id", "code", name="uq_quality_indicator_code"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint(
            "lower_threshold IS NULL OR upper_threshold IS NULL"
            " OR (0 <= lower_threshold AND lower_threshold < upper_threshold"
            " AND upper_threshold <= 1)",
            name="thresholds_in_order",
        ),
        CheckConstraint(
            "NOT tick_box OR (lower_threshold IS NULL AND upper_threshold IS NULL)",
            name="tick_box_has_no_thresholds",
        ),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(
        ForeignKey("indicator_group.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    points: Mapped[Decimal] = mapped_column(Points)
    lower_threshold: Mapped[Decimal | None] = mapped_column(Points)
    upper_threshold: Mapped[Decimal | None] = mapped_column(Points)
    #: The prevalence register (``AF``, ``HYP``): payment weighted by prevalence when set.
    prevalence_register: Mapped[str | None] = mapped_column(String(20))
    tick_box: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    purpose: Mapped[IndicatorPurpose] = mapped_column(
        enum_column(IndicatorPurpose, "indicator_purpose"), default=IndicatorPurpose.PAYMENT
    )
    #: Entered by hand rather than extracted (QOF's quality improvement indicators).
    manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    group: Mapped[IndicatorGroup] = relationship(back_populates="indicators")


class ServiceReference(db.Model):  # type: ignore[name-defined,misc]
    """The year's reference values of a service: pounds per point, the national average
    practice list size (for the CPI), the aspiration share, and where they come from."""

    __tablename__ = "service_reference"

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(
        ForeignKey("quality_service.id", ondelete="CASCADE"), unique=True
    )
    pounds_per_point: Mapped[Decimal | None] = mapped_column(Money)
    national_average_list_size: Mapped[int | None] = mapped_column(Integer)
    aspiration_share: Mapped[Decimal | None] = mapped_column(Share)
    source: Mapped[str] = mapped_column(Text, default="", server_default="")


class NationalPrevalence(db.Model):  # type: ignore[name-defined,misc]
    """A register's national prevalence in a service's year (a fraction: 0.0215)."""

    __tablename__ = "national_prevalence"
    __table_args__ = (
        UniqueConstraint("service_id", "register", name="uq_national_prevalence"),
        CheckConstraint("prevalence > 0 AND prevalence <= 1", name="prevalence_a_fraction"),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id", ondelete="CASCADE"))
    register: Mapped[str] = mapped_column(String(20))
    prevalence: Mapped[Decimal] = mapped_column(Prevalence)
    source: Mapped[str] = mapped_column(Text, default="", server_default="")


class OfferStatus(enum.StrEnum):
    OFFERED = "Offered"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    #: An offer withdrawn before it was answered.
    WITHDRAWN = "Withdrawn"
    #: An accepted or rejected offer the commissioner cancelled.
    CANCELLED = "Cancelled"


LIVE_OFFER_STATUSES = (OfferStatus.OFFERED, OfferStatus.APPROVED, OfferStatus.REJECTED)


class ServiceOffer(db.Model):  # type: ignore[name-defined,misc]
    """A service offered to one provider, and the provider's answer: its participation.

    An approved offer is participation from ``start_date`` to ``end_date``. A member practice's
    offer that follows its PCN's (``network_offer_id``) cannot be answered or cancelled on its
    own, and ends when the practice leaves the PCN. One live offer per service and provider (a
    partial unique index).
    """

    __tablename__ = "service_offer"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="offer_dates_in_order"),
        Index(
            "uq_service_offer_live",
            "service_id",
            "provider_id",
            unique=True,
            postgresql_where=text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
            sqlite_where=text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
        ),
        Index("ix_service_offer_provider_status", "provider_id", "status"),
        Index("ix_service_offer_commissioner_service", "commissioner_id", "service_id"),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: The commissioner that offered it (an ICB, or the national commissioner).
    commissioner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.OFFERED
    )
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    response_date: Mapped[dt.date | None] = mapped_column(Date)
    #: The PCN's offer a member practice's offer follows.
    network_offer_id: Mapped[int | None] = mapped_column(ForeignKey("service_offer.id"), index=True)
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    offered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Why it was rejected, withdrawn or cancelled, or why participation ended.
    reason: Mapped[str | None] = mapped_column(Text)
    #: Optimistic check for decisions two people can take at once.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[created_at]

    service: Mapped[QualityService] = relationship()
    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    commissioner: Mapped[Organisation] = relationship(foreign_keys=[commissioner_id])
    network_offer: Mapped[ServiceOffer | None] = relationship(remote_side="ServiceOffer.id")

    def participates_on(self, day: dt.date) -> bool:
        return self.status == OfferStatus.APPROVED and self.start_date <= day <= self.end_date


class DataLayout(enum.StrEnum):
    #: CQRS's export: QUALITY_SERVICE, NAME, ORG_CODE, ACH_DATE, IND_CODE, FIELD_NAME, VALUE...
    CQRS_EXPORT = "CQRS indicator values export"
    #: The published QOF open data: PRACTICE_CODE, INDICATOR_CODE, MEASURE, VALUE.
    QOF_OPEN_DATA = "QOF open data (long format)"


class LoadStatus(enum.StrEnum):
    CHECKING = "Checking"
    #: Checked, with problems: waits for the person to load only the valid rows, or not.
    HAS_PROBLEMS = "Has problems"
    LOADING = "Loading"
    LOADED = "Loaded"
    #: Loaded the valid rows only.
    PARTLY_LOADED = "Partly loaded"
    NOT_LOADED = "Not loaded"
    FAILED = "Failed"


class AchievementLoad(db.Model):  # type: ignore[name-defined,misc]
    """An extract file uploaded to be checked and loaded (a job with progress)."""

    __tablename__ = "achievement_load"

    id: Mapped[intpk]
    service_id: Mapped[int | None] = mapped_column(ForeignKey("quality_service.id"))
    layout: Mapped[DataLayout | None] = mapped_column(enum_column(DataLayout, "data_layout"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    #: Where the uploaded file is kept while it is checked and loaded.
    storage_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[LoadStatus] = mapped_column(
        enum_column(LoadStatus, "load_status"), default=LoadStatus.CHECKING
    )
    rows_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_valid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    problem_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[created_at]


class LoadProblem(db.Model):  # type: ignore[name-defined,misc]
    """A problem found in one row of an extract file: its row and column, and what is wrong."""

    __tablename__ = "load_problem"
    __table_args__ = (Index("ix_load_problem_load_row", "load_id", "row_number"),)

    id: Mapped[intpk]
    load_id: Mapped[int] = mapped_column(ForeignKey("achievement_load.id", ondelete="CASCADE"))
    #: The file's line number (the header is line 1); 0 for the file as a whole.
    row_number: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)


class SubmissionSource(enum.StrEnum):
    EXTRACT = "Extract"
    MANUAL = "Manual entry"
    #: Entered by the commissioner on the provider's behalf.
    COMMISSIONER = "Commissioner entry"


class SubmissionStatus(enum.StrEnum):
    WORK_IN_PROGRESS = "Work in progress"
    SUBMITTED = "Submitted"


class DataSubmission(db.Model):  # type: ignore[name-defined,misc]
    """One submission of achievement data for a provider, service and achievement date: a
    provider's rows of one extract load, or a manual entry of one indicator group.

    The last submission wins value by value (``AchievementValue.last_submission``); earlier
    ones are kept.
    """

    __tablename__ = "data_submission"
    __table_args__ = (
        Index(
            "ix_data_submission_provider_service_date",
            "provider_id",
            "service_id",
            "achievement_date",
        ),
        # What a value's one foreign key refers to (see ``AchievementValue``).
        UniqueConstraint(
            "id", "service_id", "provider_id", "achievement_date", name="uq_data_submission_key"
        ),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    achievement_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[SubmissionSource] = mapped_column(
        enum_column(SubmissionSource, "submission_source")
    )
    status: Mapped[SubmissionStatus] = mapped_column(
        enum_column(SubmissionStatus, "submission_status")
    )
    #: Manual entries are per indicator group.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("indicator_group.id"))
    load_id: Mapped[int | None] = mapped_column(ForeignKey("achievement_load.id"), index=True)
    #: Shown to later submitters and reviewers.
    notes: Mapped[str | None] = mapped_column(Text)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[created_at]

    service: Mapped[QualityService] = relationship()
    provider: Mapped[Organisation] = relationship()
    group: Mapped[IndicatorGroup | None] = relationship()


class AchievementValue(db.Model):  # type: ignore[name-defined,misc]
    """One figure of a submission: an indicator's NUMERATOR, DENOMINATOR, PCAS, EXCLUSIONS or
    ANSWER (a tick-box: 1 yes, 0 no), a register's REGISTER (``code`` is the register), or
    the practice's LIST_SIZE (``code`` is ``LIST_SIZE``).

    ``last_submission`` marks the value that counts (CQRS's ``LAST_SUBMISSION = Y``): the
    newest submitted one for its provider, service, date, code and field.

    One foreign key, to the submission's id with its service, provider and date: the copies
    kept on the value always agree with the submission (whose own keys check the service and
    provider exist), and a load of two million values checks one key a row, not three.
    """

    __tablename__ = "achievement_value"
    __table_args__ = (
        CheckConstraint("value >= 0", name="value_not_negative"),
        ForeignKeyConstraint(
            ["submission_id", "service_id", "provider_id", "achievement_date"],
            [
                "data_submission.id",
                "data_submission.service_id",
                "data_submission.provider_id",
                "data_submission.achievement_date",
            ],
            ondelete="CASCADE",
            name="fk_achievement_value_submission",
        ),
        Index(
            "ix_achievement_value_current",
            "service_id",
            "provider_id",
            "achievement_date",
            postgresql_where=text("last_submission"),
            sqlite_where=text("last_submission"),
        ),
    )

    # The key: a submission holds one value of each code and field (no surrogate id: a
    # year-end load writes two million values, and each index costs every one of them).
    submission_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Kept on the value too, so that the current figures are one indexed read.
    service_id: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[int] = mapped_column(Integer)
    achievement_date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[int] = mapped_column(BigInteger)
    last_submission: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CalculatedAchievement(db.Model):  # type: ignore[name-defined,misc]
    """A provider's achievement for a service and achievement date, as the calculation core
    computed it from the figures that counted then: totals, each indicator's points and
    payment (``indicators``), the CPI and prevalence factors, and the explanation."""

    __tablename__ = "calculated_achievement"
    __table_args__ = (
        UniqueConstraint(
            "service_id", "provider_id", "achievement_date", name="uq_calculated_achievement"
        ),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    achievement_date: Mapped[dt.date] = mapped_column(Date)
    list_size: Mapped[int | None] = mapped_column(Integer)
    contractor_population_index: Mapped[Decimal | None] = mapped_column(Ratio)
    points: Mapped[Decimal] = mapped_column(Points)
    total: Mapped[Decimal] = mapped_column(Money)
    #: Per indicator: code, points, payment, achievement rate, prevalence factor.
    indicators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The core's explanation (``Explanation.as_dict()``) of the totals.
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: SHA-256 of the inputs, so that a recalculation that changes nothing is seen as such.
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    calculated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    service: Mapped[QualityService] = relationship()
    provider: Mapped[Organisation] = relationship()


class DeclarationStatus(enum.StrEnum):
    """Names seen in CQRS where public ("Awaiting Service Provider Approval"...); the later
    ones are the project's."""

    AWAITING_SERVICE_PROVIDER_APPROVAL = "Awaiting service provider approval"
    AWAITING_NETWORK_ACHIEVEMENT = "Awaiting network achievement"
    AWAITING_COMMISSIONER_APPROVAL = "Awaiting commissioning organisation approval"
    AWAITING_FINANCE_APPROVAL = "Awaiting finance approval"
    APPROVED = "Approved"
    SENT_FOR_PAYMENT = "Sent for payment"
    PAID = "Paid"


class Declaration(db.Model):  # type: ignore[name-defined,misc]
    """A provider's declaration of its achievement for a service and achievement date (its
    flow, approvals, network achievement and aspiration payments come in the next issue).

    It points at the calculated achievement it declares; a recalculation that changes the
    achievement sends it back to "Awaiting service provider approval"."""

    __tablename__ = "declaration"
    __table_args__ = (
        UniqueConstraint("service_id", "provider_id", "achievement_date", name="uq_declaration"),
    )

    id: Mapped[intpk]
    service_id: Mapped[int] = mapped_column(ForeignKey("quality_service.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    achievement_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[DeclarationStatus] = mapped_column(
        enum_column(DeclarationStatus, "declaration_status"),
        default=DeclarationStatus.AWAITING_SERVICE_PROVIDER_APPROVAL,
    )
    calculated_id: Mapped[int | None] = mapped_column(ForeignKey("calculated_achievement.id"))
    #: The total declared (what approvers approve; the calculation may move on after).
    declared_total: Mapped[Decimal | None] = mapped_column(Money)
    #: Aspiration payments already paid this year, reconciled at year end.
    aspiration_paid: Mapped[Decimal | None] = mapped_column(Money)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    declared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finance_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    finance_approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[created_at]
