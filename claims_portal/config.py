"""Configuration classes read from the environment.

``CLAIMS_PORTAL_ENV`` chooses the class: ``production`` (the default, which refuses to start
without its required settings), ``development`` (``make run``) or ``test``. Every setting
can be given as an environment variable of the same name; ``docs/configuration.md`` lists
them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from claims_portal import config_checks

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """A production setting is missing or invalid; the message names it."""


def _env(name: str, default: str | None = None) -> str | None:
    """``name`` from the environment, or from the file ``<name>_FILE`` names (config_checks)."""
    try:
        value = config_checks.environment_value(name)
    except config_checks.SecretFileError as exc:
        raise ConfigurationError(str(exc)) from None
    return value if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from exc


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME: ClassVar[str] = "base"
    #: Settings that must come from the environment in this class.
    REQUIRED: ClassVar[tuple[str, ...]] = ()

    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    #: The role owning the schema, for ``claims-portal db upgrade`` and
    #: ``db grant-app-role`` (``DATABASE_URL``'s role when unset); the application itself
    #: connects as a role owning nothing (docs/operations.md).
    MIGRATION_DATABASE_URL: str | None = None
    #: A pooled connection idle this long is asked whether it still works before a request
    #: uses it (claims_portal/db_pool.py); 0 asks on every checkout.
    DATABASE_PING_IDLE_SECONDS = 10

    SESSION_COOKIE_NAME = "claims_portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(0)
    PREFERRED_URL_SCHEME = "https"
    TRUSTED_HOSTS: list[str] | None = None
    #: Evidence files are at most 5 MB, and at most 10 are chosen in one go on the claim
    #: page; the request limit is that many files plus room for the form fields.
    EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
    EVIDENCE_MAX_FILES_PER_POST = 10
    MAX_CONTENT_LENGTH = EVIDENCE_MAX_FILES_PER_POST * EVIDENCE_MAX_BYTES + 512 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    HSTS_ENABLED = True

    #: Server-side sessions: idle timeout and absolute lifetime.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    #: argon2id parameters (argon2-cffi defaults: RFC 9106 low-memory profile).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    #: Evidence store: ``local`` (the ``uploads/`` folder) or ``s3``.
    EVIDENCE_STORE = "local"
    EVIDENCE_LOCAL_DIR = str(PROJECT_ROOT / "uploads")
    EVIDENCE_S3_BUCKET: str | None = None
    EVIDENCE_S3_PREFIX = "evidence/"
    EVIDENCE_S3_REGION: str | None = None
    EVIDENCE_S3_ENDPOINT_URL: str | None = None
    EVIDENCE_S3_SSE: str | None = "aws:kms"
    #: The virus check of every evidence file (claims/evidence/scanning.py): ``clamd``
    #: (ClamAV's daemon, on ``CLAMD_SOCKET``, or on ``CLAMD_HOST``:``CLAMD_PORT`` over TCP
    #: when a host is set; ``CLAMD_TIMEOUT_SECONDS`` for each file) or ``none`` (nothing
    #: scanned: development machines). With ``VIRUS_SCAN_REQUIRED`` (production) ``none``
    #: is refused at start-up.
    VIRUS_SCANNER = "none"
    VIRUS_SCAN_REQUIRED = False
    CLAMD_SOCKET = "/run/clamav/clamd.ctl"
    CLAMD_HOST: str | None = None
    CLAMD_PORT = 3310
    CLAMD_TIMEOUT_SECONDS = 30

    #: Mail: SMTP in production; an outbox folder in development.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "claims-portal@localhost"
    MAIL_OUTBOX_DIR: str | None = None

    #: Where ``claims-portal audit anchor`` records the audit chain's head, outside the
    #: database: a file path (JSON lines, appended) or ``s3://bucket/prefix`` (one object
    #: per anchor, never overwritten). ``audit verify`` reads the anchors back.
    AUDIT_ANCHOR_TARGET: str | None = None
    AUDIT_ANCHOR_S3_REGION: str | None = None
    AUDIT_ANCHOR_S3_ENDPOINT_URL: str | None = None
    AUDIT_ANCHOR_S3_SSE: str | None = "aws:kms"

    #: Payment files to and from the payments agency (payments/transport.py): ``folder``
    #: (a drop folder: ``PAYMENTS_FOLDER``, relative to the instance folder unless
    #: absolute, ``instance/payments`` by default) or ``s3`` (keys under the prefix).
    #: The payment run (docs/payments.md): a file unanswered this long is sent again, at most
    #: PAYMENTS_MAX_RESENDS times, then fails and finance is told.
    PAYMENTS_RESEND_AFTER_HOURS = 18
    PAYMENTS_MAX_RESENDS = 3
    PAYMENTS_TRANSPORT = "folder"
    PAYMENTS_FOLDER: str | None = None
    PAYMENTS_S3_BUCKET: str | None = None
    PAYMENTS_S3_PREFIX = "payments/"
    PAYMENTS_S3_REGION: str | None = None
    PAYMENTS_S3_ENDPOINT_URL: str | None = None

    #: Redis, holding the throttling counters and the lockouts of addresses without an
    #: account, shared by every worker and server. Required in production; this process's
    #: memory otherwise.
    REDIS_URL: str | None = None
    #: Prefix of this deployment's keys in that Redis.
    RATELIMIT_KEY_PREFIX = "claims-portal"

    #: Jobs (claims_portal/jobs, docs/operations.md): the Celery broker (``REDIS_URL``
    #: when unset); the queue's name and a prefix for the broker's keys (deployments or
    #: test runs sharing one Redis); seconds before a job taken by a worker that vanished
    #: is delivered to another (longer than any job runs); ids per ``mail.deliver`` message.
    CELERY_BROKER_URL: str | None = None
    JOBS_QUEUE = "claims-portal"
    JOBS_KEY_PREFIX: str | None = None
    JOBS_VISIBILITY_TIMEOUT_SECONDS = 3600
    JOBS_IDS_PER_MESSAGE = 100
    #: A job a person started that no worker has taken this long after it was asked for
    #: (its message lost: the broker down at commit, Redis restarted) is handed to the
    #: workers again by the sweep (``jobs.sweep``); one still running twice
    #: ``JOBS_VISIBILITY_TIMEOUT_SECONDS`` after it started is too (its worker and message
    #: both gone). A job run twice does no harm.
    JOBS_RESEND_AFTER_SECONDS = 300
    #: Run jobs in the web process right after the request instead of on a worker (no
    #: broker needed: ``make run``, and the test suite's default app). Refused in production.
    JOBS_RUN_IN_PROCESS = False
    #: What the scheduler runs when (claims_portal/jobs/schedule.py): ``KIND=WHEN; ...``,
    #: WHEN ``daily at HH:MM`` (England) or ``every N minutes``.
    JOBS_SCHEDULE = (
        "mail.sweep-outbox=every 5 minutes; jobs.sweep=every 5 minutes; "
        "claims.sweep-evidence=daily at 02:00; "
        "audit.verify=daily at 03:00; mail.daily-digest=daily at 07:00; "
        "payments.statements=daily at 06:00; "
        "payments.run=daily at 15:00; payments.answers=daily at 16:00"
    )

    #: Mail delivery: attempts before a message is reported as failed; SMTP timeout; hand
    #: each message to ``mail.deliver`` after its commit (else only the outbox sweep and
    #: ``claims-portal mail send-queued`` send it).
    MAIL_MAX_ATTEMPTS = 5
    MAIL_TIMEOUT_SECONDS = 10
    MAIL_SEND_IMMEDIATELY = True
    #: A message marked sending by a delivery that then died is taken again after this.
    MAIL_SENDING_LEASE_SECONDS = 300
    #: The portal's address as people reach it (e.g. https://claims.example.nhs.uk): every
    #: emailed link starts with it, never with the request's Host header (claims_portal/hosts.py).
    #: Required in production; TRUSTED_HOSTS defaults to its host.
    PUBLIC_BASE_URL: str | None = None
    #: Proxies in front of the app setting each X-Forwarded-* header (Werkzeug's ProxyFix);
    #: 0, the default, ignores the header (docs/operations.md).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0

    #: Accounts and access (docs/access.md).
    LOCKOUT_THRESHOLD = 5
    #: The first lockout's length; each further one in a row doubles it, up to the cap.
    LOCKOUT_MINUTES = 30
    LOCKOUT_MAX_HOURS = 24
    RATELIMIT_ENABLED = True
    SIGN_IN_RATE_LIMIT = "10 per minute; 100 per hour"
    PASSWORD_RESET_RATE_LIMIT = "5 per minute; 30 per hour"  # noqa: S105 - a rate, not a password
    ACCESS_REQUEST_RATE_LIMIT = "5 per minute; 30 per hour"
    MFA_ENFORCED = True
    #: Role names (``Role`` members) whose holders must use two-factor sign-in.
    MFA_REQUIRED_ROLES = (
        "ADMINISTRATOR,APPROVER_TIER_1,APPROVER_TIER_2,FINANCE,COMMISSIONING_MANAGEMENT,"
        "DECLARATION_MANAGEMENT,APPROVAL_MANAGEMENT,FINANCE_MANAGEMENT"
    )
    MFA_ISSUER: str | None = None
    #: Keys sealing two-factor secrets at rest (access/sealing.py): base64url 32-byte keys,
    #: comma-separated, the first sealing. Required in production; elsewhere derived from
    #: SECRET_KEY when unset.
    MFA_SECRET_KEYS: str | None = None
    REGISTRATION_LINK_DAYS = 7
    PASSWORD_RESET_LINK_MINUTES = 60
    #: Comma-separated words refused as shared mailboxes, added to the shipped list
    #: (``access/data/shared-mailbox-words.txt``); ``-word`` takes a shipped word out.
    GENERIC_MAILBOX_NAMES: str | None = None

    #: Front-end assets installed from npm (``nhsuk-frontend``), served at ``/assets``.
    NHSUK_FRONTEND_DIR = str(PROJECT_ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk")

    #: Claims (docs/claims.md): pounds above which a claim needs finance approval after
    #: tier 2, for ICBs that have not set their own threshold.
    FINANCE_THRESHOLD_DEFAULT = "15000.00"

    SERVICE_NAME = "Claims portal"

    #: Logs on standard output (claims_portal/logs.py, docs/operations.md): the lowest level
    #: written (DEBUG, INFO, WARNING, ERROR or CRITICAL) and the format, ``json`` (one
    #: object a line) or ``text`` (for people; ``make run``).
    LOG_LEVEL = "INFO"
    LOG_FORMAT = "json"
    #: The bearer token the Prometheus scraper presents at ``/metrics`` (claims_portal/
    #: metrics.py); unset, there is no metrics endpoint (404).
    METRICS_TOKEN: str | None = None

    #: The header's counts ("Messages (3)", "Pending actions (12)") are kept in the
    #: person's session this many seconds (navigation.py): counting on every page is most
    #: of a page's database time. Their own changes (any POST) count afresh at once; other
    #: people's show within this time. 0 counts on every page.
    HEADER_COUNTS_SECONDS = 30
    #: How long a process keeps a list's scheme and practice filter options (0: read on
    #: every page).
    FILTER_OPTIONS_SECONDS = 60
    #: The most claims a bulk approval approves while the page waits; more are approved by
    #: a job on a worker, with a page of its own (claims/services/bulk_job.py).
    BULK_APPROVAL_IN_REQUEST = 20
    #: The most rows a claim list's CSV or XLSX export writes while the page waits; a
    #: longer list is written by a job into the evidence store (``exports/``), downloaded
    #: from the job's page (claims/services/export_job.py), and its file removed by the
    #: nightly evidence sweep once older than ``EXPORT_KEEP_DAYS``.
    EXPORT_IN_REQUEST = 5000
    EXPORT_KEEP_DAYS = 7
    #: The most rows of a bulk claims spreadsheet claimed while the page waits; a bigger
    #: upload, once checked, is claimed by a job (claims/services/bulk_claims_job.py).
    BULK_CLAIMS_IN_REQUEST = 50

    @classmethod
    def from_environment(cls) -> dict[str, Any]:
        """Read this class's settings, overridden by environment variables of the same name."""
        settings: dict[str, Any] = {
            key: getattr(cls, key) for key in dir(cls) if key.isupper() and key != "REQUIRED"
        }
        for key, default in list(settings.items()):
            if not config_checks.is_set(key):
                continue
            if isinstance(default, bool):
                settings[key] = _env_bool(key, default)
            elif isinstance(default, int) and not isinstance(default, bool):
                settings[key] = _env_int(key, default)
            elif isinstance(default, str) or default is None:
                settings[key] = _env(key, default)
        database_url = _env("DATABASE_URL")
        if database_url:
            settings["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(database_url)
        if settings.get("MIGRATION_DATABASE_URL"):
            settings["MIGRATION_DATABASE_URL"] = _normalise_database_url(
                settings["MIGRATION_DATABASE_URL"]
            )
        hosts = _env("TRUSTED_HOSTS")
        if hosts:
            settings["TRUSTED_HOSTS"] = [h.strip() for h in hosts.split(",") if h.strip()]
        missing = [key for key in cls.REQUIRED if not settings.get(key)]
        if missing:
            raise ConfigurationError(
                f"{cls.ENV_NAME} configuration is missing: {', '.join(missing)}. "
                "Set them in the environment (see docs/configuration.md), or set "
                "CLAIMS_PORTAL_ENV=development to run locally."
            )
        if settings.get("PUBLIC_BASE_URL"):
            from claims_portal.hosts import base_url_problem

            if problem := base_url_problem(settings["PUBLIC_BASE_URL"]):
                raise ConfigurationError(problem)
        _check_logging(settings)
        for name in [key for key in settings if key.startswith("PROXY_FIX_")]:
            if settings[name] < 0:
                raise ConfigurationError(f"{name} must be 0 or more, not {settings[name]}")
        if settings.get("MFA_SECRET_KEYS"):
            from claims_portal.access.sealing import BadKeys, parse_keys

            try:
                parse_keys(settings["MFA_SECRET_KEYS"], None)
            except BadKeys as exc:
                raise ConfigurationError(str(exc)) from None
        _check_virus_scanner(settings)
        _check_jobs(settings, production=cls.ENV_NAME == "production")
        defaults = {key: getattr(cls, key) for key in settings if hasattr(cls, key)}
        if problems := config_checks.problems(settings, defaults, cls.ENV_NAME):
            raise ConfigurationError("; ".join(problems))
        return settings


def _check_logging(settings: dict[str, Any]) -> None:
    from claims_portal.logs import FORMATS, LEVELS

    settings["LOG_LEVEL"] = str(settings["LOG_LEVEL"]).upper()
    settings["LOG_FORMAT"] = str(settings["LOG_FORMAT"]).lower()
    if settings["LOG_LEVEL"] not in LEVELS:
        raise ConfigurationError(
            f"LOG_LEVEL must be one of {', '.join(LEVELS)}, not {settings['LOG_LEVEL']!r}"
        )
    if settings["LOG_FORMAT"] not in FORMATS:
        raise ConfigurationError(
            f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {settings['LOG_FORMAT']!r}"
        )


#: What ``VIRUS_SCANNER`` may name (``claims.evidence.scanning.scanner_from_config``).
VIRUS_SCANNERS = ("none", "clamd")


def _check_jobs(settings: dict[str, Any], *, production: bool) -> None:
    from claims_portal.jobs.schedule import ScheduleError, parse_schedule

    if settings["JOBS_RUN_IN_PROCESS"] and production:
        raise ConfigurationError(
            "JOBS_RUN_IN_PROCESS is for development: production runs jobs on workers "
            "(claims-portal worker; docs/operations.md)"
        )
    if not settings["JOBS_RUN_IN_PROCESS"] and not (
        settings.get("CELERY_BROKER_URL") or settings.get("REDIS_URL")
    ):
        raise ConfigurationError(
            "Jobs need a broker: set CELERY_BROKER_URL or REDIS_URL, or JOBS_RUN_IN_PROCESS "
            "to run them in the web process (development)"
        )
    for name in (
        "JOBS_VISIBILITY_TIMEOUT_SECONDS",
        "JOBS_IDS_PER_MESSAGE",
        "JOBS_RESEND_AFTER_SECONDS",
        "BULK_APPROVAL_IN_REQUEST",
        "EXPORT_IN_REQUEST",
        "EXPORT_KEEP_DAYS",
        "BULK_CLAIMS_IN_REQUEST",
    ):
        if settings[name] <= 0:
            raise ConfigurationError(f"{name} must be more than 0, not {settings[name]}")
    try:
        parse_schedule(settings["JOBS_SCHEDULE"] or "")
    except ScheduleError as exc:
        raise ConfigurationError(str(exc)) from None


def _check_virus_scanner(settings: dict[str, Any]) -> None:
    scanner = str(settings["VIRUS_SCANNER"] or "none").lower()
    settings["VIRUS_SCANNER"] = scanner
    if scanner not in VIRUS_SCANNERS:
        raise ConfigurationError(
            f"VIRUS_SCANNER must be one of {', '.join(VIRUS_SCANNERS)}, not {scanner!r}"
        )
    if scanner == "none" and settings["VIRUS_SCAN_REQUIRED"]:
        raise ConfigurationError(
            "VIRUS_SCANNER is none but VIRUS_SCAN_REQUIRED is set: evidence files must be "
            "scanned here. Set VIRUS_SCANNER=clamd (docs/configuration.md)."
        )
    if scanner == "clamd" and not (settings["CLAMD_HOST"] or settings["CLAMD_SOCKET"]):
        raise ConfigurationError("VIRUS_SCANNER is clamd: set CLAMD_SOCKET or CLAMD_HOST")
    for name in ("CLAMD_PORT", "CLAMD_TIMEOUT_SECONDS"):
        if settings[name] <= 0:
            raise ConfigurationError(f"{name} must be more than 0, not {settings[name]}")


def _normalise_database_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy 2.1 reads postgresql:// as psycopg 3.
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    REQUIRED = (
        "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "MFA_SECRET_KEYS",
        "PUBLIC_BASE_URL",
        "REDIS_URL",
    )
    #: Every evidence file is scanned by ClamAV's daemon; ``none`` is refused.
    VIRUS_SCANNER = "clamd"
    VIRUS_SCAN_REQUIRED = True


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    HSTS_ENABLED = False
    MAIL_BACKEND = "outbox"
    LOG_FORMAT = "text"
    # Demo users sign in without an authenticator app; production and tests enforce it.
    MFA_ENFORCED = False
    # No Redis needed: jobs run in the web process after the request.
    JOBS_RUN_IN_PROCESS = True


class TestConfig(BaseConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 - tests only
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    HSTS_ENABLED = False
    # Cheap hashing keeps the suite fast; production uses the defaults above.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    SQLALCHEMY_DATABASE_URI = "postgresql://postgres@127.0.0.1:5432/claims_portal_test"
    # The test client's host; the browser tests set their live server's address.
    PUBLIC_BASE_URL = "http://localhost"
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    MAIL_TIMEOUT_SECONDS = 5
    # Email and other jobs run right after each request, as the suite's tests read them;
    # the queue's own tests (tests/jobs) run a real worker against Redis instead.
    JOBS_RUN_IN_PROCESS = True
    # Throttling is switched on by the tests that check it
    # (tests/access/test_throttling_and_links.py).
    RATELIMIT_ENABLED = False
    # Counted on every page, so that a test sees another person's change at once
    # (tests/test_navigation.py switches the keeping on to check it).
    HEADER_COUNTS_SECONDS = 0
    FILTER_OPTIONS_SECONDS = 0


CONFIGS: dict[str, type[BaseConfig]] = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "test": TestConfig,
}


def load_config(instance_path: str, env_name: str | None = None) -> dict[str, Any]:
    """Settings for ``env_name`` (default: ``CLAIMS_PORTAL_ENV``, else production)."""
    name = (env_name or _env("CLAIMS_PORTAL_ENV", "production") or "production").lower()
    if name not in CONFIGS:
        raise ConfigurationError(
            f"CLAIMS_PORTAL_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        )
    settings = CONFIGS[name].from_environment()
    if name == "development":
        instance = Path(instance_path)
        instance.mkdir(parents=True, exist_ok=True)
        if not settings.get("SQLALCHEMY_DATABASE_URI"):
            # The embedded default: a SQLite file in the instance folder.
            settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'claims-portal.db'}"
        if not settings.get("SECRET_KEY"):
            settings["SECRET_KEY"] = _development_secret_key(instance)
        if not settings.get("MAIL_OUTBOX_DIR"):
            settings["MAIL_OUTBOX_DIR"] = str(instance / "outbox")
        if not settings.get("PUBLIC_BASE_URL"):
            settings["PUBLIC_BASE_URL"] = _development_base_url()
        if settings.get("TRUSTED_HOSTS") is None:
            from claims_portal.hosts import default_trusted_hosts

            # Loopback names too: `make run` serves on 127.0.0.1, often opened as localhost.
            settings["TRUSTED_HOSTS"] = default_trusted_hosts(
                settings["PUBLIC_BASE_URL"], ("localhost", "127.0.0.1")
            )
    payments_folder = settings["PAYMENTS_FOLDER"] or "payments"
    settings["PAYMENTS_FOLDER"] = str(Path(instance_path) / payments_folder)
    settings["ENV_NAME"] = name
    return settings


def _development_base_url() -> str:
    """``make run``'s address: ``HOST`` and ``PORT`` as the Makefile passes them."""
    host = _env("HOST", "127.0.0.1") or "127.0.0.1"
    if host in {"0.0.0.0", "::"}:  # noqa: S104 - listening everywhere; link to this machine
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{_env_int('PORT', 5000)}"


def _development_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    key_file = instance / "development-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
