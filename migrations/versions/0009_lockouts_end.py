"""Lockouts end by themselves: user_account.locked_until (when the lock ends) and
lockout_count (lockouts in a row, each doubling the next). Accounts locked before this
revision unlock 30 minutes after they locked.

Both are sign-in bookkeeping: they are not in user_account's page generation trigger
(claims_portal.core.models.GENERATION_EXCLUDED_COLUMNS), so a failed sign-in leaves every
cached page alone. The trigger names its columns (0008), so new columns stay out of it.

Revision ID: 0009_lockouts_end
Revises: 0008_sign_in_keeps_pages
Create Date: 2026-12-01
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

from claims_portal.db import UTCDateTime

revision = "0009_lockouts_end"
down_revision = "0008_sign_in_keeps_pages"
branch_labels = None
depends_on = None

#: LOCKOUT_MINUTES' default, for the accounts already locked.
FIRST_LOCKOUT = dt.timedelta(minutes=30)


def _run_pending_triggers():
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL refuses to alter a table with the page generation's deferred trigger
        # events pending (claims_portal.core.models).
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")


def upgrade():
    _run_pending_triggers()
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("lockout_count", sa.Integer(), server_default="0", nullable=False)
        )
    user_account = sa.table(
        "user_account",
        sa.column("id", sa.Integer()),
        sa.column("locked_at", UTCDateTime()),
        sa.column("locked_until", UTCDateTime()),
        sa.column("lockout_count", sa.Integer()),
    )
    bind = op.get_bind()
    locked = bind.execute(
        sa.select(user_account.c.id, user_account.c.locked_at).where(
            user_account.c.locked_at.is_not(None)
        )
    )
    for user_id, locked_at in locked.all():
        bind.execute(
            user_account.update()
            .where(user_account.c.id == user_id)
            .values(locked_until=locked_at + FIRST_LOCKOUT, lockout_count=1)
        )


def downgrade():
    _run_pending_triggers()
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("lockout_count")
        batch.drop_column("locked_until")
