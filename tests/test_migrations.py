"""Models and migrations agree, and every migration goes down and up again."""

from __future__ import annotations

import pytest
from alembic.command import check
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from claims_portal.extensions import db
from tests.helpers import (
    drop_database,
    make_test_app,
    recreate_database,
    run_database_url,
)


@pytest.fixture(scope="module")
def empty_app():
    url = run_database_url("_migrations")
    recreate_database(url)
    app = make_test_app(url)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_database(url)


def test_upgrade_check_downgrade_upgrade(empty_app):
    with empty_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"organisation", "user_account", "membership", "audit_event"} <= tables
        config = empty_app.extensions["migrate"].migrate.get_config()
        check(config)  # raises if the models differ from the migrated schema
        downgrade(revision="base")
        db.engine.dispose()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        check(config)
        db.engine.dispose()


def test_every_migration_runs_on_sqlite_as_make_run_uses_it(tmp_path):
    """``make run`` migrates an embedded SQLite file: each migration must work there too
    (SQLite alters a table's constraints only in batch mode)."""
    app = make_test_app(f"sqlite:///{tmp_path / 'demo.db'}")
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"claim", "job", "email_digest_item", "icb_payment_settings"} <= tables
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
