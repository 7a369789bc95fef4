"""gunicorn's settings for the portal's web processes (``gunicorn -c gunicorn.conf.py``).

The same server as the benchmarks measure (``bench/claims_http.py``, ``bench/load.py``): gthread
workers of 4 threads each, 2 s keep-alive. The environment chooses where it listens and how many
workers it runs; docs/operations.md says how to size them.

- ``HOST`` (default ``0.0.0.0``) and ``PORT`` (default ``8000``): where it listens.
- ``WEB_CONCURRENCY`` (default 2): worker processes; ``WEB_THREADS`` (default 4): threads each.
- ``WEB_TIMEOUT`` (default 60 s): a worker silent that long is killed and replaced.
- ``LOG_FORMAT`` (``json``, the default, or ``text``) and ``LOG_LEVEL``: gunicorn's own lines are
  written like the portal's, on standard output.

No access log: the portal writes one JSON line per request itself (claims_portal/logs.py),
with its route, status, duration and request id. Migrations are never run here: they are the
release step (``claims-portal db upgrade``, Procfile), run once before the web processes start.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {value!r}") from None


wsgi_app = "claims_portal:create_app()"

bind = [f"{os.environ.get('HOST') or '0.0.0.0'}:{_int('PORT', 8000)}"]  # noqa: S104 - in a container or behind a proxy
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _int("WEB_THREADS", 4)
keepalive = 2

# Graceful: on SIGTERM (a deploy, a scale-in) a worker stops taking connections and finishes
# the requests it holds for up to graceful_timeout before it is killed.
timeout = _int("WEB_TIMEOUT", 60)
graceful_timeout = 30

# Each worker builds its own app (its own database pool and S3 client, never shared across a
# fork); a worker killed on a timeout is replaced without touching the others.
preload_app = False

# Heartbeat files in memory, not on a container's overlay disk (a slow disk looks like a hung
# worker to the master).
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's heartbeat files, not data
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM

# X-Forwarded-* headers are the app's to judge (PROXY_FIX_*, claims_portal/hosts.py): gunicorn
# trusts none of them itself, so a proxy's headers count exactly as configured there.
forwarded_allow_ips = ""

accesslog = None
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "INFO").lower()
_FORMATTER = "text" if (os.environ.get("LOG_FORMAT") or "json").lower() == "text" else "json"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "claims_portal.logs.JsonLogFormatter"},
        "text": {"()": "claims_portal.logs.TextLogFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": _FORMATTER,
        },
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
    "root": {"handlers": [], "level": "WARNING"},
}


# Metrics (claims_portal/metrics.py): with PROMETHEUS_MULTIPROC_DIR set, each worker keeps its
# counts in files there and a scrape adds them up. The folder starts empty (an earlier run's
# counts are not this run's), and a worker that exits has its live gauges dropped.
def on_starting(server: object) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


# Once a worker has loaded the app, everything loaded so far (modules, the app, its templates'
# code) lives as long as the worker: gc.freeze() takes it out of the collector's sight, so a
# full collection no longer walks its ~250,000 objects (one did every few hundred requests,
# about 0.14 s each: a few per cent of a worker's time; docs/benchmarks.md).
def post_worker_init(worker: object) -> None:
    import gc

    gc.collect()
    gc.freeze()
