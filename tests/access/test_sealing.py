"""Two-factor secrets sealed at rest (access.sealing): a database copy alone mints no codes."""

from __future__ import annotations

import pyotp
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from claims_portal.access import sealing
from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.access.services import mfa
from claims_portal.extensions import db
from claims_portal.service_settings import access_settings
from tests.access.helpers import configure, enrol
from tests.access.test_mfa import _code_step, _password_step
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory
from tests.helpers import drop_database, make_test_app, recreate_database, run_database_url

KEY_A = sealing.new_key()
KEY_B = sealing.new_key()


def keys(*texts):
    return sealing.parse_keys(",".join(texts), None)


@pytest.fixture
def commissioner(db_session):
    return user_with_role(Role.APPROVER_TIER_1, IcbFactory())


def test_a_sealed_secret_opens_only_with_its_key_and_for_its_person():
    secret = pyotp.random_base32()
    stored = sealing.seal(secret, 7, keys(KEY_A))
    assert stored.startswith("v1.")
    assert secret not in stored
    assert len(stored) <= 128  # the column
    assert sealing.seal(secret, 7, keys(KEY_A)) != stored  # a fresh nonce each time
    assert sealing.unseal(stored, 7, keys(KEY_A)) == (secret, True)
    assert sealing.unseal(stored, 7, keys(KEY_B, KEY_A)) == (secret, False)  # older key
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(stored, 8, keys(KEY_A))  # copied to another person's row
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(stored, 7, keys(KEY_B))
    tampered = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(sealing.Unreadable):
        sealing.unseal(tampered, 7, keys(KEY_A))


def test_without_keys_one_is_derived_from_the_secret_key():
    derived = sealing.parse_keys(None, "a secret key")
    assert derived == sealing.parse_keys("", "a secret key")
    assert derived != sealing.parse_keys(None, "another secret key")
    assert len(derived[0]) == 32
    with pytest.raises(sealing.BadKeys):
        sealing.parse_keys(None, None)


def test_rotating_keys_reseals_at_the_next_sign_in(
    app, client, db_session, commissioner, monkeypatch
):
    configure(app, monkeypatch, MFA_SECRET_KEYS=KEY_A)
    secret = enrol(commissioner)
    sealed_with_a = commissioner.mfa_secret
    configure(app, monkeypatch, MFA_SECRET_KEYS=f"{KEY_B},{KEY_A}")
    _password_step(client, commissioner.email)
    response = _code_step(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302
    stored = db_session.get(User, commissioner.id).mfa_secret
    assert stored != sealed_with_a
    assert sealing.unseal(stored, commissioner.id, keys(KEY_B))[0] == secret


def test_a_secret_no_key_opens_is_refused_clearly_and_recovery_codes_still_work(
    app, client, db_session, commissioner, monkeypatch
):
    configure(app, monkeypatch, MFA_SECRET_KEYS=KEY_A)
    secret = enrol(commissioner)
    recovery = mfa.regenerate_recovery_codes(db_session, commissioner)
    db_session.commit()
    configure(app, monkeypatch, MFA_SECRET_KEYS=KEY_B)  # the key was lost
    _password_step(client, commissioner.email)
    response = _code_step(client, pyotp.TOTP(secret).now())
    html = response.get_data(as_text=True)
    assert "cannot be checked at the moment" in html
    assert "Error: " in html
    assert _code_step(client, recovery[0]).status_code == 302


def test_the_migration_seals_secrets_stored_plain_and_unseals_them_going_down():
    url = run_database_url("sealing")
    recreate_database(url)
    application = make_test_app(url)
    try:
        with application.app_context():
            upgrade(revision="0006_page_generation")
            secret = pyotp.random_base32()
            db.session.execute(
                text(
                    "INSERT INTO user_account (email, full_name, password_hash, mfa_secret, "
                    "created_at, failed_sign_ins) "
                    "VALUES ('a@example.nhs.net', 'A', 'x', :secret, now(), 0)"
                ),
                {"secret": secret},
            )
            db.session.commit()
            upgrade()
            user = db.session.query(User).one()
            assert user.mfa_secret.startswith("v1.")
            assert mfa.secret_of(user, settings=access_settings()) == secret
            db.session.rollback()
            downgrade(revision="0006_page_generation")
            stored = db.session.execute(text("SELECT mfa_secret FROM user_account")).scalar()
            assert stored == secret
            db.session.rollback()
            db.engine.dispose()
    finally:
        drop_database(url)
