"""How long a lockout lasts, what the person is told, and lockouts of addresses without an
account.

After ``LOCKOUT_THRESHOLD`` failed sign-ins in a row an account locks for
``LOCKOUT_MINUTES``; each further lockout before a successful sign-in (or a password reset)
doubles it, up to ``LOCKOUT_MAX_HOURS``. When it ends, sign-in works again and the count of
failures starts afresh. A password reset by emailed link unlocks at once.

The sign-in page tells whoever types the address that it is locked and until when. So that
this does not reveal who has an account, an address without one (or with a disabled one)
locks the same way after the same failures, kept in the throttling storage (Redis in
production) under a keyed hash of the address instead of in ``user_account``.

The configured values come in as ``settings`` (:class:`AccessSettings`), never from the app.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from claims_portal import clock
from claims_portal.access import throttling
from claims_portal.access.services.settings import AccessSettings
from claims_portal.formatting import england

#: How long the failures of an address without an account are remembered.
_REMEMBER = dt.timedelta(days=30)


def duration(lockout_number: int, *, settings: AccessSettings) -> dt.timedelta:
    """How long the ``lockout_number``-th lockout in a row lasts (1 is the first)."""
    first, cap = settings.lockout_first, settings.lockout_cap
    if lockout_number > 32:  # 2**31 times anything is past any cap
        return cap
    return min(first * 2 ** max(0, lockout_number - 1), cap)


def locked_message(until: dt.datetime) -> str:
    """What the sign-in page says, in England's time, rounded up to the minute."""
    local = england(until)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    when = f"{local:%H:%M}"
    if local.date() != clock.england_now().date():
        when += f" on {local.day} {local:%B}"
    return f"Your account is locked until {when}. You can reset your password now to unlock it."


# --- Addresses without an account ----------------------------------------------------------


def _keys(email: str, settings: AccessSettings) -> tuple[str, str, str]:
    secret = str(settings.secret_key).encode()
    digest = hmac.new(secret, email.encode(), hashlib.sha256).hexdigest()[:32]
    base = throttling.key("lockout", digest)
    return f"{base}/failures", f"{base}/lockouts", f"{base}/locked"


def no_account_locked_until(email: str, *, settings: AccessSettings) -> dt.datetime | None:
    """When the lockout of an address without an account ends, if it is locked."""
    _, _, locked = _keys(email, settings)
    storage = throttling.storage()
    if storage.get(locked) <= 0:
        return None
    return dt.datetime.fromtimestamp(storage.get_expiry(locked), dt.UTC)


def no_account_failed(email: str, *, settings: AccessSettings) -> dt.datetime | None:
    """Count a failure of an address without an account; when it locks, returns the end."""
    failures, lockouts, locked = _keys(email, settings)
    storage = throttling.storage()
    remember = int(_REMEMBER.total_seconds())
    if storage.incr(failures, remember) < settings.lockout_threshold:
        return None
    storage.clear(failures)
    length = duration(storage.incr(lockouts, remember), settings=settings)
    storage.clear(locked)
    storage.incr(locked, int(length.total_seconds()))
    return clock.now() + length
