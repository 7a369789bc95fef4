"""A small keep-alive HTTP client for the benchmark's scripted flows (standard library only):
session cookie, CSRF token, form and multipart posts, timings."""

from __future__ import annotations

import http.client
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

COOKIE = "claims_portal_session"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Client:
    """One browser: one connection (kept alive) and one session cookie."""

    def __init__(self, host: str, port: int, timeout: float = 60) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.cookie: str | None = None
        self.csrf: str | None = None
        self._connection: http.client.HTTPConnection | None = None

    def _conn(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout
            )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] = {}
    ) -> Reply:
        sent = {"Host": f"{self.host}:{self.port}", **headers}
        if self.cookie:
            sent["Cookie"] = f"{COOKIE}={self.cookie}"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                connection = self._conn()
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed a kept-alive connection: once more
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            received = {k.lower(): v for k, v in response.getheaders()}
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
                    self.cookie = value.split(";", 1)[0].split("=", 1)[1]
            if received.get("connection", "").lower() == "close":
                self.close()
            reply = Reply(response.status, received, data, seconds)
            match = _CSRF.search(reply.text) if b"csrf_token" in data else None
            if match:
                self.csrf = match.group(1) or match.group(2)
            return reply
        raise AssertionError("unreachable")

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: Mapping[str, str] | Sequence[tuple[str, str]]) -> Reply:
        pairs = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
        if self.csrf:
            pairs.append(("csrf_token", self.csrf))
        return self.request(
            "POST",
            path,
            urlencode(pairs).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_file(
        self,
        path: str,
        fields: Mapping[str, str],
        file_field: str,
        filename: str,
        data: bytes,
        content_type: str = "application/pdf",
    ) -> Reply:
        boundary = uuid.uuid4().hex
        parts = []
        items = dict(fields)
        if self.csrf:
            items["csrf_token"] = self.csrf
        for name, value in items.items():
            parts.append(
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST",
            path,
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    def sign_in(self, email: str, password: str, totp: str | None = None) -> None:
        """Through the real pages; raises if the person is not signed in at the end."""
        self.get("/sign-in")
        reply = self.post("/sign-in", {"email": email, "password": password})
        if "/sign-in/security-code" in reply.location:
            self.get("/sign-in/security-code")
            if totp is None:
                raise RuntimeError(f"{email} needs a security code")
            reply = self.post("/sign-in/security-code", {"code": totp})
        if reply.status != 302 or "sign-in" in reply.location:
            raise RuntimeError(f"{email} could not sign in: {reply.status} {reply.location}")
        self.get("/")  # a page with a form: the CSRF token for later posts


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
