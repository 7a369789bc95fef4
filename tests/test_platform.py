"""The test platform's own promises."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from tests.factories.access import UserFactory
from tests.helpers import NetworkGuardError, sign_in


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
