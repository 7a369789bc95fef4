"""The configured values access's rules use, read once from the app's configuration.

The services never read the app: ``create_app`` builds one :class:`AccessSettings` from its
configuration (``claims_portal.service_settings``), and views and commands pass it to the
rules that need it (``settings=...``). Tests build their own with :meth:`from_config` or
:func:`dataclasses.replace`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from claims_portal.access import sealing
from claims_portal.access.models import TokenPurpose
from claims_portal.access.roles import Role
from claims_portal.access.services.policy import generic_mailbox_names

DEFAULT_MFA_REQUIRED_ROLES = (
    "ADMINISTRATOR,APPROVER_TIER_1,APPROVER_TIER_2,FINANCE,"
    "COMMISSIONING_MANAGEMENT,DECLARATION_MANAGEMENT,APPROVAL_MANAGEMENT,FINANCE_MANAGEMENT"
)


def parse_roles(setting: str | None) -> frozenset[Role]:
    """``MFA_REQUIRED_ROLES``: comma-separated ``Role`` names (``KeyError`` for an unknown one)."""
    return frozenset(Role[name.strip()] for name in (setting or "").split(",") if name.strip())


@dataclass(frozen=True)
class AccessSettings:
    """Lockouts, emailed links, two-factor sign-in and shared mailboxes (docs/configuration.md)."""

    #: Words refused as shared mailboxes: the shipped list with ``GENERIC_MAILBOX_NAMES``.
    generic_mailbox_names: frozenset[str] = field(default_factory=generic_mailbox_names)
    #: ``REGISTRATION_LINK_DAYS`` (registration and invitation links).
    registration_link_lifetime: dt.timedelta = dt.timedelta(days=7)
    #: ``PASSWORD_RESET_LINK_MINUTES``.
    password_reset_link_lifetime: dt.timedelta = dt.timedelta(minutes=60)
    #: ``LOCKOUT_THRESHOLD``: failed sign-ins in a row that lock an account.
    lockout_threshold: int = 5
    #: ``LOCKOUT_MINUTES``: the first lockout; each further one in a row doubles it ...
    lockout_first: dt.timedelta = dt.timedelta(minutes=30)
    #: ... up to ``LOCKOUT_MAX_HOURS``.
    lockout_cap: dt.timedelta = dt.timedelta(hours=24)
    #: ``MFA_ENFORCED`` and ``MFA_REQUIRED_ROLES``: who must use two-factor sign-in.
    mfa_enforced: bool = True
    mfa_required_roles: frozenset[Role] = field(
        default_factory=lambda: parse_roles(DEFAULT_MFA_REQUIRED_ROLES)
    )
    #: ``MFA_ISSUER`` (else ``SERVICE_NAME``): the name authenticator apps show.
    mfa_issuer: str = "Claims portal"
    #: ``MFA_SECRET_KEYS``, parsed when a secret is sealed or opened (:meth:`sealing_keys`).
    mfa_secret_keys: str | None = field(default=None, repr=False)
    #: ``SECRET_KEY``: derives the sealing key when ``MFA_SECRET_KEYS`` is unset, and keys
    #: the hash under which addresses without an account are locked out.
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AccessSettings:
        """The settings in an app's configuration (defaults where a key is missing)."""
        secret_key = config.get("SECRET_KEY")
        return cls(
            generic_mailbox_names=generic_mailbox_names(config.get("GENERIC_MAILBOX_NAMES")),
            registration_link_lifetime=dt.timedelta(
                days=int(config.get("REGISTRATION_LINK_DAYS", 7))
            ),
            password_reset_link_lifetime=dt.timedelta(
                minutes=int(config.get("PASSWORD_RESET_LINK_MINUTES", 60))
            ),
            lockout_threshold=int(config.get("LOCKOUT_THRESHOLD", 5)),
            lockout_first=dt.timedelta(minutes=int(config.get("LOCKOUT_MINUTES", 30))),
            lockout_cap=dt.timedelta(hours=int(config.get("LOCKOUT_MAX_HOURS", 24))),
            mfa_enforced=bool(config.get("MFA_ENFORCED", True)),
            mfa_required_roles=parse_roles(
                config.get("MFA_REQUIRED_ROLES", DEFAULT_MFA_REQUIRED_ROLES)
            ),
            mfa_issuer=str(config.get("MFA_ISSUER") or config.get("SERVICE_NAME") or ""),
            mfa_secret_keys=config.get("MFA_SECRET_KEYS"),
            secret_key=None if secret_key is None else str(secret_key),
        )

    def link_lifetime(self, purpose: TokenPurpose) -> dt.timedelta:
        """How long an emailed link of ``purpose`` works."""
        if purpose is TokenPurpose.PASSWORD_RESET:
            return self.password_reset_link_lifetime
        return self.registration_link_lifetime

    def sealing_keys(self) -> list[bytes]:
        """The keys sealing two-factor secrets (``access.sealing``; the first seals).

        Raises :class:`sealing.BadKeys` when ``MFA_SECRET_KEYS`` is malformed.
        """
        return sealing.parse_keys(self.mfa_secret_keys, self.secret_key)
