"""A commissioner's claim messages kept as rows (claim_message), written by the database.

A commissioner's messages are the outcomes (returned, declined, approved for payment, paid)
of claims they acted on, after their own step there, not their own. Found from the history
on each view, that walked every claim the person acted on and all its events (60-150 ms a
view at 100,000 claims). Now a trigger on claim_event fans each outcome out to the claim's
earlier actors as it is inserted, whoever inserts it (the services, bulk approvals, COPY
loads), and the message centre reads the person's rows by primary key.

The trigger works both ways, so that the rows equal the old query whatever order events
arrive in: an outcome gets a row for each distinct earlier actor of its claim (an event with
a smaller id, by someone, not the outcome's actor); an event inserted before a later
outcome that is already stored (a load writing out of id order) gives its actor a row for
that outcome. Existing history is copied in by one INSERT ... SELECT DISTINCT.

Revision ID: 0015_claim_message_inbox
Revises: 0014_claim_event_actor_indexes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_claim_message_inbox"
down_revision = "0014_claim_event_actor_indexes"
branch_labels = None
depends_on = None

# Frozen here: the SQL as at this revision, with the stored names of the outcome statuses
# (messages.services.OUTCOME_STATUSES) written out.

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION claim_message_fan_out() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.to_status IN ('RETURNED_BY_PROVIDER', 'DECLINED', 'APPROVED_FOR_PAYMENT', 'PAID') THEN
        INSERT INTO claim_message (user_id, claim_event_id, claim_id)
        SELECT DISTINCT earlier.actor_id, NEW.id, NEW.claim_id
        FROM claim_event AS earlier
        WHERE earlier.claim_id = NEW.claim_id
          AND earlier.id < NEW.id
          AND earlier.actor_id IS NOT NULL
          AND earlier.actor_id IS DISTINCT FROM NEW.actor_id
        ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.actor_id IS NOT NULL THEN
        INSERT INTO claim_message (user_id, claim_event_id, claim_id)
        SELECT NEW.actor_id, later.id, later.claim_id
        FROM claim_event AS later
        WHERE later.claim_id = NEW.claim_id
          AND later.id > NEW.id
          AND later.to_status IN ('RETURNED_BY_PROVIDER', 'DECLINED', 'APPROVED_FOR_PAYMENT', 'PAID')
          AND later.actor_id IS DISTINCT FROM NEW.actor_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""

# FOR EACH ROW: PostgreSQL runs AFTER ROW triggers at the end of the statement, so a
# multi-row INSERT or a COPY sees all its rows (an earlier step in the same load counts).
POSTGRESQL_TRIGGER = (
    "CREATE TRIGGER claim_message_fan_out AFTER INSERT ON claim_event "
    "FOR EACH ROW EXECUTE FUNCTION claim_message_fan_out()"
)

SQLITE_TRIGGERS = (
    """
CREATE TRIGGER claim_message_fan_out AFTER INSERT ON claim_event
WHEN NEW.to_status IN ('RETURNED_BY_PROVIDER', 'DECLINED', 'APPROVED_FOR_PAYMENT', 'PAID')
BEGIN
    INSERT OR IGNORE INTO claim_message (user_id, claim_event_id, claim_id)
    SELECT DISTINCT earlier.actor_id, NEW.id, NEW.claim_id
    FROM claim_event AS earlier
    WHERE earlier.claim_id = NEW.claim_id
      AND earlier.id < NEW.id
      AND earlier.actor_id IS NOT NULL
      AND earlier.actor_id IS NOT NEW.actor_id;
END
""",
    """
CREATE TRIGGER claim_message_fan_in AFTER INSERT ON claim_event
WHEN NEW.actor_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO claim_message (user_id, claim_event_id, claim_id)
    SELECT NEW.actor_id, later.id, later.claim_id
    FROM claim_event AS later
    WHERE later.claim_id = NEW.claim_id
      AND later.id > NEW.id
      AND later.to_status IN ('RETURNED_BY_PROVIDER', 'DECLINED', 'APPROVED_FOR_PAYMENT', 'PAID')
      AND later.actor_id IS NOT NEW.actor_id;
END
""",
)

BACKFILL_SELECT = """
SELECT DISTINCT mine.actor_id, outcome.id, outcome.claim_id
FROM claim_event AS outcome
JOIN claim_event AS mine
  ON mine.claim_id = outcome.claim_id
 AND mine.id < outcome.id
 AND mine.actor_id IS NOT NULL
 AND (outcome.actor_id IS NULL OR mine.actor_id <> outcome.actor_id)
WHERE outcome.to_status IN ('RETURNED_BY_PROVIDER', 'DECLINED', 'APPROVED_FOR_PAYMENT', 'PAID')
"""


def upgrade():
    op.create_table(
        "claim_message",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("claim_event_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_event_id"],
            ["claim_event.id"],
            name=op.f("fk_claim_message_claim_event_id_claim_event"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_message_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_claim_message_user_id_user_account")
        ),
        # The claim in the key's leaves: the message centre reads a person's rows newest
        # first from the index alone (an index-only scan), the claim looked up for scope.
        sa.PrimaryKeyConstraint(
            "user_id",
            "claim_event_id",
            name=op.f("pk_claim_message"),
            postgresql_include=["claim_id"],
        ),
    )
    # The trigger first, then the copy (insert or ignore): an event written meanwhile is
    # covered by one or the other.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
        op.execute(
            "INSERT INTO claim_message (user_id, claim_event_id, claim_id) "
            f"{BACKFILL_SELECT} ON CONFLICT DO NOTHING"
        )
        op.execute("ANALYZE claim_message")
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute(
            "INSERT OR IGNORE INTO claim_message (user_id, claim_event_id, claim_id) "
            f"{BACKFILL_SELECT}"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS claim_message_fan_out ON claim_event")
        op.execute("DROP FUNCTION IF EXISTS claim_message_fan_out()")
    else:
        op.execute("DROP TRIGGER IF EXISTS claim_message_fan_in")
        op.execute("DROP TRIGGER IF EXISTS claim_message_fan_out")
    op.drop_table("claim_message")
