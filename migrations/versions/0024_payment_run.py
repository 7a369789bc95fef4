"""The payment run (issue 15): payment_run, payment_file, payment (one row of a file or a
payment recorded by hand; a claim in at most one live payment, by a partial unique index),
payment_recovery (two finance people), payment_response and payment_statement.

Revision ID: 0024_payment_run
Revises: 0023_icb_payment_settings
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_payment_run"
down_revision = "0023_icb_payment_settings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payment_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=60), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("SCHEDULED", "BY_HAND", name="payment_run_kind", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["icb_id"], ["organisation.id"], name=op.f("fk_payment_run_icb_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_run_started_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_run")),
        sa.UniqueConstraint("slot", name=op.f("uq_payment_run_slot")),
    )
    op.create_table(
        "payment_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organisation.id"],
            name=op.f("fk_payment_statement_provider_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_statement")),
        sa.UniqueConstraint("provider_id", "month", name="uq_statement_month"),
    )
    op.create_table(
        "payment_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("agency_account", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "WRITTEN",
                "SENT",
                "ACCEPTED",
                "PARTLY_REJECTED",
                "REJECTED",
                "FAILED",
                "WITHDRAWN",
                name="payment_file_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("sends", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sends >= 0 AND sends <= 4", name=op.f("ck_payment_file_sends_range")),
        sa.ForeignKeyConstraint(
            ["icb_id"], ["organisation.id"], name=op.f("fk_payment_file_icb_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payment_run.id"], name=op.f("fk_payment_file_run_id_payment_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_file")),
        sa.UniqueConstraint("name", name=op.f("uq_payment_file_name")),
        sa.UniqueConstraint("run_id", "icb_id", name="uq_payment_file_run_icb"),
        sa.UniqueConstraint("sha256", name=op.f("uq_payment_file_sha256")),
    )
    with op.batch_alter_table("payment_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_file_icb_id"), ["icb_id"], unique=False)

    op.create_table(
        "payment_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["payment_file.id"], name=op.f("fk_payment_response_file_id_payment_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_response")),
        sa.UniqueConstraint("sha256", name=op.f("uq_payment_response_sha256")),
    )
    op.create_table(
        "payment_recovery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "AWAITING_APPROVAL",
                "APPROVED",
                "DECLINED",
                "RECOVERED",
                name="recovery_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("raised_by_id", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_recovery_amount_positive")),
        sa.CheckConstraint(
            "decided_by_id IS NULL OR decided_by_id <> raised_by_id",
            name=op.f("ck_payment_recovery_two_people"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_payment_recovery_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_recovery_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_recovery_raised_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_recovery")),
    )
    with op.batch_alter_table("payment_recovery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_recovery_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("recovery_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("paycode", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payment_month", sa.String(length=7), nullable=False),
        sa.Column("financial_year", sa.String(length=7), nullable=False),
        sa.Column("approved_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "ACCEPTED",
                "REJECTED",
                "PAID",
                "WITHDRAWN",
                name="payment_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("paid_date", sa.Date(), nullable=True),
        sa.Column("agency_reference", sa.String(length=50), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'PAID' OR paid_date IS NOT NULL", name=op.f("ck_payment_paid_has_date")
        ),
        sa.CheckConstraint(
            "(file_id IS NULL) = (recorded_by_id IS NOT NULL)",
            name=op.f("ck_payment_in_a_file_or_by_hand"),
        ),
        sa.CheckConstraint(
            "(recovery_id IS NULL AND amount > 0) OR (recovery_id IS NOT NULL AND amount < 0)",
            name=op.f("ck_payment_sign_by_kind"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_payment_amount_not_zero")),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_payment_claim_id_claim")),
        sa.ForeignKeyConstraint(
            ["file_id"], ["payment_file.id"], name=op.f("fk_payment_file_id_payment_file")
        ),
        sa.ForeignKeyConstraint(
            ["icb_id"], ["organisation.id"], name=op.f("fk_payment_icb_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organisation.id"], name=op.f("fk_payment_provider_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["recovery_id"],
            ["payment_recovery.id"],
            name=op.f("fk_payment_recovery_id_payment_recovery"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_payment_scheme_id_scheme")
        ),
        sa.ForeignKeyConstraint(
            ["settled_by_id"],
            ["user_account.id"],
            name=op.f("fk_payment_settled_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("reference", name=op.f("uq_payment_reference")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_icb_id"), ["icb_id"], unique=False)
        batch_op.create_index(
            "ix_payment_provider_paid", ["provider_id", "paid_date"], unique=False
        )
        batch_op.create_index(
            "uq_payment_live_claim",
            ["claim_id"],
            unique=True,
            postgresql_where=sa.text(
                "recovery_id IS NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
            sqlite_where=sa.text(
                "recovery_id IS NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
        )
        batch_op.create_index(
            "uq_payment_live_recovery",
            ["recovery_id"],
            unique=True,
            postgresql_where=sa.text(
                "recovery_id IS NOT NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
            sqlite_where=sa.text(
                "recovery_id IS NOT NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
        )


def downgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_payment_live_recovery",
            postgresql_where=sa.text(
                "recovery_id IS NOT NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
            sqlite_where=sa.text(
                "recovery_id IS NOT NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
        )
        batch_op.drop_index(
            "uq_payment_live_claim",
            postgresql_where=sa.text(
                "recovery_id IS NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
            sqlite_where=sa.text(
                "recovery_id IS NULL AND status IN ('PENDING', 'ACCEPTED', 'PAID')"
            ),
        )
        batch_op.drop_index("ix_payment_provider_paid")
        batch_op.drop_index(batch_op.f("ix_payment_icb_id"))
        batch_op.drop_index(batch_op.f("ix_payment_file_id"))
        batch_op.drop_index(batch_op.f("ix_payment_claim_id"))

    op.drop_table("payment")
    with op.batch_alter_table("payment_recovery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_recovery_claim_id"))

    op.drop_table("payment_recovery")
    op.drop_table("payment_response")
    with op.batch_alter_table("payment_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_file_icb_id"))

    op.drop_table("payment_file")
    op.drop_table("payment_statement")
    op.drop_table("payment_run")
