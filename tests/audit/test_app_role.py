"""The application's database role cannot switch its own audit trail off.

The suite runs the application as ``APP_ROLE`` (tests/helpers.py), with exactly the
privileges ``claims-portal db grant-app-role`` gives; these tests prove what that role can
and cannot do.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from claims_portal.audit.models import AuditSeal
from claims_portal.audit.services import record_event, seal_and_commit, verify_chain
from claims_portal.cli import grant_app_role_command
from claims_portal.database_roles import TABLE_PRIVILEGES, app_role_statements
from tests.helpers import APP_ROLE

REPLACE_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$
"""


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete",
        "DROP TRIGGER audit_event_no_update_or_delete ON audit_event",
        "DROP TRIGGER audit_event_no_truncate ON audit_event",
        "DROP TABLE audit_event CASCADE",
        "ALTER TABLE audit_event RENAME TO audit_event_old",
        "UPDATE audit_event SET reason = 'edited'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event CASCADE",
        REPLACE_TRIGGER_FUNCTION,
        "DROP FUNCTION audit_event_append_only() CASCADE",
        "CREATE TRIGGER sneak BEFORE INSERT ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "SET session_replication_role = replica",  # would skip every trigger
        "CREATE TABLE audit_event_copy (id bigint)",
        "UPDATE audit_seal SET event_hash = event_hash",
        "DELETE FROM audit_seal",
        "TRUNCATE audit_seal",
        "ALTER TABLE audit_seal DISABLE TRIGGER USER",
        "DROP TRIGGER audit_seal_no_update_or_delete ON audit_seal",
        "DROP FUNCTION audit_seal_append_only() CASCADE",
        "ALTER TABLE claim DISABLE TRIGGER ALL",
    ],
    ids=[
        "disable-user-triggers",
        "disable-all-triggers",
        "disable-one-trigger",
        "drop-row-trigger",
        "drop-truncate-trigger",
        "drop-table",
        "rename-table",
        "update",
        "delete",
        "truncate",
        "replace-trigger-function",
        "drop-trigger-function",
        "create-trigger",
        "replication-role",
        "create-table",
        "update-seal",
        "delete-seal",
        "truncate-seal",
        "disable-seal-triggers",
        "drop-seal-trigger",
        "drop-seal-trigger-function",
        "disable-claim-triggers",
    ],
)
def test_the_application_role_cannot_touch_the_audit_trail(db_session, statement):
    record_event(db_session, action="test.happened", object_type="thing", object_id=1)
    with pytest.raises(DBAPIError) as refused, db_session.begin_nested():
        db_session.execute(text(statement))
    message = str(refused.value.orig)
    assert "permission denied" in message or "must be owner" in message, message
    assert verify_chain(db_session).ok


def test_the_suite_runs_as_a_role_that_owns_nothing(db_session):
    row = db_session.execute(
        text(
            "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        )
    ).one()
    assert tuple(row) == (APP_ROLE, False, False, False)
    owned = db_session.scalar(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = current_user"
        )
    )
    assert owned == 0


def test_the_application_role_appends_and_reads_events(db_session):
    first = record_event(db_session, action="test.happened", object_type="thing", object_id=1)
    second = record_event(db_session, action="test.happened", object_type="thing", object_id=2)
    db_session.commit()
    assert seal_and_commit(db_session) >= 2
    seals = {
        seal.event_id: seal
        for seal in db_session.scalars(
            select(AuditSeal).where(AuditSeal.event_id.in_([first.id, second.id]))
        )
    }
    assert seals[second.id].previous_hash == seals[first.id].event_hash
    assert verify_chain(db_session).ok


@pytest.mark.parametrize("table", ["audit_event", "audit_seal"])
def test_privileges_on_the_audit_trail_are_insert_and_select_only(db_session, table):
    granted = set(
        db_session.scalars(
            text(
                "SELECT privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = current_user AND table_name = :table"
            ),
            {"table": table},
        )
    )
    assert granted == {"INSERT", "SELECT"}
    assert TABLE_PRIVILEGES[table] == ("SELECT", "INSERT")


# --- claims-portal db grant-app-role ------------------------------------------------------


def test_the_grant_command_is_idempotent_and_prints_what_it_ran(app, owner_database_url):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(grant_app_role_command, [APP_ROLE])
        assert result.exit_code == 0, result.output
        for table in ("audit_event", "audit_seal"):
            assert f"GRANT SELECT, INSERT ON TABLE public.{table} TO {APP_ROLE};" in result.output
            assert "UPDATE" not in _lines_about(result.output, table)
        assert "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public" in result.output
    dry = runner.invoke(grant_app_role_command, [APP_ROLE, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Granted" not in dry.output
    assert _without_last_line(dry.output) == _without_last_line(result.output)


def _lines_about(output: str, table: str) -> str:
    return "\n".join(line for line in output.splitlines() if f".{table} " in line)


def _without_last_line(output: str) -> list[str]:
    return [line for line in output.splitlines() if not line.startswith("--")]


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("postgres", "superuser"),
        ("claims_portal_nobody_at_all", "There is no database role"),
    ],
)
def test_the_grant_command_refuses_unfit_roles(app, role, reason):
    result = app.test_cli_runner().invoke(grant_app_role_command, [role])
    assert result.exit_code == 1
    assert "Nothing granted" in result.output
    assert reason in result.output


def test_a_role_owning_a_table_is_refused(owner_engine):
    with owner_engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.exec_driver_sql("CREATE TABLE owned_by_app (id int)")
            connection.exec_driver_sql(f"ALTER TABLE owned_by_app OWNER TO {APP_ROLE}")
            from claims_portal.database_roles import RoleRefused

            with pytest.raises(RoleRefused, match="must own nothing"):
                app_role_statements(connection, APP_ROLE)
        finally:
            transaction.rollback()


def test_tables_made_later_are_usable_at_once(app, owner_database_url, database_url):
    """Default privileges: a table a later migration adds (as the owner) can be written by
    the application before the command is run again."""
    owner = create_engine(owner_database_url, poolclass=NullPool)
    application = create_engine(database_url, poolclass=NullPool)
    try:
        with owner.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE later_table (id serial PRIMARY KEY)")
        with application.begin() as connection:
            connection.exec_driver_sql("INSERT INTO later_table DEFAULT VALUES")
            with pytest.raises(ProgrammingError, match="must be owner"):
                connection.exec_driver_sql("ALTER TABLE later_table DISABLE TRIGGER ALL")
    finally:
        with owner.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS later_table")
        owner.dispose()
        application.dispose()
