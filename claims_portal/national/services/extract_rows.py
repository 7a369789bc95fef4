"""Reading and checking an achievement extract file, row by row, in flat memory.

Two layouts (``DataLayout``), told apart by the header row:

- **CQRS export** (``INDICATOR_VALUES.csv``, :data:`CQRS_COLUMNS`): the service is
  ``QUALITY_SERVICE`` in the financial year ``ACH_DATE`` (YYYYMMDD) falls in; rows whose
  ``LAST_SUBMISSION`` is not ``Y`` are skipped. ``FIELD_NAME`` maps to our fields by
  :func:`cqrs_field`: Numerator, Denominator, Answer; ``Register`` or the indicator's
  register code (``AF``) -> REGISTER of that register; ``List size`` -> LIST_SIZE; a code
  starting ``PCA`` -> PCAS, ``EXC`` -> EXCLUSIONS (several codes of one indicator are added
  up when loaded).
- **QOF open data** (long format): ``PRACTICE_CODE, INDICATOR_CODE, MEASURE, VALUE`` (other
  columns ignored); MEASURE REGISTER, NUMERATOR, DENOMINATOR, PCAS; ``ACHIEVED_POINTS`` is
  skipped (the portal calculates points). The uploader chooses the service and date.

:class:`ExtractReader` yields a :class:`Figure` or :class:`RowProblem` per data row (line
numbers as the file counts them, the header is line 1; row 0 for the whole file). Checks
across rows need every row and run set-based on the staged figures (``extract_stage.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple, cast

from sqlalchemy import select

from claims_portal.db import DbSession
from claims_portal.national.models import (
    AchievementDate,
    DataLayout,
    QualityIndicator,
    QualityService,
)
from claims_portal.organisations.models import Organisation, OrganisationKind

CQRS_COLUMNS = (
    "QUALITY_SERVICE", "NAME", "ORG_CODE", "ACH_DATE", "IND_CODE", "FIELD_NAME", "VALUE",
    "DEFAULT_VALUES_USED", "SUBMIT_USER_ID", "SUBMIT_DATE", "SUBMIT_TIME", "LAST_SUBMISSION",
)  # fmt: skip
#: The columns a CQRS export must have (the others are read when present).
CQRS_REQUIRED = frozenset(
    {"QUALITY_SERVICE", "ORG_CODE", "ACH_DATE", "IND_CODE", "FIELD_NAME", "VALUE"}
)
OPEN_DATA_REQUIRED = frozenset({"PRACTICE_CODE", "INDICATOR_CODE", "MEASURE", "VALUE"})
OPEN_DATA_MEASURES = {name: name for name in ("REGISTER", "NUMERATOR", "DENOMINATOR", "PCAS")}
OPEN_DATA_SKIPPED = frozenset({"ACHIEVED_POINTS"})
LIST_SIZE = "LIST_SIZE"
#: The field of a staged marker (:func:`_marker`).
MARKER = "!"
_WHOLE = re.compile(r"[0-9]{1,15}")
#: What the reader keeps of what rows share (practices, services and dates, fields).
MEMO_LIMIT = 50_000
_YYYYMMDD = re.compile(r"[0-9]{8}")


class Figure(NamedTuple):
    """One valid row: our code (the indicator, the register or ``LIST_SIZE``) and field,
    with what the file said (``ind_code``, ``raw_field``) for the checks across rows."""

    row: int
    provider_id: int
    service_id: int
    achievement_date: dt.date
    org_code: str
    ind_code: str
    raw_field: str
    code: str
    field: str
    value: int


class RowProblem(NamedTuple):
    row: int
    column: str | None
    message: str


@dataclass
class ServiceInfo:
    id: int
    label: str
    dates: frozenset[dt.date]
    #: Indicator code -> its prevalence register (None: none).
    indicators: dict[str, str | None]


@dataclass
class Reference:
    """What rows are checked against: practices by ODS code, services by code and year."""

    practices: dict[str, int]
    services: dict[tuple[str, int], ServiceInfo]
    by_id: dict[int, ServiceInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {info.id: info for info in self.services.values()}


def load_reference(session: DbSession) -> Reference:
    """Every GP practice and every service with its achievement dates and indicators (a few
    thousand small rows: read once per file)."""
    practices = {  # noqa: C416 (dict() would take the Result for a mapping: it has keys())
        code: organisation_id
        for code, organisation_id in session.execute(
            select(Organisation.ods_code, Organisation.id).where(
                Organisation.kind == OrganisationKind.GP_PRACTICE
            )
        )
    }
    dates: dict[int, set[dt.date]] = {}
    for service_id, day in session.execute(
        select(AchievementDate.service_id, AchievementDate.date)
    ):
        dates.setdefault(service_id, set()).add(day)
    indicators: dict[int, dict[str, str | None]] = {}
    for service_id, code, register in session.execute(
        select(
            QualityIndicator.service_id, QualityIndicator.code, QualityIndicator.prevalence_register
        )
    ):
        indicators.setdefault(service_id, {})[code.upper()] = register
    services = {
        (service.code.upper(), service.financial_year): ServiceInfo(
            service.id,
            str(service),
            frozenset(dates.get(service.id, ())),
            indicators.get(service.id, {}),
        )
        for service in session.scalars(select(QualityService))
    }
    return Reference(practices, services)


def financial_year_of(day: dt.date) -> int:
    """The year the financial year of ``day`` starts in (1 April to 31 March)."""
    return day.year if day.month >= 4 else day.year - 1


def is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


def cqrs_field(raw: str, register: str | None) -> tuple[str, bool] | None:
    """Our field for a CQRS ``FIELD_NAME`` (and whether its code is the register), or None
    when it is none of them."""
    name = raw.strip().upper().replace(" ", "_")
    if name in ("NUMERATOR", "DENOMINATOR", "ANSWER"):
        return name, False
    if name == "REGISTER" or (register is not None and name == register.upper()):
        return "REGISTER", True
    if name in ("LIST_SIZE", "LISTSIZE"):
        return LIST_SIZE, False
    if name.startswith("PCA"):
        return "PCAS", False
    if name.startswith(("EXC", "EXCLUSION")):
        return "EXCLUSIONS", False
    return None


def whole_number(text: str) -> int | None:
    return int(text) if _WHOLE.fullmatch(text := text.strip()) else None


@dataclass
class ExtractReader:
    """Rows of one extract file (bytes), checked one by one against ``reference``.

    ``service_id`` and ``achievement_date`` are the uploader's choice, used by the open-data
    layout (which names neither). After iterating: ``layout``, ``rows`` (data rows read) and
    ``skipped`` (rows read but not for loading: not the last submission, achieved points).
    """

    stream: IO[bytes]
    reference: Reference
    service_id: int | None = None
    achievement_date: dt.date | None = None
    layout: DataLayout | None = None
    rows: int = 0
    skipped: int = 0
    _memo: dict[tuple[object, ...], Any] = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Figure | RowProblem]:
        text = io.TextIOWrapper(
            cast(IO[bytes], self.stream), encoding="utf-8-sig", errors="replace", newline=""
        )
        try:
            yield from self._read(csv.reader(text))
        finally:
            text.detach()  # the caller closes its own stream

    def _read(self, reader: Iterator[list[str]]) -> Iterator[Figure | RowProblem]:
        header = next(reader, None)
        columns = [c.strip().upper() for c in header or []]
        if set(columns) >= CQRS_REQUIRED:
            self.layout = DataLayout.CQRS_EXPORT
            rows = self._cqrs(reader, columns)
        elif set(columns) >= OPEN_DATA_REQUIRED:
            self.layout = DataLayout.QOF_OPEN_DATA
            rows = self._open_data(reader, columns)
        else:
            yield RowProblem(
                0,
                None,
                "The file is in neither layout: a CQRS export needs the columns "
                + ", ".join(sorted(CQRS_REQUIRED))
                + "; QOF open data needs "
                + ", ".join(sorted(OPEN_DATA_REQUIRED)),
            )
            return
        yield from rows

    def _lines(
        self, reader: Iterator[list[str]], width: int
    ) -> Iterator[tuple[int, list[str] | None]]:
        number = 1
        for cells in reader:
            number += 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            self.rows += 1
            yield number, cells if len(cells) >= width else None

    def _cqrs(
        self, reader: Iterator[list[str]], columns: list[str]
    ) -> Iterator[Figure | RowProblem]:
        at = {name: columns.index(name) for name in CQRS_COLUMNS if name in columns}
        last = at.get("LAST_SUBMISSION")
        width = max(at.values()) + 1
        for number, cells in self._lines(reader, width):
            if cells is None:
                yield RowProblem(
                    number, None, f"The row has fewer than the header's {width} columns"
                )
                continue
            if last is not None and cells[last].strip().upper() not in ("Y", ""):
                self.skipped += 1
                continue
            yield from self._cqrs_row(number, cells, at)

    def _cqrs_row(
        self, number: int, cells: list[str], at: dict[str, int]
    ) -> Iterator[Figure | RowProblem]:
        """One row. What several rows share is worked out once per file (``_memo``): the
        practice of an ORG_CODE, the service and date of a QUALITY_SERVICE and ACH_DATE, the
        field of an IND_CODE and FIELD_NAME (a year-end file repeats each thousands of
        times), so a valid row costs a few dictionary lookups."""
        memo = self._memo
        raw_org = cells[at["ORG_CODE"]]
        org = memo.get(("org", raw_org))
        if org is None:
            org_code = raw_org.strip().upper()
            org = self._remember(
                ("org", raw_org), (org_code, self.reference.practices.get(org_code))
            )
        org_code, provider_id = org
        dated_key = ("service", cells[at["QUALITY_SERVICE"]], cells[at["ACH_DATE"]])
        dated = memo.get(dated_key)
        if dated is None:
            dated = self._remember(dated_key, self._service_and_date(dated_key[1], dated_key[2]))
        service, day, dated_problems = dated
        ind_code = raw_ind = cells[at["IND_CODE"]]
        raw_field = cells[at["FIELD_NAME"]]
        mapped = None
        field_problems: tuple[tuple[str, str], ...] = ()
        if service is not None:
            field_key = ("field", service.id, raw_ind, raw_field)
            known = memo.get(field_key)
            if known is None:
                known = self._remember(field_key, _field_of(service, raw_ind, raw_field))
            ind_code, mapped, field_problems = known
        else:
            ind_code = raw_ind.strip().upper()
        text_value = cells[at["VALUE"]]
        if text_value.isdigit() and text_value.isascii() and len(text_value) <= 15:
            value: int | None = int(text_value)
        else:
            value = whole_number(text_value)
        if (
            provider_id is not None
            and mapped is not None
            and value is not None
            and not dated_problems
            and not field_problems
        ):
            assert service is not None
            assert day is not None
            code, field_name, shown_field = mapped
            yield Figure(
                number, provider_id, service.id, day, org_code, ind_code, shown_field, code,
                field_name, value,
            )  # fmt: skip
            return
        if provider_id is None:
            yield _unknown_practice(number, "ORG_CODE", org_code)
        for column, message in (*dated_problems, *field_problems):
            yield RowProblem(number, column, message)
        if value is None:
            yield _not_whole(number, "VALUE", text_value)
        indicator_known = service is not None and ind_code in service.indicators
        if indicator_known and provider_id is not None and service is not None and day is not None:
            yield _marker(number, provider_id, service.id, day, org_code, ind_code)

    def _remember(self, key: tuple[object, ...], value: Any) -> Any:
        """``value``, kept for the rows to come while the memo is small (a file of a million
        different codes is worked out row by row: memory stays flat)."""
        if len(self._memo) < MEMO_LIMIT:
            self._memo[key] = value
        return value

    def _service_and_date(
        self, raw_service: str, raw_day: str
    ) -> tuple[ServiceInfo | None, dt.date | None, tuple[tuple[str, str], ...]]:
        day = _yyyymmdd(raw_day)
        if day is None:
            return None, None, (("ACH_DATE", "ACH_DATE must be a date as YYYYMMDD"),)
        service_code = raw_service.strip().upper()
        service = self.reference.services.get((service_code, financial_year_of(day)))
        if service is None:
            return (
                None,
                day,
                (
                    (
                        "QUALITY_SERVICE",
                        f"No service {service_code or '(empty)'} in the financial year "
                        f"of {day:%d/%m/%Y}",
                    ),
                ),
            )
        date_problem = _date_problem(0, "ACH_DATE", day, service)
        if date_problem is not None:
            return service, day, ((str(date_problem.column), date_problem.message),)
        return service, day, ()

    def _open_data(
        self, reader: Iterator[list[str]], columns: list[str]
    ) -> Iterator[Figure | RowProblem]:
        at = {name: columns.index(name) for name in OPEN_DATA_REQUIRED}
        width = max(at.values()) + 1
        service = self.reference.by_id.get(self.service_id or 0)
        day = self.achievement_date
        if service is None or day is None:
            yield RowProblem(0, None, "Choose the service and the achievement date of the file")
            return
        date_problem = _date_problem(0, None, day, service)
        if date_problem is not None:
            yield date_problem
            return
        practices = self.reference.practices
        for number, cells in self._lines(reader, width):
            if cells is None:
                yield RowProblem(
                    number, None, f"The row has fewer than the header's {width} columns"
                )
                continue
            measure = cells[at["MEASURE"]].strip().upper()
            if measure in OPEN_DATA_SKIPPED:
                self.skipped += 1
                continue
            problems: list[RowProblem] = []
            org_code = cells[at["PRACTICE_CODE"]].strip().upper()
            provider_id = practices.get(org_code)
            if provider_id is None:
                problems.append(_unknown_practice(number, "PRACTICE_CODE", org_code))
            ind_code = cells[at["INDICATOR_CODE"]].strip().upper()
            field_name = OPEN_DATA_MEASURES.get(measure)
            register = service.indicators.get(ind_code)
            if ind_code not in service.indicators:
                problems.append(
                    RowProblem(
                        number,
                        "INDICATOR_CODE",
                        f"{service.label} has no indicator {ind_code or '(empty)'}",
                    )
                )
            elif field_name is None:
                problems.append(
                    RowProblem(
                        number,
                        "MEASURE",
                        f"MEASURE {measure or '(empty)'} is not REGISTER, NUMERATOR, "
                        "DENOMINATOR, PCAS or ACHIEVED_POINTS",
                    )
                )
            elif field_name == "REGISTER" and register is None:
                problems.append(RowProblem(number, "MEASURE", f"{ind_code} has no register"))
            value = whole_number(cells[at["VALUE"]])
            if value is None:
                problems.append(_not_whole(number, "VALUE", cells[at["VALUE"]]))
            if problems:
                yield from problems
                if provider_id is not None and ind_code in service.indicators:
                    yield _marker(number, provider_id, service.id, day, org_code, ind_code)
                continue
            assert provider_id is not None
            assert field_name is not None
            assert value is not None
            code = str(register).upper() if field_name == "REGISTER" else ind_code
            yield Figure(
                number, provider_id, service.id, day, org_code, ind_code, measure, code,
                field_name, value,
            )  # fmt: skip


def _marker(
    number: int, provider_id: int, service_id: int, day: dt.date, org_code: str, ind_code: str
) -> Figure:
    """A row whose own check failed, staged so that its indicator is left out together."""
    return Figure(number, provider_id, service_id, day, org_code, ind_code, "", "", MARKER, 0)


def _field_of(
    service: ServiceInfo, raw_ind: str, raw_field: str
) -> tuple[str, tuple[str, str, str] | None, tuple[tuple[str, str], ...]]:
    """A CQRS row's indicator code, and our code, field and the file's field name (upper
    case) for its IND_CODE and FIELD_NAME, or the problems with them."""
    ind_code = raw_ind.strip().upper()
    if ind_code not in service.indicators:
        return (
            ind_code,
            None,
            (("IND_CODE", f"{service.label} has no indicator {ind_code or '(empty)'}"),),
        )
    register = service.indicators[ind_code]
    shown = raw_field.strip()
    mapped = cqrs_field(shown, register)
    if mapped is None:
        return (
            ind_code,
            None,
            (
                (
                    "FIELD_NAME",
                    f"FIELD_NAME {shown or '(empty)'} is not a numerator, denominator, "
                    "register, list size, PCA or exclusion",
                ),
            ),
        )
    field_name, is_register = mapped
    if is_register and register is None:
        return ind_code, None, (("FIELD_NAME", f"{ind_code} has no register"),)
    code = LIST_SIZE if field_name == LIST_SIZE else ind_code
    if is_register:
        code = str(register).upper()
    return ind_code, (code, field_name, shown.upper()), ()


def _yyyymmdd(text: str) -> dt.date | None:
    text = text.strip()
    if not _YYYYMMDD.fullmatch(text):
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _date_problem(
    number: int, column: str | None, day: dt.date, service: ServiceInfo
) -> RowProblem | None:
    if not is_month_end(day):
        return RowProblem(number, column, f"{day:%d/%m/%Y} is not a month end")
    if day not in service.dates:
        return RowProblem(
            number, column, f"{day:%d/%m/%Y} is not an achievement date of {service.label}"
        )
    return None


def _unknown_practice(number: int, column: str, code: str) -> RowProblem:
    return RowProblem(number, column, f"No GP practice has the code {code or '(empty)'}")


def _not_whole(number: int, column: str, text: str) -> RowProblem:
    shown = text.strip()[:30] or "(empty)"
    return RowProblem(number, column, f"{column} {shown} is not a whole number (0 or more)")
