"""The page generation: a number every committed change moves on, for the page cache.

Revision ID: 0006_page_generation
Revises: 0005_claims_work
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_page_generation"
down_revision = "0005_claims_work"
branch_labels = None
depends_on = None

# Frozen here (the page cache and its generation were removed in 0012): the trigger SQL as
# it was at this revision, not imported from application code.
PAGE_GENERATION_BUMP = """
CREATE OR REPLACE FUNCTION page_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('claims_portal.page_generation_bumped', true), '') <> 'yes' THEN
        UPDATE page_generation SET generation = generation + 1 WHERE id = 1;
        PERFORM set_config('claims_portal.page_generation_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END
$$
"""


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


#: Every table at this revision but user_session, email_message and audit_event
#: (claims_portal.core.models.GENERATION_EXCLUDED at the time). A later migration that adds a table
#: adds its trigger too (tests/core/test_page_cache.py checks that every table has one).
TABLES = (
    "access_request",
    "access_token",
    "bulk_claim_upload",
    "bulk_claim_upload_claim",
    "claim",
    "claim_answer",
    "claim_event",
    "claim_evidence",
    "claim_line",
    "claim_window",
    "icb_claim_settings",
    "membership",
    "message_read_position",
    "mfa_recovery_code",
    "network_membership",
    "notification_preference",
    "organisation",
    "scheme",
    "scheme_component",
    "scheme_offer",
    "scheme_share",
    "scheme_tariff",
    "supplementary_question",
    "user_account",
)


def upgrade():
    op.create_table(
        "page_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_page_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_generation")),
    )
    op.execute("INSERT INTO page_generation (id, generation) VALUES (1, 1)")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PAGE_GENERATION_BUMP)
    for table in TABLES:
        for statement in trigger_sql(table, dialect):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in drop_trigger_sql(table, dialect):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS page_generation_bump()")
    op.drop_table("page_generation")
