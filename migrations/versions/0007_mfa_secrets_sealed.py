"""Two-factor secrets sealed at rest (AES-256-GCM with MFA_SECRET_KEYS): a longer column,
and the secrets stored before this revision sealed.

Revision ID: 0007_mfa_secrets_sealed
Revises: 0006_page_generation
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from claims_portal.access import sealing

revision = "0007_mfa_secrets_sealed"
down_revision = "0006_page_generation"
branch_labels = None
depends_on = None


def _keys():
    return sealing.parse_keys(
        current_app.config.get("MFA_SECRET_KEYS"), current_app.config.get("SECRET_KEY")
    )


def _secrets():
    return op.get_bind().execute(
        sa.text("SELECT id, mfa_secret FROM user_account WHERE mfa_secret IS NOT NULL")
    )


def _store(user_id, value):
    op.get_bind().execute(
        sa.text("UPDATE user_account SET mfa_secret = :value WHERE id = :id"),
        {"value": value, "id": user_id},
    )


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column(
            "mfa_secret", existing_type=sa.String(length=64), type_=sa.String(length=128)
        )
    keys = _keys()
    for user_id, secret in _secrets().all():
        if not sealing.is_sealed(secret):
            _store(user_id, sealing.seal(secret, user_id, keys))


def downgrade():
    keys = _keys()
    for user_id, stored in _secrets().all():
        _store(user_id, sealing.unseal(stored, user_id, keys)[0])
    if op.get_bind().dialect.name == "postgresql":
        # Run the page generation's deferred triggers now: PostgreSQL refuses to alter a
        # table with trigger events pending (claims_portal.core.models).
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with op.batch_alter_table("user_account") as batch:
        batch.alter_column(
            "mfa_secret", existing_type=sa.String(length=128), type_=sa.String(length=64)
        )
