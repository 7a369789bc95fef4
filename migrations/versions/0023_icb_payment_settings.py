"""Payments set-up (issue 15): icb_payment_settings, each ICB's agency account, finance
contacts, cut-off (8 or 9 working days before the payment date) and payment day (1-28).

Revision ID: 0023_icb_payment_settings
Revises: 0022_scheme_agency_enrolment
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_icb_payment_settings"
down_revision = "0022_scheme_agency_enrolment"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "icb_payment_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("agency_account", sa.String(length=40), nullable=False),
        sa.Column("finance_contacts", sa.JSON(), nullable=False),
        sa.Column("cut_off_working_days", sa.Integer(), nullable=False),
        sa.Column("payment_day", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "cut_off_working_days BETWEEN 8 AND 9",
            name=op.f("ck_icb_payment_settings_cut_off_range"),
        ),
        sa.CheckConstraint(
            "payment_day BETWEEN 1 AND 28",
            name=op.f("ck_icb_payment_settings_payment_day_range"),
        ),
        sa.ForeignKeyConstraint(
            ["icb_id"],
            ["organisation.id"],
            name=op.f("fk_icb_payment_settings_icb_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_icb_payment_settings_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icb_payment_settings")),
        sa.UniqueConstraint("icb_id", name=op.f("uq_icb_payment_settings_icb_id")),
    )


def downgrade():
    op.drop_table("icb_payment_settings")
