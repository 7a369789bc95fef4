"""Jobs (issue 14): job_run records each scheduled run once; email_message.claimed_by.

job_run: one row a run of a scheduled job, unique by (kind, scheduled_for), so that two
schedulers, or a trigger sent twice, give one run. email_message.claimed_by names the
delivery holding a row marked SENDING before its SMTP exchange (the status column is a
VARCHAR without a database enum type, so SENDING needs no change to it).

Revision ID: 0017_job_runs
Revises: 0016_quarantined_evidence
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_job_runs"
down_revision = "0016_quarantined_evidence"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_id", sa.String(length=155), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "RUNNING", "SUCCEEDED", "FAILED", name="job_outcome", native_enum=False, length=40
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(outcome = 'RUNNING') = (finished_at IS NULL)",
            name=op.f("ck_job_run_finished_unless_running"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
    )
    op.create_index(
        "ix_job_run_kind_scheduled_for", "job_run", ["kind", "scheduled_for"], unique=True
    )
    op.create_index("ix_job_run_started_at", "job_run", ["started_at"], unique=False)
    with op.batch_alter_table("email_message") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=155), nullable=True))


def downgrade():
    # Rows left SENDING go back to the queue the older release reads.
    op.execute("UPDATE email_message SET status = 'QUEUED' WHERE status = 'SENDING'")
    with op.batch_alter_table("email_message") as batch:
        batch.drop_column("claimed_by")
    op.drop_index("ix_job_run_started_at", table_name="job_run")
    op.drop_index("ix_job_run_kind_scheduled_for", table_name="job_run")
    op.drop_table("job_run")
