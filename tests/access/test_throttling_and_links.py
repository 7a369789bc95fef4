"""Per-address throttling, shared by every worker through Redis, and the links put in emails.

The throttled apps keep their counters in the machine's Redis (127.0.0.1:6379) under a key
prefix of their own test, as production's workers share theirs.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading
import uuid

import pytest
import redis
from flask import request, url_for

from claims_portal.access import throttling
from claims_portal.access.links import Links
from claims_portal.access.sealing import new_key
from claims_portal.access.throttling import THROTTLED
from claims_portal.config import ConfigurationError, load_config
from claims_portal.extensions import db
from tests.helpers import csrf_token, make_test_app

REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_START_COMMAND = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the machine's Redis, removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not answering at 127.0.0.1:6379 ({exc}). "
            f"Start it with: {REDIS_START_COMMAND}"
        )
    prefix = f"claims-portal-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def make_worker(database_url, redis_prefix):
    """Build app instances ("workers") sharing one Redis storage, as gunicorn's would."""
    apps = []

    def make(**overrides):
        settings = {
            "RATELIMIT_ENABLED": True,
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": redis_prefix,
            "SIGN_IN_RATE_LIMIT": "3 per minute",
            "PASSWORD_RESET_RATE_LIMIT": "2 per minute",
            "MAIL_SEND_IMMEDIATELY": False,
            **overrides,
        }
        application = make_test_app(database_url, **settings)
        apps.append(application)
        return application

    yield make
    for application in apps:
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def throttled_client(make_worker, db_session):
    return make_worker().test_client()


def _sign_in_data(client, email="someone@nhs.net"):
    page = client.get("/sign-in")
    return {"email": email, "password": "x", "csrf_token": csrf_token(page)}


def test_sign_in_attempts_are_throttled_per_address(throttled_client):
    data = _sign_in_data(throttled_client)
    statuses = [throttled_client.post("/sign-in", data=data).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = throttled_client.post("/sign-in", data=data)
    assert "Too many attempts" in response.get_data(as_text=True)  # the NHS error page
    # Reading the form is not throttled; another address is not affected.
    assert throttled_client.get("/sign-in").status_code == 200
    other = throttled_client.post("/sign-in", data=data, environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200


def test_two_workers_sharing_redis_let_through_no_more_than_the_limit(make_worker, db_session):
    workers = [make_worker().test_client(), make_worker().test_client()]
    data = [_sign_in_data(worker) for worker in workers]
    statuses = [workers[i % 2].post("/sign-in", data=data[i % 2]).status_code for i in range(12)]
    assert statuses.count(200) == 3  # the limit, not 3 per worker
    assert statuses[3:] == [429] * 9


def test_attempts_arriving_together_are_counted_one_by_one(make_worker):
    """Counting is one atomic increment: 40 attempts at once on two workers, 3 get through
    (a test-then-deduct limiter lets every attempt that arrives before the first is counted)."""
    workers = [make_worker(), make_worker()]
    start = threading.Barrier(40)

    def attempt(i):
        with workers[i % 2].test_request_context("/sign-in", method="POST"):
            assert request.endpoint == "access.sign_in"
            start.wait()
            try:
                throttling.count_attempt()
            except throttling.TooManyAttempts:
                return False
            return True

    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        allowed = list(pool.map(attempt, range(40)))
    assert allowed.count(True) == 3


def test_the_storage_is_redis_and_the_key_the_client_address(make_worker, redis_prefix, db_session):
    application = make_worker()
    client = application.test_client()
    client.post("/sign-in", data=_sign_in_data(client), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*")]
    assert any("access.sign_in" in k and "10.1.2.3" in k for k in keys), keys


def test_form_errors_and_expired_forms_are_not_attempts(throttled_client):
    data = _sign_in_data(throttled_client)
    for _ in range(5):
        empty = throttled_client.post("/sign-in", data={**data, "email": ""})
        assert empty.status_code == 200
        assert "Enter your email address" in empty.get_data(as_text=True)
        expired = throttled_client.post("/sign-in", data={**data, "csrf_token": "stale"})
        assert expired.status_code == 400
    statuses = [throttled_client.post("/sign-in", data=data).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_too_many_attempts_page_says_when_to_try_again(throttled_client):
    data = _sign_in_data(throttled_client)
    for _ in range(3):
        throttled_client.post("/sign-in", data=data)
    refused = throttled_client.post("/sign-in", data=data)
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    text = refused.get_data(as_text=True)
    match = re.search(r"Wait (\d+) seconds, then try again", text)
    assert match, text
    assert abs(int(match.group(1)) - wait) <= 1


def test_a_longer_wait_is_told_as_a_time(make_worker, db_session):
    client = make_worker(SIGN_IN_RATE_LIMIT="1 per hour").test_client()
    data = _sign_in_data(client)
    client.post("/sign-in", data=data)
    refused = client.post("/sign-in", data=data)
    assert refused.status_code == 429
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert re.search(r"Try again after \d\d:\d\d \(in 60 minutes\)", refused.get_data(as_text=True))


def test_reset_requests_are_throttled(throttled_client):
    page = throttled_client.get("/forgotten-password")
    data = {"email": "someone@nhs.net", "csrf_token": csrf_token(page)}
    statuses = [
        throttled_client.post("/forgotten-password", data=data).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_every_throttled_endpoint_exists(app):
    assert set(THROTTLED) <= set(app.view_functions)


def test_production_refuses_to_start_without_redis(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://claims.example.nhs.uk")
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigurationError, match=r"missing: REDIS_URL\. Set"):
        load_config(str(tmp_path), "production")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    assert load_config(str(tmp_path), "production")["REDIS_URL"] == REDIS_URL


def test_storage_is_redis_when_configured(database_url):
    app = make_test_app(database_url, REDIS_URL="redis://127.0.0.1:6379/15")
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    plain = make_test_app(database_url)
    assert plain.config["RATELIMIT_STORAGE_URI"] == "memory://"
    for each in (app, plain):
        with each.app_context():
            db.engine.dispose()


def test_email_links_match_the_routes(app):
    links = Links(app.config["PUBLIC_BASE_URL"])  # a host the app answers to
    with app.test_request_context(base_url=app.config["PUBLIC_BASE_URL"]):
        assert links.registration("tok") == url_for(
            "access.complete_registration", token="tok", _external=True
        )
        assert links.password_reset("tok") == url_for(
            "access.reset_password", token="tok", _external=True
        )
        assert links.pending_actions() == url_for("access.pending_actions", _external=True)
        assert links.sign_in() == url_for("access.sign_in", _external=True)
        assert links.forgotten_password() == url_for("access.forgotten_password", _external=True)
        assert links.request_access() == url_for("access.request_access", _external=True)
