"""The configured values the services are given, built once per app.

Services never read the app (a convention test greps ``services/`` for ``current_app``):
``create_app`` builds each domain's frozen settings from its configuration here, and views
and commands hand them to the rules as ``settings=...``.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app

from claims_portal.access.services.settings import AccessSettings
from claims_portal.claims.services.settings import ClaimsSettings

#: Where each domain's settings are kept in ``app.extensions``.
ACCESS = "access_settings"
CLAIMS = "claims_settings"


def init_app(app: Flask) -> None:
    app.extensions[ACCESS] = AccessSettings.from_config(app.config)
    app.extensions[CLAIMS] = ClaimsSettings.from_config(app.config)


def access_settings(app: Flask | None = None) -> AccessSettings:
    """Access's settings of ``app`` (the current app by default)."""
    return cast(AccessSettings, (app or current_app).extensions[ACCESS])


def claims_settings(app: Flask | None = None) -> ClaimsSettings:
    """Claims' settings of ``app`` (the current app by default)."""
    return cast(ClaimsSettings, (app or current_app).extensions[CLAIMS])
