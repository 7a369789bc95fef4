"""Staging an extract's checked rows and the checks across rows, set-based in the database.

:func:`stage_rows` writes what :class:`~.extract_rows.ExtractReader` yields into a temporary
table (``COPY`` on PostgreSQL, batched inserts elsewhere: memory flat either way), keeping the
problems of single rows; :func:`check_stage` then finds what needs every row (duplicates, a
numerator above its denominator, PCAs and exclusions above it, a register given two figures)
and marks every row of an indicator with a problem ``bad`` (left out together).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text

from claims_portal.db import DbSession
from claims_portal.national.models import DataLayout
from claims_portal.national.services.extract_rows import (
    MARKER,
    ExtractReader,
    Figure,
    RowProblem,
)

#: A file's staged figures (a temporary table, for the transaction); ``bad`` ones not loaded.
STAGE = "extract_stage"
MAX_STORED_PROBLEMS = 50_000
PROGRESS_EVERY = 50_000
_STAGE_COLUMNS = (
    "row_number", "provider_id", "service_id", "achievement_date", "org_code", "ind_code",
    "raw_field", "code", "field", "value", "bad",
)  # fmt: skip


@dataclass
class Staged:
    """Data rows read; problems of single rows (all counted, the first few thousand kept)."""

    rows: int = 0
    skipped: int = 0
    problem_count: int = 0
    problems: list[RowProblem] = field(default_factory=list)


#: Memory for the load's sorts and groupings (for its transaction only): at the default
#: 4 MB a year-end file's groupings spill to disk.
WORK_MEM = "256MB"


def create_stage(session: DbSession) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    drop_stage(session)
    if postgres:
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    session.execute(text(
        f"CREATE TEMPORARY TABLE {STAGE} (row_number INTEGER NOT NULL, provider_id INTEGER,"
        " service_id INTEGER, achievement_date DATE, org_code VARCHAR(20), ind_code VARCHAR(20),"
        " raw_field VARCHAR(60), code VARCHAR(20), field VARCHAR(20), value BIGINT,"
        " bad BOOLEAN NOT NULL)" + (" ON COMMIT DROP" if postgres else "")
    ))  # fmt: skip


def drop_stage(session: DbSession) -> None:
    session.execute(text("DROP TABLE IF EXISTS extract_stage"))
    session.execute(text("DROP TABLE IF EXISTS extract_submission"))


def stage_rows(
    session: DbSession, reader: ExtractReader, progress: Callable[[int], None] | None = None
) -> Staged:
    """Read the whole file into :data:`STAGE` (``COPY`` on PostgreSQL), keeping the problems
    of single rows. A row with a problem whose practice, service and indicator are known
    stages a marker so that its indicator is left out together."""
    staged = Staged()

    def rows() -> Iterator[tuple[object, ...]]:
        for item in reader:
            if isinstance(item, Figure):
                yield (*item, item.field == MARKER)
            else:
                staged.problem_count += 1
                if len(staged.problems) < MAX_STORED_PROBLEMS:
                    staged.problems.append(item)
            if progress is not None and reader.rows % PROGRESS_EVERY == 0 and reader.rows:
                progress(reader.rows)

    write_rows(session, STAGE, _STAGE_COLUMNS, rows())
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE extract_stage"))  # temporary: never analysed otherwise
    staged.rows, staged.skipped = reader.rows, reader.skipped
    return staged


def write_rows(
    session: DbSession, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:  # ``COPY`` on PostgreSQL, batched inserts elsewhere (memory flat either way).
    if session.get_bind().dialect.name == "postgresql":
        raw = session.connection().connection.driver_connection
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    names, values = ", ".join(columns), ", ".join(":" + c.strip('"') for c in columns)
    insert = text(f"INSERT INTO {table} ({names}) VALUES ({values})")  # noqa: S608
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip((c.strip('"') for c in columns), row, strict=True)))
        if len(batch) >= 10_000:
            session.execute(insert, batch)
            batch = []
    if batch:
        session.execute(insert, batch)


def store_row_problems(session: DbSession, load_id: int, problems: Iterable[RowProblem]) -> None:
    write_rows(
        session,
        "load_problem",
        ("load_id", "row_number", '"column"', "message"),
        ((load_id, p.row, p.column, p.message) for p in problems),
    )


_KEY = "provider_id, service_id, achievement_date, ind_code"
_PROBLEM = 'INSERT INTO load_problem (load_id, row_number, "column", message) '

_DUPLICATES = (
    _PROBLEM + f"SELECT :load_id, s.row_number, :field_column, 'A duplicate of row '"  # noqa: S608 (constant identifiers)
    " || CAST(f.first_row AS VARCHAR) || ' (' || s.org_code || ', ' || s.ind_code || ', '"
    f" || s.raw_field || ')' FROM {STAGE} s JOIN (SELECT {_KEY}, raw_field,"
    f" MIN(row_number) AS first_row FROM {STAGE} WHERE field <> '!' GROUP BY {_KEY}, raw_field"
    " HAVING COUNT(*) > 1) f ON f.provider_id = s.provider_id AND f.service_id = s.service_id"
    " AND f.achievement_date = s.achievement_date AND f.ind_code = s.ind_code"
    " AND f.raw_field = s.raw_field WHERE s.field <> '!' AND s.row_number > f.first_row"
)
_SUMS = (
    f"SELECT {_KEY}, MIN(org_code) AS org_code,"  # noqa: S608 (constant identifiers)
    " SUM(CASE WHEN field = 'NUMERATOR' THEN value END) AS num,"
    " SUM(CASE WHEN field = 'DENOMINATOR' THEN value END) AS den,"
    " SUM(CASE WHEN field IN ('PCAS', 'EXCLUSIONS') THEN value END) AS adj,"
    " MIN(CASE WHEN field = 'NUMERATOR' THEN row_number END) AS num_row,"
    " MIN(CASE WHEN field = 'DENOMINATOR' THEN row_number END) AS den_row,"
    " MIN(CASE WHEN field IN ('PCAS', 'EXCLUSIONS') THEN row_number END) AS adj_row"
    f" FROM {STAGE} WHERE field <> '!' GROUP BY {_KEY}"
)
_ABOVE_DENOMINATOR = (
    f"WITH g AS ({_SUMS}) "  # noqa: S608 (constant identifiers); grouped once, read twice
    + _PROBLEM
    + "SELECT :load_id, num_row, :value_column, 'The numerator '"
    " || CAST(num AS VARCHAR) || ' of ' || ind_code || ' is above its denominator '"
    " || CAST(den AS VARCHAR) || ' (row ' || CAST(den_row AS VARCHAR) || ')'"
    " FROM g WHERE num > den"
    " UNION ALL SELECT :load_id, adj_row, :value_column, 'PCAs and exclusions of '"
    " || ind_code || ' (' || CAST(adj AS VARCHAR) || ') are above its denominator '"
    " || CAST(den AS VARCHAR) || ' (row ' || CAST(den_row AS VARCHAR) || ')'"
    " FROM g WHERE adj > den"
)
_REGISTER_CONFLICTS = (
    _PROBLEM + "SELECT :load_id, s.row_number, :value_column, 'The register ' || s.code"  # noqa: S608 (constant identifiers)
    " || ' is ' || CAST(s.value AS VARCHAR) || ' here but ' || CAST(f.first_value AS VARCHAR)"
    " || ' in row ' || CAST(f.first_row AS VARCHAR)"
    f" FROM {STAGE} s JOIN (SELECT provider_id, service_id, achievement_date, code,"
    " MIN(row_number) AS first_row, MIN(value) AS first_value"
    f" FROM {STAGE} WHERE field = 'REGISTER' GROUP BY provider_id, service_id,"
    " achievement_date, code HAVING COUNT(DISTINCT value) > 1) f"
    " ON f.provider_id = s.provider_id AND f.service_id = s.service_id"
    " AND f.achievement_date = s.achievement_date AND f.code = s.code"
    " WHERE s.field = 'REGISTER' AND s.value <> f.first_value"
)
_MARK_ROWS = (
    f"UPDATE {STAGE} SET bad = TRUE WHERE row_number IN"  # noqa: S608 (constant identifiers)
    " (SELECT row_number FROM load_problem WHERE load_id = :load_id AND row_number > 0)"
)
_MARK_REGISTERS = (
    "UPDATE extract_stage SET bad = TRUE WHERE field = 'REGISTER' AND (provider_id, service_id,"
    " achievement_date, code) IN (SELECT provider_id, service_id, achievement_date, code"
    " FROM extract_stage WHERE field = 'REGISTER' GROUP BY provider_id, service_id,"
    " achievement_date, code HAVING COUNT(DISTINCT value) > 1)"
)
_MARK_GROUPS = (
    f"UPDATE {STAGE} SET bad = TRUE WHERE NOT bad AND ({_KEY}) IN"  # noqa: S608 (constant identifiers)
    f" (SELECT {_KEY} FROM {STAGE} WHERE bad)"
)


def check_stage(session: DbSession, load_id: int, layout: DataLayout) -> None:
    """The checks across rows, set-based: duplicates (the same practice, date, indicator and
    field twice), a numerator above its denominator, PCAs and exclusions together above the
    denominator, one register given two figures. Each problem is stored against its row;
    then every row of an indicator with any problem is marked ``bad`` (left out together)."""
    columns = {
        "load_id": load_id,
        "field_column": "FIELD_NAME" if layout is DataLayout.CQRS_EXPORT else "MEASURE",
        "value_column": "VALUE",
    }
    session.execute(text(_DUPLICATES), columns)
    session.execute(text(_ABOVE_DENOMINATOR), columns)
    session.execute(text(_REGISTER_CONFLICTS), columns)
    session.execute(text(_MARK_ROWS), {"load_id": load_id})
    session.execute(text(_MARK_REGISTERS))
    session.execute(text(_MARK_GROUPS))


def valid_count(session: DbSession) -> int:
    return int(session.scalar(text("SELECT COUNT(*) FROM extract_stage WHERE NOT bad")) or 0)
