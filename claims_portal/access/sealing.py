"""Two-factor secrets encrypted at rest (AES-256-GCM), so a copy of the database alone
cannot mint sign-in codes.

Keys come from ``MFA_SECRET_KEYS``: one or more 32-byte keys, base64url, comma-separated.
The first seals; every one opens, so a key is rotated by putting the new one first and
keeping the old one until every secret has been sealed again (each sign-in reseals with the
first key; ``claims-portal db upgrade`` seals plain ones). Production requires the setting;
development and tests derive a key from ``SECRET_KEY`` when it is unset.

A sealed value is ``v1.`` and base64url of nonce (12 bytes), ciphertext and tag, with the
user's id as associated data: a value copied to another person's row does not open.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "v1."
_NONCE_BYTES = 12


class BadKeys(ValueError):
    """``MFA_SECRET_KEYS`` is not a list of 32-byte base64url keys."""


class Unreadable(Exception):
    """A sealed secret that none of the keys opens (wrong keys, or a tampered value)."""


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def parse_keys(setting: str | None, secret_key: str | None) -> list[bytes]:
    """The keys in ``MFA_SECRET_KEYS``, or one derived from ``secret_key`` when unset."""
    if setting and setting.strip():
        keys = []
        for number, text in enumerate((k.strip() for k in setting.split(",") if k.strip()), 1):
            try:
                key = _decode(text)
            except (binascii.Error, ValueError) as exc:
                raise BadKeys(f"MFA_SECRET_KEYS: key {number} is not base64url") from exc
            if len(key) != 32:
                raise BadKeys(f"MFA_SECRET_KEYS: key {number} is {len(key)} bytes, not 32")
            keys.append(key)
        return keys
    if not secret_key:
        raise BadKeys("MFA_SECRET_KEYS is unset and there is no SECRET_KEY to derive one from")
    derive = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"claims-portal mfa secrets")
    return [derive.derive(secret_key.encode("utf-8"))]


def new_key() -> str:
    """A fresh key for ``MFA_SECRET_KEYS``."""
    return _encode(os.urandom(32))


def _context(user_id: int) -> bytes:
    return f"user_account:{user_id}".encode("ascii")


def seal(secret: str, user_id: int, keys: list[bytes]) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keys[0]).encrypt(nonce, secret.encode("utf-8"), _context(user_id))
    return PREFIX + _encode(nonce + sealed)


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def unseal(stored: str, user_id: int, keys: list[bytes]) -> tuple[str, bool]:
    """The secret, and whether it is sealed with the first key (else it should be resealed).

    A value without the prefix is a secret stored before sealing existed: returned as is.
    """
    if not is_sealed(stored):
        return stored, False
    try:
        data = _decode(stored[len(PREFIX) :])
    except (binascii.Error, ValueError) as exc:
        raise Unreadable from exc
    nonce, sealed = data[:_NONCE_BYTES], data[_NONCE_BYTES:]
    for index, key in enumerate(keys):
        try:
            secret = AESGCM(key).decrypt(nonce, sealed, _context(user_id))
        except InvalidTag:
            continue
        return secret.decode("utf-8"), index == 0
    raise Unreadable
