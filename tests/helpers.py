"""Helpers shared by tests: the test app and its databases, signing in, CSRF tokens, counting
queries. Fixtures live in the conftest files; what they and the tests call lives here (and in
``tests/<domain>/helpers.py``), never imported from a conftest."""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
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
from claims_portal.extensions import db

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/claims_portal_test"
PG_START_COMMAND = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
TEST_PASSWORD = "a-long-test-password-42"


class NetworkGuardError(ConnectionRefusedError):
    """A test tried to reach something other than 127.0.0.1 (an OSError, so that callers
    such as ``socket.create_connection`` close their socket as for any refused connection)."""


# --- The database -------------------------------------------------------------------------


def run_database_url(suffix: str = "") -> str:
    """A database name of this run's own (process id), so that runs side by side on one
    server never drop each other's database."""
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    name = f"{url.database}{suffix}_{os.getpid()}"
    return url.set(database=name).render_as_string(hide_password=False)


def end_backend(pid: int, owner_database_url: str) -> None:
    """End a database connection from the server's side (what a restart, a failover or an
    idle timeout does to it), and wait until it is gone."""
    admin = make_url(owner_database_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False)) as killer:
        killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


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


def lost_connection_report(engine: Any, error: BaseException) -> str:
    """What a test says when its database connection was lost: the driver's error and what
    the server says of itself now, to tell an end on the server's side (a restart, too many
    clients) from our own code's."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT now(), pg_postmaster_start_time(),"
                " (SELECT count(*) FROM pg_stat_activity), current_setting('max_connections')"
            ).fetchone()
        assert row is not None
        now, started, used, limit = row
        server = (
            f"the server's time {now:%H:%M:%S}, running since {started:%H:%M:%S}, "
            f"{used} of {limit} connections in use"
        )
    except psycopg.Error as exc:
        server = f"the server cannot be reached now ({exc})"
    detail = " ".join(str(error).split())[:300]
    return f"the test's database connection was lost ({type(error).__name__}: {detail}); {server}"


@contextlib.contextmanager
def rolled_back_session(engine: Any) -> Iterator[Any]:
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
    event.listen(session.session_factory, "after_commit", commit_point(connection))
    lost: list[BaseException] = []

    def note_lost(context: Any) -> None:
        if context.is_disconnect and context.connection is connection:
            lost.append(context.original_exception)

    event.listen(engine, "handle_error", note_lost)
    original = db.session
    db.session = session
    try:
        yield session
    finally:
        try:
            # Every step runs even when one before it fails (a lost connection): a step
            # left undone would leave the next test this one's session, or a connection
            # left open for the collector to close in the middle of another test.
            with contextlib.ExitStack() as cleanup:
                cleanup.callback(event.remove, engine, "handle_error", note_lost)
                cleanup.callback(setattr, db, "session", original)
                cleanup.callback(connection.close)
                cleanup.callback(transaction.rollback)
                cleanup.callback(session.remove)
        finally:
            if lost:
                raise AssertionError(lost_connection_report(engine, lost[0]))


def commit_point(connection: Any) -> Any:
    """What a real COMMIT does that releasing a savepoint does not: check the deferred
    constraints."""

    def after_commit(session: Any) -> None:
        if session.get_nested_transaction() is not None:
            return  # a savepoint inside the request's own transaction
        connection.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")
        connection.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")

    return after_commit


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

    url = run_database_url(suffix)
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


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(response: Any) -> str:
    """The CSRF token in a rendered form."""
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> Any:
    """Sign in through the real form (CSRF token included).

    People whose role needs two-factor authentication get an authenticator first and enter
    a fresh code from it (tests/access/helpers.py), so the response is the last step's.
    """
    from tests.access.helpers import complete_second_factor, ensure_enrolled_if_required

    ensure_enrolled_if_required(email)
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_token(page)},
    )
    return complete_second_factor(client, response, email)


_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET CONSTRAINTS")


@contextlib.contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The SQL statements run meanwhile, the tests' own bookkeeping aside: savepoints, and the
    ``SET CONSTRAINTS`` with which the test session checks deferred constraints where a real
    COMMIT would (``commit_point``, after every request, read-only ones too). The
    session is emptied first, so that a request finds nothing cached from the test's own
    set-up, as in production where every request starts with an empty session."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(_BOOKKEEPING):
            statements.append(statement)

    db.session.remove()
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
