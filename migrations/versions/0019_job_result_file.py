"""A job's file (issue 14): job.result_key (where the evidence store keeps the file a job
made, an export of a long list; cleared when the file expires) and job.result_filename (the
name it is downloaded under).

Revision ID: 0019_job_result_file
Revises: 0018_jobs
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_job_result_file"
down_revision = "0018_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("job", sa.Column("result_key", sa.String(length=512), nullable=True))
    op.add_column("job", sa.Column("result_filename", sa.String(length=255), nullable=True))


def downgrade():
    op.drop_column("job", "result_filename")
    op.drop_column("job", "result_key")
