"""Secrets read from files (``NAME_FILE``) and the start-up checks of every setting
(claims_portal/config_checks.py)."""

from __future__ import annotations

import pytest

from claims_portal.access.sealing import new_key
from claims_portal.config import ConfigurationError, load_config

SECRET = "a-secret-key-read-from-a-file-0123456789"


@pytest.fixture
def production(monkeypatch):
    """A complete production environment, each test then changing one part of it."""
    for name in ("SECRET_KEY", "DATABASE_URL", "MFA_SECRET_KEYS", "MIGRATION_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@127.0.0.1/claims")
    monkeypatch.setenv("MFA_SECRET_KEYS", new_key())
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://claims.example.nhs.uk")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    return monkeypatch


def secret_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_secrets_are_read_from_files(production, tmp_path):
    mfa_keys = f"{new_key()},{new_key()}"
    database = "postgresql://app:s3cret@127.0.0.1:5432/claims"
    for name, value in [
        ("SECRET_KEY", SECRET + "\n"),  # one trailing line break, as editors leave it
        ("MFA_SECRET_KEYS", mfa_keys),
        ("DATABASE_URL", database),
        ("MAIL_PASSWORD", "smtp password"),
    ]:
        production.delenv(name, raising=False)
        production.setenv(f"{name}_FILE", secret_file(tmp_path, name.lower(), value))
    settings = load_config(str(tmp_path), "production")
    assert settings["SECRET_KEY"] == SECRET
    assert settings["MFA_SECRET_KEYS"] == mfa_keys
    assert settings["SQLALCHEMY_DATABASE_URI"] == database
    assert settings["MAIL_PASSWORD"] == "smtp password"


def test_a_required_setting_given_as_a_file_counts_as_given(production, tmp_path):
    production.delenv("SECRET_KEY")
    production.setenv("SECRET_KEY_FILE", secret_file(tmp_path, "key", SECRET))
    assert load_config(str(tmp_path), "production")["SECRET_KEY"] == SECRET


def test_a_setting_and_its_file_together_are_refused(production, tmp_path):
    production.setenv("SECRET_KEY_FILE", secret_file(tmp_path, "key", SECRET))
    with pytest.raises(ConfigurationError, match="Set SECRET_KEY or SECRET_KEY_FILE, not both"):
        load_config(str(tmp_path), "production")


@pytest.mark.parametrize(
    ("contents", "problem"), [(None, "cannot read .*No such file"), ("\n", "is empty")]
)
def test_a_file_that_cannot_be_used_is_named(production, tmp_path, contents, problem):
    path = str(tmp_path / "missing") if contents is None else secret_file(tmp_path, "k", contents)
    production.delenv("SECRET_KEY")
    production.setenv("SECRET_KEY_FILE", path)
    with pytest.raises(ConfigurationError, match=f"SECRET_KEY_FILE: .*{problem}"):
        load_config(str(tmp_path), "production")


def test_other_programs_file_variables_are_not_settings(production, tmp_path):
    production.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "nothing-here"))
    production.setenv("SSL_CERT_FILE", str(tmp_path / "nothing-here"))
    load_config(str(tmp_path), "production")


def test_every_problem_is_named_at_once(production, tmp_path):
    wrong = {
        "MAIL_USE_TLS": "maybe",
        "MAIL_PORT": "70000",
        "SESSION_IDLE_MINUTES": "0",
        "LOCKOUT_THRESHOLD": "-1",
        "EVIDENCE_STORE": "ftp",
        "EVIDENCE_S3_SSE": "rot13",
        "SIGN_IN_RATE_LIMIT": "lots",
        "MFA_REQUIRED_ROLES": "ADMINISTRATOR,WIZARD",
        "REDIS_URL": "http://127.0.0.1:6379",
        "MAIL_DEFAULT_SENDER": "nobody",
        "SECRET_KEY": "short-key",
        "SESSION_COOKIE_SECURE": "false",
    }
    for name, value in wrong.items():
        production.setenv(name, value)
    with pytest.raises(ConfigurationError) as refused:
        load_config(str(tmp_path), "production")
    message = str(refused.value)
    for expected in [
        "MAIL_USE_TLS must be true or false",
        "MAIL_PORT must be a port number (1 to 65535), not 70000",
        "SESSION_IDLE_MINUTES must be more than 0, not 0",
        "LOCKOUT_THRESHOLD must be more than 0, not -1",
        "EVIDENCE_STORE must be one of local, s3, not 'ftp'",
        "EVIDENCE_S3_SSE must be one of aws:kms, AES256, none or empty",
        "SIGN_IN_RATE_LIMIT must be rates like '10 per minute; 100 per hour'",
        "MFA_REQUIRED_ROLES names no such role: WIZARD",
        "REDIS_URL must be a Redis address",
        "MAIL_DEFAULT_SENDER must be an email address",
        "SECRET_KEY must be at least 32 characters",
        "SESSION_COOKIE_SECURE must be true in production",
    ]:
        assert expected in message
    assert "short-key" not in message  # a secret's value is never repeated


def test_a_database_address_that_does_not_parse_is_named_without_its_password(production, tmp_path):
    production.setenv("DATABASE_URL", "postgresql://app:hunter2@127.0.0.1:port/claims")
    with pytest.raises(ConfigurationError, match="DATABASE_URL is not a database address") as e:
        load_config(str(tmp_path), "production")
    assert "hunter2" not in str(e.value)


def test_zero_is_allowed_where_it_switches_something_off(production, tmp_path):
    production.setenv("HEADER_COUNTS_SECONDS", "0")
    production.setenv("PROXY_FIX_X_FOR", "0")
    production.setenv("EVIDENCE_S3_SSE", "")
    settings = load_config(str(tmp_path), "production")
    assert settings["HEADER_COUNTS_SECONDS"] == 0


def test_s3_evidence_needs_its_bucket_at_start(production, tmp_path):
    production.setenv("EVIDENCE_STORE", "s3")
    with pytest.raises(ConfigurationError, match="EVIDENCE_S3_BUCKET must be set"):
        load_config(str(tmp_path), "production")
    production.setenv("EVIDENCE_S3_BUCKET", "claims-portal-evidence")
    assert load_config(str(tmp_path), "production")["EVIDENCE_STORE"] == "s3"
