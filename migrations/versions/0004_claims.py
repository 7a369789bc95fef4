"""Claims: claims, lines, answers, evidence, history, finance thresholds (issue 6).

Revision ID: 0004_claims
Revises: 0003_schemes
Create Date: 2026-11-23
"""

import sqlalchemy as sa  # noqa: F401 - used once the tables are added
from alembic import op  # noqa: F401

revision = "0004_claims"
down_revision = "0003_schemes"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
