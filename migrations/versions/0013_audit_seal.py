"""The audit chain is made after commit: audit_seal holds each event's place and hash.

Events are inserted without a lock and without hashes (audit_event.previous_hash and
event_hash become nullable, kept for the events recorded before); a single sealer chains
committed events afterwards, one audit_seal row each (position 1, 2, 3, ... is the chain's
order). Existing events get seals in id order, the order they were chained in, with their
own hashes copied, so the chain and the anchors recorded before (whose count is now a
position) stay valid. On PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE on
audit_seal, as on audit_event.

Downgrading (after ``claims-portal audit seal``: every event needs a seal) copies the seals'
hashes back into the events left without them (the owner lifts audit_event's trigger for
that one statement); a chain sealed out of id order then no
longer verifies under the older release, which chained in id order.

Revision ID: 0013_audit_seal
Revises: 0012_claim_commissioners
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_audit_seal"
down_revision = "0012_claim_commissioners"
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_seal_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_seal is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

BACKFILL = """
INSERT INTO audit_seal (position, event_id, previous_hash, event_hash, sealed_at)
SELECT row_number() OVER (ORDER BY id), id, previous_hash, event_hash, CURRENT_TIMESTAMP
  FROM audit_event
 ORDER BY id
"""

COPY_BACK = """
UPDATE audit_event
   SET previous_hash = (SELECT s.previous_hash FROM audit_seal s
                         WHERE s.event_id = audit_event.id),
       event_hash = (SELECT s.event_hash FROM audit_seal s WHERE s.event_id = audit_event.id)
 WHERE event_hash IS NULL
"""


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _is_postgresql():
        # PostgreSQL refuses to alter a table with deferred trigger events pending.
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
    op.create_table(
        "audit_seal",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("event_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["audit_event.id"], name=op.f("fk_audit_seal_event_id_audit_event")
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("event_hash", name=op.f("uq_audit_seal_event_hash")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_seal_event_id")),
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=True)
        batch.alter_column("event_hash", existing_type=sa.String(length=64), nullable=True)
    op.execute(BACKFILL)
    if _is_postgresql():
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_seal_no_update_or_delete BEFORE UPDATE OR DELETE "
            "ON audit_seal FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE "
            "ON audit_seal FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_append_only()"
        )


def downgrade():
    if _is_postgresql():
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")
        op.execute("DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_seal")
        op.execute("DROP TRIGGER IF EXISTS audit_seal_no_update_or_delete ON audit_seal")
        op.execute("DROP FUNCTION IF EXISTS audit_seal_append_only()")
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete")
        op.execute(COPY_BACK)
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update_or_delete")
    else:
        op.execute(COPY_BACK)
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column("event_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
    op.drop_table("audit_seal")
