"""Emailed links start with PUBLIC_BASE_URL, other hosts get a 400, and forwarded headers are
believed only from configured proxies (claims_portal/hosts.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from claims_portal import create_app
from claims_portal.access.models import UserSession
from claims_portal.access.roles import Role
from claims_portal.access.sealing import new_key
from claims_portal.audit.models import AuditEvent
from claims_portal.config import ConfigurationError, load_config
from claims_portal.extensions import db
from claims_portal.mail.models import EmailMessage
from claims_portal.organisations.models import ApprovalMode
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import csrf_token, make_test_app, sign_in
from tests.smtp_fixtures import body_of

PUBLIC = "https://claims.example.nhs.uk"
EVIL = "http://evil.example"


@pytest.fixture
def icb(db_session):
    return IcbFactory()


@pytest.fixture
def person(icb):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=icb))


@pytest.fixture
def administrator(icb):
    return user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")


@pytest.fixture
def public_app(app, monkeypatch):
    """The session's app with its public address, answering to evil.example as well: even a
    host the portal accepts never reaches an emailed link."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["localhost", "evil.example"])
    return app


@pytest.fixture
def make_app(database_url, smtp_server):
    """Apps of their own (ProxyFix is set up when an app is made), mailing the test server."""
    made = []

    def make(**overrides):
        application = make_test_app(
            database_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp_server.port,
            RATELIMIT_STORAGE_URI="memory://",
            **overrides,
        )
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.engine.dispose()


def _ask_for_reset(client, email, **where):
    page = client.get("/forgotten-password", **where)
    assert page.status_code == 200
    data = {"email": email, "csrf_token": csrf_token(page)}
    return client.post("/forgotten-password", data=data, **where)


def _ask_for_access(client, practice, **where):
    page = client.get(f"/request-access/{practice.ods_code}", **where)
    assert page.status_code == 200
    data = {
        "role": Role.PROVIDER_USER_SINGLE.name,
        "email": "new.person@nhs.net",
        "full_name": "New Person",
        "csrf_token": csrf_token(page),
    }
    return client.post(f"/request-access/{practice.ods_code}", data=data, **where)


# --- Configuration -------------------------------------------------------------------------


def _production_environment(monkeypatch, database_url="postgresql://u@127.0.0.1/db"):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)


def test_production_refuses_to_start_without_public_base_url(monkeypatch, tmp_path):
    _production_environment(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"missing: PUBLIC_BASE_URL\. Set"):
        load_config(str(tmp_path), "production")
    monkeypatch.setenv("CLAIMS_PORTAL_ENV", "production")
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL"):
        create_app()


@pytest.mark.parametrize(
    "value",
    ["claims.example.nhs.uk", "ftp://claims.example.nhs.uk", f"{PUBLIC}/?next=x", "https://"],
)
def test_a_public_base_url_that_is_not_an_address_is_refused(monkeypatch, tmp_path, value):
    monkeypatch.setenv("PUBLIC_BASE_URL", value)
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL must be the portal's address"):
        load_config(str(tmp_path), "test")


def test_trusted_hosts_default_to_the_host_of_the_public_address(
    monkeypatch, tmp_path, database_url
):
    _production_environment(monkeypatch, database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", f"{PUBLIC}:8443")
    production = make_test_app(database_url, CLAIMS_PORTAL_ENV="production")
    assert production.config["TRUSTED_HOSTS"] == ["claims.example.nhs.uk"]
    monkeypatch.setenv("TRUSTED_HOSTS", "claims.example.nhs.uk, portal.internal")
    chosen = make_test_app(database_url, CLAIMS_PORTAL_ENV="production")
    assert chosen.config["TRUSTED_HOSTS"] == ["claims.example.nhs.uk", "portal.internal"]
    for each in (production, chosen):
        with each.app_context():
            db.engine.dispose()


def test_development_and_test_addresses(monkeypatch, tmp_path, app):
    for name in ("PUBLIC_BASE_URL", "TRUSTED_HOSTS", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    development = load_config(str(tmp_path), "development")
    assert development["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert development["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    monkeypatch.setenv("PORT", "8123")  # as `make run PORT=8123` passes it
    assert load_config(str(tmp_path), "development")["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    # The test client's own host.
    assert app.config["PUBLIC_BASE_URL"] == "http://localhost"
    assert app.config["TRUSTED_HOSTS"] == ["localhost"]


# --- Other hosts are refused ---------------------------------------------------------------


def test_a_request_for_another_host_is_a_400_nhs_page(client):
    response = client.get("/sign-in", base_url=EVIL)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem with your request" in html
    assert "not the claims portal" in html
    assert "evil.example" not in html
    problem = client.get("/sign-in", base_url=EVIL, headers={"Accept": "application/json"})
    assert problem.status_code == 400
    assert problem.mimetype == "application/problem+json"
    assert problem.get_json()["status"] == 400
    # The trusted host still works, and so do the probes a load balancer sends by address.
    assert client.get("/sign-in").status_code == 200
    assert client.get("/healthz", base_url="http://10.0.4.17:8000").status_code == 200
    assert client.get("/readyz", base_url="http://10.0.4.17:8000").status_code == 200


def test_a_reset_asked_for_under_another_host_sends_nothing(client, db_session, person, mailbox):
    page = client.get("/forgotten-password")
    response = client.post(
        "/forgotten-password",
        data={"email": person.email, "csrf_token": csrf_token(page)},
        base_url=EVIL,
    )
    assert response.status_code == 400
    assert db_session.scalars(select(EmailMessage)).all() == []
    assert mailbox.messages == []


# --- Emailed links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [{"base_url": EVIL}, {"headers": {"X-Forwarded-Host": "evil.example"}}],
    ids=["host", "forwarded-host"],
)
def test_reset_links_start_with_the_public_address_whatever_the_request_says(
    public_app, client, db_session, person, mailbox, where
):
    assert _ask_for_reset(client, person.email, **where).status_code == 302
    body = body_of(mailbox.wait_for(person.email, "Reset your claims portal password"))
    assert f"{PUBLIC}/reset-password/" in body
    assert "evil.example" not in body


@pytest.mark.parametrize(
    "where",
    [{"base_url": EVIL}, {"headers": {"X-Forwarded-Host": "evil.example"}}],
    ids=["host", "forwarded-host"],
)
def test_access_request_emails_link_to_the_public_address(
    public_app, client, db_session, icb, administrator, mailbox, where
):
    practice = PracticeFactory(parent=icb, approval_mode=ApprovalMode.ONE_STEP)
    assert _ask_for_access(client, practice, **where).status_code == 302
    told = body_of(mailbox.wait_for(administrator.email, "Access request to decide"))
    assert f"{PUBLIC}/" in told
    for message in mailbox.messages:
        assert "evil.example" not in body_of(message)


def test_a_forwarded_host_from_a_configured_proxy_is_checked_like_any_host(
    make_app, db_session, person, mailbox
):
    proxied = make_app(PROXY_FIX_X_HOST=1).test_client()
    forged = {"X-Forwarded-Host": "evil.example"}
    assert proxied.get("/forgotten-password", headers=forged).status_code == 400
    real = {"X-Forwarded-Host": "localhost"}
    assert _ask_for_reset(proxied, person.email, headers=real).status_code == 302
    body = body_of(mailbox.wait_for(person.email, "Reset your claims portal password"))
    assert "http://localhost/reset-password/" in body


# --- The person's address, not the proxy's -------------------------------------------------

#: What a load balancer in front sends: a forged first entry, then the address it saw.
FORWARDED = {"X-Forwarded-For": "198.51.100.99, 203.0.113.7"}


def _failed_sign_in_addresses(db_session) -> list[str]:
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sign_in.failed").order_by(AuditEvent.id)
    )
    return [event.after["ip_address"] for event in events]


@pytest.mark.parametrize(("proxies", "seen"), [(1, "203.0.113.7"), (0, "127.0.0.1")])
def test_the_audited_and_session_address_is_the_proxys_client_only_behind_a_proxy(
    make_app, db_session, person, proxies, seen
):
    client = make_app(PROXY_FIX_X_FOR=proxies).test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = FORWARDED["X-Forwarded-For"]
    sign_in(client, person.email, "not the password at all")
    assert _failed_sign_in_addresses(db_session) == [seen]
    sign_in(client, person.email)
    opened = db_session.scalars(select(UserSession).where(UserSession.user_id == person.id)).one()
    assert opened.ip_address == seen


def _sign_in_statuses(client, addresses) -> list[int]:
    page = client.get("/sign-in")
    data = {"email": "someone@nhs.net", "password": "x", "csrf_token": csrf_token(page)}
    return [
        client.post("/sign-in", data=data, headers={"X-Forwarded-For": address}).status_code
        for address in addresses
    ]


def test_throttling_counts_each_person_behind_a_configured_proxy(make_app, db_session):
    proxied = make_app(PROXY_FIX_X_FOR=1, RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="2 per minute")
    people = ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2", "203.0.113.1"]
    assert _sign_in_statuses(proxied.test_client(), people) == [200, 200, 200, 200, 429]


def test_without_proxy_settings_a_forwarded_address_is_ignored(make_app, db_session):
    direct = make_app(RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="2 per minute")
    forged = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
    assert _sign_in_statuses(direct.test_client(), forged) == [200, 200, 429]
