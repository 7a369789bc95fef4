"""Real Celery workers and schedulers for the queue's tests: subprocesses of their own,
against the machine's Redis and the tests' committed database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from claims_portal.config import PROJECT_ROOT

REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_START = "make redis (or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '')"


def redis_problem() -> str | None:
    """Why Redis at 127.0.0.1:6379 cannot be used, or None."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis is not reachable at 127.0.0.1:6379 ({exc}). Start it with: {REDIS_START}"
    return None


def forget_keys(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


class Process:
    """A ``celery`` subprocess (worker or beat) of this test run, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "claims_portal.jobs.worker", *args],
            env=env,
            cwd=str(PROJECT_ROOT),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        """The pool's processes (prefork), from /proc."""
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=5)
        self._out.close()


def process_env(database_url: str, owner_url: str, **settings: Any) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLAIMS_PORTAL_", "JOBS_", "MAIL_", "CELERY_"))
    }
    env.update(
        CLAIMS_PORTAL_ENV="test",
        DATABASE_URL=database_url,
        MIGRATION_DATABASE_URL=owner_url,
        JOBS_RUN_IN_PROCESS="false",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    env.update({key: str(value) for key, value in settings.items()})
    return env


def start_worker(env: dict[str, str], log: Path, *, concurrency: int = 2) -> Process:
    return Process(
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=test-{log.stem}-{os.getpid()}@%h",
            f"--queues={env['JOBS_QUEUE']}",
        ],
        env,
        log,
    )


def start_scheduler(env: dict[str, str], log: Path, state: Path) -> Process:
    return Process(["beat", "--loglevel=INFO", f"--schedule={state}"], env, log)


def wait_until(
    condition: Callable[[], Any], what: str, timeout: float = 30.0, process: Process | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.popen.poll() is not None:
            raise AssertionError(f"{what}: the process ended:\n{process.output()[-3000:]}")
        if time.monotonic() > deadline:
            tail = process.output()[-3000:] if process is not None else ""
            raise AssertionError(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.1)


class HoldingMailbox:
    """An aiosmtpd handler that can hold a delivery half-way: at RCPT (before the server
    accepted anything) or after DATA was stored (accepted, the answer not yet sent)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.hold_at: str | None = None
        self.holding = False

    async def _hold(self, step: str) -> None:
        if self.hold_at != step:
            return
        self.holding = True
        while self.hold_at == step:
            await asyncio.sleep(0.05)
        self.holding = False

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await self._hold("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        await self._hold("data")
        return "250 Message accepted for delivery"

    def release(self) -> None:
        self.hold_at = None
