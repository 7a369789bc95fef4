"""Lockout after repeated failures (for a while, longer on repeats), unlocking, and the emailed
password reset."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import time_machine
from sqlalchemy import select

from claims_portal import clock
from claims_portal.access.models import AccessToken, User, UserSession
from claims_portal.access.roles import Role
from claims_portal.access.services import lockout
from claims_portal.access.services.settings import AccessSettings
from claims_portal.audit.models import AuditEvent
from claims_portal.db import utcnow
from claims_portal.mail.models import EmailMessage
from tests.access.helpers import configure
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in
from tests.smtp_fixtures import body_of

NEW_PASSWORD = "a brand new passphrase 7"
GENERIC = "Enter a correct email address and password"


@pytest.fixture
def icb(db_session):
    return IcbFactory()


@pytest.fixture
def person(icb):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=icb))


def _user(db_session, user) -> User:
    return db_session.get(User, user.id)


def _actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _lock(user: User, minutes: int = 30) -> None:
    user.locked_at = utcnow()
    user.locked_until = utcnow() + dt.timedelta(minutes=minutes)
    user.lockout_count = 1


def _fail(client, email, times=1):
    response = None
    for _ in range(times):
        response = sign_in(client, email, "wrong password here")
    return response


def _until(moment: dt.datetime) -> str:
    """The wall-clock time the page shows for a lock ending at ``moment``: rounded up, with
    the date when that is not today."""
    local = moment.astimezone(clock.ENGLAND)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    if local.date() != clock.today():
        return f"{local:%H:%M} on {local.day} {local:%B}"
    return local.strftime("%H:%M")


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_five_failures_lock_the_account_for_a_while_and_say_until_when(client, db_session, person):
    for _ in range(4):
        assert GENERIC in _text(_fail(client, person.email))
    assert _user(db_session, person).locked_at is None
    locked = _fail(client, person.email)
    user = _user(db_session, person)
    assert user.is_locked
    assert user.locked_until - user.locked_at == dt.timedelta(minutes=30)
    assert "account.locked" in _actions(db_session)
    message = (
        f"Your account is locked until {_until(user.locked_until)}. "
        "You can reset your password now to unlock it."
    )
    assert message in _text(locked)
    # The right password is refused with the same words: a guess that is right shows nothing.
    response = sign_in(client, person.email, TEST_PASSWORD)
    assert response.status_code == 200
    assert message in _text(response)
    assert client.get("/").status_code == 302


def test_an_address_without_an_account_locks_and_is_told_the_same(client, db_session):
    email = f"nobody.{uuid.uuid4().hex[:12]}@nhs.net"
    for _ in range(4):
        assert GENERIC in _text(_fail(client, email))
    before = clock.now()
    response = _fail(client, email)
    text = _text(response)
    assert "Your account is locked until " in text
    assert "You can reset your password now to unlock it." in text
    shown = re.search(r"locked until (\d\d:\d\d( on \d+ \w+)?)\.", text).group(1)
    assert shown in {_until(before + dt.timedelta(minutes=30, seconds=s)) for s in (0, 5)}
    assert "Your account is locked until" in _text(sign_in(client, email, TEST_PASSWORD))


def test_a_disabled_account_looks_like_no_account(client, db_session, person):
    _user(db_session, person).is_disabled = True
    db_session.commit()
    assert GENERIC in _text(_fail(client, person.email, 4))
    assert "Your account is locked until" in _text(_fail(client, person.email))
    assert _user(db_session, person).locked_at is None  # nothing stored on the account


def test_the_lock_ends_by_itself_and_sign_in_works_again(client, db_session, person):
    _fail(client, person.email, 5)
    assert _user(db_session, person).is_locked
    with time_machine.travel(clock.now() + dt.timedelta(minutes=29), tick=True):
        assert "Your account is locked until" in _text(sign_in(client, person.email))
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31), tick=True):
        response = sign_in(client, person.email)
        assert response.headers["Location"] == "/"
    user = _user(db_session, person)
    assert (user.locked_at, user.locked_until, user.failed_sign_ins, user.lockout_count) == (
        None,
        None,
        0,
        0,
    )
    assert "account.lock_ended" in _actions(db_session)


def test_a_lockout_again_lasts_twice_as_long(client, db_session, person):
    _fail(client, person.email, 5)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31), tick=True):
        # The lock is over: the failures count afresh, four more are not enough...
        assert GENERIC in _text(_fail(client, person.email, 4))
        assert not _user(db_session, person).is_locked
        # ...and the fifth locks for an hour, as the second lockout in a row.
        _fail(client, person.email)
        user = _user(db_session, person)
        assert user.lockout_count == 2
        assert user.locked_until - user.locked_at == dt.timedelta(hours=1)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31 + 59), tick=True):
        assert "Your account is locked until" in _text(sign_in(client, person.email))
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31 + 61), tick=True):
        assert sign_in(client, person.email).headers["Location"] == "/"
    assert _user(db_session, person).lockout_count == 0  # signed in: the next starts at 30


def test_an_address_without_an_account_unlocks_the_same_way(client, db_session):
    email = f"nobody.{uuid.uuid4().hex[:12]}@nhs.net"
    _fail(client, email, 5)
    with time_machine.travel(clock.now() + dt.timedelta(minutes=31), tick=True):
        assert GENERIC in _text(_fail(client, email, 4))
        assert "Your account is locked until" in _text(_fail(client, email))


@pytest.mark.parametrize(
    ("lockout_number", "minutes"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (6, 960), (7, 24 * 60), (40, 24 * 60)],
)
def test_lockouts_in_a_row_double_up_to_the_cap(app, lockout_number, minutes):
    settings = AccessSettings.from_config(app.config)
    assert lockout.duration(lockout_number, settings=settings) == dt.timedelta(minutes=minutes)


def test_the_lockout_length_and_cap_are_settings(app, monkeypatch):
    settings = configure(app, monkeypatch, LOCKOUT_MINUTES=10, LOCKOUT_MAX_HOURS=1)
    lengths = [lockout.duration(n, settings=settings).total_seconds() // 60 for n in (1, 2, 3, 4)]
    assert lengths == [10, 20, 40, 60]


def test_the_time_is_england_s(app, db_session, client, person):
    summer = dt.datetime(clock.today().year, 7, 15, 13, 0, 5, tzinfo=dt.UTC)
    with time_machine.travel(summer, tick=False):
        response = _fail(client, person.email, 5)
    # 13:30:05 UTC is 14:30:05 in British Summer Time: shown as 14:31, never before the end.
    assert "Your account is locked until 14:31." in _text(response)
    with app.test_request_context():
        winter_end = dt.datetime(clock.today().year, 1, 15, 9, 30, tzinfo=dt.UTC)
        with time_machine.travel(winter_end - dt.timedelta(hours=1), tick=False):
            assert "until 09:30." in lockout.locked_message(winter_end)
        with time_machine.travel(winter_end - dt.timedelta(days=1), tick=False):
            assert "until 09:30 on 15 January." in lockout.locked_message(winter_end)


def test_the_threshold_is_configurable(app, client, db_session, person, monkeypatch):
    configure(app, monkeypatch, LOCKOUT_THRESHOLD=2)
    sign_in(client, person.email, "wrong password here")
    sign_in(client, person.email, "wrong password here")
    assert _user(db_session, person).locked_at is not None


def test_a_success_resets_the_count(client, db_session, person):
    for _ in range(4):
        sign_in(client, person.email, "wrong password here")
    sign_in(client, person.email)
    assert _user(db_session, person).failed_sign_ins == 0


def test_an_administrator_unlocks_and_it_is_audited(client, db_session, icb, person):
    user = _user(db_session, person)
    _lock(user)
    user.failed_sign_ins = 5
    db_session.commit()
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, admin.email)
    page = client.get(f"/people/{person.id}")
    assert "Locked" in page.get_data(as_text=True)
    client.post(f"/people/{person.id}/unlock", data={"csrf_token": csrf_token(page)})
    user = _user(db_session, person)
    assert (user.locked_at, user.locked_until, user.lockout_count) == (None, None, 0)
    assert user.failed_sign_ins == 0
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.unlocked")
    ).one()
    assert event.actor_id == admin.id


def _ask_for_reset(client, email):
    page = client.get("/forgotten-password")
    return client.post("/forgotten-password", data={"email": email, "csrf_token": csrf_token(page)})


def _reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/reset-password/\S+)", body_of(message))
    assert match, body_of(message)
    return match.group(1)


def _set(client, link, password=NEW_PASSWORD, confirm=None):
    page = client.get(link)
    return client.post(
        link,
        data={
            "password": password,
            "confirm": confirm if confirm is not None else password,
            "csrf_token": csrf_token(page),
        },
    )


def test_the_same_answer_whether_or_not_the_address_has_an_account(
    client, db_session, person, mailbox
):
    known = _ask_for_reset(client, person.email)
    unknown = _ask_for_reset(client, "nobody.here@nhs.net")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    known_page = client.get("/sign-in").get_data(as_text=True)
    assert "has an account, we have emailed it a link" in known_page
    mailbox.wait_for(person.email, "Reset your claims portal password")
    assert mailbox.to("nobody.here@nhs.net") == []
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "password_reset.requested")
    ).all()
    assert [e.after["sent"] for e in events] == [True, False]


def test_reset_sets_the_password_ends_other_sessions_and_unlocks(
    app, client, db_session, person, mailbox
):
    other_device = app.test_client()
    sign_in(other_device, person.email)
    user = _user(db_session, person)
    _lock(user)
    user.failed_sign_ins = 7
    db_session.commit()
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    response = _set(client, link)
    assert response.headers["Location"] == "/sign-in"
    assert other_device.get("/").status_code == 302  # signed out everywhere
    user = _user(db_session, person)
    assert (user.locked_at, user.locked_until, user.lockout_count) == (None, None, 0)
    assert user.failed_sign_ins == 0
    open_sessions = db_session.scalars(
        select(UserSession).where(
            UserSession.user_id == person.id, UserSession.revoked_at.is_(None)
        )
    ).all()
    assert open_sessions == []
    assert sign_in(client, person.email, NEW_PASSWORD).headers["Location"] == "/"
    assert {"password.reset", "account.unlocked"} <= set(_actions(db_session))
    mailbox.wait_for(person.email, "Your claims portal password has changed")


def test_a_reset_link_works_once(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    _set(client, link)
    again = client.get(link)
    assert again.status_code == 410
    assert "expired or has already been used" in again.get_data(as_text=True)


def test_an_expired_reset_link_is_refused(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    token = db_session.scalars(select(AccessToken)).one()
    token.created_at = utcnow() - dt.timedelta(hours=2)
    token.expires_at = utcnow() - dt.timedelta(minutes=1)
    db_session.commit()
    assert client.get(link).status_code == 410
    page = client.get("/sign-in")
    response = client.post(
        link,
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 410
    assert sign_in(client, person.email, NEW_PASSWORD).status_code == 200


def test_a_newer_reset_link_replaces_the_older(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    first = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    mailbox.clear()
    _ask_for_reset(client, person.email)
    second = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", None, "at least 12 characters"),
        ("password1234", None, "too common"),
        (NEW_PASSWORD, "something else entirely", "The passwords do not match"),
    ],
)
def test_a_weak_new_password_is_refused_and_the_link_still_works(
    client, db_session, person, mailbox, password, confirm, message
):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    response = _set(client, link, password, confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Error: " in html
    assert client.get(link).status_code == 200


def test_the_current_password_is_refused_as_the_new_one(client, db_session, person, mailbox):
    _ask_for_reset(client, person.email)
    link = _reset_link(mailbox.wait_for(person.email, "Reset your"))
    hash_before = _user(db_session, person).password_hash
    response = _set(client, link, TEST_PASSWORD)
    html = response.get_data(as_text=True)
    assert "Your new password must be different from your current password" in html
    assert "Error: " in html
    db_session.expire_all()
    assert _user(db_session, person).password_hash == hash_before
    assert "password.reset" not in _actions(db_session)
    assert client.get(link).status_code == 200  # the link still works for a new password
    assert _set(client, link).status_code == 302
    assert "password.reset" in _actions(db_session)


def test_a_disabled_account_gets_no_reset_email(client, db_session, person, mailbox):
    _user(db_session, person).is_disabled = True
    db_session.commit()
    _ask_for_reset(client, person.email)
    assert db_session.scalars(select(EmailMessage)).all() == []
