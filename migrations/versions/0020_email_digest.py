"""The daily email (issue 14): notification_preference.daily_digest (a kind gathered into
one email a day instead of one email each) and email_digest_item (each line waiting for a
person's next daily email, and the email that listed it).

Revision ID: 0020_email_digest
Revises: 0019_job_result_file
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_email_digest"
down_revision = "0019_job_result_file"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite (make run) cannot add a check constraint to a table in place.
    with op.batch_alter_table("notification_preference") as batch:
        batch.add_column(
            sa.Column("daily_digest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_notification_preference_digest_only_when_enabled"),
            "email_enabled OR NOT daily_digest",
        )
    op.create_table(
        "email_digest_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("sent_in", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_email_digest_item_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["sent_in"],
            ["email_message.id"],
            name=op.f("fk_email_digest_item_sent_in_email_message"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_digest_item")),
    )
    op.create_index(
        "ix_email_digest_item_sent_in",
        "email_digest_item",
        ["sent_in", "user_id", "id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_email_digest_item_sent_in", table_name="email_digest_item")
    op.drop_table("email_digest_item")
    with op.batch_alter_table("notification_preference") as batch:
        batch.drop_constraint(
            op.f("ck_notification_preference_digest_only_when_enabled"), type_="check"
        )
        batch.drop_column("daily_digest")
