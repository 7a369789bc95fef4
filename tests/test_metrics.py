"""Prometheus metrics: only for the scraper's token, by URL rule, added up across gunicorn's
worker processes, with the database's and the broker's figures read at each scrape."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

from claims_portal import metrics
from claims_portal.claims.models import ClaimStatus
from claims_portal.mail.models import EmailStatus
from tests.factories.claims import ClaimFactory

TOKEN = "scraper-token-for-tests"
REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[1]


def _scrape(client, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def _value(body: str, name: str, **labels: str) -> float | None:
    """The sample ``name{labels}`` in the text format (labels in any order), or None."""
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


@pytest.fixture
def scraped(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return app.test_client()


def test_without_a_token_configured_there_is_no_endpoint(app):
    assert app.config.get("METRICS_TOKEN") is None
    assert _scrape(app.test_client()).status_code == 404


def test_only_the_scrapers_token_reads_the_figures(scraped):
    for token in (None, "wrong", TOKEN + "x"):
        response = _scrape(scraped, token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "claims_portal" not in response.get_data(as_text=True)
    response = scraped.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401
    response = _scrape(scraped)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"


def test_requests_are_counted_by_url_rule_method_and_status(scraped, db_session):
    def count(route: str, status: str) -> float:
        body = _scrape(scraped).get_data(as_text=True)
        return (
            _value(
                body, "claims_portal_http_requests_total", method="GET", route=route, status=status
            )
            or 0.0
        )

    before = count("/healthz", "200")
    for _ in range(3):
        assert scraped.get("/healthz").status_code == 200
    assert count("/healthz", "200") == before + 3

    # A claim that does not exist: counted under its rule, never its own path.
    signed_out = count("/claims/<int:claim_id>", "302")
    scraped.get("/claims/987654")
    body = _scrape(scraped).get_data(as_text=True)
    assert "987654" not in body
    assert (
        _value(
            body,
            "claims_portal_http_requests_total",
            method="GET",
            route="/claims/<int:claim_id>",
            status="302",
        )
        == signed_out + 1
    )
    before_missing = count("(no route)", "404")
    scraped.get("/no-such-page")
    assert count("(no route)", "404") == before_missing + 1
    histogram = _value(
        body, "claims_portal_http_request_duration_seconds_count", method="GET", route="/healthz"
    )
    assert histogram is not None
    assert histogram >= 3


def test_claims_by_status_and_the_outbox_backlog_are_read_at_each_scrape(scraped, db_session):
    from claims_portal.mail.models import EmailMessage

    def figures() -> str:
        return _scrape(scraped).get_data(as_text=True)

    before = figures()
    waiting = _value(before, "claims_portal_claims", status="DRAFT") or 0
    queued = _value(before, "claims_portal_outbox_backlog", status="QUEUED")
    assert queued is not None  # shown even when nothing waits
    ClaimFactory.create_batch(2, status=ClaimStatus.DRAFT)
    db_session.add(
        EmailMessage(
            recipient="someone@nhs.net",
            subject="s",
            body="b",
            kind="test",
            status=EmailStatus.QUEUED,
        )
    )
    db_session.flush()
    after = figures()
    assert _value(after, "claims_portal_claims", status="DRAFT") == (waiting + 2)
    assert _value(after, "claims_portal_outbox_backlog", status="QUEUED") == queued + 1
    assert "someone@nhs.net" not in after


def test_the_queue_depth_comes_from_the_broker(app, scraped, monkeypatch):
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not answering on 127.0.0.1:6379 ({error}): run `make redis`")
    queue = f"claims-portal-test-{uuid.uuid4().hex}"
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", queue)
    try:
        client.rpush(queue, "a", "b", "c")
        body = _scrape(scraped).get_data(as_text=True)
        assert _value(body, "claims_portal_queue_depth", queue=queue) == 3
    finally:
        client.delete(queue)
        client.close()
    # The broker out of reach: the scrape still answers, without the figure.
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    response = _scrape(scraped)
    assert response.status_code == 200
    assert "claims_portal_queue_depth{" not in response.get_data(as_text=True)


def test_jobs_are_counted_by_kind_and_outcome(scraped):
    def runs(outcome: str) -> float:
        body = _scrape(scraped).get_data(as_text=True)
        return _value(body, "claims_portal_job_runs_total", kind="test.job", outcome=outcome) or 0

    before = runs("failed")
    metrics.job_finished("test.job", "failed", 0.2)
    assert runs("failed") == before + 1


# --- Under gunicorn: every worker's counts, whichever worker answers -------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - our own server on 127.0.0.1
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_under_gunicorn_a_scrape_adds_up_every_workers_requests(database_url, tmp_path):
    port = _free_port()
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_PORTAL")},
        "CLAIMS_PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }
    # The project's gunicorn.conf.py (its start and worker-exit hooks), with sync workers so
    # that holding one worker busy below sends the next requests to the other.
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-c", str(ROOT / "gunicorn.conf.py"),
        "-k", "sync", "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT),
    ]  # fmt: skip
    stale = folder / "counter_99999.db"
    stale.write_bytes(b"an earlier run's counts")  # emptied at the start
    server = subprocess.Popen(command, env=env, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer /healthz within 60 s")
                time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"
        _, body = _get(f"{base}/metrics", TOKEN)
        before = (
            _value(
                body,
                "claims_portal_http_requests_total",
                method="GET",
                route="/healthz",
                status="200",
            )
            or 0
        )
        # One worker held by a request that has not finished arriving: the other answers
        # the next 20; then the first finishes it, and answers some of the last 19.
        held = socket.create_connection(("127.0.0.1", port), timeout=10)
        held.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.5)
        for _ in range(20):
            assert _get(f"{base}/healthz")[0] == 200
        held.sendall(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 200")
        held.close()
        for _ in range(19):
            assert _get(f"{base}/healthz")[0] == 200
        seen = set()
        for _ in range(6):  # whichever worker answers the scrape, the same sum
            status, body = _get(f"{base}/metrics", TOKEN)
            assert status == 200
            seen.add(
                _value(
                    body,
                    "claims_portal_http_requests_total",
                    method="GET",
                    route="/healthz",
                    status="200",
                )
            )
        assert seen == {before + 40}
        writers = {p.name for p in folder.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # more than one process counted
        assert not stale.exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)


def test_a_job_run_by_the_queue_is_counted_with_its_outcome(app, scraped, monkeypatch):
    from claims_portal.jobs import registry

    monkeypatch.setattr(registry, "JOBS", dict(registry.JOBS))

    @registry.job("test.metrics-ok")
    def _ok(context):
        return "done"

    @registry.job("test.metrics-broken")
    def _broken(context):
        raise RuntimeError("broken")

    def runs(kind: str, outcome: str) -> float:
        body = _scrape(scraped).get_data(as_text=True)
        return _value(body, "claims_portal_job_runs_total", kind=kind, outcome=outcome) or 0

    ok, broken = runs("test.metrics-ok", "succeeded"), runs("test.metrics-broken", "failed")
    with app.app_context():
        assert registry.execute("test.metrics-ok", {}, "task-1", app.config) == "done"
        with pytest.raises(RuntimeError):
            registry.execute("test.metrics-broken", {}, "task-2", app.config)
    assert runs("test.metrics-ok", "succeeded") == ok + 1
    assert runs("test.metrics-broken", "failed") == broken + 1
