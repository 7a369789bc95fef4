"""Signing in leaves the page generation alone: user_account's trigger fires on updates
of the columns pages show, not of sign-in bookkeeping
(claims_portal.core.models.GENERATION_EXCLUDED_COLUMNS).

Revision ID: 0008_sign_in_keeps_pages
Revises: 0007_mfa_secrets_sealed
Create Date: 2026-11-30
"""

from alembic import op

from claims_portal.core.models import drop_trigger_sql, trigger_sql

revision = "0008_sign_in_keeps_pages"
down_revision = "0007_mfa_secrets_sealed"
branch_labels = None
depends_on = None

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
