"""A real ClamAV daemon of one run, loaded with one signature made here (the EICAR test
string: no signatures can be downloaded on the machines this project is built on).

It runs in the foreground from a ``clamd.conf`` in ``folder``, on a Unix socket there and on
a free TCP port of 127.0.0.1. The test suite's ``clamd`` fixture and the claims benchmark
(which checks every uploaded file, as production does) both start theirs with
:func:`start`; :func:`stop` ends it by its process.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: The EICAR anti-virus test file (eicar.org): harmless, and detected by every engine.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: Our signature's name; clamd reports signatures from local databases with this suffix.
SIGNATURE = "Portal.Test.EICAR"
INSTALL = (
    "clamd (ClamAV's daemon) is not installed: the virus-check tests run a real one. "
    "Install it with `make clamav` (or: apt-get install -y clamav-daemon)."
)
STARTUP_SECONDS = 60


class ClamdUnavailable(RuntimeError):
    """clamd is not installed, stopped at start-up, or did not answer in time."""


@dataclass(frozen=True)
class Daemon:
    socket_path: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def binary() -> str:
    found = shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd") if Path(p).exists()), None
    )
    if found is None:
        raise ClamdUnavailable(INSTALL)
    return found


def start(folder: Path) -> Daemon:
    """Start clamd in ``folder`` (empty) and return once it answers ``PING``."""
    from claims_portal.claims.evidence import ClamdScanner

    program = binary()
    database = folder / "db"
    database.mkdir()
    (database / "portal-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    socket_path, port, log = str(folder / "clamd.sock"), _free_port(), folder / "log"
    config = folder / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LocalSocket {socket_path}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"LogFile {log}",
                "LogTime yes",
                f"TemporaryDirectory {folder}",
                "",
            ]
        )
    )
    with (folder / "output").open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own config, a binary found on PATH
            [program, "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    daemon = Daemon(socket_path=socket_path, port=port, log=log, process=process)
    scanner = ClamdScanner(socket_path=socket_path, timeout=10)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output_text = (folder / "output").read_text(errors="replace")
            raise ClamdUnavailable(
                f"clamd stopped at start-up ({process.returncode}):\n{output_text}"
            )
        if scanner.ping():
            return daemon
        time.sleep(0.1)
    stop(daemon)
    raise ClamdUnavailable(f"clamd did not answer PING within {STARTUP_SECONDS} s")


def stop(daemon: Daemon) -> None:
    daemon.process.terminate()
    try:
        daemon.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        daemon.process.kill()
        daemon.process.wait(timeout=15)
