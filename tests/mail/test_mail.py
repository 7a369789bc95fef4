"""The outbox: delivery to a real SMTP server, failures kept and retried, preferences."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from claims_portal.extensions import db
from claims_portal.mail import services as mail
from claims_portal.mail.cli import send_queued
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.models import EmailMessage, EmailStatus, NotificationPreference
from claims_portal.service_settings import access_settings
from tests.factories.access import UserFactory
from tests.smtp_fixtures import body_of, free_port


def _queue(session, to="aisha.rahman@nhs.net", kind=EmailKind.PASSWORD_RESET, user=None):
    return mail.enqueue(session, to=to, subject="Hello", body="Body text", kind=kind, user=user)


def test_queued_message_is_delivered_over_smtp(app, db_session, mailbox):
    message = _queue(db_session)
    report = mail.deliver(db_session, app.config)
    assert report.sent == [message.id]
    assert message.status is EmailStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 1
    arrived = mailbox.wait_for("aisha.rahman@nhs.net", "Hello")
    assert body_of(arrived).strip() == "Body text"
    assert arrived["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert arrived["X-Claims-Portal-Kind"] == "password_reset"


def test_a_failing_server_keeps_the_message_queued_with_the_error(app, db_session, mailbox):
    message = _queue(db_session)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    report = mail.deliver(db_session, app.config)
    assert report.retrying == [message.id]
    assert message.status is EmailStatus.QUEUED
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error


def test_after_the_last_attempt_the_message_is_failed_and_logged(app, db_session, caplog):
    message = _queue(db_session)
    message.attempts = app.config["MAIL_MAX_ATTEMPTS"] - 1
    app.config["MAIL_PORT"] = free_port()
    report = mail.deliver(db_session, app.config)
    assert report.gave_up == [message]
    assert message.status is EmailStatus.FAILED
    assert "will not be retried" in caplog.text


def test_the_command_retries_and_reports(app, db_session, mailbox, smtp_server):
    message = _queue(db_session)
    good_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(send_queued, [], obj=None, catch_exceptions=False)
    assert "Sent 0; 1 failed and stay queued" in result.output
    # The command's app context closes the session: read the row again.
    assert db_session.get(EmailMessage, message.id).status is EmailStatus.QUEUED
    app.config["MAIL_PORT"] = good_port
    with app.app_context():
        result = runner.invoke(send_queued, [], catch_exceptions=False)
    assert "Sent 1;" in result.output
    assert result.exit_code == 0
    assert db_session.get(EmailMessage, message.id).status is EmailStatus.SENT
    mailbox.wait_for("aisha.rahman@nhs.net", "Hello")


def test_the_command_lists_failed_messages_and_can_retry_them(app, db_session, mailbox):
    message = _queue(db_session)
    message.status = EmailStatus.FAILED
    message.attempts = 5
    message.last_error = "ConnectionRefusedError: no"
    db_session.flush()
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(send_queued, [])
    assert result.exit_code == 1
    assert f"#{message.id} (password_reset, user None), 5 attempts" in result.output
    assert "@" not in result.output  # the row's id, never the address
    message = db_session.get(EmailMessage, message.id)
    with app.app_context():
        result = runner.invoke(send_queued, ["--retry-failed"])
    assert result.exit_code == 0, result.output
    assert db_session.get(EmailMessage, message.id).status is EmailStatus.SENT


def test_outbox_backend_writes_eml_files(app, db_session, tmp_path, capsys):
    _queue(db_session)
    config = {**app.config, "MAIL_BACKEND": "outbox", "MAIL_OUTBOX_DIR": str(tmp_path)}
    report = mail.deliver(db_session, config)
    assert len(report.sent) == 1
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: Hello" in files[0].read_bytes()
    assert "email to aisha.rahman@nhs.net" in capsys.readouterr().err


def test_optional_kinds_follow_preferences_security_kinds_do_not(db_session):
    user = UserFactory()
    db_session.add(
        NotificationPreference(
            user_id=user.id, kind=EmailKind.ACCESS_REQUEST_TO_DECIDE.value, email_enabled=False
        )
    )
    db_session.flush()
    assert _queue(db_session, kind=EmailKind.ACCESS_REQUEST_TO_DECIDE, user=user) is None
    assert _queue(db_session, kind=EmailKind.ACCESS_CHANGED, user=user) is not None
    assert _queue(db_session, kind=EmailKind.PASSWORD_RESET, user=user) is not None


def test_set_preferences_is_audited(db_session):
    from claims_portal.audit.models import AuditEvent

    user = UserFactory()
    mail.set_preferences(db_session, user, [EmailKind.ACCESS_CHANGED])
    chosen = mail.preferences_of(db_session, user)
    assert chosen[EmailKind.ACCESS_REQUEST_TO_DECIDE] is False
    assert chosen[EmailKind.ACCESS_CHANGED] is True
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notification_preferences.changed")
    ).one()
    assert event.after["access_request_to_decide"] is False
    assert "access_changed" not in event.after


def test_a_rolled_back_decision_sends_nothing(app, db_session, mailbox):
    _queue(db_session)
    db_session.rollback()
    assert db_session.scalars(select(EmailMessage)).all() == []


@pytest.mark.parametrize("backend", ["carrier-pigeon"])
def test_an_unknown_backend_is_a_clear_error(app, db_session, backend):
    _queue(db_session)
    with pytest.raises(RuntimeError, match="MAIL_BACKEND must be smtp or outbox"):
        mail.deliver(db_session, {**app.config, "MAIL_BACKEND": backend})


def test_pages_render_the_email_preferences(client, db_session):
    from tests.helpers import csrf_token, sign_in

    user = UserFactory()
    sign_in(client, user.email)
    page = client.get("/account/email-notifications")
    html = page.get_data(as_text=True)
    assert "A new access request is waiting for your decision" in html
    assert "Password reset links" in html  # listed as always sent
    response = client.post(
        "/account/email-notifications",
        data={"approvals": "each", "kinds": ["access_changed"], "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    assert mail.preferences_of(db.session, user)[EmailKind.ACCESS_REQUEST_TO_DECIDE] is False


def test_a_decision_survives_a_failing_mail_server_and_the_email_follows(
    app, client, db_session, mailbox, monkeypatch
):
    """Approve while SMTP is down: the approval is committed, the email queued, then sent."""
    from claims_portal.access.links import Links
    from claims_portal.access.models import AccessRequest, AccessRequestStatus
    from claims_portal.access.roles import Role
    from claims_portal.access.services import access_requests
    from claims_portal.organisations.models import ApprovalMode
    from tests.factories.access import user_with_role
    from tests.factories.organisations import PracticeFactory
    from tests.helpers import csrf_token, sign_in

    practice = PracticeFactory(approval_mode=ApprovalMode.TWO_STEP)
    approver = user_with_role(Role.PROVIDER_APPROVER, practice)
    request = access_requests.submit_request(
        db_session,
        organisation=practice,
        role=Role.PROVIDER_USER_MULTI,
        links=Links("http://localhost"),
        settings=access_settings(),
        email="new.person@nhs.net",
        full_name="New Person",
    )
    db_session.commit()
    request_id = request.id
    sign_in(client, approver.email)
    mailbox.clear()
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # the server is down
    page = client.get(f"/access-requests/{request_id}")
    response = client.post(
        f"/access-requests/{request_id}",
        data={"decision": "approve", "reason": "", "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    assert db_session.get(AccessRequest, request_id).status is AccessRequestStatus.APPROVED
    waiting = db_session.scalars(
        select(EmailMessage).where(EmailMessage.recipient == "new.person@nhs.net")
    ).all()
    link_email = next(m for m in waiting if m.kind == EmailKind.REGISTRATION_LINK.value)
    assert link_email.status is EmailStatus.QUEUED
    assert link_email.attempts == 1
    assert "ConnectionRefusedError" in link_email.last_error
    assert mailbox.to("new.person@nhs.net") == []

    monkeypatch.undo()  # the server is back
    with app.app_context():
        result = CliRunner().invoke(send_queued, [], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    arrived = mailbox.wait_for("new.person@nhs.net", "set up your account")
    assert "/complete-registration/" in body_of(arrived)
