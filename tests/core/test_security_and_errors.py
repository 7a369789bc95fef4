from __future__ import annotations

import re

import pytest
from flask import Flask

from claims_portal.access.roles import Role
from claims_portal.access.sealing import new_key
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import make_test_app, sign_in


def test_every_response_carries_security_headers(client):
    response = client.get("/sign-in")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # tests run over plain HTTP


def test_inline_scripts_carry_the_requests_nonce(client):
    response = client.get("/sign-in")
    nonce = re.search(r"'nonce-([\w-]+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all(f'nonce="{nonce}"' in attrs for attrs in scripts)
    assert nonce not in client.get("/sign-in").headers["Content-Security-Policy"]


def test_production_adds_hsts_and_secure_cookies(database_url, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://claims.example.nhs.uk")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = make_test_app(database_url, CLAIMS_PORTAL_ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_assets_are_served_from_the_npm_package(client):
    with client.get("/assets/nhsuk-frontend.min.css") as css:
        assert css.status_code == 200
        assert "nhsuk" in css.get_data(as_text=True)[:5000]
    with client.get("/assets/images/nhsuk-icon-arrow-down.svg") as svg:
        assert svg.status_code == 200
    with client.get("/assets/nhsuk-frontend.min.css") as first:
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "public, max-age=3600"
    with client.get("/assets/nhsuk-frontend.min.css", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    assert client.get("/assets/../../package.json").status_code == 404
    assert client.get("/assets/nothing-here.css").status_code == 404


def test_404_page_is_an_nhs_page_without_details(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert "nhsuk-header" in html


def test_api_clients_get_a_json_problem(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json == {"type": "about:blank", "title": "Page not found", "status": 404}


def test_403_page_for_a_capability_the_user_lacks(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory())
    sign_in(client, user.email)
    response = client.get("/practices")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


@pytest.fixture
def crashing_app(database_url) -> Flask:
    app = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    return app


def test_500_page_hides_the_stack_trace(crashing_app, caplog):
    response = crashing_app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html
    assert "secret internal detail" not in html
    assert "Traceback" not in html
    assert "secret internal detail" in caplog.text  # but the log has it


def test_admin_index_is_protected(client, db_session):
    assert client.get("/admin/").status_code == 302
    provider = user_with_role(Role.PROVIDER_APPROVER, PracticeFactory())
    sign_in(client, provider.email)
    assert client.get("/admin/").status_code == 403


def test_commissioner_reaches_the_admin(client, db_session):
    admin = user_with_role(Role.ADMINISTRATOR, IcbFactory())
    sign_in(client, admin.email)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/organisations/").status_code == 200


def test_admin_lists_only_the_users_own_icb(client, db_session):
    own, other = IcbFactory(name="Own ICB"), IcbFactory(name="Elsewhere ICB")
    PracticeFactory(parent=own, name="Own Practice")
    PracticeFactory(parent=other, name="Foreign Practice")
    admin = user_with_role(Role.ADMINISTRATOR, own)
    sign_in(client, admin.email)
    html = client.get("/admin/organisations/").get_data(as_text=True)
    assert "Own Practice" in html
    assert "Foreign Practice" not in html


def test_the_portals_own_static_files_are_served_with_etags(client):
    with client.get("/static/portal.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
        etag = css.headers["ETag"]
    with client.get("/static/portal.css", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    assert client.get("/static/../config.py").status_code == 404


def test_the_admins_static_files_come_from_memory_too(app, client):
    """A browser dropping the connection half-way leaves no file open (it did: a
    ResourceWarning that failed a browser test at random)."""
    assert app.view_functions["admin.static"].__qualname__.endswith("admin_static")
    with client.get("/admin/static/admin/js/helpers.js") as script:
        assert script.status_code == 200
        assert script.mimetype in {"text/javascript", "application/javascript"}
        etag = script.headers["ETag"]
    with client.get("/admin/static/admin/js/helpers.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    assert client.get("/admin/static/../../flask_admin/base.py").status_code == 404


def test_a_null_character_anywhere_is_refused_with_a_clear_400(client, db_session):
    """PostgreSQL cannot store U+0000: found by fuzzing the claim list's filters (a 500)."""
    from tests.helpers import csrf_token

    user = user_with_role(Role.APPROVER_TIER_1, IcbFactory())
    sign_in(client, user.email)
    response = client.get("/claims?q=%00")
    assert response.status_code == 400
    assert "null character" in response.get_data(as_text=True)
    problem = client.get("/claims?q=a%00b", headers={"Accept": "application/json"})
    assert problem.status_code == 400
    assert "null character" in problem.get_json()["detail"]
    assert client.get("/claims?q=fine").status_code == 200
    page = client.get("/account")
    refused = client.post("/sign-out", data={"csrf_token": csrf_token(page), "next": "/\x00"})
    assert refused.status_code == 400
    assert client.get("/").status_code == 200  # still signed in: nothing was done
