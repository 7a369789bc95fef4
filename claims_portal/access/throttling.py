"""Per-address throttling of sign-in, password reset and access requests.

Counters live in one storage shared by every worker and server: Redis (``REDIS_URL``,
required in production) or, for ``make run`` and most tests, this process's memory. The
key is the client's address (``request.remote_addr``: behind a proxy, ProxyFix makes it the
person's, not the proxy's).

Only real attempts count: a view calls :func:`count_attempt` once its form has validated, so
reading a form, an empty field or an expired form (CSRF) costs nothing. Counting is one
atomic increment per limit at that moment (``limits``, the engine under Flask-Limiter):
Flask-Limiter's own ``deduct_when`` tests before the view and deducts after it, so
requests arriving together all passed the test. A breach raises :class:`TooManyAttempts`
(a 429 whose page and ``Retry-After`` header say when to try again).

Each app has its own storage (tests build several apps); ``RATELIMIT_KEY_PREFIX`` keeps
apps sharing one Redis apart.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from claims_portal import clock
from claims_portal.access import passwords

#: endpoint -> the setting holding its limit ("10 per minute; 100 per hour").
THROTTLED: dict[str, str] = {
    "access.sign_in": "SIGN_IN_RATE_LIMIT",
    "access.sign_in_code": "SIGN_IN_RATE_LIMIT",
    "access.forgotten_password": "PASSWORD_RESET_RATE_LIMIT",
    "access.change_password": "SIGN_IN_RATE_LIMIT",
    "access.request_access_form": "ACCESS_REQUEST_RATE_LIMIT",
}

_EXTENSION = "claims_portal_throttling"


@dataclass(frozen=True)
class _Throttling:
    storage: Storage
    limiter: FixedWindowRateLimiter
    prefix: str


class TooManyAttempts(TooManyRequests):
    """Too many attempts from this address: a 429 saying when the window resets."""

    def __init__(self, reset_at: float) -> None:
        wait = max(1, math.ceil(reset_at - clock.timestamp()))
        super().__init__(description=when_to_try_again(wait), retry_after=wait)


def when_to_try_again(wait_seconds: int) -> str:
    """Plain words for a wait, with England's wall-clock time once it is over a minute or two."""
    if wait_seconds < 120:
        return f"You have tried too many times. Wait {wait_seconds} seconds, then try again."
    moment = clock.england_now() + dt.timedelta(seconds=wait_seconds + 59)
    return (
        "You have tried too many times. Try again after "
        f"{moment:%H:%M} (in {math.ceil(wait_seconds / 60)} minutes)."
    )


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "claims-portal")
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    if not isinstance(storage, Storage):  # an async:// storage would need an event loop
        raise TypeError(f"{app.config['RATELIMIT_STORAGE_URI']!r} is not a synchronous storage")
    app.extensions[_EXTENSION] = _Throttling(
        storage=storage,
        limiter=FixedWindowRateLimiter(storage),
        prefix=str(app.config["RATELIMIT_KEY_PREFIX"]),
    )
    # The first unknown address a worker sees must not pay for making the dummy hash.
    with app.app_context():
        passwords.warm_up()


def _state() -> _Throttling:
    state: _Throttling = current_app.extensions[_EXTENSION]
    return state


def storage() -> Storage:
    """The shared storage (also holding the lockouts of addresses without an account)."""
    return _state().storage


def key(*parts: str) -> str:
    """A storage key under this app's prefix."""
    return "/".join((_state().prefix, *parts))


def limits_for(endpoint: str) -> list[RateLimitItem]:
    return parse_many(str(current_app.config[THROTTLED[endpoint]]))


def count_attempt() -> None:
    """Count one attempt at this request's endpoint from its address.

    Raises :class:`TooManyAttempts` when a limit is exceeded (nothing else is counted then).
    Does nothing while ``RATELIMIT_ENABLED`` is off.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    endpoint = request.endpoint or ""
    state = _state()
    identity = (state.prefix, endpoint, request.remote_addr or "unknown")
    for item in limits_for(endpoint):
        if not state.limiter.hit(item, *identity):
            raise TooManyAttempts(state.limiter.get_window_stats(item, *identity).reset_time)
