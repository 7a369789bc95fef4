"""Test platform: PostgreSQL migrated once per run, one rolled-back savepoint per test.

Tests talk to a real PostgreSQL (``TEST_DATABASE_URL``, default the machine's local server).
The database is dropped and created afresh at the start of the run, upgraded to the head
migration, and every test runs inside a transaction that is rolled back at its end; code
under test that commits only releases a savepoint.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from claims_portal import create_app
from claims_portal.core.page_cache import page_cache
from claims_portal.extensions import db

#: The SMTP server tests read mail from (aiosmtpd on 127.0.0.1), shared with the browser tests.
#: ``--today`` moves the whole run to another moment (tests/moment.py).
pytest_plugins = ["tests.moment", "tests.smtp_fixtures"]

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/claims_portal_test"
PG_START_COMMAND = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
TEST_PASSWORD = "a-long-test-password-42"


# --- No traffic leaves this machine -------------------------------------------------------


class NetworkGuardError(ConnectionRefusedError):
    """A test tried to reach something other than 127.0.0.1 (an OSError, so that callers
    such as ``socket.create_connection`` close their socket as for any refused connection)."""


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


def _database_url(suffix: str = "") -> str:
    """A database name of this run's own (process id), so that runs side by side on one
    server never drop each other's database."""
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    name = f"{url.database}{suffix}_{os.getpid()}"
    return url.set(database=name).render_as_string(hide_password=False)


#: The login role the application and the tests run as, as in production: it owns nothing
#: and holds only what ``claims-portal db grant-app-role`` gives it, so it cannot switch
#: the audit trail's triggers off. Roles are cluster-wide, so the name is fixed and the role
#: made once; its privileges are granted per database, so runs side by side do not meet.
APP_ROLE = "claims_portal_app_test"
APP_ROLE_PASSWORD = "claims-portal-app-test"


def app_role_url(owner_url: str) -> str:
    """``owner_url`` with the application's role in place of the owner."""
    url = make_url(owner_url).set(username=APP_ROLE, password=APP_ROLE_PASSWORD)
    return url.render_as_string(hide_password=False)


def _ensure_app_role(conn: psycopg.Connection[Any]) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
        return
    # Another run may make it at the same moment.
    with contextlib.suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        conn.execute(
            f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
            f"PASSWORD '{APP_ROLE_PASSWORD}'"
        )


def grant_app_role_privileges(owner_url: str) -> None:
    """What an operator runs after ``db upgrade``: the application's privileges for
    :data:`APP_ROLE` in the database of ``owner_url``."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from claims_portal.database_roles import grant_app_role

    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            grant_app_role(connection, APP_ROLE)
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres", drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (connecting to ``postgres``)."""
    parsed = make_url(url)
    if parsed.host not in {"127.0.0.1", "localhost", "::1"}:
        pytest.exit(f"TEST_DATABASE_URL must point at 127.0.0.1, not {parsed.host}", 2)
    admin = parsed.set(database="postgres", drivername="postgresql")
    conninfo = admin.render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
            _ensure_app_role(conn)
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is not reachable at {parsed.host}:{parsed.port or 5432} ({exc}).\n"
            f"Start it with: {PG_START_COMMAND}",
            2,
        )


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own application context.

    Tests hold an app context open (factories need it); Flask would reuse it for requests,
    and with it ``g``, which a real server never does between requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "CLAIMS_PORTAL_ENV": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SERVER_NAME": None,
        **overrides,
    }
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@contextlib.contextmanager
def migrated_app(suffix: str, **overrides: Any) -> Iterator[Flask]:
    """An app on a database of its own, migrated to head, dropped afterwards.

    For tests whose work must really commit (races between connections, the live server of
    the browser tests), where the per-test savepoint cannot be shared. Migrated as the owner
    (``MIGRATION_DATABASE_URL``); the app runs as :data:`APP_ROLE`.
    """
    from flask_migrate import upgrade

    url = _database_url(suffix)
    recreate_database(url)
    overrides.setdefault("MIGRATION_DATABASE_URL", url)
    application = make_test_app(app_role_url(url), **overrides)
    with application.app_context():
        upgrade()
    grant_app_role_privileges(url)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def owner_database_url() -> Iterator[str]:
    """The run's database, as the role owning its schema (migrations run as it)."""
    url = _database_url()
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
    with app.app_context(), _rolled_back_session(app, db.engine) as session:
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
    with app.app_context(), _rolled_back_session(app, owner_engine) as session:
        yield session


@contextlib.contextmanager
def _rolled_back_session(app: Flask, engine: Any) -> Iterator[Any]:
    """A session on one connection of ``engine`` in a transaction rolled back at the end,
    installed as ``db.session`` meanwhile."""
    connection = engine.connect()
    transaction = connection.begin()
    session = scoped_session(
        sessionmaker(
            bind=connection,
            join_transaction_mode="create_savepoint",
            # Objects a test made stay readable after a request closes the session.
            expire_on_commit=False,
        )
    )
    event.listen(session.session_factory, "after_commit", _commit_point(connection))
    cache = page_cache(app)
    if cache is not None:
        cache.clear()  # generations repeat between rolled-back tests
    original = db.session
    db.session = session
    try:
        yield session
    finally:
        session.remove()
        transaction.rollback()
        connection.close()
        db.session = original


def _commit_point(connection: Any) -> Any:
    """What a real COMMIT does that releasing a savepoint does not: run the deferred
    triggers (the page generation's) and end the transaction-local settings they keep."""

    def after_commit(session: Any) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint inside the request's own transaction
        connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        connection.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")
        connection.exec_driver_sql(
            "SELECT set_config('claims_portal.page_generation_bumped', '', true)"
        )

    return after_commit


@pytest.fixture
def client(app: Flask, db_session: Any) -> FlaskClient:
    return app.test_client()


# --- Signing in ---------------------------------------------------------------------------


def sign_in(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> Any:
    """Sign in through the real form (CSRF token included).

    People whose role needs two-factor authentication get an authenticator first and enter
    a fresh code from it (tests/access/helpers.py), so the response is the last step's.
    """
    from tests.access.helpers import complete_second_factor, ensure_enrolled_if_required
    from tests.helpers import csrf_token

    ensure_enrolled_if_required(email)
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(page)},
    )
    return complete_second_factor(client, response, email)
