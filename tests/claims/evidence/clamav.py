"""A real ClamAV daemon for the tests, with a signature database made here.

No signatures can be downloaded on the machines this project is built on, so the session's
``clamd`` loads one signature written by :func:`clamd`: an ``.ndb`` body signature matching
the EICAR anti-virus test string (any file type, anywhere in the file). clamd runs in the
foreground from a ``clamd.conf`` in a temporary folder, listening on a Unix socket there and
on a free TCP port of 127.0.0.1; the fixture waits until it answers ``PING`` with ``PONG``
and stops it (by its pid) at the end of the run. Without clamd the tests that use it fail,
saying how to install it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from claims_portal.claims.evidence import ClamdScanner
from tests.claims.evidence import samples

#: The EICAR anti-virus test file (eicar.org): harmless, and detected by every engine.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: Our signature's name; clamd reports signatures from local databases with this suffix.
SIGNATURE = "Portal.Test.EICAR"
FOUND = f"{SIGNATURE}.UNOFFICIAL"
INSTALL = (
    "clamd (ClamAV's daemon) is not installed: the virus-check tests run a real one. "
    "Install it with `make clamav` (or: apt-get install -y clamav-daemon)."
)
STARTUP_SECONDS = 60


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clamd_binary() -> str:
    found = shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail(INSTALL, pytrace=False)
    return found


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    """A clamd of this run, loaded with the EICAR signature only."""
    binary = _clamd_binary()
    folder = tmp_path_factory.mktemp("clamd")
    database = folder / "db"
    database.mkdir()
    (database / "portal-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    running = Clamd(socket_path=str(folder / "clamd.sock"), port=_free_port(), log=folder / "log")
    config = folder / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {running.socket_path}",
                f"TCPSocket {running.port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"LogFile {running.log}",
                "LogTime yes",
                f"TemporaryDirectory {folder}",
                "",
            ]
        )
    )
    with (folder / "output").open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own config, a binary found on PATH
            [binary, "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_pong(running, process, folder)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_for_pong(running: Clamd, process: subprocess.Popen[bytes], folder: Path) -> None:
    scanner = running.scanner()
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (folder / "output").read_text(errors="replace")
            pytest.fail(f"clamd stopped at start-up ({process.returncode}):\n{output}")
        if scanner.ping():
            return
        time.sleep(0.1)
    pytest.fail(f"clamd did not answer PING within {STARTUP_SECONDS} s")
