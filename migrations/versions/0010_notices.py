"""Message centre items for offers (notice): one row per person told, beside the email.

Revision ID: 0010_notices
Revises: 0009_lockouts_end
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from claims_portal.db import UTCDateTime

revision = "0010_notices"
down_revision = "0009_lockouts_end"
branch_labels = None
depends_on = None


# Frozen here (the page cache and its generation were removed in 0012): the trigger SQL as
# it was at this revision, not imported from application code.
def trigger_sql(table, dialect, update_of=()):
    update = f"UPDATE OF {', '.join(update_of)}" if update_of else "UPDATE"
    if dialect == "postgresql":
        return [
            f"CREATE CONSTRAINT TRIGGER page_generation AFTER INSERT OR {update} OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION page_generation_bump()"
        ]
    bump = "UPDATE page_generation SET generation = generation + 1 WHERE id = 1"
    return [
        f"CREATE TRIGGER page_generation_{table}_{name} AFTER {event} ON {table} BEGIN {bump}; END"
        for name, event in (("insert", "INSERT"), ("update", update), ("delete", "DELETE"))
    ]


def drop_trigger_sql(table, dialect):
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS page_generation ON {table}"]
    return [
        f"DROP TRIGGER IF EXISTS page_generation_{table}_{event}"
        for event in ("insert", "update", "delete")
    ]


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
