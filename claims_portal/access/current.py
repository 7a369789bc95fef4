"""The person signed in to this request, typed: ``current.person()``.

Flask-Login's ``current_user`` is an untyped proxy, an anonymous user when nobody is signed
in. Views, the routes' declarations, the header navigation and the admin read the person
through :func:`person` instead of casting the proxy.
"""

from __future__ import annotations

from typing import cast

from flask_login import current_user
from werkzeug.exceptions import Unauthorized

from claims_portal.access.models import User


def person() -> User:
    """The signed-in person.

    Raises :class:`~werkzeug.exceptions.Unauthorized` (401) when nobody is signed in: routes
    declared ``@signed_in`` or ``@requires...`` never get here without one (they send the
    person to sign in first), so only a mistake does.
    """
    if not current_user.is_authenticated:
        raise Unauthorized()
    return cast(User, current_user._get_current_object())
