"""An evidence file can be tied to a component of its claim (claim_evidence.component_id):
when a scheme asks for evidence per component, a component needing evidence is satisfied
only by a file tied to it. Null for a file about the whole claim (and for every file added
before this revision).

claim_evidence's page generation trigger fires on any update (it names no columns), so the
new column needs nothing there.

Revision ID: 0011_evidence_component
Revises: 0010_notices
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_evidence_component"
down_revision = "0010_notices"
branch_labels = None
depends_on = None


def _run_pending_triggers():
    if op.get_bind().dialect.name == "postgresql":
        # PostgreSQL refuses to alter a table with the page generation's deferred trigger
        # events pending (claims_portal.core.models).
        op.execute("SET CONSTRAINTS ALL IMMEDIATE")


def upgrade():
    _run_pending_triggers()
    with op.batch_alter_table("claim_evidence") as batch:
        batch.add_column(sa.Column("component_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_claim_evidence_component_id_scheme_component"),
            "scheme_component",
            ["component_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_claim_evidence_component_id"), ["component_id"])


def downgrade():
    _run_pending_triggers()
    with op.batch_alter_table("claim_evidence") as batch:
        batch.drop_index(op.f("ix_claim_evidence_component_id"))
        batch.drop_constraint(
            op.f("fk_claim_evidence_component_id_scheme_component"), type_="foreignkey"
        )
        batch.drop_column("component_id")
