"""The claims a person acted on, and their approvals, read through an index: the task
counts ("not a claim you approved at an earlier tier") and a commissioner's messages
("outcomes of claims you acted on") start from the person's own events instead of every
event. ix_claim_event_actor_claim's first column serves what ix_claim_event_actor_id did.

Revision ID: 0014_claim_event_actor_indexes
Revises: 0013_audit_seal
Create Date: 2026-12-01
"""

from alembic import op

revision = "0014_claim_event_actor_indexes"
down_revision = "0013_audit_seal"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_claim_event_actor_claim", "claim_event", ["actor_id", "claim_id"])
    op.create_index(
        "ix_claim_event_actor_action_claim", "claim_event", ["actor_id", "action", "claim_id"]
    )
    op.drop_index("ix_claim_event_actor_id", table_name="claim_event")


def downgrade():
    op.create_index("ix_claim_event_actor_id", "claim_event", ["actor_id"])
    op.drop_index("ix_claim_event_actor_action_claim", table_name="claim_event")
    op.drop_index("ix_claim_event_actor_claim", table_name="claim_event")
