"""Events are chained after they commit, by one sealer at a time: writers never wait for
each other on the audit trail."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest
from flask import Response
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from claims_portal import clock
from claims_portal.audit import services as audit_services
from claims_portal.audit.models import AuditEvent, AuditSeal
from claims_portal.audit.services import (
    record_event,
    recorded_event_ids,
    seal,
    seal_and_commit,
    verify_chain,
)
from claims_portal.cli import audit_seal
from claims_portal.extensions import db
from claims_portal.unit_of_work import finish
from tests.helpers import migrated_app
from tests.races import together


def _record(session, object_id: object = 1) -> AuditEvent:
    return record_event(session, action="test.happened", object_type="thing", object_id=object_id)


def _seal_of(session, event_id: int) -> AuditSeal | None:
    return session.scalar(select(AuditSeal).where(AuditSeal.event_id == event_id))


# --- In the suite's rolled-back transaction ------------------------------------------------


def test_a_request_that_recorded_events_seals_them_after_its_commit(app, db_session):
    with app.test_request_context("/"):
        first = _record(db.session, 1)
        second = _record(db.session, 2)
        assert recorded_event_ids(db.session) == [first.id, second.id]
        finish(Response())
        assert recorded_event_ids(db.session) == []
    seals = [_seal_of(db_session, first.id), _seal_of(db_session, second.id)]
    assert all(seals)
    assert seals[1].position == seals[0].position + 1
    assert verify_chain(db_session).ok


def test_a_refused_request_forgets_its_events(app, db_session):
    with app.test_request_context("/"):
        _record(db.session)
        finish(Response(status=400))
        assert recorded_event_ids(db.session) == []


def test_a_seal_that_fails_never_fails_the_request(app, db_session, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the sealer fell over")

    monkeypatch.setattr(audit_services, "seal", broken)
    with app.test_request_context("/"), caplog.at_level(logging.ERROR):
        event = _record(db.session)
        finish(Response())  # does not raise
    assert "could not seal the audit events" in caplog.text
    assert db_session.get(AuditEvent, event.id) is not None  # committed all the same
    assert _seal_of(db_session, event.id) is None
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(audit_seal)  # the sweep picks it up
    assert result.exit_code == 0, result.output
    assert "Sealed 1 audit event." in result.output
    assert _seal_of(db_session, event.id) is not None


def test_sealing_twice_does_nothing_the_second_time(db_session):
    _record(db_session)
    db_session.commit()
    assert seal_and_commit(db_session) >= 1
    assert seal_and_commit(db_session) == 0
    newest = db_session.scalar(select(func.max(AuditSeal.position)))
    assert newest == db_session.scalar(select(func.count()).select_from(AuditSeal))


def test_committed_events_left_unsealed_are_reported(db_session):
    seal_and_commit(db_session)
    fresh = _record(db_session, "fresh")
    db_session.commit()
    assert verify_chain(db_session).ok  # the sealer is due any moment
    old = AuditEvent(
        occurred_at=clock.now() - dt.timedelta(minutes=10),
        actor_label="system",
        action="test.happened",
        object_type="thing",
        object_id="old",
    )
    db_session.add(old)
    db_session.commit()
    report = verify_chain(db_session)
    assert report.broken_event_id == old.id
    assert "never chained (1 event left without a seal for over 5 minutes" in report.problem
    assert verify_chain(db_session, grace=dt.timedelta(hours=1)).ok
    assert seal_and_commit(db_session) == 2
    assert verify_chain(db_session).ok
    assert _seal_of(db_session, old.id).position == _seal_of(db_session, fresh.id).position + 1


# --- Real connections, real commits --------------------------------------------------------


@pytest.fixture(scope="module")
def live_app():
    with migrated_app("_audit_sealing") as application:
        yield application


def _session(app) -> Session:
    return Session(db.engine, expire_on_commit=False)


def test_writers_do_not_wait_for_each_other_and_a_late_commit_is_sealed_later(live_app):
    """A records an event and stays open; B records one, commits and seals meanwhile. A's
    event has the lower id but, committed later, is chained after B's."""
    with live_app.app_context():
        first = _session(live_app)
        outcome: dict[str, object] = {}

        def second_writer() -> None:
            with live_app.app_context():
                session = _session(live_app)
                try:
                    started = time.monotonic()
                    event = _record(session, "B")
                    recorded = recorded_event_ids(session)
                    session.commit()
                    outcome["sealed"] = seal_and_commit(session, recorded)
                    outcome["took"] = time.monotonic() - started
                    outcome["id"] = event.id
                finally:
                    session.close()

        try:
            early = _record(first, "A")
            writer = threading.Thread(target=second_writer)
            writer.start()
            writer.join(5)
            blocked = writer.is_alive()
            recorded = recorded_event_ids(first)
            first.commit()
            assert not blocked, "the second writer waited for the first one's commit"
            assert outcome["took"] < 5
            assert outcome["id"] > early.id
            assert outcome["sealed"] == 1  # its own; A's was not committed yet
            assert seal_and_commit(first, recorded) == 1
        finally:
            first.rollback()
            first.close()
            writer.join(10)

        with _session(live_app) as session:
            late, on_time = _seal_of(session, early.id), _seal_of(session, outcome["id"])
            assert late.position == on_time.position + 1
            assert late.previous_hash == on_time.event_hash
            assert verify_chain(session).ok


def test_two_sealers_at_once_make_one_contiguous_chain(live_app):
    with live_app.app_context():
        with _session(live_app) as session:
            seal_and_commit(session)
            before = session.scalar(select(func.count()).select_from(AuditSeal))
            for n in range(40):
                _record(session, n)
            session.commit()  # outside a request: left for a sealer
        counts = together(live_app, seal, seal)
        assert sorted(counts)[0] >= 0
        assert sum(counts) == 40
        with _session(live_app) as session:
            positions = session.scalars(select(AuditSeal.position).order_by(AuditSeal.position))
            assert list(positions) == list(range(1, before + 41))
            assert verify_chain(session).ok
            assert seal_and_commit(session) == 0


def test_sealing_holds_its_lock_only_while_sealing(live_app):
    """A writer that stays open after recording holds nothing a sealer waits for."""
    with live_app.app_context():
        writer = _session(live_app)
        try:
            _record(writer, "open")
            with _session(live_app) as sealer:
                sealer.execute(text("SET lock_timeout = '2s'"))
                seal_and_commit(sealer)  # does not wait for the open writer
                sealer.execute(text("RESET lock_timeout"))
                sealer.commit()
        finally:
            writer.rollback()
            writer.close()


# --- The migration: events chained before seals existed keep their chain and anchors ------

_OLD_EVENT = """
INSERT INTO audit_event (occurred_at, actor_label, action, object_type, object_id,
                         previous_hash, event_hash)
VALUES (:occurred_at, 'system', 'test.happened', 'thing', :object_id, :previous, :hash)
RETURNING id
"""


def test_the_migration_seals_old_events_in_id_order_with_their_hashes():
    from flask_migrate import upgrade

    from claims_portal.audit.services import GENESIS_HASH, compute_hash
    from claims_portal.audit.services.anchors import Anchor
    from tests.helpers import drop_database, make_test_app, recreate_database, run_database_url

    url = run_database_url("_audit_backfill")
    recreate_database(url)
    application = make_test_app(url)
    try:
        with application.app_context():
            upgrade(revision="0012_claim_commissioners")
            previous, ids = GENESIS_HASH, []
            with db.engine.begin() as connection:
                for n in range(3):
                    event = AuditEvent(
                        occurred_at=clock.now(),
                        actor_label="system",
                        action="test.happened",
                        object_type="thing",
                        object_id=str(n),
                    )
                    event_hash = compute_hash(event, previous)  # as the old release chained
                    ids.append(
                        connection.execute(
                            text(_OLD_EVENT),
                            {
                                "occurred_at": event.occurred_at,
                                "object_id": event.object_id,
                                "previous": previous,
                                "hash": event_hash,
                            },
                        ).scalar_one()
                    )
                    previous = event_hash
            old_anchor = Anchor(ids[-1], previous, 3, clock.now(), "before 0013")
            upgrade()
            with _session(application) as session:
                seals = session.scalars(select(AuditSeal).order_by(AuditSeal.position)).all()
                assert [(s.position, s.event_id) for s in seals] == list(enumerate(ids, start=1))
                assert seals[-1].event_hash == previous
                report = verify_chain(session, [old_anchor])
                assert report.ok, report.problem
                assert report.anchors_checked == 1
                _record(session, "after")
                session.commit()
                assert seal_and_commit(session) == 1
                assert verify_chain(session, [old_anchor]).ok
            db.engine.dispose()
    finally:
        drop_database(url)
