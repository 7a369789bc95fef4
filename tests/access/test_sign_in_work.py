"""Signing in does the same password-hashing work whether or not the address has an account.

argon2 dominates the time of a sign-in (about 100 ms a hash in production), so each refused
sign-in must cost exactly one argon2 operation, whoever it is for. The counts come from
argon2-cffi's own ``PasswordHasher``, wrapped so every real call is counted.
"""

from __future__ import annotations

import collections
import uuid

import pytest
from argon2 import PasswordHasher

from claims_portal.access import passwords
from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.extensions import db
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, make_test_app, sign_in


@pytest.fixture
def hashing(monkeypatch):
    """Counts of argon2 operations, by kind, from here on."""
    counts: collections.Counter[str] = collections.Counter()
    for name in ("hash", "verify"):
        original = getattr(PasswordHasher, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            counts[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(PasswordHasher, name, counted)
    return counts


@pytest.fixture
def person(db_session):
    return user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=IcbFactory()))


def _work(client, hashing, email, password="a wrong password 1"):  # noqa: S107 - a wrong one
    hashing.clear()
    response = sign_in(client, email, password)
    return response, dict(hashing)


ONE_VERIFICATION = {"verify": 1}


def test_every_refused_sign_in_costs_one_verification(client, db_session, person, hashing):
    unknown = _work(client, hashing, f"nobody.{uuid.uuid4().hex[:8]}@nhs.net")
    wrong_password = _work(client, hashing, person.email)
    assert unknown[1] == wrong_password[1] == ONE_VERIFICATION
    assert unknown[0].status_code == wrong_password[0].status_code == 200

    invited = user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=IcbFactory()))
    db_session.get(User, invited.id).password_hash = None  # not set up yet
    disabled = user_with_role(Role.PROVIDER_USER_SINGLE, PracticeFactory(parent=IcbFactory()))
    db_session.get(User, disabled.id).is_disabled = True
    db_session.commit()
    assert _work(client, hashing, invited.email)[1] == ONE_VERIFICATION
    assert _work(client, hashing, disabled.email, TEST_PASSWORD)[1] == ONE_VERIFICATION


def test_a_locked_account_costs_the_same(client, db_session, person, hashing):
    for _ in range(5):
        sign_in(client, person.email, "a wrong password 1")
    assert db_session.get(User, person.id).is_locked
    assert _work(client, hashing, person.email, TEST_PASSWORD)[1] == ONE_VERIFICATION
    assert _work(client, hashing, person.email)[1] == ONE_VERIFICATION


def test_a_right_password_is_verified_once_and_not_hashed_again(
    client, db_session, person, hashing
):
    response, work = _work(client, hashing, person.email, TEST_PASSWORD)
    assert response.headers["Location"] == "/"
    assert work == ONE_VERIFICATION


def test_an_old_hash_is_upgraded_once_at_sign_in(app, client, db_session, person, hashing):
    with app.app_context():
        weaker = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1)
        db_session.get(User, person.id).password_hash = weaker.hash(TEST_PASSWORD)
        db_session.commit()
    response, work = _work(client, hashing, person.email, TEST_PASSWORD)
    assert response.headers["Location"] == "/"
    assert work == {"verify": 1, "hash": 1}
    with app.app_context():
        assert not PasswordHasher(
            time_cost=app.config["ARGON2_TIME_COST"],
            memory_cost=app.config["ARGON2_MEMORY_COST"],
            parallelism=app.config["ARGON2_PARALLELISM"],
        ).check_needs_rehash(db_session.get(User, person.id).password_hash)


def test_the_dummy_hash_is_made_once_when_the_app_starts(database_url, hashing, db_session):
    # Parameters no other test uses, so this process has no dummy hash for them yet.
    application = make_test_app(database_url, ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=2048)
    try:
        assert dict(hashing) == {"hash": 1}
        client = application.test_client()
        for _ in range(2):
            work = _work(client, hashing, f"nobody.{uuid.uuid4().hex[:8]}@nhs.net")[1]
            assert work == ONE_VERIFICATION
        # The dummy has the configured parameters, so verifying against it costs the same.
        assert "m=2048,t=2,p=1" in passwords._dummy_hashes[(2, 2048, 1)]
    finally:
        with application.app_context():
            db.engine.dispose()
