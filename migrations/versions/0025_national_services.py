"""National quality services (issue 16): quality_service per financial year with its
achievement dates, indicator groups, indicators, reference values and national prevalences;
service_offer (offers and participation; one live offer per service and provider);
achievement_load and load_problem (extract files), data_submission and achievement_value
(the figures, the last submission marked), calculated_achievement and declaration.

Revision ID: 0025_national_services
Revises: 0024_payment_run
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_national_services"
down_revision = "0024_payment_run"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quality_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("financial_year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "QOF",
                "ENHANCED_SERVICE",
                "VACCINATION",
                "PARTICIPATION_ONLY",
                name="service_kind",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "payment_type",
            sa.Enum(
                "ACHIEVEMENT",
                "ASPIRATION",
                "ITEM_OF_SERVICE",
                "PARTICIPATION_ONLY",
                name="payment_type",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "provider_level",
            sa.Enum("PRACTICE", "NETWORK", name="provider_level", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("response_date", sa.Date(), nullable=True),
        sa.Column(
            "automatically_accepted", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "declaration_required", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "approval_required", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("amendment_window_days", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("data_version", sa.String(length=80), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amendment_window_days IS NULL OR amendment_window_days >= 0",
            name=op.f("ck_quality_service_amendment_window_not_negative"),
        ),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_quality_service_service_dates_in_order")
        ),
        sa.CheckConstraint(
            "financial_year BETWEEN 2000 AND 2100",
            name=op.f("ck_quality_service_financial_year_plausible"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_service")),
        sa.UniqueConstraint("code", "financial_year", name="uq_quality_service_code_year"),
    )
    op.create_table(
        "achievement_date",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("is_payment_date", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_achievement_date_service_id_quality_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievement_date")),
        sa.UniqueConstraint("service_id", "date", name="uq_achievement_date"),
    )
    op.create_table(
        "calculated_achievement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("achievement_date", sa.Date(), nullable=False),
        sa.Column("list_size", sa.Integer(), nullable=True),
        sa.Column("contractor_population_index", sa.Numeric(precision=12, scale=8), nullable=True),
        sa.Column("points", sa.Numeric(precision=10, scale=6), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=True),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=False),
        sa.Column("calculated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_calculated_achievement_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_calculated_achievement_service_id_quality_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calculated_achievement")),
        sa.UniqueConstraint(
            "service_id", "provider_id", "achievement_date", name="uq_calculated_achievement"
        ),
    )
    with op.batch_alter_table("calculated_achievement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calculated_achievement_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "indicator_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("domain_code", sa.String(length=20), nullable=False),
        sa.Column("domain_description", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_indicator_group_service_id_quality_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_group")),
        sa.UniqueConstraint("service_id", "code", name="uq_indicator_group_code"),
    )
    op.create_table(
        "national_prevalence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("register", sa.String(length=20), nullable=False),
        sa.Column("prevalence", sa.Numeric(precision=12, scale=10), nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "prevalence > 0 AND prevalence <= 1",
            name=op.f("ck_national_prevalence_prevalence_a_fraction"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_national_prevalence_service_id_quality_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_national_prevalence")),
        sa.UniqueConstraint("service_id", "register", name="uq_national_prevalence"),
    )
    op.create_table(
        "service_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("commissioner_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OFFERED",
                "APPROVED",
                "REJECTED",
                "WITHDRAWN",
                "CANCELLED",
                name="offer_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("response_date", sa.Date(), nullable=True),
        sa.Column("network_offer_id", sa.Integer(), nullable=True),
        sa.Column("offered_by_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_service_offer_offer_dates_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_offer_answered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["commissioner_id"],
            ["organisation.id"],
            name=op.f("fk_service_offer_commissioner_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["network_offer_id"],
            ["service_offer.id"],
            name=op.f("fk_service_offer_network_offer_id_service_offer"),
        ),
        sa.ForeignKeyConstraint(
            ["offered_by_id"],
            ["user_account.id"],
            name=op.f("fk_service_offer_offered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_service_offer_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_service_offer_service_id_quality_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_offer")),
    )
    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_offer_commissioner_service", ["commissioner_id", "service_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_offer_network_offer_id"), ["network_offer_id"], unique=False
        )
        batch_op.create_index(
            "ix_service_offer_provider_status", ["provider_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_service_offer_live",
            ["service_id", "provider_id"],
            unique=True,
            postgresql_where=sa.text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
            sqlite_where=sa.text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
        )

    op.create_table(
        "service_reference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("pounds_per_point", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("national_average_list_size", sa.Integer(), nullable=True),
        sa.Column("aspiration_share", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_service_reference_service_id_quality_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_reference")),
        sa.UniqueConstraint("service_id", name=op.f("uq_service_reference_service_id")),
    )
    op.create_table(
        "achievement_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column(
            "layout",
            sa.Enum(
                "CQRS_EXPORT", "QOF_OPEN_DATA", name="data_layout", native_enum=False, length=40
            ),
            nullable=True,
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "CHECKING",
                "HAS_PROBLEMS",
                "LOADING",
                "LOADED",
                "PARTLY_LOADED",
                "NOT_LOADED",
                "FAILED",
                name="load_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("rows_total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_valid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows_loaded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("problem_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_achievement_load_job_id_job")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_achievement_load_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_achievement_load_service_id_quality_service"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_achievement_load_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievement_load")),
    )
    op.create_table(
        "declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("achievement_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "AWAITING_SERVICE_PROVIDER_APPROVAL",
                "AWAITING_NETWORK_ACHIEVEMENT",
                "AWAITING_COMMISSIONER_APPROVAL",
                "AWAITING_FINANCE_APPROVAL",
                "APPROVED",
                "SENT_FOR_PAYMENT",
                "PAID",
                name="declaration_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("calculated_id", sa.Integer(), nullable=True),
        sa.Column("declared_total", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("aspiration_paid", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finance_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("finance_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_declaration_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["calculated_id"],
            ["calculated_achievement.id"],
            name=op.f("fk_declaration_calculated_id_calculated_achievement"),
        ),
        sa.ForeignKeyConstraint(
            ["declared_by_id"],
            ["user_account.id"],
            name=op.f("fk_declaration_declared_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["finance_approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_declaration_finance_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_declaration_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_declaration_service_id_quality_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration")),
        sa.UniqueConstraint("service_id", "provider_id", "achievement_date", name="uq_declaration"),
    )
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_provider_id"), ["provider_id"], unique=False
        )

    op.create_table(
        "quality_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("points", sa.Numeric(precision=10, scale=6), nullable=False),
        sa.Column("lower_threshold", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("upper_threshold", sa.Numeric(precision=10, scale=6), nullable=True),
        sa.Column("prevalence_register", sa.String(length=20), nullable=True),
        sa.Column("tick_box", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "PAYMENT",
                "MANAGEMENT_INFORMATION",
                name="indicator_purpose",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint(
            "NOT tick_box OR (lower_threshold IS NULL AND upper_threshold IS NULL)",
            name=op.f("ck_quality_indicator_tick_box_has_no_thresholds"),
        ),
        sa.CheckConstraint(
            "lower_threshold IS NULL OR upper_threshold IS NULL OR (0 <= lower_threshold AND lower_threshold < upper_threshold AND upper_threshold <= 1)",
            name=op.f("ck_quality_indicator_thresholds_in_order"),
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_quality_indicator_points_not_negative")),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["indicator_group.id"],
            name=op.f("fk_quality_indicator_group_id_indicator_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_quality_indicator_service_id_quality_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_indicator")),
        sa.UniqueConstraint("service_id", "code", name="uq_quality_indicator_code"),
    )
    with op.batch_alter_table("quality_indicator", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_indicator_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "data_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("achievement_date", sa.Date(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "EXTRACT",
                "MANUAL",
                "COMMISSIONER",
                name="submission_source",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "WORK_IN_PROGRESS",
                "SUBMITTED",
                name="submission_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("load_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["indicator_group.id"],
            name=op.f("fk_data_submission_group_id_indicator_group"),
        ),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["achievement_load.id"],
            name=op.f("fk_data_submission_load_id_achievement_load"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_data_submission_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"],
            ["user_account.id"],
            name=op.f("fk_data_submission_saved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_data_submission_service_id_quality_service"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["user_account.id"],
            name=op.f("fk_data_submission_submitted_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_submission")),
    )
    with op.batch_alter_table("data_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_submission_load_id"), ["load_id"], unique=False)
        batch_op.create_index(
            "ix_data_submission_provider_service_date",
            ["provider_id", "service_id", "achievement_date"],
            unique=False,
        )

    op.create_table(
        "load_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=60), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["achievement_load.id"],
            name=op.f("fk_load_problem_load_id_achievement_load"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_problem")),
    )
    with op.batch_alter_table("load_problem", schema=None) as batch_op:
        batch_op.create_index("ix_load_problem_load_row", ["load_id", "row_number"], unique=False)

    op.create_table(
        "achievement_value",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("achievement_date", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("last_submission", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_achievement_value_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_achievement_value_provider_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["quality_service.id"],
            name=op.f("fk_achievement_value_service_id_quality_service"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["data_submission.id"],
            name=op.f("fk_achievement_value_submission_id_data_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_achievement_value")),
        sa.UniqueConstraint("submission_id", "code", "field", name="uq_achievement_value"),
    )
    with op.batch_alter_table("achievement_value", schema=None) as batch_op:
        batch_op.create_index(
            "ix_achievement_value_current",
            ["service_id", "provider_id", "achievement_date"],
            unique=False,
            postgresql_where=sa.text("last_submission"),
            sqlite_where=sa.text("last_submission"),
        )


def downgrade():
    with op.batch_alter_table("achievement_value", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_achievement_value_current",
            postgresql_where=sa.text("last_submission"),
            sqlite_where=sa.text("last_submission"),
        )

    op.drop_table("achievement_value")
    with op.batch_alter_table("load_problem", schema=None) as batch_op:
        batch_op.drop_index("ix_load_problem_load_row")

    op.drop_table("load_problem")
    with op.batch_alter_table("data_submission", schema=None) as batch_op:
        batch_op.drop_index("ix_data_submission_provider_service_date")
        batch_op.drop_index(batch_op.f("ix_data_submission_load_id"))

    op.drop_table("data_submission")
    with op.batch_alter_table("quality_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_indicator_group_id"))

    op.drop_table("quality_indicator")
    with op.batch_alter_table("declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_declaration_provider_id"))

    op.drop_table("declaration")
    op.drop_table("achievement_load")
    op.drop_table("service_reference")
    with op.batch_alter_table("service_offer", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_service_offer_live",
            postgresql_where=sa.text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
            sqlite_where=sa.text("status IN ('OFFERED', 'APPROVED', 'REJECTED')"),
        )
        batch_op.drop_index("ix_service_offer_provider_status")
        batch_op.drop_index(batch_op.f("ix_service_offer_network_offer_id"))
        batch_op.drop_index("ix_service_offer_commissioner_service")

    op.drop_table("service_offer")
    op.drop_table("national_prevalence")
    op.drop_table("indicator_group")
    with op.batch_alter_table("calculated_achievement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calculated_achievement_provider_id"))

    op.drop_table("calculated_achievement")
    op.drop_table("achievement_date")
    op.drop_table("quality_service")
