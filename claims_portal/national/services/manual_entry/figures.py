"""One group's figures as its page shows them: what counts now, the work in progress, and
what is locked and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select

from claims_portal.access.models import User
from claims_portal.clock import today as clock_today
from claims_portal.db import DbSession
from claims_portal.decisions import by_whom
from claims_portal.formatting import long_date
from claims_portal.national.models import (
    AchievementValue,
    DataSubmission,
    IndicatorGroup,
    PaymentType,
    QualityIndicator,
    QualityService,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.national.services.manual_entry.choices import Entrant, blockers, entry_opens_on
from claims_portal.organisations.models import Organisation

WIP = SubmissionStatus.WORK_IN_PROGRESS
SUBMITTED = SubmissionStatus.SUBMITTED

#: An indicator's counts: field, form suffix, label.
COUNTS = (
    ("NUMERATOR", "numerator", "numerator"),
    ("DENOMINATOR", "denominator", "denominator"),
    ("PCAS", "pcas", "personalised care adjustments (PCAs)"),
    ("EXCLUSIONS", "exclusions", "exclusions"),
)

ANSWER, REGISTER, LIST_SIZE = "ANSWER", "REGISTER", "LIST_SIZE"

# --- One group's figures -------------------------------------------------------------------


@dataclass
class Cell:
    """One figure on the form: what counts now, what the work in progress holds, and why it
    cannot be changed (None: it can)."""

    name: str
    code: str
    field: str
    label: str
    current: int | None = None
    current_source: SubmissionSource | None = None
    entered: int | None = None
    locked: str | None = None

    @property
    def shown(self) -> int | None:
        """The value the form starts with: the work in progress's, else the current one."""
        return self.entered if self.entered is not None else self.current


@dataclass
class IndicatorRow:
    indicator: QualityIndicator
    cells: list[Cell]

    @property
    def submitted(self) -> bool:
        return any(cell.current is not None for cell in self.cells)


@dataclass
class GroupEntry:
    """A group's entry page: its indicators' figures, registers and list size, why it cannot
    be changed, earlier submissions' notes, and the version the form carries."""

    entrant: Entrant
    service: QualityService
    date: dt.date
    group: IndicatorGroup
    rows: list[IndicatorRow]
    registers: list[Cell]
    list_size: Cell
    work_in_progress: DataSubmission | None
    #: Why nothing in the group can be changed (the whole page).
    blockers: list[str]
    #: The other side's newer submission, when this side's work in progress predates it.
    stale_note: str | None
    notes: list[SubmissionNote]
    token: str

    @property
    def cells(self) -> list[Cell]:
        return [c for row in self.rows for c in row.cells] + self.registers + [self.list_size]

    @property
    def submitted_count(self) -> int:
        return sum(1 for row in self.rows if row.submitted)

    @property
    def progress(self) -> str:
        """ "Indicators submitted: 2 of 2"."""
        return f"Indicators submitted: {self.submitted_count} of {len(self.rows)}"


@dataclass(frozen=True)
class SubmissionNote:
    group: str
    who: str
    at: dt.datetime
    status: SubmissionStatus
    source: SubmissionSource
    notes: str


def _name(*parts: str) -> str:
    return "-".join("".join(c if c.isalnum() else "_" for c in part) for part in parts)


def _cells_for(group: IndicatorGroup) -> tuple[list[IndicatorRow], list[Cell], Cell]:
    rows, registers = [], []
    for indicator in group.indicators:
        code = indicator.code
        if indicator.tick_box:
            cells = [Cell(_name(code, "answer"), code, ANSWER, f"{code} answer")]
        else:
            cells = [Cell(_name(code, s), code, f, f"{code} {label}") for f, s, label in COUNTS]
        rows.append(IndicatorRow(indicator, cells))
    for register in sorted({i.prevalence_register or "" for i in group.indicators} - {""}):
        registers.append(
            Cell(_name("register", register), register, REGISTER, f"{register} register")
        )
    return rows, registers, Cell("list-size", LIST_SIZE, LIST_SIZE, "List size")


def open_group(
    session: DbSession,
    who: Entrant,
    service: QualityService,
    day: dt.date,
    group: IndicatorGroup,
    *,
    today: dt.date | None = None,
) -> GroupEntry:
    """Everything the group's page shows and the save re-checks (nothing is changed)."""
    today = today or clock_today()
    rows, registers, list_size = _cells_for(group)
    entry_cells = [c for row in rows for c in row.cells] + registers + [list_size]
    codes = sorted({c.code for c in entry_cells})
    base = (
        select(AchievementValue, DataSubmission)
        .join(DataSubmission, DataSubmission.id == AchievementValue.submission_id)
        .where(
            AchievementValue.provider_id == who.provider.id,
            AchievementValue.service_id == service.id,
            AchievementValue.achievement_date == day,
            AchievementValue.code.in_(codes),
        )
    )
    current = {
        (v.code, v.field): (v.value, s.source)
        for v, s in session.execute(base.where(AchievementValue.last_submission))
    }
    wip = work_in_progress(session, who, service, day, group)
    entered = {}
    if wip is not None:
        entered = {
            (v.code, v.field): v.value
            for v, _ in session.execute(base.where(AchievementValue.submission_id == wip.id))
        }
    opens = None
    if service.payment_type is not PaymentType.PARTICIPATION_ONLY:
        opens = entry_opens_on(session, service, day)
    manual_codes = {i.code for i in group.indicators if i.manual}
    for cell in entry_cells:
        cell.current, cell.current_source = current.get((cell.code, cell.field), (None, None))
        cell.entered = entered.get((cell.code, cell.field))
        cell.locked = _lock_reason(who, service, cell, cell.code in manual_codes, opens, today)
    latest = latest_submission(session, who, service, day, codes)
    token = f"s{latest.id if latest else 0}-w{wip.id if wip else 0}.{wip.version if wip else 0}"
    stale = None
    if wip is not None and latest is not None and latest.id > wip.id:
        stale = (
            "This work in progress was saved before newer figures were submitted"
            f"{who_and_when(session, latest.submitted_by_id, latest.submitted_at)} "
            f"({latest.source.value.lower()}): check it against the current figures before "
            "you save or submit it"
        )
    return GroupEntry(
        entrant=who,
        service=service,
        date=day,
        group=group,
        rows=rows,
        registers=registers,
        list_size=list_size,
        work_in_progress=wip,
        blockers=blockers(session, who, service, day, today=today),
        stale_note=stale,
        notes=submission_notes(session, service, who.provider, day),
        token=token,
    )


def _lock_reason(
    who: Entrant,
    service: QualityService,
    cell: Cell,
    manual: bool,
    opens: dt.date | None,
    today: dt.date,
) -> str | None:
    if not who.on_behalf and cell.current_source is SubmissionSource.EXTRACT:
        return f"{cell.label} came from the extract: values from an extract cannot be changed"
    if not who.on_behalf and cell.current_source is SubmissionSource.COMMISSIONER:
        return f"{cell.label} was entered by the commissioner: only the commissioner can change it"
    if service.payment_type is PaymentType.PARTICIPATION_ONLY or manual:
        return None
    if opens is None:
        return (
            f"{cell.label} can be entered from the day after the extract for "
            f"{service.name} at this date is loaded, and it has not been loaded yet"
        )
    if today < opens:
        return (
            f"{cell.label} can be entered from {long_date(opens)}, the day after the extract "
            "was loaded"
        )
    return None


def work_in_progress(
    session: DbSession,
    who: Entrant,
    service: QualityService,
    day: dt.date,
    group: IndicatorGroup,
    *,
    lock: bool = False,
) -> DataSubmission | None:
    statement = (
        select(DataSubmission)
        .where(
            DataSubmission.provider_id == who.provider.id,
            DataSubmission.service_id == service.id,
            DataSubmission.achievement_date == day,
            DataSubmission.group_id == group.id,
            DataSubmission.source == who.source,
            DataSubmission.status == WIP,
        )
        .order_by(DataSubmission.id.desc())
        .limit(1)
    )
    if lock:
        statement = statement.with_for_update(of=DataSubmission).execution_options(
            populate_existing=True
        )
    return session.scalar(statement)


def latest_submission(
    session: DbSession, who: Entrant, service: QualityService, day: dt.date, codes: list[str]
) -> DataSubmission | None:
    """The newest submission (any source) holding one of ``codes`` for the provider."""
    touches = exists().where(
        AchievementValue.submission_id == DataSubmission.id, AchievementValue.code.in_(codes)
    )
    return session.scalar(
        select(DataSubmission)
        .where(
            DataSubmission.provider_id == who.provider.id,
            DataSubmission.service_id == service.id,
            DataSubmission.achievement_date == day,
            DataSubmission.status == SUBMITTED,
            touches,
        )
        .order_by(DataSubmission.id.desc())
        .limit(1)
    )


def who_and_when(session: DbSession, user_id: int | None, moment: dt.datetime | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return by_whom(user, moment, label=None if user else "the extract")


def submission_notes(
    session: DbSession, service: QualityService, provider: Organisation, day: dt.date
) -> list[SubmissionNote]:
    """Notes of every manual submission and work in progress of the provider's achievement
    at ``day``, newest first: shown to later submitters and to reviewers."""
    rows = session.execute(
        select(DataSubmission, IndicatorGroup.description, User.full_name)
        .outerjoin(IndicatorGroup, IndicatorGroup.id == DataSubmission.group_id)
        .outerjoin(
            User,
            User.id == func.coalesce(DataSubmission.submitted_by_id, DataSubmission.saved_by_id),
        )
        .where(
            DataSubmission.provider_id == provider.id,
            DataSubmission.service_id == service.id,
            DataSubmission.achievement_date == day,
            DataSubmission.notes.is_not(None),
            DataSubmission.notes != "",
        )
        .order_by(DataSubmission.id.desc())
    )
    return [
        SubmissionNote(
            group=group or "",
            who=name or "",
            at=s.submitted_at or s.created_at,
            status=s.status,
            source=s.source,
            notes=s.notes or "",
        )
        for s, group, name in rows
    ]


@dataclass(frozen=True)
class GroupProgress:
    """A group on the task list: indicators with figures that count, of all of them."""

    group: IndicatorGroup
    submitted: int
    total: int
    work_in_progress: bool

    @property
    def progress(self) -> str:
        return f"Indicators submitted: {self.submitted} of {self.total}"

    @property
    def status(self) -> str:
        if self.work_in_progress:
            return "Work in progress"
        if self.total and self.submitted == self.total:
            return "Submitted"
        return "Partly submitted" if self.submitted else "Not started"


def group_progress(
    session: DbSession, who: Entrant, service: QualityService, day: dt.date
) -> list[GroupProgress]:
    """Every group of the service with its progress for the provider at ``day`` (two
    queries: the indicators with figures that count, and this side's work in progress)."""
    with_figures = set(
        session.scalars(
            select(AchievementValue.code)
            .where(
                AchievementValue.provider_id == who.provider.id,
                AchievementValue.service_id == service.id,
                AchievementValue.achievement_date == day,
                AchievementValue.last_submission,
            )
            .distinct()
        )
    )
    in_progress = set(
        session.scalars(
            select(DataSubmission.group_id).where(
                DataSubmission.provider_id == who.provider.id,
                DataSubmission.service_id == service.id,
                DataSubmission.achievement_date == day,
                DataSubmission.source == who.source,
                DataSubmission.status == WIP,
            )
        )
    )
    return [
        GroupProgress(
            group=group,
            submitted=sum(1 for i in group.indicators if i.code in with_figures),
            total=len(group.indicators),
            work_in_progress=group.id in in_progress,
        )
        for group in service.groups
    ]
