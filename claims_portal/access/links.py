"""Absolute links put in emails, built without the request (services stay pure of Flask).

Views make a :class:`Links` from ``PUBLIC_BASE_URL`` (``hosts.public_base_url``, never the
request's Host header) and hand it to the services. ``tests/access/test_throttling_and_links.py``
checks the paths match the routes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    base_url: str

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def registration(self, token: str) -> str:
        return self._url(f"/complete-registration/{token}")

    def password_reset(self, token: str) -> str:
        return self._url(f"/reset-password/{token}")

    def pending_actions(self) -> str:
        return self._url("/pending-actions")

    def sign_in(self) -> str:
        return self._url("/sign-in")

    def forgotten_password(self) -> str:
        return self._url("/forgotten-password")

    def request_access(self) -> str:
        return self._url("/request-access")
