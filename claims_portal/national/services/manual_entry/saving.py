"""Checking the figures typed, and saving them as work in progress or submitting them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import tuple_, update

from claims_portal.access.roles import Capability
from claims_portal.audit.services import record_event
from claims_portal.clock import now
from claims_portal.db import DbSession
from claims_portal.decisions import NOTHING_CHANGED, by_event, last_event, lock_name
from claims_portal.inputs import parse_whole
from claims_portal.national.models import (
    AchievementValue,
    DataSubmission,
    IndicatorGroup,
    QualityService,
    SubmissionStatus,
)
from claims_portal.national.services import calculate
from claims_portal.national.services.manual_entry.choices import Entrant
from claims_portal.national.services.manual_entry.figures import (
    ANSWER,
    Cell,
    GroupEntry,
    IndicatorRow,
    latest_submission,
    open_group,
    who_and_when,
    work_in_progress,
)
from claims_portal.organisations.models import Organisation
from claims_portal.rules import Problem, RuleError
from claims_portal.statemachine import Machine, Step, set_status

WIP = SubmissionStatus.WORK_IN_PROGRESS
SUBMITTED = SubmissionStatus.SUBMITTED

#: A manual entry's life: saved (work in progress, saved again as often as wanted), then
#: submitted. Extract loads make their submissions submitted from the start.
MANUAL_SUBMISSION: Machine[SubmissionStatus] = Machine(
    object_type="data_submission",
    title="Manual achievement entry",
    initial=WIP,
    created="saved",
    creator=Capability.ENTER_ACHIEVEMENT,
    final=frozenset({SUBMITTED}),
    steps=(
        Step(
            "submit", frozenset({WIP}), SUBMITTED, Capability.ENTER_ACHIEVEMENT, "submitted",
            "It was submitted already",
        ),
    ),
)  # fmt: skip


class EntryError(RuleError):
    """Manual entry refused: the problems say which figure and why; nothing was changed."""


class EntryConflict(EntryError):
    """Someone else saved or submitted the group after the person opened it."""

    status_code = 409


# --- Checking and saving -------------------------------------------------------------------


@dataclass
class Checked:
    """The figures typed, checked: (cell, value) for every figure given and not locked."""

    entry: GroupEntry
    values: list[tuple[Cell, int]] = field(default_factory=list)

    @property
    def changed(self) -> list[tuple[Cell, int]]:
        return [(c, v) for c, v in self.values if v != c.current]


def _parse(cell: Cell, raw: Any, problems: list[Problem]) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    if cell.field == ANSWER:
        if text in {"0", "1"}:
            return int(text)
        problems.append(Problem(f"Select yes or no for {cell.code}", cell.name))
        return None
    number = parse_whole(text)
    if number is None:
        problems.append(Problem(f"{cell.label} must be a whole number, like 25", cell.name))
    return number


def check_group(entry: GroupEntry, typed: Mapping[str, Any], *, complete: bool) -> Checked:
    """The figures ``typed`` (form name -> text) checked as the calculation core checks them
    (whole numbers; numerator not above the denominator; PCAs and exclusions not above it;
    the numerator not above the denominator less both; a register not above the list size),
    every problem named on its figure. A figure left blank keeps the one that counts now.
    ``complete`` (submitting): an indicator begun needs its numerator and denominator. A
    locked figure typed with a new value is refused with its reason. Raises EntryError."""
    if entry.blockers:
        raise EntryError(entry.blockers)
    problems: list[Problem] = []
    checked = Checked(entry)
    given: dict[str, int | None] = {}
    for cell in entry.cells:
        value = _parse(cell, typed.get(cell.name), problems)
        given[cell.name] = value
        if value is None:
            continue
        if cell.locked is not None:
            if value != cell.current:
                problems.append(Problem(cell.locked, cell.name))
            continue
        checked.values.append((cell, value))
    figures = {
        c.name: given[c.name] if given[c.name] is not None else c.current for c in entry.cells
    }
    for row in entry.rows:
        if row.indicator.tick_box:
            continue
        begun = any(given[c.name] is not None for c in row.cells)
        problems += _count_problems(row, figures, complete and begun)
    list_size = figures[entry.list_size.name]
    for cell in entry.registers:
        size = figures[cell.name]
        if size is not None and list_size is not None and size > list_size:
            problems.append(
                Problem(
                    f"{cell.label} ({size:,}) cannot be more than the list size ({list_size:,})",
                    cell.name,
                )
            )
    if problems:
        raise EntryError(problems)
    return checked


def _count_problems(
    row: IndicatorRow, figures: Mapping[str, int | None], complete: bool
) -> list[Problem]:
    cells = row.cells
    numerator, denominator, pcas, exclusions = (figures[c.name] for c in cells)
    code = row.indicator.code
    found = []
    if complete:
        for cell, value in ((cells[0], numerator), (cells[1], denominator)):
            if value is None:
                found.append(Problem(f"Enter the {cell.label}", cell.name))
    if denominator is None:
        return found
    adjustments = (pcas or 0) + (exclusions or 0)
    if numerator is not None and numerator > denominator:
        found.append(
            Problem(
                f"{code} numerator ({numerator:,}) cannot be more than its denominator "
                f"({denominator:,})",
                cells[0].name,
            )
        )
    if adjustments > denominator:
        found.append(
            Problem(
                f"{code} PCAs and exclusions ({adjustments:,} together) cannot be more than "
                f"its denominator ({denominator:,})",
                cells[2].name if pcas else cells[3].name,
            )
        )
    elif numerator is not None and numerator <= denominator < numerator + adjustments:
        found.append(
            Problem(
                f"{code} numerator ({numerator:,}) cannot be more than its denominator less "
                f"PCAs and exclusions ({denominator - adjustments:,})",
                cells[0].name,
            )
        )
    return found


@dataclass(frozen=True)
class Saved:
    """What a save did: the work in progress or the submission, and for a submission why
    the achievement could not be calculated yet (None: calculated)."""

    submission: DataSubmission
    submitted: bool
    not_calculated: str | None = None


def save_group(
    session: DbSession,
    who: Entrant,
    service: QualityService,
    day: dt.date,
    group: IndicatorGroup,
    typed: Mapping[str, Any],
    *,
    token: str,
    notes: str | None,
    submit: bool,
    today: dt.date | None = None,
) -> Saved:
    """Save the group's figures as work in progress, or submit them (then they count, and
    the achievement is recalculated). Takes the achievement's lock, reads it afresh and
    refuses (:class:`EntryConflict`) when someone saved or submitted since the person opened
    it (``token``); :class:`EntryError` for the rules and figures. Audited
    ``data_submission.saved`` / ``data_submission.submitted``."""
    lock_name(session, f"achievement-entry:{who.provider.id}:{service.id}:{day.isoformat()}")
    entry = open_group(session, who, service, day, group, today=today)
    if entry.token != token:
        raise EntryConflict(_conflict(session, entry))
    checked = check_group(entry, typed, complete=submit)
    notes = (notes or "").strip() or None
    if submit and not checked.changed:
        raise EntryError(
            "These figures are the same as the ones submitted already: change a figure to "
            "submit, or save your notes as work in progress"
            if checked.values
            else "Enter at least one figure to submit"
        )
    wip = work_in_progress(session, who, service, day, group, lock=True)
    if not submit and wip is None and not checked.changed and not notes:
        raise EntryError(
            "There is nothing to save: the figures are the same as the ones submitted already"
        )
    wip = _write(session, entry, wip, checked, notes=notes, submit=submit)
    not_calculated = _recalculate(session, service, who.provider, day) if submit else None
    return Saved(wip, submit, not_calculated)


def _write(
    session: DbSession,
    entry: GroupEntry,
    wip: DataSubmission | None,
    checked: Checked,
    *,
    notes: str | None,
    submit: bool,
) -> DataSubmission:
    """The work in progress saved (its figures replaced by those typed) or submitted (the
    figures that changed, now counting), audited."""
    who, service, day, group = entry.entrant, entry.service, entry.date, entry.group
    moment = now()
    if wip is None:
        wip = DataSubmission(
            service_id=service.id,
            provider_id=who.provider.id,
            achievement_date=day,
            source=who.source,
            status=MANUAL_SUBMISSION.initial,
            group_id=group.id,
        )
        session.add(wip)
    else:
        wip.version += 1
    wip.notes = notes
    wip.saved_by_id = who.user.id
    session.flush()
    session.execute(
        AchievementValue.__table__.delete().where(AchievementValue.submission_id == wip.id)
    )
    kept = checked.changed if submit else checked.values
    if submit:
        set_status(wip, MANUAL_SUBMISSION.step("submit").target)
        wip.submitted_by_id = who.user.id
        wip.submitted_at = moment
        _unmark_earlier(session, who, service, day, [c for c, _ in kept])
    session.add_all(
        AchievementValue(
            submission_id=wip.id,
            service_id=service.id,
            provider_id=who.provider.id,
            achievement_date=day,
            code=cell.code,
            field=cell.field,
            value=value,
            last_submission=submit,
        )
        for cell, value in kept
    )
    session.flush()
    action = MANUAL_SUBMISSION.action("submitted" if submit else "saved")
    record_event(
        session,
        action=action,
        object_type=MANUAL_SUBMISSION.object_type,
        object_id=wip.id,
        actor=who.user,
        organisation=who.provider,
        after={
            "service": service.code,
            "financial_year": service.financial_year,
            "achievement_date": day.isoformat(),
            "group": group.code,
            "source": who.source.name,
            "values": {f"{c.code} {c.field}": v for c, v in kept},
            "notes": notes,
        },
    )
    return wip


def _unmark_earlier(
    session: DbSession, who: Entrant, service: QualityService, day: dt.date, cells: list[Cell]
) -> None:
    """The figures submitted now replace the ones that counted (one statement; kept)."""
    if not cells:
        return
    session.execute(
        update(AchievementValue)
        .where(
            AchievementValue.provider_id == who.provider.id,
            AchievementValue.service_id == service.id,
            AchievementValue.achievement_date == day,
            AchievementValue.last_submission,
            tuple_(AchievementValue.code, AchievementValue.field).in_(
                [(c.code, c.field) for c in cells]
            ),
        )
        .values(last_submission=False)
        .execution_options(synchronize_session=False)
    )


def _recalculate(
    session: DbSession, service: QualityService, provider: Organisation, day: dt.date
) -> str | None:
    """Recalculate the provider's achievement after a submission; why it could not be
    calculated (figures still missing, such as the list size before the extract), or None.
    The submission stands either way: the calculation stores nothing when it refuses."""
    try:
        calculate.recalculate(
            session, service_id=service.id, achievement_date=day, provider_ids=[provider.id]
        )
    except RuleError as error:
        return "; ".join(error.messages)
    return None


def _conflict(session: DbSession, entry: GroupEntry) -> str:
    wip = entry.work_in_progress
    latest = latest_submission(
        session, entry.entrant, entry.service, entry.date, sorted({c.code for c in entry.cells})
    )
    if latest is not None and (wip is None or latest.id > wip.id):
        what = f"submitted{who_and_when(session, latest.submitted_by_id, latest.submitted_at)}"
    elif wip is not None:
        event = last_event(session, "data_submission", wip.id, [MANUAL_SUBMISSION.action("saved")])
        what = f"saved as work in progress{by_event(event)}"
    else:
        what = "changed"
    return (
        f"{entry.group.description} was {what} after you opened it. {NOTHING_CHANGED} "
        "The page now shows the figures as they are: check them and enter yours again"
    )
