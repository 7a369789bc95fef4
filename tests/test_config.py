from __future__ import annotations

import pytest

from claims_portal import create_app
from claims_portal.access.sealing import new_key
from claims_portal.config import ConfigurationError, load_config


def test_production_refuses_to_start_without_secret_key_and_database(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MFA_SECRET_KEYS", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(
        ConfigurationError,
        match="missing: SECRET_KEY, SQLALCHEMY_DATABASE_URI, MFA_SECRET_KEYS, PUBLIC_BASE_URL",
    ):
        load_config(str(tmp_path), "production")


@pytest.mark.parametrize(
    ("keys", "problem"),
    [("not base64!", "key 1 is not base64url"), (f"{new_key()},c2hvcnQ", "key 2 is 5 bytes")],
)
def test_unusable_mfa_keys_are_refused_at_start(monkeypatch, tmp_path, keys, problem):
    monkeypatch.setenv("MFA_SECRET_KEYS", keys)
    with pytest.raises(ConfigurationError, match=problem):
        load_config(str(tmp_path), "test")


def test_production_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv("CLAIMS_PORTAL_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="production configuration is missing"):
        create_app()


def test_development_defaults_to_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = load_config(str(tmp_path), "development")
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'claims-portal.db'}"
    assert len(settings["SECRET_KEY"]) > 40
    # The generated key is kept, so sessions survive a restart.
    assert load_config(str(tmp_path), "development")["SECRET_KEY"] == settings["SECRET_KEY"]


def test_environment_overrides_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1/db")
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://claims.example.nhs.uk")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("MAIL_USE_TLS", "true")
    monkeypatch.setenv("TRUSTED_HOSTS", "claims.example.nhs.uk, localhost")
    settings = load_config(str(tmp_path), "production")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql://u@127.0.0.1/db"
    assert settings["SESSION_IDLE_MINUTES"] == 15
    assert settings["MAIL_USE_TLS"] is True
    assert settings["TRUSTED_HOSTS"] == ["claims.example.nhs.uk", "localhost"]


def test_a_bad_number_is_reported_by_name(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(ConfigurationError, match="SESSION_IDLE_MINUTES must be a whole number"):
        load_config(str(tmp_path), "test")


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="is not one of"):
        load_config(str(tmp_path), "staging")
