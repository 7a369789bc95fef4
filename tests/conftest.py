"""Test platform: PostgreSQL migrated once per run, one rolled-back savepoint per test.

Tests talk to a real PostgreSQL (``TEST_DATABASE_URL``, default the machine's local server).
The database is dropped and created afresh at the start of the run, upgraded to the head
migration, and every test runs inside a transaction that is rolled back at its end; code
under test that commits only releases a savepoint.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from claims_portal.extensions import db
from tests.helpers import (
    NetworkGuardError,
    app_role_url,
    drop_database,
    grant_app_role_privileges,
    make_test_app,
    recreate_database,
    rolled_back_session,
    run_database_url,
)

#: The SMTP server tests read mail from (aiosmtpd on 127.0.0.1), shared with the browser tests.
#: ``--today`` moves the whole run to another moment (tests/moment.py).
pytest_plugins = ["tests.moment", "tests.smtp_fixtures"]


# --- No traffic leaves this machine -------------------------------------------------------


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and the like stay on this machine
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection to anything but the loopback address."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkGuardError(f"tests may only connect to 127.0.0.1, not {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise NetworkGuardError(f"tests may only connect to 127.0.0.1, not {address!r}")
        return real_connect_ex(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        # A name lookup would itself query a DNS server off this machine.
        if host not in (None, "localhost") and not _is_loopback((host,)):
            try:
                ipaddress.ip_address(host if isinstance(host, str) else host.decode())
            except ValueError:
                raise NetworkGuardError(
                    f"tests may only connect to 127.0.0.1, not look up {host!r}"
                ) from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


# --- The database -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def owner_database_url() -> Iterator[str]:
    """The run's database, as the role owning its schema (migrations run as it)."""
    url = run_database_url()
    recreate_database(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """The run's database, as the application's role (:data:`APP_ROLE`)."""
    return app_role_url(owner_database_url)


@pytest.fixture(scope="session")
def app(database_url: str, owner_database_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    application = make_test_app(database_url, MIGRATION_DATABASE_URL=owner_database_url)
    with application.app_context():
        upgrade()
        db.engine.dispose()
    grant_app_role_privileges(owner_database_url)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Any]:
    """A session inside a transaction rolled back after the test.

    Commits (factories commit) only release a savepoint. Each request closes the session at
    its end, as in production, so a test commits what a request should see. It connects as
    the application's role (:data:`APP_ROLE`), which owns nothing.
    """
    with app.app_context(), rolled_back_session(db.engine) as session:
        yield session


@pytest.fixture(scope="session")
def owner_engine(app: Flask, owner_database_url: str) -> Iterator[Any]:
    from sqlalchemy import create_engine

    engine = create_engine(owner_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def owner_db_session(app: Flask, owner_engine: Any) -> Iterator[Any]:
    """Like ``db_session`` (and instead of it) but connected as the role owning the schema,
    for tests that act as an attacker with the owner's powers (disabling the audit
    trail's triggers, say). Rolled back after the test like ``db_session``."""
    with app.app_context(), rolled_back_session(owner_engine) as session:
        yield session


@pytest.fixture
def client(app: Flask, db_session: Any) -> FlaskClient:
    return app.test_client()


# --- Signing in ---------------------------------------------------------------------------
