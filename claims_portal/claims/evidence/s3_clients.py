"""One boto3 S3 client per process (and per set of connection settings), shared by every
request, job and store: creating a client took about 200 ms here (botocore loads the S3
service model and resolves credentials), more than most pages take in all. boto3's clients
are thread-safe, so gunicorn's threads share one; its connection pool is kept between
requests. Credentials that expire (an instance or task role) are refreshed by botocore.

A forked process (a gunicorn worker of a preloaded app, a Celery pool process) makes its
own: a client's open connections must never be shared across processes.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def shared_s3_client(
    *,
    region: str | None,
    endpoint_url: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> Any:
    """This process's S3 client for these settings, made the first time it is asked for."""
    key = (region, endpoint_url, connect_timeout, read_timeout, max_attempts)
    with _lock:
        client = _clients.get(key)
        if client is None:
            import boto3
            from botocore.config import Config

            client = _clients[key] = boto3.session.Session().client(
                "s3",
                region_name=region,
                endpoint_url=endpoint_url,
                config=Config(
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    retries={"total_max_attempts": max(1, max_attempts), "mode": "standard"},
                ),
            )
        return client


def forget_clients() -> None:
    """Drop this process's clients (a forked child's inherited ones; not closed, since their
    connections are the parent's)."""
    global _lock
    _clients.clear()
    _lock = threading.Lock()  # the parent's may have been held by another thread at the fork


os.register_at_fork(after_in_child=forget_clients)
