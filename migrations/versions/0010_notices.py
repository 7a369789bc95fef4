"""Message centre items for offers (notice): one row per person told, beside the email.

Revision ID: 0010_notices
Revises: 0009_lockouts_end
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from claims_portal.core.models import drop_trigger_sql, trigger_sql
from claims_portal.db import UTCDateTime

revision = "0010_notices"
down_revision = "0009_lockouts_end"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            UTCDateTime(),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_notice_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_notice_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_notice_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    op.create_index("ix_notice_user_unread", "notice", ["user_id", "read_at", "id"])
    dialect = op.get_bind().dialect.name
    for statement in trigger_sql("notice", dialect):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in drop_trigger_sql("notice", dialect):
        op.execute(statement)
    if dialect == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    op.drop_index("ix_notice_user_unread", table_name="notice")
    op.drop_table("notice")
