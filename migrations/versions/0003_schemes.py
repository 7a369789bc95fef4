"""Schemes: components, tariffs, claim windows, questions, offers (issue 5).

Revision ID: 0003_schemes
Revises: 0002_access
Create Date: 2026-11-23

At most one live offer of a scheme to a provider: a partial unique index (PostgreSQL and
SQLite both support ``WHERE`` on an index).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_schemes"
down_revision = "0002_access"
branch_labels = None
depends_on = None

LIVE_OFFER = sa.text("status NOT IN ('WITHDRAWN', 'CANCELLED')")


def _created_at():
    return sa.Column(
        "created_at",
        sa.DateTime(timezone=True),
        server_default=sa.text("CURRENT_TIMESTAMP"),
        nullable=False,
    )


def _enum(name, *members):
    return sa.Enum(*members, name=name, native_enum=False, length=40)


def upgrade():
    op.create_table(
        "scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("commissioner_id", sa.Integer(), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", _enum("scheme_status", "DRAFT", "PUBLISHED", "CLOSED"), nullable=False),
        sa.Column(
            "claim_frequency",
            _enum("claim_frequency", "MONTHLY", "QUARTERLY", "ANNUAL", "AD_HOC"),
            nullable=False,
        ),
        sa.Column("window_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column(
            "evidence_requirement",
            _enum("evidence_requirement", "NOT_REQUIRED", "WHOLE_SCHEME", "PER_COMPONENT"),
            nullable=False,
        ),
        sa.Column(
            "multi_service_claims", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "participation_only", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "pay_through_agency", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("paycode", sa.String(length=20), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.CheckConstraint("code = upper(code)", name=op.f("ck_scheme_code_upper_case")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_scheme_dates_in_order")),
        sa.CheckConstraint(
            "window_days >= 1 AND window_days <= 366", name=op.f("ck_scheme_window_days_range")
        ),
        sa.ForeignKeyConstraint(
            ["commissioner_id"],
            ["organisation.id"],
            name=op.f("fk_scheme_commissioner_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme")),
        sa.UniqueConstraint("commissioner_id", "code", name="uq_scheme_commissioner_code"),
    )
    op.create_index(op.f("ix_scheme_commissioner_id"), "scheme", ["commissioner_id"])

    op.create_table(
        "scheme_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("commissioner_id", sa.Integer(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["commissioner_id"],
            ["organisation.id"],
            name=op.f("fk_scheme_share_commissioner_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_scheme_share_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_share")),
        sa.UniqueConstraint(
            "scheme_id", "commissioner_id", name="uq_scheme_share_scheme_commissioner"
        ),
    )
    op.create_index(op.f("ix_scheme_share_commissioner_id"), "scheme_share", ["commissioner_id"])

    op.create_table(
        "scheme_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_label", sa.String(length=120), nullable=False),
        sa.Column("max_units_per_claim", sa.Integer(), nullable=True),
        sa.Column("period_cap_units", sa.Integer(), nullable=True),
        sa.Column("period_cap_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("year_cap_units", sa.Integer(), nullable=True),
        sa.Column("year_cap_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "evidence_required", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        _created_at(),
        sa.CheckConstraint(
            "(max_units_per_claim IS NULL OR max_units_per_claim >= 0)"
            " AND (period_cap_units IS NULL OR period_cap_units >= 0)"
            " AND (year_cap_units IS NULL OR year_cap_units >= 0)"
            " AND (period_cap_amount IS NULL OR period_cap_amount >= 0)"
            " AND (year_cap_amount IS NULL OR year_cap_amount >= 0)",
            name=op.f("ck_scheme_component_caps_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_scheme_component_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_component")),
        sa.UniqueConstraint("scheme_id", "code", name="uq_scheme_component_scheme_code"),
    )
    op.create_index(op.f("ix_scheme_component_scheme_id"), "scheme_component", ["scheme_id"])

    op.create_table(
        "scheme_tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("unit_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "unit_value >= 0", name=op.f("ck_scheme_tariff_unit_value_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["scheme_component.id"],
            name=op.f("fk_scheme_tariff_component_id_scheme_component"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_tariff")),
        sa.UniqueConstraint(
            "component_id", "effective_from", name="uq_scheme_tariff_component_effective_from"
        ),
    )
    op.create_index(op.f("ix_scheme_tariff_component_id"), "scheme_tariff", ["component_id"])

    op.create_table(
        "claim_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        _created_at(),
        sa.CheckConstraint("closes_on >= opens_on", name=op.f("ck_claim_window_window_in_order")),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_claim_window_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_claim_window_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_window")),
        sa.UniqueConstraint(
            "scheme_id", "period_start", name="uq_claim_window_scheme_period_start"
        ),
    )
    op.create_index(op.f("ix_claim_window_scheme_id"), "claim_window", ["scheme_id"])

    op.create_table(
        "supplementary_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column(
            "kind",
            _enum("question_kind", "TEXT", "NUMBER", "YES_NO", "DATE", "SINGLE_CHOICE"),
            nullable=False,
        ),
        sa.Column("required", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("help_text", sa.String(length=500), server_default="", nullable=False),
        sa.Column("choices", sa.Text(), server_default="", nullable=False),
        sa.Column("display_order", sa.Integer(), server_default="0", nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_supplementary_question_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplementary_question")),
    )
    op.create_index(
        op.f("ix_supplementary_question_scheme_id"), "supplementary_question", ["scheme_id"]
    )

    op.create_table(
        "scheme_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _enum(
                "offer_status",
                "PENDING",
                "ACTIVE",
                "REJECTED",
                "RE_REQUESTED",
                "WITHDRAWN",
                "CANCELLED",
            ),
            nullable=False,
        ),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(
            ["offered_by_id"],
            ["user_account.id"],
            name=op.f("fk_scheme_offer_offered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_scheme_offer_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["responded_by_id"],
            ["user_account.id"],
            name=op.f("fk_scheme_offer_responded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_scheme_offer_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_offer")),
    )
    op.create_index(op.f("ix_scheme_offer_provider_id"), "scheme_offer", ["provider_id"])
    op.create_index(op.f("ix_scheme_offer_scheme_id"), "scheme_offer", ["scheme_id"])
    op.create_index(
        "uq_scheme_offer_live",
        "scheme_offer",
        ["scheme_id", "provider_id"],
        unique=True,
        postgresql_where=LIVE_OFFER,
        sqlite_where=LIVE_OFFER,
    )


def downgrade():
    op.drop_table("scheme_offer")
    op.drop_table("supplementary_question")
    op.drop_table("claim_window")
    op.drop_table("scheme_tariff")
    op.drop_table("scheme_component")
    op.drop_table("scheme_share")
    op.drop_table("scheme")
