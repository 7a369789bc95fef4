"""Jobs people start (issue 14): job (a bulk approval too big to wait for, with its
progress) and job_item (each item it has done, written with its effect, so a job run again
carries on where it stopped).

Revision ID: 0018_jobs
Revises: 0017_job_runs
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_jobs"
down_revision = "0017_job_runs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "QUEUED",
                "RUNNING",
                "SUCCEEDED",
                "FAILED",
                name="job_status",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("done >= 0 AND done <= total", name=op.f("ck_job_done_within_total")),
        sa.CheckConstraint(
            "(status IN ('SUCCEEDED', 'FAILED')) = (finished_at IS NOT NULL)",
            name=op.f("ck_job_finished_when_ended"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_job_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_job_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_owner_id", "job", ["owner_id", "id"], unique=False)
    op.create_table(
        "job_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_item_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_item")),
    )
    op.create_index("ix_job_item_job_id_item_id", "job_item", ["job_id", "item_id"], unique=True)


def downgrade():
    op.drop_index("ix_job_item_job_id_item_id", table_name="job_item")
    op.drop_table("job_item")
    op.drop_index("ix_job_owner_id", table_name="job")
    op.drop_table("job")
