"""Achievement extract loads: an uploaded file checked and loaded by a job with progress.

A national commissioner's person with ``LOAD_ACHIEVEMENT_EXTRACTS`` uploads a file
(:func:`start_load`): it is kept in the evidence store (``extracts/``), an
``AchievementLoad`` is recorded *Checking* and the job ``national.load-extract``
(``national/jobs.py``) runs :func:`process`:

1. every row is read and checked on its own (``extract_rows.ExtractReader``) and the
   figures staged with ``COPY`` into a temporary table; then the checks across rows run
   set-based (``extract_stage.check_stage``); every problem is stored by row and column;
2. a file with problems loads nothing: the load waits, *Has problems*, until the person
   chooses to load only the valid rows (:func:`load_valid_rows`, after a confirmation; the
   file is checked again and every row of an indicator with a problem is left out with it)
   or not to load it (:func:`decline`);
3. a clean file (or the valid rows) is loaded in the same transaction: one
   ``DataSubmission`` per provider and achievement date (source *Extract*), its values
   inserted set-based from the staged rows (several PCA or exclusion codes added up),
   ``last_submission`` moved set-based (the newest submission wins value by value; earlier
   ones are kept), then the providers recalculated
   (``calculate.recalculate``). A failure rolls everything back: the data stay as they were
   and the load is *Failed*.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, select, text

from claims_portal.access.models import User
from claims_portal.access.roles import Capability
from claims_portal.access.services.permissions import has_capability
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.decisions import lock
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job
from claims_portal.national.models import (
    AchievementDate,
    AchievementLoad,
    DataLayout,
    DataSubmission,
    LoadProblem,
    LoadStatus,
    QualityService,
)
from claims_portal.national.services import extract_rows, extract_stage
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.rules import Problem, RuleError
from claims_portal.statemachine import Machine, Step, set_status

LOAD_JOB = "national.load-extract"
#: Where uploaded extract files are kept in the evidence store (under its key prefix).
EXTRACTS_FOLDER = "extracts/"
FILE_FIELD = "extract"
#: The largest file accepted (an England-scale year-end CQRS export is about 200 MB); a
#: request is also bounded by the application's ``MAX_CONTENT_LENGTH`` (:func:`file_limit`).
MAX_FILE_BYTES = 512 * 1024 * 1024


def file_limit(config: Any) -> int:
    """The largest extract a request may carry: :data:`MAX_FILE_BYTES` or the application's
    request limit, less room for the form's other fields, whichever is smaller."""
    request_limit = config.get("MAX_CONTENT_LENGTH")
    if not request_limit:
        return MAX_FILE_BYTES
    return max(1, min(MAX_FILE_BYTES, int(request_limit) - 256 * 1024))


PROBLEMS_PER_PAGE = 50

_WORKER = "the extract job"
_PEOPLE = Capability.LOAD_ACHIEVEMENT_EXTRACTS

#: An extract load's life: checked by the job; with problems, it waits for the person.
LOAD: Machine[LoadStatus] = Machine(
    object_type="achievement_load",
    title="Achievement extract load",
    initial=LoadStatus.CHECKING,
    created="uploaded",
    creator=_PEOPLE,
    final=frozenset(
        {LoadStatus.LOADED, LoadStatus.PARTLY_LOADED, LoadStatus.NOT_LOADED, LoadStatus.FAILED}
    ),
    steps=(
        Step(
            "find_problems", frozenset({LoadStatus.CHECKING}), LoadStatus.HAS_PROBLEMS, None,
            "problems_found", "It was checked already", who=_WORKER, audit=None,
        ),
        Step(
            "load", frozenset({LoadStatus.CHECKING, LoadStatus.LOADING}), LoadStatus.LOADED,
            None, "loaded", "It was loaded already", who=_WORKER,
        ),
        Step(
            "load_valid_rows", frozenset({LoadStatus.HAS_PROBLEMS}), LoadStatus.LOADING,
            _PEOPLE, "partial_load_requested", "Only a load with problems can load its valid rows",
        ),
        Step(
            "load_partly", frozenset({LoadStatus.LOADING}), LoadStatus.PARTLY_LOADED, None,
            "partly_loaded", "It was loaded already", who=_WORKER,
        ),
        Step(
            "decline", frozenset({LoadStatus.HAS_PROBLEMS}), LoadStatus.NOT_LOADED, _PEOPLE,
            "declined", "Only a load with problems can be left unloaded",
        ),
        Step(
            "fail", frozenset({LoadStatus.CHECKING, LoadStatus.LOADING}), LoadStatus.FAILED,
            None, "failed", "It has ended already", who=_WORKER,
        ),
    ),
)  # fmt: skip


class ExtractConflict(RuleError):
    status_code = 409


class ExtractNotAllowed(RuleError):
    status_code = 403


def move(row: AchievementLoad, name: str) -> LoadStatus:
    """Take step ``name`` of :data:`LOAD` (the caller holds the row's lock)."""
    step = LOAD.step(name)
    if not LOAD.allows(row.status, name):
        raise ExtractConflict(f"{step.refusal}. Nothing was changed.")
    return set_status(row, step.target)


def may_load(user: User, organisation: Organisation | None) -> bool:
    """Only a national commissioner's people with the capability load extracts."""
    return (
        organisation is not None
        and organisation.kind is OrganisationKind.NATIONAL_COMMISSIONER
        and has_capability(user, _PEOPLE, organisation)
    )


def _ensure(user: User, organisation: Organisation | None) -> Organisation:
    if not may_load(user, organisation):
        raise ExtractNotAllowed("Only the national commissioner loads achievement extracts")
    assert organisation is not None
    return organisation


def loading_organisation(user: User) -> Organisation | None:
    """The national commissioner where ``user`` loads extracts (the first by name), for a
    load started outside a request (``claims-portal national load-extract``)."""
    places = sorted(
        {m.organisation for m in user.memberships if may_load(user, m.organisation)},
        key=lambda o: o.display_name,
    )
    return places[0] if places else None


# --- Uploading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """The uploader's choice of service and achievement date (the open-data layout names
    neither; a CQRS export ignores them)."""

    service_id: int | None
    achievement_date: dt.date | None


def upload_options(session: DbSession) -> list[QualityService]:
    return list(
        session.scalars(
            select(QualityService).order_by(
                QualityService.financial_year.desc(), QualityService.name
            )
        )
    )


def achievement_dates(session: DbSession) -> dict[int, list[dt.date]]:
    found: dict[int, list[dt.date]] = {}
    for service_id, day in session.execute(
        select(AchievementDate.service_id, AchievementDate.date).order_by(AchievementDate.date)
    ):
        found.setdefault(service_id, []).append(day)
    return found


def size_text(size: int) -> str:
    return f"{size // 2**20:,} MB" if size >= 2**20 else f"{size // 1024:,} KB"


def _spool(stream: IO[bytes], limit: int) -> tuple[IO[bytes], str, int, int]:
    """The upload copied to a temporary file: (file, SHA-256, bytes, lines)."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    digest, size, lines = hashlib.sha256(), 0, 0
    while chunk := stream.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            spooled.close()
            raise RuleError(Problem(f"The file must be {size_text(limit)} or smaller", FILE_FIELD))
        digest.update(chunk)
        lines += chunk.count(b"\n")
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, digest.hexdigest(), size, lines


def _check_choices(session: DbSession, choices: Choices) -> QualityService | None:
    if choices.service_id is None:
        return None
    service = session.get(QualityService, choices.service_id)
    if service is None:
        raise RuleError(Problem("Choose a service from the list", "service"))
    if choices.achievement_date is not None and choices.achievement_date not in {
        d.date for d in service.achievement_dates
    }:
        raise RuleError(
            Problem(f"Choose one of the achievement dates of {service}", "achievement_date")
        )
    return service


def start_load(
    session: DbSession,
    store: Any,
    actor: User,
    organisation: Organisation | None,
    *,
    stream: IO[bytes],
    filename: str,
    choices: Choices,
    now: dt.datetime,
    limit: int = MAX_FILE_BYTES,
) -> AchievementLoad:
    """Keep the file, record the load *Checking* and start its job (after the caller's
    commit). Raises ``RuleError`` for a file too large or empty, or a wrong choice."""
    from claims_portal.claims.evidence.storage import new_evidence_key, normalise_prefix

    where = _ensure(actor, organisation)
    service = _check_choices(session, choices)
    spooled, sha256, size, lines = _spool(stream, limit)
    with spooled:
        if size == 0:
            raise RuleError(Problem("The selected file is empty", FILE_FIELD))
        key = new_evidence_key(normalise_prefix(store.key_prefix + EXTRACTS_FOLDER), now)
        store.put(key, spooled, "text/csv")
    load = AchievementLoad(
        service_id=service.id if service is not None else None,
        filename=(filename or "extract.csv")[-255:],
        sha256=sha256,
        storage_key=key,
        status=LOAD.initial,
        uploaded_by_id=actor.id,
        organisation_id=where.id,
    )
    session.add(load)
    session.flush()
    record_event(
        session, action=LOAD.action(LOAD.created), object_type=LOAD.object_type,
        object_id=load.id, actor=actor, organisation=where,
        after={"filename": load.filename, "sha256": sha256, "bytes": size},
    )  # fmt: skip
    _start_job(session, load, actor, choices, max(lines, 1), "Checking")
    return load


def _start_job(
    session: DbSession,
    load: AchievementLoad,
    actor: User,
    choices: Choices,
    total: int,
    doing: str,
) -> Job:
    day = choices.achievement_date.isoformat() if choices.achievement_date else None
    job = jobs.start_job(
        session,
        LOAD_JOB,
        owner_id=actor.id,
        organisation_id=load.organisation_id,
        title=f"{doing} the achievement extract {load.filename}",
        total=total,
        params={
            "load_id": load.id,
            "service_id": choices.service_id,
            "achievement_date": day,
            "total": total,
        },
    )
    load.job_id = job.id
    session.flush()
    return job


# --- The person's choice after problems -----------------------------------------------------


def _locked_load(
    session: DbSession, actor: User, organisation: Organisation | None, load_id: int
) -> AchievementLoad:
    where = _ensure(actor, organisation)
    load = lock(session, AchievementLoad, load_id)
    if load is None or load.organisation_id != where.id:
        raise ExtractConflict("There is no such load. Nothing was changed.")
    return load


def load_valid_rows(
    session: DbSession, actor: User, organisation: Organisation | None, load_id: int
) -> Job:
    """Load only the valid rows of a load with problems (confirmed by the person): the job
    checks the file again and leaves out every row of an indicator with a problem."""
    load = _locked_load(session, actor, organisation, load_id)
    if load.status is LoadStatus.HAS_PROBLEMS and load.rows_valid == 0:
        raise ExtractConflict("No row of this file is valid. Nothing was changed.")
    move(load, "load_valid_rows")
    record_event(
        session, action=LOAD.action(LOAD.step("load_valid_rows")), object_type=LOAD.object_type,
        object_id=load.id, actor=actor, organisation=load.organisation_id,
        after={"rows_valid": load.rows_valid, "problems": load.problem_count},
    )  # fmt: skip
    first = session.get(Job, load.job_id) if load.job_id is not None else None
    params = first.params if first is not None else {}
    day = params.get("achievement_date")
    choices = Choices(params.get("service_id"), dt.date.fromisoformat(day) if day else None)
    return _start_job(
        session, load, actor, choices, int(params.get("total") or 1), "Loading the valid rows of"
    )


def decline(
    session: DbSession, actor: User, organisation: Organisation | None, load_id: int
) -> AchievementLoad:
    """Leave a load with problems unloaded (nothing of it is loaded)."""
    load = _locked_load(session, actor, organisation, load_id)
    move(load, "decline")
    record_event(
        session, action=LOAD.action(LOAD.step("decline")), object_type=LOAD.object_type,
        object_id=load.id, actor=actor, organisation=load.organisation_id,
    )  # fmt: skip
    session.flush()
    return load


# --- The job's work -------------------------------------------------------------------------


@dataclass
class Outcome:
    summary: str
    loaded: bool = False
    calculated: Calculated | None = None


@dataclass
class Calculated:
    """What the recalculation after a load did: providers calculated, or why not."""

    providers: int = 0
    refused: str | None = None


def process(
    session: DbSession,
    load: AchievementLoad,
    params: dict[str, Any],
    stream: IO[bytes],
    *,
    now: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check the file and, when it is clean or the person chose its valid rows, load it
    (see the module doc). Flushes; the job commits, or rolls back on an error."""
    only_valid = load.status is LoadStatus.LOADING
    day = params.get("achievement_date")
    reader = extract_rows.ExtractReader(
        stream,
        extract_rows.load_reference(session),
        service_id=params.get("service_id"),
        achievement_date=dt.date.fromisoformat(day) if day else None,
    )
    session.execute(LoadProblem.__table__.delete().where(LoadProblem.load_id == load.id))
    extract_stage.create_stage(session)
    staged = extract_stage.stage_rows(session, reader, progress)
    load.layout = reader.layout
    extract_stage.store_row_problems(session, load.id, staged.problems)
    if reader.layout is not None:
        extract_stage.check_stage(session, load.id, reader.layout)
    problems = int(session.scalar(select(func.count()).where(LoadProblem.load_id == load.id)) or 0)
    load.rows_total = staged.rows
    load.rows_valid = extract_stage.valid_count(session)
    load.problem_count = problems + max(0, staged.problem_count - len(staged.problems))
    if load.problem_count and not only_valid:
        move(load, "find_problems")
        load.finished_at = now
        extract_stage.drop_stage(session)
        session.flush()
        return Outcome(_problems_summary(load))
    calculated = _load_stage(session, load, now)
    move(load, "load_partly" if load.problem_count else "load")
    load.finished_at = now
    extract_stage.drop_stage(session)
    session.flush()
    return Outcome(_loaded_summary(load, calculated), loaded=True, calculated=calculated)


def _problems_summary(load: AchievementLoad) -> str:
    return (
        f"Nothing was loaded: {load.problem_count:,} problem"
        f"{'s' if load.problem_count != 1 else ''} in {load.rows_total:,} rows "
        f"({load.rows_valid:,} rows valid)"
    )


def _loaded_summary(load: AchievementLoad, calculated: Calculated | None) -> str:
    said = f"{load.rows_loaded:,} rows loaded"
    if load.problem_count:
        said += f", {load.rows_total - load.rows_loaded:,} left out"
    if calculated is None:
        said += "; not calculated (the calculation is not installed)"
    elif calculated.refused:
        said += f"; not calculated: {calculated.refused}"
    else:
        said += f"; {calculated.providers:,} providers' achievement calculated"
    return said


_SUBMISSIONS = (
    "INSERT INTO data_submission (service_id, provider_id, achievement_date, source, status,"
    " load_id, submitted_by_id, submitted_at, version, created_at)"
    " SELECT DISTINCT service_id, provider_id, achievement_date, 'EXTRACT', 'SUBMITTED',"
    " :load_id, CAST(:user_id AS INTEGER), :now, 1, :now FROM extract_stage WHERE NOT bad"
    " RETURNING id, provider_id, service_id, achievement_date"
)
_VALUES = (
    "INSERT INTO achievement_value (submission_id, service_id, provider_id, achievement_date,"
    " code, field, value, last_submission)"
    " SELECT d.id, s.service_id, s.provider_id, s.achievement_date, s.code, s.field,"
    " CASE WHEN s.field IN ('PCAS', 'EXCLUSIONS') THEN SUM(s.value) ELSE MAX(s.value) END,"
    " TRUE FROM extract_stage s JOIN extract_submission d"
    " ON d.provider_id = s.provider_id AND d.service_id = s.service_id"
    " AND d.achievement_date = s.achievement_date WHERE NOT s.bad"
    " GROUP BY d.id, s.service_id, s.provider_id, s.achievement_date, s.code, s.field"
)
#: The newest submission wins value by value: the values now counting for the same provider,
#: service, date, code and field as a staged row stop counting (and are kept); run before
#: this load's values are written.
_SUPERSEDED = (
    "UPDATE achievement_value SET last_submission = FALSE FROM (SELECT DISTINCT provider_id,"
    " service_id, achievement_date, code, field FROM extract_stage WHERE NOT bad) s"
    " WHERE achievement_value.last_submission AND achievement_value.service_id = s.service_id"
    " AND achievement_value.provider_id = s.provider_id"
    " AND achievement_value.achievement_date = s.achievement_date"
    " AND achievement_value.code = s.code AND achievement_value.field = s.field"
)


def _load_stage(session: DbSession, load: AchievementLoad, now: dt.datetime) -> Calculated | None:
    """The staged rows not left out, written as this load's submissions; then the providers
    recalculated (None when the calculation is not there)."""
    values = {"load_id": load.id, "user_id": load.uploaded_by_id, "now": now}
    made = [tuple(row) for row in session.execute(text(_SUBMISSIONS), values)]
    # The new submissions in a temporary table of their own, analysed, so that the values'
    # join is planned on true sizes (the application may not ANALYZE data_submission).
    stage_submissions(session, made)
    session.execute(text(_SUPERSEDED))
    session.execute(text(_VALUES))
    load.rows_loaded = load.rows_valid
    submissions = session.execute(
        select(
            DataSubmission.service_id, DataSubmission.achievement_date, DataSubmission.provider_id
        ).where(DataSubmission.load_id == load.id)
    )
    by_date: dict[tuple[int, dt.date], list[int]] = {}
    for service_id, day, provider_id in submissions:
        by_date.setdefault((service_id, day), []).append(provider_id)
    if len({service_id for service_id, _ in by_date}) == 1:
        load.service_id = next(iter(by_date))[0]
    return recalculate_loaded(session, by_date)


def stage_submissions(session: DbSession, rows: Sequence[Sequence[object]]) -> None:
    """A load's new submissions (id, provider, service, date) beside the staged rows."""
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(text("DROP TABLE IF EXISTS extract_submission"))
    session.execute(text(
        "CREATE TEMPORARY TABLE extract_submission (id INTEGER, provider_id INTEGER,"
        " service_id INTEGER, achievement_date DATE)" + (" ON COMMIT DROP" if postgres else "")
    ))  # fmt: skip
    columns = ("id", "provider_id", "service_id", "achievement_date")
    extract_stage.write_rows(session, "extract_submission", columns, rows)
    if postgres:
        session.execute(text("ANALYZE extract_submission"))


def recalculate_loaded(
    session: DbSession, by_date: dict[tuple[int, dt.date], list[int]]
) -> Calculated | None:
    """``calculate.recalculate`` for each service and date loaded (None without it). A
    refusal (missing reference values) stores no result and is told; the figures stay
    loaded, to be calculated once the reference values are put right."""
    if importlib.util.find_spec("claims_portal.national.services.calculate") is None:
        return None
    from claims_portal.national.services import calculate

    done = Calculated()
    for (service_id, day), provider_ids in sorted(by_date.items()):
        try:
            done.providers += calculate.recalculate(
                session, service_id=service_id, achievement_date=day, provider_ids=provider_ids
            )
        except RuleError as refused:
            done.refused = str(refused)
    return done


def fail(session: DbSession, load_id: int, now: dt.datetime) -> None:
    """Mark the load *Failed* after its work was rolled back (flushes)."""
    load = lock(session, AchievementLoad, load_id)
    if load is not None and LOAD.allows(load.status, "fail"):
        move(load, "fail")
        load.finished_at = now
        session.flush()


# --- Reading loads --------------------------------------------------------------------------


def loads_of(session: DbSession, organisation: Organisation, limit: int = 100) -> list[Any]:
    return list(
        session.scalars(
            select(AchievementLoad)
            .where(AchievementLoad.organisation_id == organisation.id)
            .order_by(AchievementLoad.id.desc())
            .limit(limit)
        )
    )


def load_of(
    session: DbSession, user: User, organisation: Organisation | None, load_id: int
) -> AchievementLoad | None:
    if not may_load(user, organisation):
        return None
    load = session.get(AchievementLoad, load_id)
    assert organisation is not None
    return load if load is not None and load.organisation_id == organisation.id else None


def problems_page(
    session: DbSession, load: AchievementLoad, page: int
) -> tuple[list[LoadProblem], int]:
    """One page of the load's problems in row order, and the number of pages."""
    stored = int(session.scalar(select(func.count()).where(LoadProblem.load_id == load.id)) or 0)
    pages = max(1, -(-stored // PROBLEMS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(LoadProblem)
        .where(LoadProblem.load_id == load.id)
        .order_by(LoadProblem.row_number, LoadProblem.id)
        .offset((page - 1) * PROBLEMS_PER_PAGE)
        .limit(PROBLEMS_PER_PAGE)
    )
    return list(rows), pages


__all__ = ["LOAD", "LOAD_JOB", "Choices", "DataLayout", "start_load"]
