"""The database pool's check that a connection still works before a request uses it.

SQLAlchemy's ``pool_pre_ping`` asks the server on every checkout: one more round trip on
every request, paid by PostgreSQL too, while a pool that is busy hands the same
connections out again within milliseconds. Here a connection is asked only when it has sat
in the pool for ``DATABASE_PING_IDLE_SECONDS`` (0: every time, as ``pool_pre_ping``): that
is when the server can have gone away under it unseen (a restart, a failover, an idle
timeout). A connection that does not answer is thrown away and the pool hands out another
(SQLAlchemy's ``checkout`` event raising ``DisconnectionError``), so the request never sees
it. A connection lost while in use fails its request, as it would with ``pool_pre_ping``.

How long a connection has been idle is measured with the monotonic clock: it is not a date
the portal reasons about (``clock.py`` is for those), and it must not jump with the wall clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

from claims_portal.extensions import db

log = logging.getLogger(__name__)

#: Where a pooled connection's record keeps when it was last given back.
_RETURNED_AT = "claims_portal_returned_at"


def watch(
    engine: Engine, idle_seconds: float, *, clock: Callable[[], float] = time.monotonic
) -> None:
    """Ping ``engine``'s connections at checkout once they have been idle ``idle_seconds``
    (by ``clock``, seconds)."""

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = clock()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None:
            return  # just connected: nothing could have gone away yet
        idle = clock() - returned_at
        if idle < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            log.warning("database connection idle %.0f s did not answer, replaced: %s", idle, error)
            raise exc.DisconnectionError(str(error)) from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checked_out)


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("DATABASE_PING_IDLE_SECONDS", 0))
    with app.app_context():
        for engine in db.engines.values():
            watch(engine, seconds)
