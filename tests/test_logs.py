"""Logs: JSON lines on standard output, one access line per request, request ids, job ids,
and never an email address (claims_portal/logs.py, docs/operations.md "Logs")."""

from __future__ import annotations

import json
import logging
import re

import pytest
from click.testing import CliRunner

from claims_portal import logs
from claims_portal.access.roles import Role
from claims_portal.config import ConfigurationError, load_config
from claims_portal.mail import services as mail
from claims_portal.mail.cli import send_queued
from claims_portal.mail.kinds import EmailKind
from tests.factories.access import UserFactory, user_with_role
from tests.factories.organisations import PracticeFactory
from tests.helpers import csrf_token, make_test_app, sign_in
from tests.smtp_fixtures import free_port

FIELDS = {"time", "level", "logger", "message", "request_id", "user_id", "organisation_id"}
ACCESS_FIELDS = FIELDS | {"route", "endpoint", "method", "status", "duration_ms"}


def _lines(output: str) -> list[dict]:
    """Every log line written; anything else on standard output fails the test."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _access(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == logs.ACCESS_LOGGER]


@pytest.fixture
def practice_user(db_session):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory())


def test_info_reaches_standard_output_as_json(app, capsys):
    # After the migrations the session's app ran (Alembic used to reset logging to WARNING).
    logging.getLogger("claims_portal.example").info("an event worth knowing")
    (line,) = _lines(capsys.readouterr().out)
    assert line.keys() >= FIELDS
    assert "job_id" not in line  # only when a job is running
    assert (line["level"], line["logger"], line["message"]) == (
        "INFO",
        "claims_portal.example",
        "an event worth knowing",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_a_request_writes_one_access_line_with_its_fields(client, practice_user, capsys):
    sign_in(client, practice_user.email)
    capsys.readouterr()
    response = client.get("/")
    assert response.status_code == 200
    lines = _lines(capsys.readouterr().out)
    (access,) = _access(lines)
    assert access.keys() >= ACCESS_FIELDS
    membership = practice_user.memberships[0]
    assert access["request_id"] == response.headers["X-Request-ID"]
    assert (access["user_id"], access["organisation_id"]) == (
        practice_user.id,
        membership.organisation_id,
    )
    assert (access["method"], access["route"], access["endpoint"], access["status"]) == (
        "GET",
        "/",
        "core.home",
        200,
    )
    assert access["level"] == "INFO"
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] >= 0
    # Every line of the request carries its id.
    assert {line["request_id"] for line in lines} == {response.headers["X-Request-ID"]}


def test_the_route_is_the_url_rule_not_the_path(client, practice_user, capsys):
    sign_in(client, practice_user.email)
    capsys.readouterr()
    response = client.get("/claims/2147483647")  # no such claim
    assert response.status_code == 404
    (access,) = _access(_lines(capsys.readouterr().out))
    assert (access["route"], access["status"], access["user_id"]) == (
        "/claims/<int:claim_id>",
        404,
        practice_user.id,
    )
    assert "2147483647" not in json.dumps(access)


def test_a_path_matching_no_route_is_logged_without_it(client, db_session, capsys):
    response = client.get("/no-such-page/someone@example.org")
    assert response.status_code == 404
    (access,) = _access(_lines(capsys.readouterr().out))
    assert (access["route"], access["endpoint"], access["status"]) == (None, None, 404)
    assert (access["user_id"], access["organisation_id"]) == (None, None)
    assert "no-such-page" not in json.dumps(access)


def test_a_refused_request_is_logged_with_its_status(client, db_session, capsys):
    response = client.post("/sign-in", data={"email": "x", "password": "y"})  # no CSRF token
    assert response.status_code == 400
    (access,) = _access(_lines(capsys.readouterr().out))
    assert (access["method"], access["route"], access["status"]) == ("POST", "/sign-in", 400)


@pytest.mark.parametrize(
    "given",
    ["short", "has spaces in it", "semi;colon-123456", "x" * 65, "ünïcode-1234", ""],
)
def test_an_unsafe_request_id_is_replaced(client, db_session, capsys, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    request_id = response.headers["X-Request-ID"]
    assert request_id != given
    assert re.fullmatch(r"req-[0-9a-f]{32}", request_id)
    (access,) = _access(_lines(capsys.readouterr().out))
    assert access["request_id"] == request_id


def test_a_safe_request_id_from_a_proxy_is_kept(client, db_session, capsys):
    given = "proxy-3f2a9c1e-77b0-4d5e-9a1b-0c2d3e4f5a6b"
    response = client.get("/healthz", headers={"X-Request-ID": given})
    assert response.headers["X-Request-ID"] == given
    (access,) = _access(_lines(capsys.readouterr().out))
    assert access["request_id"] == given


def test_each_request_gets_its_own_id(client, db_session):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_a_server_error_is_logged_once_with_the_request_id(database_url, capsys):
    crashing = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @crashing.get("/boom/<int:number>")
    def boom(number):
        raise RuntimeError("secret internal detail")

    response = crashing.test_client().get("/boom/12345")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    lines = _lines(capsys.readouterr().out)
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["message"] == f"Unhandled error (reference {request_id})"
    assert error["request_id"] == request_id
    assert "RuntimeError: secret internal detail" in error["exc_info"]
    (access,) = _access(lines)
    assert (access["route"], access["status"]) == ("/boom/<int:number>", 500)
    assert "/boom/12345" not in json.dumps(lines)  # Flask's "Exception on <path>" is not logged


# --- No email addresses ---------------------------------------------------------------------


def _ask_for_reset(client, email):
    page = client.get("/forgotten-password")
    return client.post("/forgotten-password", data={"email": email, "csrf_token": csrf_token(page)})


@pytest.mark.parametrize("smtp", ["up", "down"])
def test_a_password_reset_logs_no_email_address(
    app, client, db_session, mailbox, capsys, caplog, smtp
):
    person = UserFactory(email="shabnam.okafor@example.nhs.net", full_name="Shabnam Okafor")
    if smtp == "down":  # the delivery fails and is logged, with the outbox row's id
        app.config["MAIL_PORT"] = free_port()
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()
    assert _ask_for_reset(client, person.email).status_code == 302
    if smtp == "up":
        mailbox.wait_for(person.email, "Reset your claims portal password")
    else:
        assert "not sent (attempt 1)" in caplog.text
    lines = [line for line in _lines(capsys.readouterr().out) if not _smtp_server(line["logger"])]
    assert _access(lines)
    records = [r for r in caplog.records if not _smtp_server(r.name)]
    assert records
    # Both the records as logged (their message and exception) and the lines written.
    for written in [*(_as_logged(r) for r in records), *map(json.dumps, lines)]:
        assert "@" not in written
        assert "shabnam" not in written.lower()
        assert "okafor" not in written.lower()


def _smtp_server(logger: str) -> bool:
    """The test's own SMTP server (aiosmtpd, in this process) logs what it receives."""
    return logger == "mail.log" or logger.startswith("mail.log.")


def _as_logged(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


def test_a_delivery_given_up_logs_the_row_and_user_not_the_address(app, db_session, caplog):
    person = UserFactory(email="tomasz.nowak@example.nhs.net")
    message = mail.enqueue(
        db_session, to=person.email, subject="Hi", body="B", kind=EmailKind.ACCESS_CHANGED
    )
    message.user_id = person.id
    message.attempts = app.config["MAIL_MAX_ATTEMPTS"] - 1
    app.config["MAIL_PORT"] = free_port()
    mail.deliver(db_session, app.config)
    assert f"Email {message.id} (access_changed, user {person.id}) failed" in caplog.text
    assert "@" not in caplog.text


def test_the_outbox_backend_logs_the_row_not_the_address(app, db_session, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    message = mail.enqueue(
        db_session, to="ola.adeyemi@nhs.net", subject="Hi", body="B", kind=EmailKind.PASSWORD_RESET
    )
    config = {**app.config, "MAIL_BACKEND": "outbox", "MAIL_OUTBOX_DIR": str(tmp_path)}
    mail.deliver(db_session, config)
    assert f"Email {message.id} written to" in caplog.text
    assert "@" not in caplog.text


def test_the_formatters_blank_an_address_that_got_through(capsys):
    logging.getLogger("claims_portal.example").warning(
        "SMTP said: %s", {"kim.lee@nhs.net": (550, b"no such user")}
    )
    (line,) = _lines(capsys.readouterr().out)
    assert "@" not in line["message"]
    assert "[email address]" in line["message"]


# --- Jobs -----------------------------------------------------------------------------------


def test_a_command_run_as_a_job_logs_with_its_job_id(app, db_session):
    mail.enqueue(
        db_session, to="ola.adeyemi@nhs.net", subject="Hi", body="B", kind=EmailKind.PASSWORD_RESET
    )
    app.config["MAIL_PORT"] = free_port()
    with app.app_context():
        result = CliRunner().invoke(send_queued, [], catch_exceptions=False)
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    job_ids = {line.get("job_id") for line in lines}
    assert len(job_ids) == 1
    (job_id,) = job_ids
    assert re.fullmatch(r"mail\.send-queued-[0-9a-f]{12}", job_id)
    messages = [line["message"] for line in lines]
    assert messages[0] == "job mail.send-queued started"
    assert any("not sent (attempt 1)" in m for m in messages)
    assert lines[-1]["outcome"] == "succeeded"
    assert isinstance(lines[-1]["duration_ms"], float)
    assert "@" not in result.output


# --- Configuration --------------------------------------------------------------------------


def test_text_format_for_people(app, capsys):
    try:
        logs.configure("INFO", "text")
        logging.getLogger("claims_portal.example").info("readable")
        output = capsys.readouterr().out
    finally:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    assert re.fullmatch(r"\S+ \S+ INFO claims_portal\.example \[\] readable\n", output)


def test_the_level_is_configured(app, capsys):
    try:
        logs.configure("WARNING", "json")
        logging.getLogger("claims_portal.example").info("dropped")
        logging.getLogger("claims_portal.example").warning("kept")
        output = capsys.readouterr().out
    finally:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    assert [line["message"] for line in _lines(output)] == ["kept"]


def test_log_settings_default_and_are_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    test = load_config(str(tmp_path), "test")
    assert (test["LOG_LEVEL"], test["LOG_FORMAT"]) == ("INFO", "json")
    assert load_config(str(tmp_path), "development")["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert load_config(str(tmp_path), "test")["LOG_LEVEL"] == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigurationError, match="LOG_LEVEL must be one of"):
        load_config(str(tmp_path), "test")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match="LOG_FORMAT must be one of"):
        load_config(str(tmp_path), "test")
