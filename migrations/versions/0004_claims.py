"""Claims: claims, lines, answers, evidence, history, finance thresholds (issue 6).

Revision ID: 0004_claims
Revises: 0003_schemes
Create Date: 2026-11-23

One live claim per provider, scheme, period and scope: a partial unique index (PostgreSQL and
SQLite both support ``WHERE`` on an index); withdrawn claims and ad hoc claims (no scope) are
left out of it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_claims"
down_revision = "0003_schemes"
branch_labels = None
depends_on = None

LIVE_CLAIM = sa.text("status != 'WITHDRAWN' AND scope IS NOT NULL")
CLAIM_STATUSES = (
    "DRAFT",
    "AWAITING_PROVIDER_APPROVAL",
    "RETURNED_BY_PROVIDER",
    "AWAITING_COMMISSIONER_REVIEW",
    "AWAITING_PAYMENT_APPROVAL",
    "AWAITING_FINANCE_APPROVAL",
    "APPROVED_FOR_PAYMENT",
    "PAID",
    "DECLINED",
    "WITHDRAWN",
)
CLAIM_ACTIONS = (
    "START",
    "SUBMIT",
    "PROVIDER_APPROVE",
    "PROVIDER_RETURN",
    "TIER_1_APPROVE",
    "TIER_1_DECLINE",
    "TIER_2_APPROVE",
    "TIER_2_DECLINE",
    "FINANCE_APPROVE",
    "FINANCE_DECLINE",
    "WITHDRAW",
    "MARK_PAID",
)


def _enum(name, members):
    return sa.Enum(*members, name=name, native_enum=False, length=40)


def _money(name, nullable=True):
    return sa.Column(name, sa.Numeric(precision=12, scale=2), nullable=nullable)


def _moment(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_fk(table, column):
    return sa.ForeignKeyConstraint(
        [column], ["user_account.id"], name=op.f(f"fk_{table}_{column}_user_account")
    )


def upgrade():
    op.create_table(
        "icb_claim_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("icb_id", sa.Integer(), nullable=False),
        _money("finance_threshold", nullable=False),
        _moment("updated_at", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "finance_threshold >= 0",
            name=op.f("ck_icb_claim_settings_finance_threshold_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["icb_id"], ["organisation.id"], name=op.f("fk_icb_claim_settings_icb_id_organisation")
        ),
        _user_fk("icb_claim_settings", "updated_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_icb_claim_settings")),
        sa.UniqueConstraint("icb_id", name=op.f("uq_icb_claim_settings_icb_id")),
    )

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=True),
        sa.Column("status", _enum("claim_status", CLAIM_STATUSES), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("round", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        _moment("submitted_at"),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        _money("value"),
        _moment("reached_commissioner_at"),
        _moment("status_changed_at", nullable=False),
        _moment("approved_at"),
        _moment("paid_at"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        _moment("updated_at", nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'WITHDRAWN') OR submitted_at IS NOT NULL",
            name=op.f("ck_claim_submitted_unless_draft"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_claim_period_in_order")),
        sa.CheckConstraint("round >= 1", name=op.f("ck_claim_round_positive")),
        sa.CheckConstraint("value IS NULL OR value >= 0", name=op.f("ck_claim_value_not_negative")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_claim_version_positive")),
        _user_fk("claim", "created_by_id"),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["organisation.id"], name=op.f("fk_claim_provider_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_claim_scheme_id_scheme")
        ),
        _user_fk("claim", "submitted_by_id"),
        _user_fk("claim", "updated_by_id"),
        sa.ForeignKeyConstraint(
            ["window_id"], ["claim_window.id"], name=op.f("fk_claim_window_id_claim_window")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim")),
    )
    op.create_index(op.f("ix_claim_created_by_id"), "claim", ["created_by_id"])
    op.create_index(op.f("ix_claim_provider_id"), "claim", ["provider_id"])
    op.create_index(op.f("ix_claim_scheme_id"), "claim", ["scheme_id"])
    op.create_index(op.f("ix_claim_window_id"), "claim", ["window_id"])
    op.create_index("ix_claim_status_changed", "claim", ["status", "status_changed_at"])
    op.create_index(
        "uq_claim_live_scope",
        "claim",
        ["provider_id", "scheme_id", "period_start", "scope"],
        unique=True,
        postgresql_where=LIVE_CLAIM,
        sqlite_where=LIVE_CLAIM,
    )

    op.create_table(
        "claim_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_answer_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["supplementary_question.id"],
            name=op.f("fk_claim_answer_question_id_supplementary_question"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_answer")),
        sa.UniqueConstraint("claim_id", "question_id", name="uq_claim_answer_claim_question"),
    )
    op.create_index(op.f("ix_claim_answer_claim_id"), "claim_answer", ["claim_id"])
    op.create_index(op.f("ix_claim_answer_question_id"), "claim_answer", ["question_id"])

    op.create_table(
        "claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("action", _enum("claim_action", CLAIM_ACTIONS), nullable=False),
        sa.Column("from_status", _enum("claim_status", CLAIM_STATUSES), nullable=True),
        sa.Column("to_status", _enum("claim_status", CLAIM_STATUSES), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _money("value"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        _moment("occurred_at", nullable=False),
        _user_fk("claim_event", "actor_id"),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_event_claim_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_event")),
    )
    op.create_index(op.f("ix_claim_event_actor_id"), "claim_event", ["actor_id"])
    op.create_index(op.f("ix_claim_event_claim_id"), "claim_event", ["claim_id"])

    op.create_table(
        "claim_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), server_default="1", nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        _moment("uploaded_at", nullable=False),
        _moment("removed_at"),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("size > 0", name=op.f("ck_claim_evidence_size_positive")),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_evidence_claim_id_claim")
        ),
        _user_fk("claim_evidence", "removed_by_id"),
        _user_fk("claim_evidence", "uploaded_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_evidence")),
        sa.UniqueConstraint("key", name=op.f("uq_claim_evidence_key")),
    )
    op.create_index(op.f("ix_claim_evidence_claim_id"), "claim_evidence", ["claim_id"])

    op.create_table(
        "claim_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        _money("unit_value"),
        _money("gross_value"),
        sa.Column("payable_units", sa.Integer(), nullable=True),
        _money("value"),
        _money("capped_amount"),
        sa.Column("cap_note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "payable_units IS NULL OR payable_units >= 0",
            name=op.f("ck_claim_line_paid_not_negative"),
        ),
        sa.CheckConstraint(
            "units IS NULL OR units >= 0", name=op.f("ck_claim_line_units_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_line_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["scheme_component.id"],
            name=op.f("fk_claim_line_component_id_scheme_component"),
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["scheme_tariff.id"], name=op.f("fk_claim_line_tariff_id_scheme_tariff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_line")),
        sa.UniqueConstraint("claim_id", "component_id", name="uq_claim_line_claim_component"),
    )
    op.create_index(op.f("ix_claim_line_claim_id"), "claim_line", ["claim_id"])
    op.create_index(op.f("ix_claim_line_component_id"), "claim_line", ["component_id"])
    op.create_index(op.f("ix_claim_line_tariff_id"), "claim_line", ["tariff_id"])


def downgrade():
    op.drop_table("claim_line")
    op.drop_table("claim_evidence")
    op.drop_table("claim_event")
    op.drop_table("claim_answer")
    op.drop_table("claim")
    op.drop_table("icb_claim_settings")
