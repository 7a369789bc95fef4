"""A pooled connection that has sat idle is checked before a request uses it, and one the
server ended meanwhile is replaced unseen; a busy pool's connections are not asked at all
(claims_portal/db_pool.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from claims_portal import db_pool
from claims_portal.extensions import db
from tests.helpers import end_backend, make_test_app


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")))


def _pings(engine: Engine, monkeypatch) -> list[int]:
    """Each ping the pool sends to the server, by the backend it went to."""
    sent: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:
        sent.append(dbapi_connection.info.backend_pid)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def test_a_connection_idle_past_the_limit_and_ended_by_the_server_is_replaced(
    engine, owner_database_url, caplog
):
    clock = Clock()
    db_pool.watch(engine, 10, clock=clock)
    first = _backend(engine)
    end_backend(first, owner_database_url)
    clock.seconds += 11

    second = _backend(engine)  # no error: the dead connection was thrown away at checkout

    assert second != first
    assert "database connection idle 11 s did not answer, replaced" in caplog.text


def test_without_the_check_the_ended_connection_fails_the_next_use(engine, owner_database_url):
    """The control: what the check saves a request from."""
    first = _backend(engine)
    end_backend(first, owner_database_url)

    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.scalar(text("SELECT 1"))


def test_a_connection_back_in_the_pool_within_the_limit_is_not_asked(engine, monkeypatch):
    clock = Clock()
    db_pool.watch(engine, 10, clock=clock)
    sent = _pings(engine, monkeypatch)
    backend = _backend(engine)  # a new connection: never asked

    clock.seconds += 9
    _backend(engine)
    assert sent == []

    clock.seconds += 10  # now idle 10 s: asked once, then used
    assert _backend(engine) == backend
    assert sent == [backend]


def test_the_app_checks_its_connections(database_url, owner_database_url):
    """``create_app`` installs the check on the app's engine (0: every checkout)."""
    app = make_test_app(database_url, DATABASE_PING_IDLE_SECONDS=0)
    with app.app_context():
        first = _backend(db.engine)
        end_backend(first, owner_database_url)
        assert _backend(db.engine) != first
        db.engine.dispose()
