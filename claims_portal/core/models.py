"""The page generation: one number that changes whenever data a page may show changes.

A trigger on every table (but the few in ``GENERATION_EXCLUDED``, and not for updates of
only the columns in ``GENERATION_EXCLUDED_COLUMNS``) adds one to
``page_generation.generation`` in each transaction that inserts, updates or deletes rows,
as part of that transaction's commit. A rendered page stored under the generation read
before its data was read is therefore never shown after a change it does not contain
(``core.page_cache``).

On PostgreSQL the trigger is a deferred constraint trigger: the single row is updated at
commit, after every other lock the transaction takes, so writers never deadlock on it and
hold it only while committing. On SQLite (``make run``) an ordinary trigger does the same
(SQLite has one writer at a time anyway).

PostgreSQL refuses to ``ALTER`` a table whose rows this transaction changed while their
deferred trigger events are pending: a migration that writes rows and then alters the
same table runs ``SET CONSTRAINTS ALL IMMEDIATE`` in between (as ``0007`` going down does).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, CheckConstraint, Integer, select
from sqlalchemy.orm import Mapped, mapped_column

from claims_portal.db import Base, DbSession

#: Tables whose writes never change a cached page, so they leave the generation alone:
#: session bookkeeping (last seen, revocation), the mail outbox and the audit trail (every
#: decision also changes the data it is about; downloads and sign-in attempts are audited
#: without changing anything a page shows). A page that shows rows of these tables must
#: not be cached.
GENERATION_EXCLUDED = frozenset({"page_generation", "user_session", "email_message", "audit_event"})

#: Columns whose updates leave the generation alone, by table: sign-in bookkeeping (the
#: count of failed sign-ins, the last two-factor step, a secret resealed or a password
#: rehashed at sign-in, when a lock ends and how many lockouts came in a row), so that
#: people signing in do not empty everyone's cache. Inserts and deletes of these tables
#: still count. Pages showing these columns (a person's account details) must not be
#: cached either.
GENERATION_EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {
    "user_account": frozenset(
        {
            "password_hash",
            "failed_sign_ins",
            "mfa_secret",
            "mfa_last_step",
            "locked_until",
            "lockout_count",
        }
    ),
}

#: The trigger function: once per transaction (a transaction-local setting remembers it).
POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION page_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('claims_portal.page_generation_bumped', true), '') <> 'yes' THEN
        UPDATE page_generation SET generation = generation + 1 WHERE id = 1;
        PERFORM set_config('claims_portal.page_generation_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END
$$
"""


def trigger_sql(table: str, dialect: str, update_of: Sequence[str] = ()) -> list[str]:
    """The statements that make writes to ``table`` move the generation on (updates only
    of the columns ``update_of`` when given)."""
    if not all(name.isidentifier() for name in (table, *update_of)):
        raise ValueError(f"not a table and column names: {table!r}, {update_of!r}")
    update = f"UPDATE OF {', '.join(update_of)}" if update_of else "UPDATE"
    if dialect == "postgresql":
        return [
            f"CREATE CONSTRAINT TRIGGER page_generation AFTER INSERT OR {update} OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION page_generation_bump()"
        ]
    bump = "UPDATE page_generation SET generation = generation + 1 WHERE id = 1"
    return [
        f"CREATE TRIGGER page_generation_{table}_{name} AFTER {event} ON {table} BEGIN {bump}; END"
        for name, event in (("insert", "INSERT"), ("update", update), ("delete", "DELETE"))
    ]


def drop_trigger_sql(table: str, dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS page_generation ON {table}"]
    return [
        f"DROP TRIGGER IF EXISTS page_generation_{table}_{event}"
        for event in ("insert", "update", "delete")
    ]


class PageGeneration(Base):
    __tablename__ = "page_generation"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(BigInteger)


_CURRENT = select(PageGeneration.generation).where(PageGeneration.id == 1)


def current_generation(session: DbSession) -> int:
    """The committed generation (read it before the data a page shows)."""
    return int(session.execute(_CURRENT).scalar_one())
