"""Claims work: bulk claim uploads, the message centre's reading position and the claim
lists' sort index (issue 6).

Revision ID: 0005_claims_work
Revises: 0004_claims
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_claims_work"
down_revision = "0004_claims"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim") as batch:
        batch.create_index(batch.f("ix_claim_submitted_at_id"), ["submitted_at", "id"])
    op.create_table(
        "bulk_claim_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("claim_count >= 1", name=op.f("ck_bulk_claim_upload_claims_made")),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_bulk_claim_upload_scheme_id_scheme")
        ),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["claim_window.id"],
            name=op.f("fk_bulk_claim_upload_window_id_claim_window"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_bulk_claim_upload_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_claim_upload")),
    )
    with op.batch_alter_table("bulk_claim_upload") as batch:
        batch.create_index(batch.f("ix_bulk_claim_upload_scheme_id"), ["scheme_id"])
        batch.create_index(batch.f("ix_bulk_claim_upload_uploaded_by_id"), ["uploaded_by_id"])

    op.create_table(
        "bulk_claim_upload_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["bulk_claim_upload.id"],
            name=op.f("fk_bulk_claim_upload_claim_upload_id_bulk_claim_upload"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_bulk_claim_upload_claim_claim_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_claim_upload_claim")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_bulk_claim_upload_claim_claim_id")),
    )
    with op.batch_alter_table("bulk_claim_upload_claim") as batch:
        batch.create_index(batch.f("ix_bulk_claim_upload_claim_upload_id"), ["upload_id"])

    op.create_table(
        "message_read_position",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_message_read_position_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_message_read_position")),
    )


def downgrade():
    op.drop_table("message_read_position")
    with op.batch_alter_table("bulk_claim_upload_claim") as batch:
        batch.drop_index(batch.f("ix_bulk_claim_upload_claim_upload_id"))
    op.drop_table("bulk_claim_upload_claim")
    with op.batch_alter_table("bulk_claim_upload") as batch:
        batch.drop_index(batch.f("ix_bulk_claim_upload_uploaded_by_id"))
        batch.drop_index(batch.f("ix_bulk_claim_upload_scheme_id"))
    op.drop_table("bulk_claim_upload")
    with op.batch_alter_table("claim") as batch:
        batch.drop_index(batch.f("ix_claim_submitted_at_id"))
