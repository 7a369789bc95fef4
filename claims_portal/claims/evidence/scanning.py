"""Virus scanning behind an interface: ClamAV's daemon, or nothing where none is set up.

``VIRUS_SCANNER`` chooses (:func:`scanner_from_config`): ``clamd`` is :class:`ClamdScanner`,
which streams the whole file to ClamAV's daemon (Debian's ``clamav-daemon``) with its
``INSTREAM`` command over its Unix socket (``CLAMD_SOCKET``) or TCP (``CLAMD_HOST``,
``CLAMD_PORT``); ``none`` is :class:`NoVirusScanner`, which scans nothing and says so
(``ScanResult.scanned`` is false): for development machines, where no signatures can be
downloaded. Production refuses to start with ``none`` (``VIRUS_SCAN_REQUIRED``).

A scanner that cannot reach its engine raises :class:`VirusScanUnavailable`; the upload is
then refused for now (the claim page shows "try again later"), never accepted unscanned.
An infected file is refused and kept in quarantine (``validation.EvidenceInfected``,
``claims/services/quarantine.py``).
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from claims_portal.claims.evidence.errors import EvidenceError

log = logging.getLogger(__name__)

#: What the person reads when the scanner cannot give a verdict.
UNAVAILABLE_MESSAGE = (
    "The virus check is not available at the moment, so the file was not added. Try again later"
)
#: Debian's ``clamav-daemon`` listens here (``LocalSocket`` in /etc/clamav/clamd.conf).
DEFAULT_CLAMD_SOCKET = "/run/clamav/clamd.ctl"


class VirusScanUnavailable(EvidenceError):
    """The virus scanner could not give a verdict (engine down or timed out)."""


@dataclass(frozen=True)
class ScanResult:
    """A scanner's verdict on one file."""

    #: Which scanner gave the verdict ("none" for the default).
    scanner: str
    #: False when nothing was actually scanned (the default scanner).
    scanned: bool
    infected: bool = False
    #: The engine's name for what it found, when infected.
    signature: str | None = None


@runtime_checkable
class VirusScanner(Protocol):
    """Scans the whole file after the format checks have passed."""

    name: str

    def scan(self, data: bytes, *, filename: str) -> ScanResult:
        """Return the verdict; raise :class:`VirusScanUnavailable` when there is none."""
        ...


class NoVirusScanner:
    """The default: no engine is installed, so nothing is scanned (and the result says so)."""

    name = "none"

    def scan(self, data: bytes, *, filename: str) -> ScanResult:
        """Never raises; always "not scanned"."""
        return ScanResult(scanner=self.name, scanned=False)


class ClamdScanner:
    """ClamAV's daemon, spoken to with its ``INSTREAM`` command (``man clamd``).

    One connection per file: ``zINSTREAM\\0``, then the file in chunks, each preceded by its
    length as a 4-byte big-endian number, then a zero length; clamd answers
    ``stream: OK``, ``stream: <signature> FOUND`` or ``... ERROR``, ended by a NUL byte.
    ``socket_path`` (a Unix socket) is used unless ``host`` is given (TCP to ``port``).
    """

    name = "clamav"
    CHUNK_SIZE = 64 * 1024

    def __init__(
        self,
        *,
        socket_path: str | None = DEFAULT_CLAMD_SOCKET,
        host: str | None = None,
        port: int = 3310,
        timeout: float = 30,
    ) -> None:
        if not host and not socket_path:
            raise ValueError("clamd needs a Unix socket path or a host")
        self.socket_path = socket_path
        self.host = host
        self.port = port
        self.timeout = timeout

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.host else self.socket_path
        return f"ClamdScanner({where!r})"

    def _connect(self) -> socket.socket:
        if self.host:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(self.timeout)
        try:
            connection.connect(str(self.socket_path))
        except BaseException:
            connection.close()
            raise
        return connection

    def _exchange(self, command: bytes, data: bytes | None = None) -> str:
        """Send one command (and, for INSTREAM, the data); clamd's answer, NUL removed."""
        with self._connect() as connection:
            connection.sendall(b"z" + command + b"\0")
            if data is not None:
                for start in range(0, len(data), self.CHUNK_SIZE):
                    chunk = data[start : start + self.CHUNK_SIZE]
                    connection.sendall(struct.pack("!L", len(chunk)) + chunk)
                connection.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
        return reply.rstrip(b"\0").decode("utf-8", "replace").strip()

    def ping(self) -> bool:
        """Whether clamd answers ``PING`` with ``PONG`` (never raises)."""
        try:
            return self._exchange(b"PING") == "PONG"
        except OSError:
            return False

    def scan(self, data: bytes, *, filename: str) -> ScanResult:
        """clamd's verdict on ``data``. Raises :class:`VirusScanUnavailable` when clamd
        cannot be reached, times out, or answers with an error (such as a file over its
        ``StreamMaxLength``)."""
        try:
            reply = self._exchange(b"INSTREAM", data)
        except OSError as exc:
            log.warning("evidence: clamd at %r could not scan %s: %s", self, filename, exc)
            raise VirusScanUnavailable(UNAVAILABLE_MESSAGE) from exc
        if reply.endswith(" FOUND"):
            signature = reply.removeprefix("stream:").removesuffix(" FOUND").strip()
            return ScanResult(scanner=self.name, scanned=True, infected=True, signature=signature)
        if reply == "stream: OK":
            return ScanResult(scanner=self.name, scanned=True, infected=False)
        log.warning("evidence: clamd could not scan %s: %r", filename, reply)
        raise VirusScanUnavailable(UNAVAILABLE_MESSAGE)


def scanner_from_config(config: Mapping[str, Any]) -> VirusScanner:
    """The scanner ``VIRUS_SCANNER`` names: ``clamd`` (:class:`ClamdScanner` on
    ``CLAMD_HOST``:``CLAMD_PORT`` when a host is set, else ``CLAMD_SOCKET``, with
    ``CLAMD_TIMEOUT_SECONDS``) or ``none`` (:class:`NoVirusScanner`). Raises ``ValueError``
    for any other name (start-up refuses it first: ``config.py``)."""
    kind = str(config.get("VIRUS_SCANNER") or "none").lower()
    if kind == "none":
        return NoVirusScanner()
    if kind == "clamd":
        return ClamdScanner(
            socket_path=config.get("CLAMD_SOCKET") or DEFAULT_CLAMD_SOCKET,
            host=config.get("CLAMD_HOST") or None,
            port=int(config.get("CLAMD_PORT") or 3310),
            timeout=float(config.get("CLAMD_TIMEOUT_SECONDS") or 30),
        )
    raise ValueError(f"VIRUS_SCANNER must be none or clamd, not {kind!r}")
