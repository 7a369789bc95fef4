"""A commissioner's messages are rows the database writes (claim_message, migration 0015):
the trigger gives each outcome to the claim's earlier actors, whoever inserts the event,
the migration's backfill finds the same rows as the history does, and the page costs a
fixed number of statements."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import event, exists, insert, or_, select, text
from sqlalchemy.orm import aliased

from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.messages import services
from claims_portal.messages.models import ClaimMessage
from tests.claims.helpers import act, at_tier_1, signed_in
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene

A = ClaimAction
S = ClaimStatus
MIGRATION = Path(__file__).parents[2] / "migrations/versions/0015_claim_message_inbox.py"


def inbox(session, claim_id: int) -> set[tuple[int, int]]:
    return set(
        session.execute(
            select(ClaimMessage.user_id, ClaimMessage.claim_event_id).where(
                ClaimMessage.claim_id == claim_id
            )
        ).all()
    )


def from_history(session, claim_id: int) -> set[tuple[int, int]]:
    """What the message centre found from the history before claim_message (each outcome,
    for each person with an earlier step on the claim who did not take it)."""
    outcome = aliased(ClaimEvent)
    mine = aliased(ClaimEvent)
    rows = session.execute(
        select(mine.actor_id, outcome.id)
        .distinct()
        .where(
            outcome.claim_id == claim_id,
            outcome.to_status.in_(services.OUTCOME_STATUSES),
            mine.claim_id == outcome.claim_id,
            mine.actor_id.is_not(None),
            mine.id < outcome.id,
            or_(outcome.actor_id.is_(None), mine.actor_id != outcome.actor_id),
        )
    ).all()
    return {(user_id, event_id) for user_id, event_id in rows}


def outcome_of(session, claim_id: int, status: ClaimStatus) -> int:
    return session.scalar(
        select(ClaimEvent.id).where(ClaimEvent.claim_id == claim_id, ClaimEvent.to_status == status)
    )


def test_an_outcome_is_a_message_to_earlier_actors_only(db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
    assert inbox(db_session, claim.id) == set()  # not an outcome
    act(db_session, claim, A.TIER_2_APPROVE, one_step.tier_2)
    approved = outcome_of(db_session, claim.id, S.APPROVED_FOR_PAYMENT)
    # The practice user (started and submitted it) and tier 1; not tier 2, who approved it.
    assert inbox(db_session, claim.id) == {
        (one_step.user.id, approved),
        (one_step.tier_1.id, approved),
    }
    assert inbox(db_session, claim.id) == from_history(db_session, claim.id)


def test_a_declined_claim_is_news_to_those_before_not_after(db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    act(db_session, claim, A.TIER_1_DECLINE, one_step.tier_1, "Evidence missing")
    declined = outcome_of(db_session, claim.id, S.DECLINED)
    assert inbox(db_session, claim.id) == {(one_step.user.id, declined)}
    # A later step (someone else's) does not make the earlier outcome theirs.
    later = user_with_role(Role.APPROVER_TIER_1, one_step.icb)
    db_session.execute(
        insert(ClaimEvent).values(
            claim_id=claim.id,
            round=9,
            action=A.WITHDRAW,
            from_status=S.DECLINED,
            to_status=S.WITHDRAWN,
            actor_id=later.id,
            version=99,
        )
    )
    assert inbox(db_session, claim.id) == {(one_step.user.id, declined)}
    assert inbox(db_session, claim.id) == from_history(db_session, claim.id)


def test_bulk_and_out_of_order_inserts_are_covered(db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    other = user_with_role(Role.APPROVER_TIER_1, one_step.icb)
    # One multi-row statement (as a COPY or a bulk load writes): a step, then the payment
    # by the system.
    db_session.execute(
        text(
            "INSERT INTO claim_event (claim_id, round, action, from_status, to_status, "
            "actor_id, version, occurred_at) VALUES "
            "(:claim, 1, 'TIER_1_APPROVE', 'AWAITING_COMMISSIONER_REVIEW', "
            "'AWAITING_PAYMENT_APPROVAL', :other, 5, now()), "
            "(:claim, 1, 'MARK_PAID', 'APPROVED_FOR_PAYMENT', 'PAID', NULL, 6, now())"
        ),
        {"claim": claim.id, "other": other.id},
    )
    paid = outcome_of(db_session, claim.id, S.PAID)
    assert inbox(db_session, claim.id) == {(one_step.user.id, paid), (other.id, paid)}
    # An earlier step stored after the outcome it precedes (a load out of id order) still
    # gives its actor the message.
    late = user_with_role(Role.APPROVER_TIER_1, one_step.icb)
    db_session.execute(
        text(
            "INSERT INTO claim_event (id, claim_id, round, action, from_status, to_status, "
            "actor_id, version, occurred_at) VALUES "
            "(2000000000, :claim, 1, 'MARK_PAID', 'APPROVED_FOR_PAYMENT', 'PAID', NULL, 8, now())"
        ),
        {"claim": claim.id},
    )
    db_session.execute(
        text(
            "INSERT INTO claim_event (claim_id, round, action, from_status, to_status, "
            "actor_id, version, occurred_at) VALUES (:claim, 1, 'TIER_2_APPROVE', "
            "'AWAITING_PAYMENT_APPROVAL', 'APPROVED_FOR_PAYMENT', :late, 7, now())"
        ),
        {"claim": claim.id, "late": late.id},
    )
    assert (late.id, 2000000000) in inbox(db_session, claim.id)
    assert inbox(db_session, claim.id) == from_history(db_session, claim.id)


def test_the_migrations_backfill_finds_what_the_history_did(db_session, one_step):
    spec = importlib.util.spec_from_file_location("inbox_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    declined = at_tier_1(db_session, one_step)
    act(db_session, declined, A.TIER_1_DECLINE, one_step.tier_1, "Evidence missing")
    approved = at_tier_1(db_session, claim_scene(two_step=False, icb=one_step.icb))
    act(db_session, approved, A.TIER_1_APPROVE, one_step.tier_1)
    act(db_session, approved, A.TIER_2_APPROVE, one_step.tier_2)
    claims = (declined.id, approved.id)
    backfilled = {
        (user_id, event_id)
        for user_id, event_id, claim_id in db_session.execute(text(migration.BACKFILL_SELECT))
        if claim_id in claims
    }
    expected = from_history(db_session, declined.id) | from_history(db_session, approved.id)
    assert backfilled == expected
    assert len(expected) == 3  # practice user (declined); practice user and tier 1 (approved)
    assert backfilled == inbox(db_session, declined.id) | inbox(db_session, approved.id)


def test_the_message_page_costs_a_fixed_number_of_statements(db_session, one_step):
    tier_1, icb = one_step.tier_1, one_step.icb
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def page_costs() -> tuple[int, services.MessagePage]:
        db_session.flush()
        connection = db_session.connection()
        event.listen(connection, "before_cursor_execute", count)
        try:
            statements.clear()
            page = services.messages(db_session, tier_1, icb)
            services.unread_count(db_session, tier_1, icb)
            return len(statements), page
        finally:
            event.remove(connection, "before_cursor_execute", count)

    first = at_tier_1(db_session, one_step)
    act(db_session, first, A.TIER_1_APPROVE, tier_1)
    act(db_session, first, A.TIER_2_APPROVE, one_step.tier_2)
    one, page = page_costs()
    assert (page.total, page.unread, page.more) == (1, 1, False)
    for _ in range(3):
        claim = at_tier_1(db_session, claim_scene(two_step=False, icb=icb))
        act(db_session, claim, A.TIER_1_DECLINE, tier_1, "No")  # their own: not news
        claim = at_tier_1(db_session, claim_scene(two_step=False, icb=icb))
        act(db_session, claim, A.TIER_1_APPROVE, tier_1)
        act(db_session, claim, A.TIER_2_APPROVE, one_step.tier_2)
    four, page = page_costs()
    assert (page.total, page.unread) == (4, 4)
    assert [message.event_id for message in page.messages] == sorted(
        (message.event_id for message in page.messages), reverse=True
    )
    assert one == four == 4  # reading position, counts, the page's rows, the header
    assert not db_session.scalar(
        select(exists().where(ClaimMessage.user_id == tier_1.id, ClaimMessage.claim_event_id < 0))
    )


def test_a_commissioners_messages_are_counted_up_to_a_limit(app, db_session, one_step, monkeypatch):
    for _ in range(3):
        claim = at_tier_1(db_session, claim_scene(two_step=False, icb=one_step.icb))
        act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
        act(db_session, claim, A.TIER_2_APPROVE, one_step.tier_2)
    db_session.commit()
    monkeypatch.setattr(services, "COUNTED_UP_TO", 2)
    page = services.messages(db_session, one_step.tier_1, one_step.icb)
    assert (page.total, page.unread, page.more, page.unread_more) == (2, 2, True, True)
    assert len(page.messages) == 3  # the page shows them all; only the count stops
    body = signed_in(app, one_step.tier_1).get("/messages/updates").get_data(as_text=True)
    assert "More than 2 unread of more than 2." in body
