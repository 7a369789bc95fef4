"""A real ClamAV daemon for the tests, with a signature database made here.

No signatures can be downloaded on the machines this project is built on, so the session's
``clamd`` loads one signature (``bench.claims.clamd``, which the claims benchmark starts
too): an ``.ndb`` body signature matching the EICAR anti-virus test string (any file type,
anywhere in the file). clamd runs in the foreground from a ``clamd.conf`` in a temporary
folder, listening on a Unix socket there and on a free TCP port of 127.0.0.1; the fixture
waits until it answers ``PING`` with ``PONG`` and stops it (by its pid) at the end of the
run. Without clamd the tests that use it fail, saying how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.claims import clamd as daemon
from bench.claims.clamd import EICAR, SIGNATURE
from claims_portal.claims.evidence import ClamdScanner
from tests.claims.evidence import samples

__all__ = ["EICAR", "FOUND", "Clamd", "clamd", "infected_pdf"]

FOUND = f"{SIGNATURE}.UNOFFICIAL"


@dataclass(frozen=True)
class Clamd:
    """The running test daemon: where it listens."""

    socket_path: str
    port: int
    log: Path

    def scanner(self) -> ClamdScanner:
        return ClamdScanner(socket_path=self.socket_path, timeout=10)

    def tcp_scanner(self) -> ClamdScanner:
        return ClamdScanner(host="127.0.0.1", port=self.port, timeout=10)


def infected_pdf() -> bytes:
    """A well-formed PDF (it passes every format check) carrying the EICAR string in an
    uncompressed stream."""
    stream = b"<< /Length %d >>\nstream\n" % len(EICAR) + EICAR + b"\nendstream"
    return samples.pdf_document(stream)


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """A clamd of this run, loaded with the EICAR signature only."""
    try:
        running = daemon.start(tmp_path_factory.mktemp("clamd"))
    except daemon.ClamdUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield Clamd(socket_path=running.socket_path, port=running.port, log=running.log)
    finally:
        daemon.stop(running)
