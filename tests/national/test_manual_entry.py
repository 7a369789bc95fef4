"""Manual entry (Achievement Entry): work in progress then submission, the last submission
counting, notes, progress, every amendment rule, the commissioner on the provider's behalf,
validation per figure, and a save after someone else's."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.clock import ENGLAND
from claims_portal.extensions import db
from claims_portal.national.models import (
    AchievementValue,
    CalculatedAchievement,
    DataSubmission,
    Declaration,
    DeclarationStatus,
    PaymentType,
    ServiceOffer,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.national.services import manual_entry as entry
from tests.factories.access import user_with_role
from tests.national.manual_entry_helpers import FULL, extract_loaded, figures, make_scene

DAY = dt.date(2026, 3, 31)
#: The extract for 31 March finished at 21:00 on 3 April (England): entry opens on 4 April.
LOADED = dt.datetime(2026, 4, 3, 21, 0, tzinfo=ENGLAND)
TODAY = dt.date(2026, 4, 10)


@pytest.fixture
def scene(db_session):
    return make_scene(DAY)


@pytest.fixture
def loaded(scene):
    return extract_loaded(scene, LOADED)


def _provider(scene):
    return entry.entrant(scene.provider, scene.practice, scene.practice)


def _commissioner(scene):
    return entry.entrant(scene.commissioner, scene.icb, scene.practice)


def _open(scene, who, today=TODAY):
    return entry.open_group(db.session, who, scene.service, DAY, scene.group, today=today)


def _save(scene, who, typed, *, submit, notes=None, today=TODAY, token=None):
    if token is None:
        token = _open(scene, who, today).token
    return entry.save_group(
        db.session, who, scene.service, DAY, scene.group, typed,
        token=token, notes=notes, submit=submit, today=today,
    )  # fmt: skip


def _current(session, scene):
    rows = session.execute(
        select(AchievementValue.code, AchievementValue.field, AchievementValue.value).where(
            AchievementValue.provider_id == scene.practice.id, AchievementValue.last_submission
        )
    )
    return {(code, field): value for code, field, value in rows}


def _problems(error):
    return {(p.field, p.message) for p in error.value.problems}


# --- Work in progress, then submitted -------------------------------------------------------


def test_saved_as_work_in_progress_then_submitted(db_session, scene, loaded):
    who = _provider(scene)
    saved = _save(scene, who, FULL, submit=False, notes="Figures from the audit")
    assert saved.submission.status is SubmissionStatus.WORK_IN_PROGRESS
    assert _current(db_session, scene) == {}  # work in progress counts for nothing yet
    page = _open(scene, who)
    assert page.progress == "Indicators submitted: 0 of 2"
    assert page.list_size.shown == 8000  # the form starts from the work in progress
    assert [p.status for p in entry.group_progress(db_session, who, scene.service, DAY)] == [
        "Work in progress"
    ]

    done = _save(scene, who, FULL, submit=True, notes="Figures from the audit")
    assert done.submission.id == saved.submission.id  # the work in progress became it
    assert done.submission.status is SubmissionStatus.SUBMITTED
    assert done.submission.source is SubmissionSource.MANUAL
    assert done.submission.submitted_by_id == scene.provider.id
    assert _current(db_session, scene) == {
        ("QI013", "ANSWER"): 1,
        ("AF006", "NUMERATOR"): 40,
        ("AF006", "DENOMINATOR"): 50,
        ("AF006", "PCAS"): 2,
        ("AF006", "EXCLUSIONS"): 3,
        ("AF", "REGISTER"): 120,
        ("LIST_SIZE", "LIST_SIZE"): 8000,
    }
    page = _open(scene, who)
    assert page.progress == "Indicators submitted: 2 of 2"
    assert page.work_in_progress is None
    (progress,) = entry.group_progress(db_session, who, scene.service, DAY)
    assert (progress.status, progress.progress) == ("Submitted", "Indicators submitted: 2 of 2")
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "data_submission")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["data_submission.saved", "data_submission.submitted"]
    # Submitting recalculated the practice's achievement.
    assert done.not_calculated is None
    calculated = db_session.scalar(
        select(CalculatedAchievement).where(CalculatedAchievement.provider_id == scene.practice.id)
    )
    assert calculated is not None
    assert calculated.list_size == 8000


def test_the_last_submission_wins_and_earlier_ones_are_kept(db_session, scene, loaded):
    who = _provider(scene)
    first = _save(scene, who, FULL, submit=True).submission
    second = _save(scene, who, {**FULL, "AF006-numerator": "44"}, submit=True).submission
    assert second.id != first.id
    assert _current(db_session, scene)[("AF006", "NUMERATOR")] == 44
    kept = db_session.scalars(
        select(AchievementValue).where(AchievementValue.submission_id == first.id)
    ).all()
    assert len(kept) == 7  # the first submission is kept whole
    assert {(v.code, v.field) for v in kept if not v.last_submission} == {("AF006", "NUMERATOR")}
    # The second holds what changed only; the rest still count from the first.
    holds = db_session.scalars(
        select(AchievementValue).where(AchievementValue.submission_id == second.id)
    ).all()
    assert [(v.field, v.value) for v in holds] == [("NUMERATOR", 44)]


def test_the_same_figures_again_are_not_a_submission(db_session, scene, loaded):
    who = _provider(scene)
    _save(scene, who, FULL, submit=True)
    with pytest.raises(entry.EntryError, match="the same as the ones submitted already"):
        _save(scene, who, FULL, submit=True)
    with pytest.raises(entry.EntryError, match="nothing to save"):
        _save(scene, who, FULL, submit=False)


def test_notes_are_shown_to_later_submitters(db_session, scene, loaded):
    _save(scene, _provider(scene), FULL, submit=True, notes="QI013: the audit of 12 March")
    page = _open(scene, _commissioner(scene))
    (note,) = page.notes
    assert (note.notes, note.who, note.group) == (
        "QI013: the audit of 12 March",
        "Aisha Rahman",
        "Atrial fibrillation",
    )
    assert note.status is SubmissionStatus.SUBMITTED
    # Reviewers read the same.
    assert entry.submission_notes(db_session, scene.service, scene.practice, DAY) == page.notes


# --- Validation, figure by figure -----------------------------------------------------------


def test_every_problem_is_named_on_its_figure(db_session, scene, loaded):
    typed = figures(
        QI013_answer=2,
        AF006_numerator="4O",
        AF006_denominator=50,
        AF006_pcas="-1",
        AF006_exclusions="2.5",
        register_AF="9001",
        list_size="9000",
    )
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), typed, submit=True)
    assert _problems(error) == {
        ("QI013-answer", "Select yes or no for QI013"),
        ("AF006-numerator", "AF006 numerator must be a whole number, like 25"),
        (
            "AF006-pcas",
            "AF006 personalised care adjustments (PCAs) must be a whole number, like 25",
        ),
        ("AF006-exclusions", "AF006 exclusions must be a whole number, like 25"),
        ("AF006-numerator", "Enter the AF006 numerator"),
        ("register-AF", "AF register (9,001) cannot be more than the list size (9,000)"),
    }


_MORE = "cannot be more than its denominator"


@pytest.mark.parametrize(
    ("counts", "field", "message"),
    [
        ((60, 50, 0, 0), "AF006-numerator", f"AF006 numerator (60) {_MORE} (50)"),
        ((10, 50, 30, 25), "AF006-pcas", f"AF006 PCAs and exclusions (55 together) {_MORE} (50)"),
        (
            (10, 50, 0, 51), "AF006-exclusions",
            f"AF006 PCAs and exclusions (51 together) {_MORE} (50)",
        ),
        (
            (45, 50, 3, 4), "AF006-numerator",
            f"AF006 numerator (45) {_MORE} less PCAs and exclusions (43)",
        ),
        ((None, 50, 0, 0), "AF006-numerator", "Enter the AF006 numerator"),
        ((40, None, 0, 0), "AF006-denominator", "Enter the AF006 denominator"),
    ],
)  # fmt: skip
def test_the_counts_are_checked_as_the_core_checks_them(scene, loaded, counts, field, message):
    numerator, denominator, pcas, exclusions = ("" if c is None else c for c in counts)
    typed = figures(
        AF006_numerator=numerator, AF006_denominator=denominator, AF006_pcas=pcas,
        AF006_exclusions=exclusions,
    )  # fmt: skip
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), typed, submit=True)
    assert _problems(error) == {(field, message)}


def test_work_in_progress_may_be_incomplete_but_not_wrong(db_session, scene, loaded):
    who = _provider(scene)
    _save(scene, who, figures(AF006_numerator=40), submit=False)  # the denominator comes later
    with pytest.raises(entry.EntryError) as error:
        _save(scene, who, figures(AF006_numerator=40, AF006_denominator=30), submit=False)
    assert _problems(error) == {
        ("AF006-numerator", "AF006 numerator (40) cannot be more than its denominator (30)")
    }


# --- What may be amended, and by whom -------------------------------------------------------


def test_a_declaration_past_the_provider_blocks_the_provider_not_the_commissioner(
    db_session, scene, loaded
):
    _save(scene, _provider(scene), FULL, submit=True)
    declaration = Declaration(
        service_id=scene.service.id, provider_id=scene.practice.id, achievement_date=DAY,
        status=DeclarationStatus.AWAITING_COMMISSIONER_APPROVAL,
    )  # fmt: skip
    db_session.add(declaration)
    db_session.commit()
    changed = {**FULL, "AF006-numerator": "41"}
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), changed, submit=True)
    assert error.value.messages == [
        "The achievement at 31 March 2026 has been declared (awaiting commissioning "
        "organisation approval): only the commissioner can amend it now, until finance approval"
    ]
    saved = _save(scene, _commissioner(scene), changed, submit=True)
    assert saved.submission.source is SubmissionSource.COMMISSIONER


def test_finance_approval_blocks_everyone(db_session, scene, loaded):
    db_session.add(
        Declaration(
            service_id=scene.service.id, provider_id=scene.practice.id, achievement_date=DAY,
            status=DeclarationStatus.APPROVED,
        )
    )  # fmt: skip
    db_session.commit()
    message = (
        "The achievement at 31 March 2026 has been financially approved (approved): it can no "
        "longer be amended"
    )
    for who in (_provider(scene), _commissioner(scene)):
        with pytest.raises(entry.EntryError) as error:
            _save(scene, who, FULL, submit=False)
        assert error.value.messages == [message]


def test_values_from_an_extract_cannot_be_overwritten_by_the_provider(db_session, scene):
    extract_loaded(scene, LOADED, {("AF006", "NUMERATOR"): 30, ("AF006", "DENOMINATOR"): 50})
    who = _provider(scene)
    page = _open(scene, who)
    locked = {c.name: c.locked for c in page.cells if c.locked}
    message = "AF006 numerator came from the extract: values from an extract cannot be changed"
    assert locked["AF006-numerator"] == message
    with pytest.raises(entry.EntryError) as error:
        _save(scene, who, {**FULL, "AF006-numerator": "31"}, submit=True)
    assert _problems(error) == {("AF006-numerator", message)}
    # The same figure typed again, or left alone, is no change: the rest is submitted.
    _save(scene, who, {**FULL, "AF006-numerator": "30", "AF006-denominator": "50"}, submit=True)
    assert _current(db_session, scene)[("AF006", "NUMERATOR")] == 30
    # The commissioner may correct it on the provider's behalf.
    _save(scene, _commissioner(scene), {**FULL, "AF006-numerator": "31"}, submit=True)
    assert _current(db_session, scene)[("AF006", "NUMERATOR")] == 31


def test_the_provider_cannot_overwrite_the_commissioner_s_entry(db_session, scene, loaded):
    _save(scene, _commissioner(scene), FULL, submit=True)
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), {**FULL, "list-size": "8100"}, submit=True)
    assert _problems(error) == {
        (
            "list-size",
            "List size was entered by the commissioner: only the commissioner can change it",
        )
    }  # fmt: skip


def test_the_amendment_window_closes_for_the_provider(db_session, scene, loaded):
    scene.service.amendment_window_days = 30
    db_session.commit()
    last_day = DAY + dt.timedelta(days=30)
    _save(scene, _provider(scene), FULL, submit=False, today=last_day)
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), FULL, submit=True, today=last_day + dt.timedelta(days=1))
    assert error.value.messages == [
        "The amendment window closed on 30 April 2026, 30 days after the achievement date: ask "
        "your commissioner to amend it on your behalf"
    ]
    _save(scene, _commissioner(scene), FULL, submit=True, today=last_day + dt.timedelta(days=1))


def test_no_window_means_no_limit(db_session, scene, loaded):
    _save(scene, _provider(scene), FULL, submit=True, today=dt.date(2027, 3, 1))


def test_extracted_figures_open_the_day_after_the_extract_loads(db_session, scene):
    who = _provider(scene)
    before = _open(scene, who)
    assert before.list_size.locked == (
        "List size can be entered from the day after the extract for Quality and Outcomes "
        "Framework at this date is loaded, and it has not been loaded yet"
    )
    # QOF's manual indicators can be entered any time.
    (qi013,) = [row for row in before.rows if row.indicator.code == "QI013"]
    assert [c.locked for c in qi013.cells] == [None]
    saved = _save(scene, who, figures(QI013_answer=1), submit=True)
    assert _current(db_session, scene) == {("QI013", "ANSWER"): 1}
    # Submitted, but not calculated until the list size arrives with the extract.
    assert saved.not_calculated is not None
    assert "no list size has been submitted" in saved.not_calculated

    extract_loaded(scene, LOADED)
    on_the_day = LOADED.date()
    with pytest.raises(entry.EntryError) as error:
        _save(scene, who, FULL, submit=True, today=on_the_day)
    assert ("list-size", "List size can be entered from 4 April 2026, the day after the "
            "extract was loaded") in _problems(error)  # fmt: skip
    _save(scene, who, FULL, submit=True, today=on_the_day + dt.timedelta(days=1))


def test_the_opening_day_is_england_s_date(db_session, scene):
    # 00:30 BST on 4 April is 23:30 UTC on 3 April: entry opens on 5 April.
    extract_loaded(scene, dt.datetime(2026, 4, 3, 23, 30, tzinfo=dt.UTC))
    assert entry.entry_opens_on(db_session, scene.service, DAY) == dt.date(2026, 4, 5)


def test_participation_only_services_need_no_extract(db_session):
    scene = make_scene(DAY, payment_type=PaymentType.PARTICIPATION_ONLY)
    _save(scene, _provider(scene), FULL, submit=True)


def test_a_practice_not_taking_part_is_refused(db_session, scene, loaded):
    row = db_session.scalar(
        select(ServiceOffer).where(ServiceOffer.provider_id == scene.practice.id)
    )
    row.end_date = dt.date(2026, 2, 28)  # participation ended before the achievement date
    db_session.commit()
    with pytest.raises(entry.EntryError) as error:
        _save(scene, _provider(scene), FULL, submit=False)
    assert error.value.messages == [
        f"{scene.practice.name} does not take part in Quality and Outcomes Framework 2025/26 "
        "on 31 March 2026"
    ]


# --- Who may enter for whom -----------------------------------------------------------------


def test_the_commissioner_enters_on_the_provider_s_behalf(db_session, scene, loaded):
    who = _commissioner(scene)
    assert who.source is SubmissionSource.COMMISSIONER
    saved = _save(scene, who, FULL, submit=True, notes="Entered for the practice")
    assert saved.submission.source is SubmissionSource.COMMISSIONER
    assert saved.submission.provider_id == scene.practice.id
    assert _open(scene, _provider(scene)).progress == "Indicators submitted: 2 of 2"


def test_another_icb_s_practice_is_refused(db_session, scene):
    with pytest.raises(PermissionDenied):
        entry.entrant(scene.commissioner, scene.icb, scene.other_practice)
    with pytest.raises(PermissionDenied):
        entry.entrant(scene.other_commissioner, scene.other_icb, scene.practice)
    with pytest.raises(PermissionDenied):
        entry.entrant(scene.provider, scene.practice, scene.other_practice)
    # Acting from the practice needs a role there: the ICB's person is not the practice.
    with pytest.raises(PermissionDenied):
        entry.entrant(scene.commissioner, scene.practice, scene.practice)


# --- Two people at once ---------------------------------------------------------------------


def test_a_save_after_someone_else_s_is_refused_and_says_whose(db_session, scene, loaded):
    colleague = user_with_role(Role.ACHIEVEMENT_ENTRY, scene.practice, full_name="Tom Okafor")
    mine = _provider(scene)
    theirs = entry.entrant(colleague, scene.practice, scene.practice)
    seen = _open(scene, mine).token  # both open the empty group
    _save(scene, theirs, FULL, submit=False, token=seen)
    with pytest.raises(entry.EntryConflict) as error:
        _save(scene, mine, {**FULL, "list-size": "8100"}, submit=True, token=seen)
    (message,) = error.value.messages
    assert message.startswith("Atrial fibrillation was saved as work in progress by Tom Okafor at ")
    assert "Nothing was changed." in message
    assert error.value.status_code == 409
    # Tom submits; a save from the page opened before that is refused the same way.
    seen = _open(scene, mine).token
    _save(scene, theirs, FULL, submit=True)
    with pytest.raises(entry.EntryConflict, match="was submitted by Tom Okafor"):
        _save(scene, mine, {**FULL, "list-size": "8100"}, submit=True, token=seen)
    assert _current(db_session, scene)[("LIST_SIZE", "LIST_SIZE")] == 8000


def test_the_other_side_s_submission_leaves_work_in_progress_marked(db_session, scene, loaded):
    provider = _provider(scene)
    _save(scene, provider, FULL, submit=False, notes="Half done")
    _save(scene, _commissioner(scene), {**FULL, "list-size": "8100"}, submit=True)
    page = _open(scene, provider)
    assert page.work_in_progress is not None  # nothing the practice typed is lost
    assert page.list_size.current == 8100
    assert page.list_size.shown == 8000
    assert page.stale_note is not None
    assert page.stale_note.startswith(
        "This work in progress was saved before newer figures were submitted by Priya Shah"
    )
    wips = db_session.scalars(
        select(DataSubmission).where(DataSubmission.status == SubmissionStatus.WORK_IN_PROGRESS)
    ).all()
    assert len(wips) == 1
