"""The header's counts kept between pages, on the server: Redis (``REDIS_URL``, shared by
every worker and server) or, without it (``make run``), this process's memory.

Per person, one entry per organisation they act for: the counts and the moment (the app's
clock, ``clock.now``) they were made; ``navigation.py`` decides how long they hold
(``HEADER_COUNTS_SECONDS``) and forgets a person's entries after their own changes. Redis
also drops an entry an hour after it was written (housekeeping only: age is judged by the
app's clock, so the suite can run as of any moment).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger(__name__)

#: Redis forgets a person's counts this long after they were last written.
_HOUSEKEEPING_SECONDS = 3600
#: People whose counts the memory store keeps (least recently written go first).
_MEMORY_PEOPLE = 10_000


class CountStore(Protocol):
    def get(self, user_id: int, organisation_id: int | None) -> dict[str, Any] | None: ...

    def put(self, user_id: int, organisation_id: int | None, entry: dict[str, Any]) -> None: ...

    def forget(self, user_id: int) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._people: OrderedDict[int, dict[int | None, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: int, organisation_id: int | None) -> dict[str, Any] | None:
        with self._lock:
            return self._people.get(user_id, {}).get(organisation_id)

    def put(self, user_id: int, organisation_id: int | None, entry: dict[str, Any]) -> None:
        with self._lock:
            self._people.setdefault(user_id, {})[organisation_id] = entry
            self._people.move_to_end(user_id)
            while len(self._people) > _MEMORY_PEOPLE:
                self._people.popitem(last=False)

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._people.pop(user_id, None)


class RedisStore:
    """A hash per person (``<prefix>:counts:<user id>``), a field per organisation.

    Redis out of reach is a miss, not an error: the header counts afresh (and the log says
    so), the page is served."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._errors = (redis.RedisError, OSError)
        self._prefix = prefix

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:counts:{user_id}"

    def get(self, user_id: int, organisation_id: int | None) -> dict[str, Any] | None:
        try:
            raw = self._redis.hget(self._key(user_id), str(organisation_id))
        except self._errors as error:
            log.warning("header counts not read from Redis: %s", error)
            return None
        if raw is None:
            return None
        entry: dict[str, Any] = json.loads(raw)  # type: ignore[arg-type]
        return entry

    def put(self, user_id: int, organisation_id: int | None, entry: dict[str, Any]) -> None:
        key = self._key(user_id)
        try:
            pipe = self._redis.pipeline()
            pipe.hset(key, str(organisation_id), json.dumps(entry))
            pipe.expire(key, _HOUSEKEEPING_SECONDS)
            pipe.execute()
        except self._errors as error:
            log.warning("header counts not kept in Redis: %s", error)

    def forget(self, user_id: int) -> None:
        try:
            self._redis.delete(self._key(user_id))
        except self._errors as error:
            log.warning("header counts not forgotten in Redis: %s", error)


def store(app: Flask | None = None) -> CountStore:
    return (app or current_app).extensions["kept_counts"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    prefix = str(app.config.get("RATELIMIT_KEY_PREFIX", "claims-portal"))
    app.extensions["kept_counts"] = RedisStore(url, prefix) if url else MemoryStore()
