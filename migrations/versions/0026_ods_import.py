"""Organisations from ODS files (issue 16): ods_import (the files read, their SHA-256, what
the import did, who ran it and when) and organisation_change (each change an import made to an
organisation, or held back with its reason).

Revision ID: 0026_ods_import
Revises: 0025_national_services
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_ods_import"
down_revision = "0025_national_services"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ods_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("organisations_created", sa.Integer(), nullable=False),
        sa.Column("organisations_changed", sa.Integer(), nullable=False),
        sa.Column("memberships_added", sa.Integer(), nullable=False),
        sa.Column("memberships_ended", sa.Integer(), nullable=False),
        sa.Column("participations_ended", sa.Integer(), nullable=False),
        sa.Column("changes_held", sa.Integer(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("run_by", sa.String(length=200), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["user_account.id"],
            name=op.f("fk_ods_import_imported_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ods_import")),
    )
    with op.batch_alter_table("ods_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ods_import_sha256"), ["sha256"], unique=False)

    op.create_table(
        "organisation_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("held_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["ods_import.id"],
            name=op.f("fk_organisation_change_import_id_ods_import"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_change_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_change")),
    )
    with op.batch_alter_table("organisation_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_change_import_id"), ["import_id"], unique=False
        )
        batch_op.create_index(
            "ix_organisation_change_organisation", ["organisation_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("organisation_change", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_change_organisation")
        batch_op.drop_index(batch_op.f("ix_organisation_change_import_id"))

    op.drop_table("organisation_change")
    with op.batch_alter_table("ods_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ods_import_sha256"))

    op.drop_table("ods_import")
