"""The application's database role: owns nothing, holds only what the application needs.

Migrations run as the role owning the schema (``MIGRATION_DATABASE_URL``); the application
connects as another login role (``DATABASE_URL``) given exactly the privileges below by
``claims-portal db grant-app-role NAME``, run as the owner. Owning no table, the
application's role cannot disable, drop or replace the triggers that keep ``audit_event``
append-only, nor alter or drop any table; holding neither UPDATE, DELETE nor TRUNCATE on
``audit_event`` and ``audit_seal``, it cannot change or remove events or seals either
(PostgreSQL checks privileges before any trigger runs).

The statements are idempotent: each table's privileges are revoked and granted afresh, so
running the command again after a migration brings every table to exactly this policy.
Default privileges let tables, sequences and functions the owner creates later be used at
once, with the ordinary table privileges; a table that needs fewer is named in
:data:`TABLE_PRIVILEGES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

#: Privileges on every table of the schema but those named in ``TABLE_PRIVILEGES``.
DEFAULT_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")

#: Tables the application may use less than the default: the audit trail and its seals are
#: appended to and read, never changed; the migration version is only read.
TABLE_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "audit_event": ("SELECT", "INSERT"),
    "audit_seal": ("SELECT", "INSERT"),
    "alembic_version": ("SELECT",),
}


class RoleRefused(RuntimeError):
    """The named role cannot be the application's role; the message says why."""


@dataclass(frozen=True)
class _Role:
    name: str
    superuser: bool
    create_role: bool


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _check_role(connection: Connection, role: str) -> None:
    row = connection.execute(
        text("SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).one_or_none()
    if row is None:
        raise RoleRefused(
            f"There is no database role {role!r}. Create it first (as a role that may), "
            f"e.g. CREATE ROLE {role} LOGIN PASSWORD '...'"
        )
    found = _Role(*row)
    if found.superuser or found.create_role:
        raise RoleRefused(
            f"Role {role!r} is a superuser or may create roles: the application's role "
            "must hold neither (ALTER ROLE ... NOSUPERUSER NOCREATEROLE)"
        )
    owner = connection.execute(text("SELECT current_user")).scalar_one()
    if role == owner:
        raise RoleRefused(
            f"Role {role!r} is the role running this command, which owns the schema: "
            "grant to a different role than the one migrations run as"
        )
    # Owning a table, function or the schema (or being a member of a role that does) is
    # what lets a role alter or drop them, triggers included.
    owned = connection.execute(
        text(
            """
            SELECT count(*) FROM (
                SELECT relowner AS owner FROM pg_class
                 WHERE relnamespace = current_schema()::regnamespace
                UNION ALL
                SELECT proowner FROM pg_proc
                 WHERE pronamespace = current_schema()::regnamespace
                UNION ALL
                SELECT nspowner FROM pg_namespace WHERE nspname = current_schema()
                UNION ALL
                SELECT datdba FROM pg_database WHERE datname = current_database()
            ) AS owners
            WHERE pg_has_role(:role, owner, 'MEMBER')
            """
        ),
        {"role": role},
    ).scalar_one()
    if owned:
        raise RoleRefused(
            f"Role {role!r} owns (or is a member of a role owning) the database, the schema "
            "or objects in it, so it could disable or drop the audit trail's triggers: "
            "the application's role must own nothing"
        )


def app_role_statements(connection: Connection, role: str) -> list[str]:
    """The statements giving ``role`` the application's privileges in this database's
    current schema (PostgreSQL), from what the schema holds now.

    Raises :class:`RoleRefused` when ``role`` is missing, a superuser, may create roles,
    is the connected (owner) role, or owns anything the application uses.
    """
    if connection.dialect.name != "postgresql":
        raise RoleRefused("Database roles are set up on PostgreSQL only")
    _check_role(connection, role)
    quoted = _quote(connection, role)
    names = connection.execute(
        text("SELECT current_schema(), current_database(), current_user")
    ).one()
    schema, database, owner = (_quote(connection, name) for name in names)
    tables: Sequence[str] = connection.scalars(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
    ).all()
    functions = connection.execute(
        text(
            # Our own functions (the trigger functions), not an extension's (btree_gist).
            """
            SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p
             WHERE p.pronamespace = current_schema()::regnamespace
               AND p.proowner = current_user::regrole
               AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                  AND d.deptype = 'e')
             ORDER BY 1, 2
            """
        )
    ).all()
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {quoted}",
    ]
    for table in tables:
        privileges = ", ".join(TABLE_PRIVILEGES.get(table, DEFAULT_TABLE_PRIVILEGES))
        name = f"{schema}.{_quote(connection, table)}"
        statements.append(f"REVOKE ALL ON TABLE {name} FROM {quoted}")
        statements.append(f"GRANT {privileges} ON TABLE {name} TO {quoted}")
    statements += [
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {quoted}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
        *(
            f"GRANT EXECUTE ON FUNCTION {schema}.{_quote(connection, name)}({arguments}) "
            f"TO {quoted}"
            for name, arguments in functions
        ),
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT {', '.join(DEFAULT_TABLE_PRIVILEGES)} ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT USAGE ON SEQUENCES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
        f"GRANT EXECUTE ON FUNCTIONS TO {quoted}",
    ]
    return statements


def grant_app_role(connection: Connection, role: str) -> list[str]:
    """Apply :func:`app_role_statements` on ``connection`` (the caller commits); returns
    the statements run. Raises :class:`RoleRefused` as that does."""
    statements = app_role_statements(connection, role)
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements
