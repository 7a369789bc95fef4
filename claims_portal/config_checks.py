"""Where settings come from besides the environment, and the start-up checks of all of them.

**Secrets from files.** Every setting ``NAME`` may instead be given as ``NAME_FILE``, the path
of a file holding the value (a container or systemd secret, readable by the portal's user
only): ``SECRET_KEY_FILE``, ``MFA_SECRET_KEYS_FILE``, ``DATABASE_URL_FILE``,
``MIGRATION_DATABASE_URL_FILE``, ``MAIL_PASSWORD_FILE``, ``REDIS_URL_FILE`` and so on. The
file's value is used when ``NAME`` is unset; setting both is refused, as is a file that cannot
be read or is empty. One trailing line break is dropped.

**Start-up checks.** :func:`problems` looks at every setting once they are all read, and
``config.BaseConfig.from_environment`` refuses to start with all that is wrong named at once:
switches that say neither yes nor no, numbers out of range, choices that are not one of the
choices, addresses that do not parse, rate limits, role names, a production secret key too
short to be one. A message names the setting and what it must be, never a secret's value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

FILE_SUFFIX = "_FILE"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
#: The shortest production SECRET_KEY (it signs sessions and CSRF tokens): 32 characters.
MIN_SECRET_KEY_LENGTH = 32


class SecretFileError(ValueError):
    """A ``NAME_FILE`` that cannot be used (the message names it and the path)."""


def environment_value(name: str) -> str | None:
    """``NAME`` from the environment, else the contents of the file ``NAME_FILE`` names.

    Raises :class:`SecretFileError` when both are set, or the file is unreadable or empty."""
    value = os.environ.get(name)
    path = os.environ.get(name + FILE_SUFFIX)
    if not path:
        return value
    if value:
        raise SecretFileError(f"Set {name} or {name}{FILE_SUFFIX}, not both")
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
        raise SecretFileError(f"{name}{FILE_SUFFIX}: cannot read {path} ({reason})") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise SecretFileError(f"{name}{FILE_SUFFIX}: {path} is empty")
    return text


def is_set(name: str) -> bool:
    """Whether the environment gives ``NAME`` (itself or as ``NAME_FILE``)."""
    return name in os.environ or bool(os.environ.get(name + FILE_SUFFIX))


# --- The checks ----------------------------------------------------------------------------

#: Numbers that may be 0 (0 switches the keeping off, or means "no proxy").
_ZERO_ALLOWED_PREFIXES = ("PROXY_FIX_",)
_ZERO_ALLOWED = frozenset(
    {"HEADER_COUNTS_SECONDS", "FILTER_OPTIONS_SECONDS", "DATABASE_PING_IDLE_SECONDS"}
)
_PORTS = frozenset({"MAIL_PORT", "CLAMD_PORT"})
_CHOICES: dict[str, tuple[str, ...]] = {
    "EVIDENCE_STORE": ("local", "s3"),
    "PAYMENTS_TRANSPORT": ("folder", "s3"),
    "MAIL_BACKEND": ("smtp", "outbox"),
    "SESSION_COOKIE_SAMESITE": ("Lax", "Strict"),
}
_S3_ENCRYPTION = ("aws:kms", "AES256", "none")
_RATE_LIMITS = ("SIGN_IN_RATE_LIMIT", "PASSWORD_RESET_RATE_LIMIT", "ACCESS_REQUEST_RATE_LIMIT")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def problems(settings: Mapping[str, Any], defaults: Mapping[str, Any], env_name: str) -> list[str]:
    """What is wrong with ``settings`` (as read, with ``defaults`` the class's own values),
    one sentence naming the setting for each problem; empty when all is well."""
    found: list[str] = []
    found += _switches(defaults)
    found += _numbers(settings, defaults)
    found += _choices(settings)
    found += _addresses(settings)
    found += _rate_limits(settings)
    found += _roles(settings)
    if env_name == "production":
        found += _production(settings)
    return found


def _switches(defaults: Mapping[str, Any]) -> list[str]:
    found = []
    for name, default in defaults.items():
        if isinstance(default, bool) and is_set(name):
            word = (environment_value(name) or "").strip().lower()
            if word and word not in TRUE_WORDS | FALSE_WORDS:
                found.append(f"{name} must be true or false (or 1/0, yes/no, on/off), not {word!r}")
    return found


def _numbers(settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    found = []
    for name, default in defaults.items():
        value = settings.get(name)
        if isinstance(default, bool) or not isinstance(default, int) or not isinstance(value, int):
            continue
        zero_allowed = name in _ZERO_ALLOWED or name.startswith(_ZERO_ALLOWED_PREFIXES)
        if name in _PORTS and not 0 < value < 65536:
            found.append(f"{name} must be a port number (1 to 65535), not {value}")
        elif value < 0 or (value == 0 and not zero_allowed):
            least = "0 or more" if zero_allowed else "more than 0"
            found.append(f"{name} must be {least}, not {value}")
    return found


def _choices(settings: Mapping[str, Any]) -> list[str]:
    found = []
    for name, allowed in _CHOICES.items():
        value = str(settings.get(name) or "")
        if value.lower() not in {choice.lower() for choice in allowed}:
            found.append(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    encryptions = {choice.lower() for choice in _S3_ENCRYPTION}
    for name in ("EVIDENCE_S3_SSE", "AUDIT_ANCHOR_S3_SSE"):
        sse = settings.get(name)
        if sse and str(sse).strip().lower() not in encryptions:
            found.append(f"{name} must be one of {', '.join(_S3_ENCRYPTION)} or empty, not {sse!r}")
    store = str(settings.get("EVIDENCE_STORE") or "").lower()
    if store == "s3" and not settings.get("EVIDENCE_S3_BUCKET"):
        found.append("EVIDENCE_S3_BUCKET must be set when EVIDENCE_STORE is s3")
    if str(settings.get("PAYMENTS_TRANSPORT") or "").lower() == "s3" and not settings.get(
        "PAYMENTS_S3_BUCKET"
    ):
        found.append("PAYMENTS_S3_BUCKET must be set when PAYMENTS_TRANSPORT is s3")
    target = str(settings.get("AUDIT_ANCHOR_TARGET") or "")
    if target.startswith("s3://") and not urlsplit(target).netloc:
        found.append("AUDIT_ANCHOR_TARGET must name a bucket: s3://bucket/prefix")
    sender = str(settings.get("MAIL_DEFAULT_SENDER") or "")
    if "@" not in sender:
        found.append(f"MAIL_DEFAULT_SENDER must be an email address, not {sender!r}")
    return found


def _addresses(settings: Mapping[str, Any]) -> list[str]:
    """Database and Redis addresses that parse (their passwords never repeated)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    found = []
    for name, setting in (
        ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
        ("MIGRATION_DATABASE_URL", "MIGRATION_DATABASE_URL"),
    ):
        value = settings.get(setting)
        if not value:
            continue
        try:
            make_url(str(value))
        except (ArgumentError, ValueError):
            found.append(
                f"{name} is not a database address (postgresql://user:password@host:5432/name)"
            )
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        value = settings.get(name)
        if value and urlsplit(str(value)).scheme not in _REDIS_SCHEMES:
            found.append(f"{name} must be a Redis address (redis://host:6379/0 or rediss://...)")
    return found


def _rate_limits(settings: Mapping[str, Any]) -> list[str]:
    from limits import parse_many

    found = []
    for name in _RATE_LIMITS:
        value = str(settings.get(name) or "")
        try:
            parse_many(value)
        except ValueError:
            found.append(f"{name} must be rates like '10 per minute; 100 per hour', not {value!r}")
    return found


def _roles(settings: Mapping[str, Any]) -> list[str]:
    from claims_portal.access.roles import Role

    names = [n.strip() for n in str(settings.get("MFA_REQUIRED_ROLES") or "").split(",")]
    unknown = [name for name in names if name and name not in Role.__members__]
    if unknown:
        return [
            f"MFA_REQUIRED_ROLES names no such role: {', '.join(unknown)} "
            f"(roles: {', '.join(Role.__members__)})"
        ]
    return []


def _production(settings: Mapping[str, Any]) -> list[str]:
    found = []
    key = settings.get("SECRET_KEY") or ""
    if key and len(key) < MIN_SECRET_KEY_LENGTH:
        found.append(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if not settings.get("SESSION_COOKIE_SECURE"):
        found.append("SESSION_COOKIE_SECURE must be true in production (cookies only over HTTPS)")
    return found
