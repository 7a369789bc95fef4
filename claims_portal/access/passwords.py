"""argon2id password hashing (argon2-cffi), with parameters from the app's configuration."""

from __future__ import annotations

import contextlib
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verified against when the email has no account (or no password yet), so that a failed
# sign-in costs one argon2 verification whether or not the address exists. Hashed once per
# process and parameter set: hashing it per attempt would make unknown addresses cost twice.
_DUMMY_PASSWORD = "not-a-real-password-for-timing"  # noqa: S105 - not a credential
_dummy_hashes: dict[tuple[int, int, int], str] = {}
_dummy_lock = threading.Lock()


def _parameters() -> tuple[int, int, int]:
    config = current_app.config
    return (
        int(config["ARGON2_TIME_COST"]),
        int(config["ARGON2_MEMORY_COST"]),
        int(config["ARGON2_PARALLELISM"]),
    )


def _hasher() -> PasswordHasher:
    time_cost, memory_cost, parallelism = _parameters()
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )


def _dummy_hash(hasher: PasswordHasher) -> str:
    parameters = _parameters()
    with _dummy_lock:
        if parameters not in _dummy_hashes:
            _dummy_hashes[parameters] = hasher.hash(_DUMMY_PASSWORD)
        return _dummy_hashes[parameters]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches. Exactly one argon2 verification either way: without a
    hash, ``password`` is verified against a dummy hash of the same parameters."""
    hasher = _hasher()
    if password_hash is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(hasher), password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def warm_up() -> None:
    """Make this process's dummy hash now (at start-up), not at the first unknown address."""
    _dummy_hash(_hasher())
