"""Prometheus metrics at ``/metrics``, for the hosting team's scraper only.

The endpoint answers only a request carrying ``Authorization: Bearer <METRICS_TOKEN>``;
without ``METRICS_TOKEN`` set it is not there at all (404). What it serves:

- ``claims_portal_http_requests_total{route, method, status}`` and
  ``claims_portal_http_request_duration_seconds{route, method}`` (a histogram): every request
  answered, by its URL rule (``/claims/<int:claim_id>``, never the raw path; ``(no route)``
  for a path matching none);
- ``claims_portal_job_runs_total{kind, outcome}`` and
  ``claims_portal_job_duration_seconds{kind}``: jobs run in this host's processes
  (:func:`job_finished`, called by ``logs.as_job`` and the task queue);
- read from the database and the broker at each scrape: ``claims_portal_claims{status}``
  (claims by status), ``claims_portal_outbox_backlog`` (email not yet delivered, by status)
  and ``claims_portal_queue_depth{queue}`` (jobs waiting in the broker's queue).

Under gunicorn each worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(an empty folder: ``gunicorn.conf.py`` empties it at each start and marks a worker's files
dead when it exits) the counters are kept in files there and a scrape of any worker adds up every
process's, so the figures do not depend on which worker answers.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import time
from collections.abc import Iterator
from typing import Any, cast

from flask import Flask, Response, abort, current_app, g, request, request_finished, request_started
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select

from claims_portal.claims.models import Claim
from claims_portal.extensions import db
from claims_portal.mail.models import EmailMessage, EmailStatus
from claims_portal.routes import token_holder

log = logging.getLogger(__name__)

#: Request durations, in seconds: a page is expected well under a quarter of a second.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
_STARTED = "metrics_request_started"
_NO_ROUTE = "(no route)"
#: Email that is still to go out.
_BACKLOG = (EmailStatus.QUEUED, *(s for s in EmailStatus if s.name == "SENDING"))

REQUESTS = Counter(
    "claims_portal_http_requests",
    "Requests answered, by route (URL rule), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "claims_portal_http_request_duration_seconds",
    "Time to answer a request, by route (URL rule) and method.",
    ["route", "method"],
    buckets=_LATENCY_BUCKETS,
)
JOB_RUNS = Counter(
    "claims_portal_job_runs",
    "Jobs run, by kind and outcome (succeeded, failed, ...).",
    ["kind", "outcome"],
)
JOB_DURATION = Histogram(
    "claims_portal_job_duration_seconds",
    "Time a job took, by kind.",
    ["kind"],
    buckets=_JOB_BUCKETS,
)


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    """Count one run of a job of ``kind`` (``outcome``: ``succeeded``, ``failed``, ...)."""
    JOB_RUNS.labels(kind=kind, outcome=outcome).inc()
    JOB_DURATION.labels(kind=kind).observe(seconds)


# --- Each request ---------------------------------------------------------------------------


def _request_started(_sender: Flask, **_extra: Any) -> None:
    setattr(g, _STARTED, time.perf_counter())


def _request_finished(_sender: Flask, response: Any, **_extra: Any) -> None:
    started = g.get(_STARTED)
    rule = request.url_rule
    route = rule.rule if rule is not None else _NO_ROUTE
    REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(route=route, method=request.method).observe(time.perf_counter() - started)


# --- Read at each scrape --------------------------------------------------------------------


class _Figures(Collector):
    """What the database and the broker hold now, read when the scraper asks."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        claims = GaugeMetricFamily("claims_portal_claims", "Claims, by status.", labels=["status"])
        for claim_status, claims_in_it in db.session.execute(
            select(Claim.status, func.count()).group_by(Claim.status)
        ):
            claims.add_metric([claim_status.name], claims_in_it)
        yield claims
        backlog = GaugeMetricFamily(
            "claims_portal_outbox_backlog",
            "Email not yet delivered, by status.",
            labels=["status"],
        )
        waiting = dict.fromkeys(_BACKLOG, 0)
        for status, count in db.session.execute(
            select(EmailMessage.status, func.count())
            .where(EmailMessage.status.in_(_BACKLOG))
            .group_by(EmailMessage.status)
        ):
            waiting[status] = count
        for status, count in waiting.items():
            backlog.add_metric([status.name], count)
        yield backlog
        depth = _queue_depth(self._app)
        if depth is not None:
            queue, count = depth
            gauge = GaugeMetricFamily(
                "claims_portal_queue_depth",
                "Jobs waiting in the broker's queue.",
                labels=["queue"],
            )
            gauge.add_metric([queue], count)
            yield gauge


def _queue_depth(app: Flask) -> tuple[str, int] | None:
    """(queue, jobs waiting) from the Redis broker, or None without one (or out of reach:
    the scrape still answers, without this figure, and the log says why)."""
    url = app.config.get("CELERY_BROKER_URL") or app.config.get("REDIS_URL")
    queue = str(app.config.get("JOBS_QUEUE") or "celery")
    if not url or not str(url).startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        client = redis.Redis.from_url(str(url), socket_timeout=1, socket_connect_timeout=1)
        try:
            return queue, int(client.llen(queue))  # type: ignore[arg-type]
        finally:
            client.close()
    except (redis.RedisError, OSError) as error:
        log.warning("queue depth not read from the broker: %s", error)
        return None


# --- The endpoint ---------------------------------------------------------------------------


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode(), str(token).encode()
    )


@token_holder("METRICS_TOKEN")
def metrics() -> Response:
    """The figures, in Prometheus's text format."""
    if not _authorised():
        response = Response("A valid metrics token is needed.\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every worker's counters, added up
    else:
        for collector in (REQUESTS, LATENCY, JOB_RUNS, JOB_DURATION):
            registry.register(collector)
    registry.register(_Figures(cast(Flask, current_app)))  # collected within this request
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Count every request, and serve ``/metrics`` to the scraper."""
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    # The default registry is this process's alone; the endpoint builds its own.
    for collector in (REQUESTS, LATENCY, JOB_RUNS, JOB_DURATION):
        with contextlib.suppress(KeyError):
            REGISTRY.unregister(collector)
