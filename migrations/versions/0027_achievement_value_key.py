"""A faster extract load (issue 16): achievement_value's three foreign keys (submission,
service, provider) become one, to the submission's id with its service, provider and date
(``uq_data_submission_key``), so the copies kept on a value always agree with its submission
and a load checks one key a row; its surrogate ``id`` goes, (submission_id, code, field)
becoming the primary key (one index fewer for each of a year-end load's two million values);
on PostgreSQL, calculated_achievement's JSON columns are compressed with lz4 (about three
times faster to write than the default pglz).

Revision ID: 0027_achievement_value_key
Revises: 0026_ods_import
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_achievement_value_key"
down_revision = "0026_ods_import"
branch_labels = None
depends_on = None

_COMPRESSION = (
    "ALTER TABLE calculated_achievement ALTER COLUMN indicators SET COMPRESSION {0},"
    " ALTER COLUMN explanation SET COMPRESSION {0}"
)


def upgrade():
    with op.batch_alter_table("data_submission", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_data_submission_key", ["id", "service_id", "provider_id", "achievement_date"]
        )
    with op.batch_alter_table("achievement_value", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_achievement_value_submission_id_data_submission", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_achievement_value_provider_id_organisation", type_="foreignkey"
        )
        batch_op.drop_constraint(
            "fk_achievement_value_service_id_quality_service", type_="foreignkey"
        )
        batch_op.create_foreign_key(
            "fk_achievement_value_submission",
            "data_submission",
            ["submission_id", "service_id", "provider_id", "achievement_date"],
            ["id", "service_id", "provider_id", "achievement_date"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint("uq_achievement_value", type_="unique")
        batch_op.drop_constraint("pk_achievement_value", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_achievement_value", ["submission_id", "code", "field"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_COMPRESSION.format("lz4"))


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(_COMPRESSION.format("pglz"))
        op.execute(
            "ALTER TABLE achievement_value DROP CONSTRAINT pk_achievement_value,"
            " ADD COLUMN id BIGSERIAL,"
            " ADD CONSTRAINT pk_achievement_value PRIMARY KEY (id),"
            " ADD CONSTRAINT uq_achievement_value UNIQUE (submission_id, code, field)"
        )
    else:  # SQLite: the table is made again; an INTEGER PRIMARY KEY numbers the rows
        with op.batch_alter_table("achievement_value", schema=None) as batch_op:
            batch_op.drop_constraint("pk_achievement_value", type_="primary")
            batch_op.add_column(sa.Column("id", sa.Integer(), nullable=False))
            batch_op.create_primary_key("pk_achievement_value", ["id"])
            batch_op.create_unique_constraint(
                "uq_achievement_value", ["submission_id", "code", "field"]
            )
    with op.batch_alter_table("achievement_value", schema=None) as batch_op:
        batch_op.drop_constraint("fk_achievement_value_submission", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_achievement_value_service_id_quality_service",
            "quality_service",
            ["service_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            "fk_achievement_value_provider_id_organisation", "organisation", ["provider_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_achievement_value_submission_id_data_submission",
            "data_submission",
            ["submission_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("data_submission", schema=None) as batch_op:
        batch_op.drop_constraint("uq_data_submission_key", type_="unique")
