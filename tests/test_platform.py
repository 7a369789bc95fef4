"""The test platform's own promises."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from claims_portal.audit.models import AuditEvent
from claims_portal.extensions import db
from tests.factories.access import UserFactory
from tests.helpers import NetworkGuardError, end_backend, rolled_back_session, sign_in


@pytest.mark.parametrize(
    "address",
    [("10.255.255.1", 80), ("192.0.2.1", 443), ("example.org", 80)],
    ids=["private", "public", "name"],
)
def test_guard_refuses_connections_off_this_machine(address):
    # The guard raises before any packet is sent.
    with pytest.raises(NetworkGuardError, match=r"may only connect to 127\.0\.0\.1"):
        socket.create_connection(address, timeout=0.01)


def test_guard_allows_loopback(database_url):
    with socket.create_connection(("127.0.0.1", 5432), timeout=2):
        pass


def test_audit_events_carry_the_request_id(client, db_session):
    user = UserFactory()
    response = sign_in(client, user.email)
    request_id = response.headers["X-Request-Id"]
    assert request_id.startswith("req-")
    event = db_session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "sign_in.succeeded")
        .order_by(AuditEvent.id.desc())
    )
    assert event.request_id == request_id


def _lose_the_connection(session, owner_database_url):
    """The server ends the session's connection, and the next statement finds it gone."""
    end_backend(session.scalar(text("SELECT pg_backend_pid()")), owner_database_url)
    with pytest.raises(OperationalError):
        session.scalar(text("SELECT 1"))


def test_a_lost_connection_is_reported_and_leaves_the_next_test_a_clean_start(
    app, owner_database_url
):
    """A test whose connection the server ends (a restart, a terminated backend) fails
    saying so, and its cleanup still runs to the end: ``db.session`` is put back and the
    connection closed, so the tests after it start as usual."""
    reported = r"connection was lost \(AdminShutdown: terminating connection .* in use"
    with app.app_context():
        original = db.session
        with (
            pytest.raises(AssertionError, match=reported),
            rolled_back_session(db.engine) as session,
        ):
            _lose_the_connection(session, owner_database_url)
        assert db.session is original
        with db.engine.connect() as fresh:
            assert fresh.scalar(text("SELECT 1")) == 1
