"""Each claim keeps its commissioners (claim.icb_id, claim.sub_location_id), so that a
commissioner's lists and tasks are one indexed predicate instead of a walk of the
organisation tree; and the page cache's generation (0006, 0008, 0010) is removed with the
page cache.

Existing claims get the ICB and sub-location above their provider now.

Revision ID: 0012_claim_commissioners
Revises: 0011_evidence_component
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_claim_commissioners"
down_revision = "0011_evidence_component"
branch_labels = None
depends_on = None

#: Every table with a page generation trigger at 0011 (0006's list and 0010's notice).
TRIGGERED = (
    "access_request",
    "access_token",
    "bulk_claim_upload",
    "bulk_claim_upload_claim",
    "claim",
    "claim_answer",
    "claim_event",
    "claim_evidence",
    "claim_line",
    "claim_window",
    "icb_claim_settings",
    "membership",
    "message_read_position",
    "mfa_recovery_code",
    "network_membership",
    "notice",
    "notification_preference",
    "organisation",
    "scheme",
    "scheme_component",
    "scheme_offer",
    "scheme_share",
    "scheme_tariff",
    "supplementary_question",
    "user_account",
)
#: user_account's trigger fired on updates of these only (0008).
USER_ACCOUNT_SHOWN = (
    "id",
    "email",
    "full_name",
    "is_disabled",
    "locked_at",
    "mfa_enabled_at",
    "created_at",
)
PAGE_GENERATION_BUMP = """
CREATE OR REPLACE FUNCTION page_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('claims_portal.page_generation_bumped', true), '') <> 'yes' THEN
        UPDATE page_generation SET generation = generation + 1 WHERE id = 1;
        PERFORM set_config('claims_portal.page_generation_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END
$$
"""

#: The ICB, then the sub-location, among the provider's ancestors (at most three levels up:
#: sub-location or PCN, sub-location, ICB).
_ANCESTOR = """(
    SELECT coalesce(
        (SELECT p1.id FROM organisation p1 WHERE p1.id = o.parent_id AND p1.kind = '{kind}'),
        (SELECT p2.id FROM organisation p1 JOIN organisation p2 ON p2.id = p1.parent_id
          WHERE p1.id = o.parent_id AND p2.kind = '{kind}'),
        (SELECT p3.id FROM organisation p1 JOIN organisation p2 ON p2.id = p1.parent_id
          JOIN organisation p3 ON p3.id = p2.parent_id
          WHERE p1.id = o.parent_id AND p3.kind = '{kind}')
    )
    FROM organisation o WHERE o.id = claim.provider_id
)"""
_ICB = _ANCESTOR.format(kind="ICB")
_SUB_LOCATION = _ANCESTOR.format(kind="ICB_SUB_LOCATION")
BACKFILL = f"UPDATE claim SET icb_id = {_ICB}, sub_location_id = {_SUB_LOCATION}"  # noqa: S608
REACHED = "reached_commissioner_at IS NOT NULL"


def _drop_page_generation(dialect):
    for table in TRIGGERED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS page_generation ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS page_generation_{table}_{event}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS page_generation_bump()")
    op.drop_table("page_generation")


def _create_page_generation(dialect):
    op.create_table(
        "page_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_page_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_generation")),
    )
    op.execute("INSERT INTO page_generation (id, generation) VALUES (1, 1)")
    if dialect == "postgresql":
        op.execute(PAGE_GENERATION_BUMP)
    bump = "UPDATE page_generation SET generation = generation + 1 WHERE id = 1"
    for table in TRIGGERED:
        columns = USER_ACCOUNT_SHOWN if table == "user_account" else ()
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        if dialect == "postgresql":
            op.execute(
                f"CREATE CONSTRAINT TRIGGER page_generation AFTER INSERT OR {update} OR DELETE "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION page_generation_bump()"
            )
            continue
        for name, event in (("insert", "INSERT"), ("update", update), ("delete", "DELETE")):
            op.execute(
                f"CREATE TRIGGER page_generation_{table}_{name} AFTER {event} ON {table} "
                f"BEGIN {bump}; END"
            )


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _drop_page_generation(dialect)
    with op.batch_alter_table("claim") as batch:
        batch.add_column(sa.Column("icb_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sub_location_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_claim_icb_id_organisation"), "organisation", ["icb_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_claim_sub_location_id_organisation"),
            "organisation",
            ["sub_location_id"],
            ["id"],
        )
    op.execute(BACKFILL)
    op.create_index(
        "ix_claim_icb_submitted",
        "claim",
        ["icb_id", "submitted_at", "id"],
        postgresql_where=sa.text(REACHED),
        sqlite_where=sa.text(REACHED),
    )
    op.create_index(
        "ix_claim_sub_location_submitted",
        "claim",
        ["sub_location_id", "submitted_at", "id"],
        postgresql_where=sa.text(REACHED),
        sqlite_where=sa.text(REACHED),
    )
    op.create_index(
        "ix_claim_scheme_status_submitted",
        "claim",
        ["scheme_id", "status", "submitted_at", "id"],
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_claim_scheme_status_submitted", table_name="claim")
    op.drop_index("ix_claim_sub_location_submitted", table_name="claim")
    op.drop_index("ix_claim_icb_submitted", table_name="claim")
    with op.batch_alter_table("claim") as batch:
        batch.drop_constraint(op.f("fk_claim_sub_location_id_organisation"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_claim_icb_id_organisation"), type_="foreignkey")
        batch.drop_column("sub_location_id")
        batch.drop_column("icb_id")
    _create_page_generation(dialect)
