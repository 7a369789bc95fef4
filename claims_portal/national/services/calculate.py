"""Recalculating providers' achievement through the calculation core, and storing it.

:func:`recalculate` reads the figures that count (``last_submission``) set-based, a chunk
of providers per query, has the core calculate each chunk at once
(``calculate_achievements``) and upserts ``CalculatedAchievement`` one statement per chunk.
Each stored row is a snapshot of the calculation: totals, the CPI, per indicator the figures
it came from, its points, payment, achievement rate and prevalence factor, and the reference
values used (``explanation["figures"]``), so the Achievement Summary can rebuild each step
exactly as it was worked out. ``inputs_sha256`` hashes the indicator definitions, reference
values and the provider's figures: a recalculation whose hash is unchanged writes nothing.

Every check (reference values, each provider's data) is made before a row is written, and
the writes run in a savepoint: a refusal (``RuleError`` naming provider and indicator)
leaves nothing half-stored whatever the caller does next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from claims_portal import calculation, clock
from claims_portal.db import DbSession
from claims_portal.national.models import AchievementValue, CalculatedAchievement, QualityService
from claims_portal.national.services import core_inputs
from claims_portal.organisations.models import Organisation
from claims_portal.rules import RuleError

#: Providers per query, core run and upsert.
CHUNK = 1000
_PRECISION = 28


@dataclass
class Recalculation:
    """What a recalculation did: providers calculated, and those whose stored result changed
    (new or different inputs); the rest were unchanged."""

    calculated: int = 0
    changed: list[int] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.calculated - len(self.changed)


def recalculate(
    session: DbSession,
    *,
    service_id: int,
    achievement_date: dt.date,
    provider_ids: Iterable[int] | None = None,
) -> int:
    """Recalculate and store the achievement of ``provider_ids`` (``None``: every provider
    with current figures for the service and date); the number of providers calculated.

    Raises ``RuleError`` for missing reference values or bad data, storing nothing."""
    return recalculate_changes(
        session, service_id=service_id, achievement_date=achievement_date, provider_ids=provider_ids
    ).calculated


def recalculate_changes(
    session: DbSession,
    *,
    service_id: int,
    achievement_date: dt.date,
    provider_ids: Iterable[int] | None = None,
) -> Recalculation:
    """:func:`recalculate`, telling which providers' stored results changed."""
    service = session.get(QualityService, service_id)
    if service is None:
        raise RuleError(f"there is no quality service {service_id}")
    indicator_set = core_inputs.indicator_set_for(session, service)
    reference_data = core_inputs.reference_data_for(session, service)
    core_inputs.check_reference(service, indicator_set, reference_data)
    if provider_ids is None:
        wanted = _providers_with_values(session, service_id, achievement_date)
    else:
        wanted = sorted(set(provider_ids))
    codes = _ods_codes(session, wanted)
    outcome = Recalculation(calculated=len(wanted))
    # Written chunk by chunk (memory stays flat) inside a savepoint: a refusal in a later
    # chunk takes the earlier chunks' rows back with it.
    with session.begin_nested():
        for chunk in _chunks(wanted, CHUNK):
            batch = _calculate_chunk(
                session, service, indicator_set, reference_data, achievement_date, chunk, codes
            )
            outcome.changed.extend(_upsert(session, batch))
    _expire_loaded(session, service_id, achievement_date)
    return outcome


def _calculate_chunk(
    session: DbSession,
    service: QualityService,
    indicator_set: calculation.IndicatorSet,
    reference_data: calculation.ReferenceData,
    achievement_date: dt.date,
    chunk: list[int],
    codes: dict[int, str],
) -> list[dict[str, Any]]:
    """The rows to store for one chunk of providers (one read, one core run): those whose
    inputs' hash differs from the stored one (an unchanged provider is neither checked nor
    calculated again: the same figures and definitions gave the stored result)."""
    shared = _shared_fingerprint(indicator_set, reference_data)
    values = core_inputs.current_values(session, service.id, achievement_date, chunk)
    table = CalculatedAchievement.__table__
    stored: dict[int, str] = dict(
        session.execute(
            select(table.c.provider_id, table.c.inputs_sha256).where(
                table.c.service_id == service.id,
                table.c.achievement_date == achievement_date,
                table.c.provider_id.in_(chunk),
            )
        ).all()
    )
    changed: list[tuple[int, str]] = []
    submissions = []
    for provider_id in chunk:
        provider_values = values.get(provider_id, {})
        digest = _inputs_hash(shared, provider_values)
        if stored.get(provider_id) == digest:
            continue
        changed.append((provider_id, digest))
        submissions.append(
            core_inputs.build_submission(
                codes[provider_id], achievement_date, provider_values, indicator_set
            )
        )
    try:
        results = calculation.calculate_achievements(submissions, indicator_set, reference_data)
    except calculation.CalculationError as error:
        raise RuleError(f"{service}: {error}") from error
    now = clock.now()
    definitions = hashlib.sha256(shared).hexdigest()
    return [
        _row(service.id, provider_id, achievement_date, result, digest, now, definitions)
        for (provider_id, digest), result in zip(changed, results, strict=True)
    ]


def _expire_loaded(session: DbSession, service_id: int, achievement_date: dt.date) -> None:
    """Results already loaded in the session are read again (the upsert bypassed them)."""
    for item in list(session.identity_map.values()):
        if (
            isinstance(item, CalculatedAchievement)
            and item.service_id == service_id
            and item.achievement_date == achievement_date
        ):
            session.expire(item)


def _providers_with_values(
    session: DbSession, service_id: int, achievement_date: dt.date
) -> list[int]:
    return list(
        session.scalars(
            select(AchievementValue.provider_id)
            .where(
                AchievementValue.service_id == service_id,
                AchievementValue.achievement_date == achievement_date,
                AchievementValue.last_submission.is_(True),
            )
            .distinct()
            .order_by(AchievementValue.provider_id)
        )
    )


def _ods_codes(session: DbSession, provider_ids: Sequence[int]) -> dict[int, str]:
    codes: dict[int, str] = {}
    for chunk in _chunks(provider_ids, 10_000):
        rows = session.execute(
            select(Organisation.id, Organisation.ods_code).where(Organisation.id.in_(chunk))
        )
        codes.update({row[0]: row[1] for row in rows})
    missing = [str(p) for p in provider_ids if p not in codes]
    if missing:
        raise RuleError(f"there is no organisation {', '.join(missing)}")
    return codes


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _figure(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def definitions_fingerprint(
    indicator_set: calculation.IndicatorSet, reference_data: calculation.ReferenceData
) -> str:
    """SHA-256 of the indicator definitions and reference values a calculation used (kept
    in ``explanation["figures"]["definitions_sha256"]``): when the service's differ, the
    stored result is out of date."""
    return hashlib.sha256(_shared_fingerprint(indicator_set, reference_data)).hexdigest()


def _shared_fingerprint(
    indicator_set: calculation.IndicatorSet, reference_data: calculation.ReferenceData
) -> bytes:
    """What every provider's calculation shares: definitions and reference values."""
    yearly = reference_data.for_year(indicator_set.year)
    shape = {
        "service": indicator_set.service,
        "year": indicator_set.year.label,
        "indicators": [
            [
                i.code,
                str(i.max_points),
                _figure(i.lower_threshold),
                _figure(i.upper_threshold),
                i.prevalence_register,
                i.tick_box,
            ]
            for i in indicator_set.indicators
        ],
        "pounds_per_point": str(yearly.pounds_per_point),
        "national_average_list_size": yearly.national_average_list_size,
        "national_prevalence": {k: str(v) for k, v in sorted(yearly.national_prevalence.items())},
    }
    return json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()


def _inputs_hash(shared: bytes, values: core_inputs.Values) -> str:
    digest = hashlib.sha256(shared)
    digest.update(b"\x00")
    lines = sorted([f"{code}\t{name}\t{value}" for (code, name), value in values.items()])
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def _indicator_entry(
    result: calculation.IndicatorResult, factors: dict[str, str | None]
) -> dict[str, Any]:
    """code, points, payment, achievement rate, prevalence factor, and the counts or answer
    they came from (the definitions are the service's, fingerprinted in the explanation)."""
    indicator, record = result.indicator, result.record
    entry: dict[str, Any] = {
        "code": indicator.code,
        "points": str(result.points),
        "payment": str(result.payment),
    }
    if type(record) is calculation.Achievement:
        entry["numerator"] = record.numerator
        entry["denominator"] = record.denominator
        entry["pcas"] = record.personalised_care_adjustments
        entry["exclusions"] = record.exclusions
        if record.cohort:
            entry["achievement"] = str(Decimal(record.numerator) / Decimal(record.cohort))
    elif type(record) is calculation.TickBoxAnswer:
        entry["answer"] = record.answer
    register = indicator.prevalence_register
    if register is not None:
        if register not in factors:
            size = result.submission.registers.get(register)
            factors[register] = None if not size else str(result.prevalence_factor)
        if factors[register] is not None:
            entry["prevalence_factor"] = factors[register]
    return entry


def _row(
    service_id: int,
    provider_id: int,
    achievement_date: dt.date,
    result: calculation.AchievementResult,
    digest: str,
    now: dt.datetime,
    definitions: str,
) -> dict[str, Any]:
    submission, reference = result.submission, result.reference
    factors: dict[str, str | None] = {}
    with localcontext(prec=_PRECISION):
        indicators = [_indicator_entry(r, factors) for r in result.results]
        cpi = calculation.contractor_population_index(
            submission.list_size, reference.average_list_size()
        )
        total_points = result.total_points
    explanation: dict[str, Any] = dict(result.explanation.as_dict())
    explanation["figures"] = {
        "definitions_sha256": definitions,
        "organisation": submission.organisation_code,
        "list_size": submission.list_size,
        "registers": dict(submission.registers),
        "pounds_per_point": str(reference.pounds_per_point),
        "national_average_list_size": reference.national_average_list_size,
        "national_prevalence": {
            register: str(reference.prevalence_for(register)) for register in factors
        },
        "contractor_population_index": str(cpi),
        "total_points": str(total_points),
    }
    return {
        "service_id": service_id,
        "provider_id": provider_id,
        "achievement_date": achievement_date,
        "list_size": submission.list_size,
        "contractor_population_index": cpi,
        "points": total_points,
        "total": result.total,
        "indicators": indicators,
        "explanation": explanation,
        "inputs_sha256": digest,
        "calculated_at": now,
    }


_UPDATED = (
    "list_size",
    "contractor_population_index",
    "points",
    "total",
    "indicators",
    "explanation",
    "inputs_sha256",
    "calculated_at",
)
_COLUMNS = ("service_id", "provider_id", "achievement_date", *_UPDATED)
#: On PostgreSQL a chunk goes in by ``COPY`` into a temporary table, then one upsert from it:
#: a multi-row ``VALUES`` of a thousand 20 KB rows costs the server about four times more.
_STAGED_UPSERT = (
    f"INSERT INTO calculated_achievement ({', '.join(_COLUMNS)})"  # noqa: S608 (constants)
    f" SELECT {', '.join(_COLUMNS)} FROM calculation_stage"
    " ON CONFLICT ON CONSTRAINT uq_calculated_achievement DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATED)
    + " WHERE calculated_achievement.inputs_sha256 <> EXCLUDED.inputs_sha256"
    " RETURNING provider_id"
)


def _upsert(session: DbSession, batch: list[dict[str, Any]]) -> list[int]:
    """Insert or update the batch; the providers whose row was new or changed."""
    if not batch:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _staged_upsert(session, batch)
    table = CalculatedAchievement.__table__
    # The table, not the entity: a plain multi-row INSERT, without the ORM's bulk path.
    statement = insert(table).values(batch)
    excluded = statement.excluded
    upsert = statement.on_conflict_do_update(
        constraint="uq_calculated_achievement",
        set_={name: excluded[name] for name in _UPDATED},
        where=table.c.inputs_sha256 != excluded.inputs_sha256,
    ).returning(table.c.provider_id)
    return list(session.execute(upsert).scalars())


def _staged_upsert(session: DbSession, batch: list[dict[str, Any]]) -> list[int]:
    session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS calculation_stage"
            " (LIKE calculated_achievement INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    )
    session.execute(text("TRUNCATE calculation_stage"))
    raw = session.connection().connection.driver_connection
    statement = f"COPY calculation_stage ({', '.join(_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in batch:
            copy.write_row(
                [
                    json.dumps(row[name], separators=(",", ":"))
                    if name in ("indicators", "explanation") and row[name] is not None
                    else row[name]
                    for name in _COLUMNS
                ]
            )
    return list(session.execute(text(_STAGED_UPSERT)).scalars())
