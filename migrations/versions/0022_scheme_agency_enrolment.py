"""Payments set-up (issue 15): scheme.agency_enrolment_date, from when the payments agency
pays a scheme's claims (claims approved before it are never picked up). Set exactly when the
scheme is paid through the agency; existing schemes paid through it are enrolled from their
start date.

Revision ID: 0022_scheme_agency_enrolment
Revises: 0021_paycodes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_scheme_agency_enrolment"
down_revision = "0021_paycodes"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite (the local demo) cannot add a check constraint in place.
    with op.batch_alter_table("scheme") as batch:
        batch.add_column(sa.Column("agency_enrolment_date", sa.Date(), nullable=True))
    op.execute("UPDATE scheme SET agency_enrolment_date = start_date WHERE pay_through_agency")
    with op.batch_alter_table("scheme") as batch:
        batch.create_check_constraint(
            op.f("ck_scheme_enrolment_date_when_paid_through_agency"),
            "pay_through_agency = (agency_enrolment_date IS NOT NULL)",
        )


def downgrade():
    with op.batch_alter_table("scheme") as batch:
        batch.drop_constraint(
            op.f("ck_scheme_enrolment_date_when_paid_through_agency"), type_="check"
        )
        batch.drop_column("agency_enrolment_date")
