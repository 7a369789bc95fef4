"""Per-address throttling (Flask-Limiter) and the links put in emails."""

from __future__ import annotations

import pytest
from flask import url_for

from claims_portal.access.links import Links
from claims_portal.extensions import db
from tests.conftest import make_test_app
from tests.helpers import csrf_token


@pytest.fixture
def throttled_app(database_url):
    app = make_test_app(
        database_url,
        RATELIMIT_ENABLED=True,
        SIGN_IN_RATE_LIMIT="3 per minute",
        PASSWORD_RESET_RATE_LIMIT="2 per minute",
        MAIL_SEND_IMMEDIATELY=False,
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def throttled_client(throttled_app, db_session):
    return throttled_app.test_client()


def test_sign_in_attempts_are_throttled_per_address(throttled_client):
    page = throttled_client.get("/sign-in")
    data = {"email": "someone@nhs.net", "password": "x", "csrf_token": csrf_token(page)}
    statuses = [throttled_client.post("/sign-in", data=data).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = throttled_client.post("/sign-in", data=data)
    assert "Too many attempts" in response.get_data(as_text=True)  # the NHS error page
    # Reading the form is not throttled; another address is not affected.
    assert throttled_client.get("/sign-in").status_code == 200
    other = throttled_client.post("/sign-in", data=data, environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200


def test_reset_requests_are_throttled(throttled_client):
    page = throttled_client.get("/forgotten-password")
    data = {"email": "someone@nhs.net", "csrf_token": csrf_token(page)}
    statuses = [
        throttled_client.post("/forgotten-password", data=data).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]


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
