"""Access: requests, invitations, lockout, MFA, password reset, email outbox (issue 4).

Revision ID: 0002_access
Revises: 0001_platform
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401 - used once the tables are added
from alembic import op  # noqa: F401

revision = "0002_access"
down_revision = "0001_platform"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
