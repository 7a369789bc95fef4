from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from claims_portal.audit.models import AuditEvent
from claims_portal.audit.services import GENESIS_HASH, compute_hash, record_event, verify_chain
from claims_portal.cli import audit_verify
from tests.factories.access import UserFactory
from tests.factories.organisations import PracticeFactory


def _events(db_session, count=3):
    actor = UserFactory()
    practice = PracticeFactory()
    events = [
        record_event(
            db_session,
            action="test.happened",
            object_type="thing",
            object_id=n,
            actor=actor,
            organisation=practice,
            before={"n": n - 1},
            after={"n": n},
            reason=f"reason {n}",
        )
        for n in range(count)
    ]
    db_session.commit()
    return events


def test_events_are_chained_by_hash(db_session):
    first, second, third = _events(db_session)
    assert second.previous_hash == first.event_hash
    assert third.previous_hash == second.event_hash
    assert all(e.event_hash == compute_hash(e) for e in (first, second, third))


def test_event_records_who_what_where_and_why(db_session):
    event = _events(db_session, 1)[0]
    stored = db_session.get(AuditEvent, event.id)
    assert stored.actor_label.endswith("@example.nhs.net")
    assert stored.organisation_id is not None
    assert (stored.action, stored.object_type, stored.object_id) == ("test.happened", "thing", "0")
    assert stored.before == {"n": -1}
    assert stored.after == {"n": 0}
    assert stored.reason == "reason 0"
    assert stored.occurred_at.tzinfo is not None


def test_chain_starts_from_genesis(db_session):
    first = db_session.scalar(select(AuditEvent).order_by(AuditEvent.id))
    if first is None:
        first = _events(db_session, 1)[0]
    assert first.previous_hash == GENESIS_HASH


def test_intact_chain_verifies(db_session):
    _events(db_session)
    report = verify_chain(db_session)
    assert report.ok
    assert report.checked >= 3


def _tamper(db_session, sql, **params):
    """Edit the table by hand, as an attacker with the owner's powers would (the
    application's own role cannot: tests/audit/test_app_role.py)."""
    db_session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    db_session.execute(text(sql), params)
    db_session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    db_session.expire_all()


def test_editing_a_row_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, _third = _events(db_session)
    _tamper(db_session, "UPDATE audit_event SET reason = 'edited' WHERE id = :id", id=second.id)
    report = verify_chain(db_session)
    assert not report.ok
    assert report.broken_event_id == second.id
    assert "does not match its hash" in report.problem


def test_removing_a_row_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, third = _events(db_session)
    _tamper(db_session, "DELETE FROM audit_event WHERE id = :id", id=second.id)
    report = verify_chain(db_session)
    assert report.broken_event_id == third.id
    assert "link to the previous event is broken" in report.problem


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'edited'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event CASCADE",
    ],
    ids=["update", "delete", "truncate"],
)
def test_triggers_refuse_to_change_events_even_for_the_owner(owner_db_session, statement):
    db_session = owner_db_session
    _events(db_session, 1)
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text(statement))


def test_cli_verify_passes_then_fails_after_a_hand_edit(app, owner_db_session):
    db_session = owner_db_session
    events = _events(db_session)
    runner = app.test_cli_runner()
    result = runner.invoke(audit_verify)
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.output
    _tamper(db_session, "UPDATE audit_event SET action = 'x' WHERE id = :id", id=events[1].id)
    result = runner.invoke(audit_verify)
    assert result.exit_code == 1
    assert f"BROKEN at event {events[1].id}" in result.output


def test_values_that_are_not_json_are_refused(db_session):
    with pytest.raises(TypeError, match="cannot record object"):
        record_event(
            db_session,
            action="thing.happened",
            object_type="y",
            object_id=1,
            after={"bad": object()},
        )
