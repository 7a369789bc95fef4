from __future__ import annotations

from flask import Flask

from tests.helpers import make_test_app


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_readyz_reports_an_unreachable_database():
    # A port nothing listens on, on this machine: the check must answer 503, not crash.
    app: Flask = make_test_app("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
