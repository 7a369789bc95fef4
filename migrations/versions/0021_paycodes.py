"""Payments set-up (issue 15): paycode, the payments agency's list of paycodes kept by
administrators (its history is the audit trail).

Revision ID: 0021_paycodes
Revises: 0020_email_digest
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_paycodes"
down_revision = "0020_email_digest"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paycode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("subjective_code", sa.String(length=30), nullable=False),
        sa.Column("applies_to_gms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("applies_to_pms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("applies_to_apms", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "applies_to_gms OR applies_to_pms OR applies_to_apms",
            name=op.f("ck_paycode_applies_to_a_contract"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paycode")),
        sa.UniqueConstraint("code", name=op.f("uq_paycode_code")),
    )


def downgrade():
    op.drop_table("paycode")
