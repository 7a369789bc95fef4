"""Per-address throttling of sign-in, password reset and access requests (Flask-Limiter).

Each app gets its own :class:`Limiter` (tests build several apps; a module-level limiter
would share its on/off switch and storage between them). Storage is ``REDIS_URL`` when set,
memory otherwise. Only POSTs count: reading the forms is never throttled. A breach is a 429,
shown as the NHS error page. Behind a proxy, wrap the app in ProxyFix so the address is the
client's.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: endpoint -> the setting holding its limit ("10 per minute; 100 per hour").
THROTTLED: dict[str, str] = {
    "access.sign_in": "SIGN_IN_RATE_LIMIT",
    "access.sign_in_code": "SIGN_IN_RATE_LIMIT",
    "access.forgotten_password": "PASSWORD_RESET_RATE_LIMIT",
    "access.change_password": "SIGN_IN_RATE_LIMIT",
    "access.request_access_form": "ACCESS_REQUEST_RATE_LIMIT",
}


def _limit_from(setting: str):  # type: ignore[no-untyped-def]
    return lambda: str(current_app.config[setting])


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "claims-portal")
    limiter = Limiter(get_remote_address, app=app, default_limits=[], strategy="fixed-window")
    for endpoint, setting in THROTTLED.items():
        view = app.view_functions[endpoint]
        wrapped = limiter.limit(_limit_from(setting), methods=["POST"])(view)
        app.view_functions[endpoint] = wrapped  # type: ignore[assignment]
    # The route limits only hold a weak reference to their limiter: the app keeps it alive.
    app.extensions["claims_portal_limiter"] = limiter
    return limiter
