"""Virus scanning behind an interface.

No virus signatures can be downloaded on the machines this project is built on, so the
default scanner scans nothing and says so (``ScanResult.scanned`` is false). A deployment
plugs in a real engine (ClamAV's ``clamd`` over its Unix socket is the usual choice) by
implementing :class:`VirusScanner` and passing it to
:func:`claims_portal.claims.evidence.validation.inspect_evidence`::

    class ClamdScanner:
        name = "clamav"

        def scan(self, data: bytes, *, filename: str) -> ScanResult:
            reply = clamd_instream(data)          # "stream: OK" / "stream: Eicar FOUND"
            if reply.endswith("FOUND"):
                return ScanResult(scanner=self.name, scanned=True, infected=True,
                                  signature=reply.split(": ", 1)[1].removesuffix(" FOUND"))
            return ScanResult(scanner=self.name, scanned=True, infected=False)

A scanner that cannot reach its engine raises :class:`VirusScanUnavailable`; the upload is
then refused for now (the claims code shows "try again later"), never accepted unscanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from claims_portal.claims.evidence.errors import EvidenceError


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
