"""Files the virus check found infected, kept in quarantine (quarantined_evidence).

An infected upload is refused: no claim_evidence row, so nothing serves it. Its bytes are
kept under the evidence store's quarantine folder (``{prefix}quarantine/...``) and this row
says whose upload it was, to which claim and ICB, what the scanner found, and where the
bytes are, for the ICB's administrators (who are told) and the orphan sweep (which keeps
every key with a row).

Revision ID: 0016_quarantined_evidence
Revises: 0015_claim_message_inbox
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_quarantined_evidence"
down_revision = "0015_claim_message_inbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quarantined_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("scanner", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=255), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_quarantined_evidence_size_positive")),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_quarantined_evidence_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["icb_id"],
            ["organisation.id"],
            name=op.f("fk_quarantined_evidence_icb_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_quarantined_evidence_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_evidence")),
        sa.UniqueConstraint("key", name=op.f("uq_quarantined_evidence_key")),
    )
    op.create_index(op.f("ix_quarantined_evidence_claim_id"), "quarantined_evidence", ["claim_id"])
    op.create_index(op.f("ix_quarantined_evidence_icb_id"), "quarantined_evidence", ["icb_id"])


def downgrade():
    op.drop_index(op.f("ix_quarantined_evidence_icb_id"), table_name="quarantined_evidence")
    op.drop_index(op.f("ix_quarantined_evidence_claim_id"), table_name="quarantined_evidence")
    op.drop_table("quarantined_evidence")
