from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from claims_portal.audit.models import AuditEvent, AuditSeal
from claims_portal.audit.services import (
    GENESIS_HASH,
    compute_hash,
    record_event,
    seal_and_commit,
    verify_chain,
)
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
    seal_and_commit(db_session)  # as the unit of work does after a request's commit
    return events


def _seal_of(db_session, event):
    return db_session.scalar(select(AuditSeal).where(AuditSeal.event_id == event.id))


def test_events_are_chained_by_hash_once_sealed(db_session):
    first, second, third = _events(db_session)
    seals = [_seal_of(db_session, event) for event in (first, second, third)]
    assert [seal.position for seal in seals] == [seals[0].position + n for n in range(3)]
    assert seals[1].previous_hash == seals[0].event_hash
    assert seals[2].previous_hash == seals[1].event_hash
    for event, seal in zip((first, second, third), seals, strict=True):
        assert seal.event_hash == compute_hash(event, seal.previous_hash)
        assert event.previous_hash is None
        assert event.event_hash is None


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
    _events(db_session, 1)
    first = db_session.scalar(select(AuditSeal).order_by(AuditSeal.position))
    assert first.position == 1
    assert first.previous_hash == GENESIS_HASH


def test_intact_chain_verifies(db_session):
    _events(db_session)
    report = verify_chain(db_session)
    assert report.ok
    assert report.checked >= 3


def _tamper(db_session, sql, **params):
    """Edit the tables by hand (statements separated by "; "), as an attacker with the
    owner's powers would (the application's own role cannot: tests/audit/test_app_role.py)."""
    for table in ("audit_event", "audit_seal"):
        db_session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    for statement in sql.split("; "):
        db_session.execute(text(statement), params)
    for table in ("audit_event", "audit_seal"):
        db_session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    db_session.expire_all()


def test_editing_a_row_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, _third = _events(db_session)
    _tamper(db_session, "UPDATE audit_event SET reason = 'edited' WHERE id = :id", id=second.id)
    report = verify_chain(db_session)
    assert not report.ok
    assert report.broken_event_id == second.id
    assert "does not match its hash" in report.problem


def test_removing_an_event_and_its_seal_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, third = _events(db_session)
    _tamper(
        db_session,
        "DELETE FROM audit_seal WHERE event_id = :id; DELETE FROM audit_event WHERE id = :id",
        id=second.id,
    )
    report = verify_chain(db_session)
    assert report.broken_event_id == third.id
    assert "seals before it were removed" in report.problem


def test_closing_the_gap_left_by_a_removed_seal_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, third = _events(db_session)
    position = _seal_of(db_session, second).position
    _tamper(
        db_session,
        "DELETE FROM audit_seal WHERE event_id = :id; DELETE FROM audit_event WHERE id = :id; "
        "UPDATE audit_seal SET position = position - 1 WHERE position > :position",
        id=second.id,
        position=position,
    )
    report = verify_chain(db_session)
    assert report.broken_event_id == third.id
    assert "link to the previous event is broken" in report.problem


def test_a_changed_seal_is_detected(owner_db_session):
    db_session = owner_db_session
    _first, second, _third = _events(db_session)
    _tamper(
        db_session,
        "UPDATE audit_seal SET event_hash = :forged WHERE event_id = :id",
        forged="f" * 64,
        id=second.id,
    )
    report = verify_chain(db_session)
    assert report.broken_event_id == second.id
    assert "does not match its hash" in report.problem


def test_a_seal_whose_event_was_removed_is_detected(owner_db_session):
    db_session = owner_db_session
    second = _events(db_session)[1].id
    _tamper(
        db_session,
        "ALTER TABLE audit_seal DROP CONSTRAINT fk_audit_seal_event_id_audit_event; "
        "DELETE FROM audit_event WHERE id = :id",
        id=second,
    )
    report = verify_chain(db_session)
    assert report.broken_event_id == second
    assert "its seal remains but it was removed" in report.problem


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'edited'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event CASCADE",
        "UPDATE audit_seal SET sealed_at = sealed_at",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
    ],
    ids=["update", "delete", "truncate", "update-seal", "delete-seal", "truncate-seal"],
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


def test_cli_verify_seals_what_is_left_first(app, db_session):
    event = record_event(db_session, action="test.happened", object_type="thing", object_id=1)
    db_session.commit()  # committed outside a request: nothing sealed it
    assert _seal_of(db_session, event) is None
    result = app.test_cli_runner().invoke(audit_verify)
    assert result.exit_code == 0, result.output
    assert _seal_of(db_session, event) is not None


def test_values_that_are_not_json_are_refused(db_session):
    with pytest.raises(TypeError, match="cannot record object"):
        record_event(
            db_session,
            action="thing.happened",
            object_type="y",
            object_id=1,
            after={"bad": object()},
        )
