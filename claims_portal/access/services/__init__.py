"""Accounts and access: the rules (flush only; views commit). The package's public face.

- ``accounts``: accounts, memberships, sign-in (password step, lockout, sessions); its
  names are re-exported here (``services.create_user``, ``services.AccessError``);
- ``permissions``: capability checks for services (``ensure_capability``,
  ``has_capability``), the current organisation (views declare theirs: ``routes.py``);
- ``policy``, ``mailboxes``: who may have an account, the password policy;
- ``tokens``: emailed single-use links (registration, invitation, password reset);
- ``access_requests``: requests, routing to deciders, approval and rejection;
- ``people``: administrators' work (invite, revoke, disable, unlock, reset two-factor);
- ``mfa``: two-factor sign-in; ``lockout``: how long a lockout lasts;
- ``emails``: the words of each email.

Beside this package, not rules: ``roles`` (the role -> capability vocabulary), ``passwords``
(hashing), ``sealing`` (encrypting secrets at rest), ``throttling`` (per-address limits),
``links`` (absolute URLs for emails).

Modules inside this package import each other by their full module path (never names from
this ``__init__``), so any of them can be imported first.
"""

from claims_portal.access.services import (
    access_requests,
    emails,
    lockout,
    mailboxes,
    mfa,
    people,
    permissions,
    policy,
    tokens,
)
from claims_portal.access.services.accounts import (
    GENERIC_SIGN_IN_ERROR,
    AccessConflict,
    AccessError,
    PasswordCheck,
    SessionExpired,
    active_memberships,
    check_password,
    complete_sign_in,
    create_user,
    end_all_sessions,
    end_expired_lock,
    end_session,
    grant_membership,
    hash_token,
    load_session,
    normalise_email,
    open_session,
    record_failed_sign_in,
)
from claims_portal.access.services.permissions import (
    PermissionDenied,
    current_organisation,
    ensure_capability,
    has_capability,
)

__all__ = [
    "GENERIC_SIGN_IN_ERROR",
    "AccessConflict",
    "AccessError",
    "PasswordCheck",
    "PermissionDenied",
    "SessionExpired",
    "access_requests",
    "active_memberships",
    "check_password",
    "complete_sign_in",
    "create_user",
    "current_organisation",
    "emails",
    "end_all_sessions",
    "end_expired_lock",
    "end_session",
    "ensure_capability",
    "grant_membership",
    "has_capability",
    "hash_token",
    "load_session",
    "lockout",
    "mailboxes",
    "mfa",
    "normalise_email",
    "open_session",
    "people",
    "permissions",
    "policy",
    "record_failed_sign_in",
    "tokens",
]
