"""The catalogue of national quality services: each year's services as versioned data files
the project ships (``claims_portal/national/data/*.json``), loaded into the models.

A file describes one service in one financial year (``code`` and ``financial_year``): its
kind, payment type, dates and flags, the year's reference values, achievement dates,
indicator groups and indicators, and national prevalences. ``version`` is a whole number
raised whenever the file changes; the service remembers what it was loaded from in
``QualityService.data_version`` (``qof-2025-26.json@1``).

Loading is idempotent: a file whose version is already loaded changes nothing (so edits a
national administrator made since are kept); a higher version updates the service field by
field, each change audited (``quality_indicator.updated``, ``achievement_date.added``...);
a lower version is not loaded. A bad file is refused whole with a :class:`CatalogueError`
listing every problem, and nothing changes. The audit trail is the service's history.
Events are recorded in the national commissioner (when the portal has one), so that its
administrators see them in the audit trail. Edits by national administrators are in
:mod:`.catalogue_edits`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.audit.services import record_event
from claims_portal.db import DbSession
from claims_portal.national.models import (
    AchievementDate,
    IndicatorGroup,
    IndicatorPurpose,
    NationalPrevalence,
    PaymentType,
    ProviderLevel,
    QualityIndicator,
    QualityService,
    ServiceKind,
    ServiceReference,
)
from claims_portal.national.services.catalogue_sync import Who, groups_in_use, sync_service
from claims_portal.organisations.models import Organisation, OrganisationKind
from claims_portal.rules import Problem, RuleError

#: The files the project ships, one service and year each.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FORMAT = "claims-portal quality service"

SERVICE_FIELDS = (
    "name",
    "kind",
    "payment_type",
    "provider_level",
    "start_date",
    "end_date",
    "response_date",
    "automatically_accepted",
    "declaration_required",
    "approval_required",
    "amendment_window_days",
    "source",
)
GROUP_FIELDS = ("description", "domain_code", "domain_description", "position")
INDICATOR_FIELDS = (
    "group_code",
    "description",
    "points",
    "lower_threshold",
    "upper_threshold",
    "prevalence_register",
    "tick_box",
    "purpose",
    "manual",
)
REFERENCE_FIELDS = ("pounds_per_point", "national_average_list_size", "aspiration_share", "source")

_FILE_KEYS = frozenset(
    {
        "format",
        "version",
        "code",
        "financial_year",
        "total_points",
        "reference",
        "achievement_dates",
        "groups",
        "indicators",
        "prevalences",
        "prevalences_source",
        *SERVICE_FIELDS,
    }
)
_GROUP_KEYS = frozenset({"code", "description", "domain_code", "domain_description"})
_INDICATOR_KEYS = frozenset({"code", "group", "source", *INDICATOR_FIELDS} - {"group_code"})
_DATE_KEYS = frozenset({"date", "payment_date"})
_PREVALENCE_KEYS = frozenset({"register", "prevalence", "source"})
_SERVICE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")


class CatalogueError(RuleError):
    """A service file or an edit broke a catalogue rule; ``problems`` lists every one."""


@dataclass(frozen=True)
class LoadResult:
    """What loading one file did: ``created``, ``updated``, ``unchanged`` (that version is
    already loaded) or ``older`` (a later version is loaded; nothing done)."""

    service: QualityService
    outcome: str
    changes: int = 0


# --- Reading and checking a file ----------------------------------------------------------


class _Reader:
    """Reads one file's values, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, message: str) -> None:
        self.problems.append(Problem(message))

    def text(self, raw: Any, where: str, *, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(f"{where}: enter a text value")
            return ""
        value = " ".join(raw.split())
        if pattern is not None and not pattern.match(value):
            self.fail(f"{where}: {value!r} is not a valid code")
        return value

    def flag(self, raw: Any, where: str) -> bool:
        if not isinstance(raw, bool):
            self.fail(f"{where}: must be true or false")
            return False
        return raw

    def day(self, raw: Any, where: str, *, optional: bool = False) -> dt.date | None:
        if raw is None and optional:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except (TypeError, ValueError):
            self.fail(f"{where}: {raw!r} is not a date (YYYY-MM-DD)")
            return None

    def number(
        self, raw: Any, where: str, *, optional: bool = False, whole: bool = False
    ) -> Decimal | None:
        if raw is None and optional:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | str | float):
            self.fail(f"{where}: {raw!r} is not a number")
            return None
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            self.fail(f"{where}: {raw!r} is not a number")
            return None
        if not value.is_finite() or value < 0 or (whole and value != value.to_integral_value()):
            self.fail(f"{where}: {raw!r} must be a {'whole ' if whole else ''}number, 0 or more")
            return None
        return value

    def known(self, item: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        """A misspelt field would otherwise be silently ignored: refuse it."""
        for name in sorted(set(item) - allowed):
            self.fail(f"{where}: unknown field {name!r}")

    def member(self, enum: Any, raw: Any, where: str) -> Any:
        try:
            return enum[raw]
        except (KeyError, TypeError):
            names = ", ".join(member.name for member in enum)
            self.fail(f"{where}: {raw!r} is not one of {names}")
            return None


def read_service_file(path_or_data: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A file's content, checked and in model terms (``CatalogueError`` lists every problem).

    ``path_or_data`` is a path to a JSON file or the already parsed content. The result has
    ``service`` (the service's fields), ``reference``, ``dates`` (date -> payment date),
    ``groups`` and ``indicators`` (code -> fields), ``prevalences`` (register -> (fraction,
    source)), and ``data_version``.
    """
    if isinstance(path_or_data, str | Path):
        path = Path(path_or_data)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise CatalogueError(f"{path.name}: not a readable JSON file ({error})") from error
        stem = path.name
    else:
        data = path_or_data
        stem = ""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise CatalogueError(f"Not a quality service file: its format must be {FORMAT!r}")
    reader = _Reader()
    reader.known(data, _FILE_KEYS, "file")
    content = _read_service(reader, data)
    if reader.problems:
        raise CatalogueError(reader.problems)
    label = f"{content['financial_year']}-{(content['financial_year'] + 1) % 100:02d}"
    stem = stem or f"{content['code'].lower()}-{label}.json"
    content["data_version"] = f"{stem}@{content['version']}"
    return content


def _read_service(reader: _Reader, data: Mapping[str, Any]) -> dict[str, Any]:
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        reader.fail(f"version: {version!r} must be a whole number, 1 or more")
    year = data.get("financial_year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        reader.fail(f"financial_year: {year!r} is not the year a financial year starts in")
        year = 2000
    service = {
        "name": reader.text(data.get("name"), "name"),
        "kind": reader.member(ServiceKind, data.get("kind"), "kind"),
        "payment_type": reader.member(PaymentType, data.get("payment_type"), "payment_type"),
        "provider_level": reader.member(
            ProviderLevel, data.get("provider_level"), "provider_level"
        ),
        "start_date": reader.day(data.get("start_date"), "start_date"),
        "end_date": reader.day(data.get("end_date"), "end_date"),
        "response_date": reader.day(data.get("response_date"), "response_date", optional=True),
        "automatically_accepted": reader.flag(
            data.get("automatically_accepted", False), "automatically_accepted"
        ),
        "declaration_required": reader.flag(
            data.get("declaration_required", True), "declaration_required"
        ),
        "approval_required": reader.flag(data.get("approval_required", True), "approval_required"),
        "amendment_window_days": _window(reader, data.get("amendment_window_days")),
        "source": str(data.get("source") or ""),
    }
    start, end = service["start_date"], service["end_date"]
    if start and end and end < start:
        reader.fail("end_date: the service cannot end before it starts")
    groups = _read_groups(reader, data.get("groups"))
    indicators = _read_indicators(reader, data.get("indicators"), groups)
    _check_total(reader, data.get("total_points"), indicators)
    return {
        "code": reader.text(data.get("code"), "code", pattern=_SERVICE_CODE),
        "financial_year": year,
        "version": version,
        "service": service,
        "reference": _read_reference(reader, data.get("reference")),
        "dates": _read_dates(reader, data.get("achievement_dates"), start, end),
        "groups": groups,
        "indicators": indicators,
        "prevalences": _read_prevalences(reader, data.get("prevalences")),
    }


def _window(reader: _Reader, raw: Any) -> int | None:
    days = reader.number(raw, "amendment_window_days", optional=True, whole=True)
    return None if days is None else int(days)


def _items(
    reader: _Reader, raw: Any, where: str, allowed: frozenset[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if raw is None:
        return
    if not isinstance(raw, list):
        reader.fail(f"{where}: must be a list")
        return
    for number, item in enumerate(raw, start=1):
        if isinstance(item, Mapping):
            reader.known(item, allowed, f"{where} {number}")
            yield f"{where} {number}", item
        else:
            reader.fail(f"{where} {number}: must be an object")


def _read_groups(reader: _Reader, raw: Any) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for position, (where, item) in enumerate(_items(reader, raw, "group", _GROUP_KEYS)):
        code = reader.text(item.get("code"), f"{where} code", pattern=_CODE)
        if code in groups:
            reader.fail(f"{where}: duplicate group code {code}")
        groups[code] = {
            "description": reader.text(item.get("description"), f"{where} ({code}) description"),
            "domain_code": reader.text(item.get("domain_code"), f"{where} ({code}) domain_code"),
            "domain_description": reader.text(
                item.get("domain_description"), f"{where} ({code}) domain_description"
            ),
            "position": position,
        }
    return groups


def _read_indicators(
    reader: _Reader, raw: Any, groups: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    indicators: dict[str, dict[str, Any]] = {}
    for where, item in _items(reader, raw, "indicator", _INDICATOR_KEYS):
        code = reader.text(item.get("code"), f"{where} code", pattern=_CODE)
        named = f"indicator {code}" if code else where
        if code in indicators:
            reader.fail(f"{named}: duplicate indicator code")
        group = item.get("group")
        if group not in groups:
            reader.fail(f"{named}: unknown group {group!r}")
        values = {
            "group_code": group,
            "description": reader.text(item.get("description"), f"{named} description"),
            "points": reader.number(item.get("points"), f"{named} points") or Decimal(0),
            "lower_threshold": reader.number(
                item.get("lower_threshold"), f"{named} lower_threshold", optional=True
            ),
            "upper_threshold": reader.number(
                item.get("upper_threshold"), f"{named} upper_threshold", optional=True
            ),
            "prevalence_register": item.get("prevalence_register") or None,
            "tick_box": reader.flag(item.get("tick_box", False), f"{named} tick_box"),
            "purpose": reader.member(
                IndicatorPurpose, item.get("purpose", "PAYMENT"), f"{named} purpose"
            ),
            "manual": reader.flag(item.get("manual", False), f"{named} manual"),
        }
        for problem in threshold_problems(values, named):
            reader.fail(problem)
        indicators[code] = values
    return indicators


def threshold_problems(values: Mapping[str, Any], named: str) -> list[str]:
    """What is wrong with an indicator's thresholds (fractions: 0.40 is 40%)."""
    lower, upper = values["lower_threshold"], values["upper_threshold"]
    if values["tick_box"]:
        if lower is not None or upper is not None:
            return [f"{named}: a tick-box indicator has no thresholds"]
        return []
    if (lower is None) != (upper is None):
        return [f"{named}: give both thresholds or neither"]
    if lower is None or upper is None:
        return []
    if upper > 1:
        return [f"{named}: thresholds are fractions of 1 (0.40 is 40%): {upper} is above 1"]
    if not lower < upper:
        return [f"{named}: thresholds out of order: lower {lower} must be below upper {upper}"]
    return []


def _check_total(reader: _Reader, raw: Any, indicators: Mapping[str, Any]) -> None:
    total = reader.number(raw, "total_points")
    if total is None:
        return
    added = sum((values["points"] for values in indicators.values()), Decimal(0))
    if added != total:
        reader.fail(f"total_points: the indicators' points add up to {added}, not {total}")


def _read_reference(reader: _Reader, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        reader.fail("reference: must be an object")
        return None
    reader.known(raw, frozenset(REFERENCE_FIELDS), "reference")
    size = reader.number(
        raw.get("national_average_list_size"),
        "reference national_average_list_size",
        optional=True,
        whole=True,
    )
    share = reader.number(raw.get("aspiration_share"), "reference aspiration_share", optional=True)
    if share is not None and share > 1:
        reader.fail(f"reference aspiration_share: {share} is a fraction of 1 (0.80 is 80%)")
    return {
        "pounds_per_point": reader.number(
            raw.get("pounds_per_point"), "reference pounds_per_point", optional=True
        ),
        "national_average_list_size": None if size is None else int(size),
        "aspiration_share": share,
        "source": str(raw.get("source") or ""),
    }


def _read_dates(
    reader: _Reader, raw: Any, start: dt.date | None, end: dt.date | None
) -> dict[dt.date, bool]:
    dates: dict[dt.date, bool] = {}
    for where, item in _items(reader, raw, "achievement date", _DATE_KEYS):
        day = reader.day(item.get("date"), where)
        payment = reader.flag(item.get("payment_date", False), f"{where} payment_date")
        if day is None:
            continue
        if (day + dt.timedelta(days=1)).day != 1:
            reader.fail(f"{where}: {day.isoformat()} is not a month end")
        if start and end and not start <= day <= end:
            reader.fail(f"{where}: {day.isoformat()} is outside the service dates")
        if day in dates:
            reader.fail(f"{where}: duplicate achievement date {day.isoformat()}")
        dates[day] = payment
    return dates


def _read_prevalences(reader: _Reader, raw: Any) -> dict[str, tuple[Decimal, str]]:
    prevalences: dict[str, tuple[Decimal, str]] = {}
    for where, item in _items(reader, raw, "prevalence", _PREVALENCE_KEYS):
        register = reader.text(item.get("register"), f"{where} register", pattern=_CODE)
        value = reader.number(item.get("prevalence"), f"{where} ({register}) prevalence")
        if value is not None and not 0 < value <= 1:
            reader.fail(f"{where} ({register}): prevalence is a fraction above 0, at most 1")
        if register in prevalences:
            reader.fail(f"{where}: duplicate register {register}")
        prevalences[register] = (value or Decimal(0), str(item.get("source") or ""))
    return prevalences


# --- Loading ------------------------------------------------------------------------------


def shipped_files() -> list[Path]:
    """The service files the project ships, in name order."""
    return sorted(DATA_DIR.glob("*.json"))


def load_shipped_services(session: DbSession, *, actor: User | None = None) -> list[LoadResult]:
    """Load every shipped file (:func:`load_service_file`); all are checked before any is
    loaded, so one bad file loads nothing."""
    contents = [read_service_file(path) for path in shipped_files()]
    return [_load(session, content, actor) for content in contents]


def load_service_file(
    session: DbSession, path_or_data: str | Path | Mapping[str, Any], *, actor: User | None
) -> LoadResult:
    """Create or update the service a file describes (by code and year); flushes, the
    caller commits. ``CatalogueError`` (nothing changed) for a bad file."""
    return _load(session, read_service_file(path_or_data), actor)


def _version_of(data_version: str | None) -> int:
    try:
        return int((data_version or "").rsplit("@", 1)[1])
    except (IndexError, ValueError):
        return 0


def _national_commissioner(session: DbSession) -> Organisation | None:
    """The organisation the catalogue's history is recorded in (so that its administrators
    see it in the audit trail): the national commissioner, if the portal has one."""
    return session.scalar(
        select(Organisation)
        .where(Organisation.kind == OrganisationKind.NATIONAL_COMMISSIONER)
        .order_by(Organisation.id)
        .limit(1)
    )


def _load(session: DbSession, content: dict[str, Any], actor: User | None) -> LoadResult:
    who = Who(actor, _national_commissioner(session))
    service = session.scalar(
        select(QualityService)
        .where(
            QualityService.code == content["code"],
            QualityService.financial_year == content["financial_year"],
        )
        .with_for_update()
    )
    if service is None:
        return LoadResult(_create(session, content, who), "created")
    loaded = _version_of(service.data_version)
    if loaded == content["version"]:
        return LoadResult(service, "unchanged")
    if loaded > content["version"]:
        return LoadResult(service, "older")
    in_use = groups_in_use(session, service, content["groups"])
    if in_use:
        raise CatalogueError(
            [
                f"group {code}: achievement data was entered against it, so a file cannot remove it"
                for code in in_use
            ]
        )
    changes = sync_service(session, service, content, who)
    return LoadResult(service, "updated", changes)


def _create(session: DbSession, content: dict[str, Any], who: Who) -> QualityService:
    service = QualityService(
        code=content["code"],
        financial_year=content["financial_year"],
        data_version=content["data_version"],
        **content["service"],
    )
    session.add(service)
    session.flush()
    groups: dict[str, IndicatorGroup] = {}
    for code, values in content["groups"].items():
        groups[code] = IndicatorGroup(service_id=service.id, code=code, **values)
        session.add(groups[code])
    session.flush()
    for code, values in content["indicators"].items():
        fields = {k: v for k, v in values.items() if k != "group_code"}
        session.add(
            QualityIndicator(
                service_id=service.id, group_id=groups[values["group_code"]].id, code=code, **fields
            )
        )
    for day, payment in content["dates"].items():
        session.add(AchievementDate(service_id=service.id, date=day, is_payment_date=payment))
    if content["reference"] is not None:
        session.add(ServiceReference(service_id=service.id, **content["reference"]))
    for register, (value, source) in content["prevalences"].items():
        session.add(
            NationalPrevalence(
                service_id=service.id, register=register, prevalence=value, source=source
            )
        )
    session.flush()
    record_event(
        session,
        action="quality_service.loaded",
        object_type="quality_service",
        object_id=service.id,
        actor=who.actor,
        organisation=who.organisation,
        after={
            "code": service.code,
            "financial_year": service.financial_year,
            "data_version": service.data_version,
            "groups": len(content["groups"]),
            "indicators": len(content["indicators"]),
            "total_points": sum((v["points"] for v in content["indicators"].values()), Decimal(0)),
            "achievement_dates": len(content["dates"]),
            "prevalences": len(content["prevalences"]),
        },
    )
    return service
