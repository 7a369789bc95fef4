"""Schemes: components, tariffs, claim windows, questions, offers (issue 5).

Revision ID: 0003_schemes
Revises: 0002_access
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401 - used once the tables are added
from alembic import op  # noqa: F401

revision = "0003_schemes"
down_revision = "0002_access"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
