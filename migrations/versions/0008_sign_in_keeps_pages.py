"""Signing in leaves the page generation alone: user_account's trigger fires on updates
of the columns pages show, not of sign-in bookkeeping
(claims_portal.core.models.GENERATION_EXCLUDED_COLUMNS).

Revision ID: 0008_sign_in_keeps_pages
Revises: 0007_mfa_secrets_sealed
Create Date: 2026-11-30
"""

from alembic import op

revision = "0008_sign_in_keeps_pages"
down_revision = "0007_mfa_secrets_sealed"
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


#: user_account's columns but password_hash, failed_sign_ins, mfa_secret and mfa_last_step.
SHOWN = ("id", "email", "full_name", "is_disabled", "locked_at", "mfa_enabled_at", "created_at")


def _replace(update_of):
    dialect = op.get_bind().dialect.name
    for statement in drop_trigger_sql("user_account", dialect):
        op.execute(statement)
    for statement in trigger_sql("user_account", dialect, update_of):
        op.execute(statement)


def upgrade():
    _replace(SHOWN)


def downgrade():
    _replace(())
