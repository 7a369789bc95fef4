"""Starting a claim, saving drafts, what submission checks, and the value with caps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction, ClaimStatus, parse_reference
from claims_portal.claims.services import ClaimError, ClaimInvalid, parse_entries
from claims_portal.schemes.models import (
    ClaimFrequency,
    EvidenceRequirement,
    OfferStatus,
    QuestionKind,
)
from tests.claims.helpers import act, entries, start, submit
from tests.factories.claims import claim_scene

A = ClaimAction
S = ClaimStatus


# --- Starting ------------------------------------------------------------------------------


def test_a_claim_exists_at_once_as_a_draft(db_session, scene):
    claim = start(db_session, scene)
    assert claim.status is S.DRAFT
    assert claim.reference == f"CLM-{claim.id:06d}"
    assert parse_reference(claim.reference) == claim.id
    assert parse_reference("clm-12") == 12
    assert parse_reference("nonsense") is None
    assert [line.component for line in claim.lines] == scene.components
    assert claim.scope == "scheme"
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "claim.started"))
    assert audit.after["reference"] == claim.reference


def test_one_claim_per_practice_scheme_and_period(db_session, scene):
    first = start(db_session, scene)
    with pytest.raises(ClaimError) as caught:
        start(db_session, scene)
    assert caught.value.existing_claim_id == first.id
    assert first.reference in caught.value.messages[0]
    assert "already has a claim" in caught.value.messages[0]


def test_a_single_service_scheme_takes_one_claim_per_component(db_session):
    scene = claim_scene(multi_service=False)
    with pytest.raises(ClaimError, match="Select the service"):
        start(db_session, scene)
    first = start(db_session, scene, component=scene.components[0])
    assert [line.component for line in first.lines] == [scene.components[0]]
    second = start(db_session, scene, component=scene.components[1])
    assert second.scope != first.scope
    with pytest.raises(ClaimError):
        start(db_session, scene, component=scene.components[0])
    options = services.start_options(db_session, scene.practice, scene.today)
    assert [(o.available, o.components) for o in options] == [(False, [])]


def test_two_people_starting_the_same_claim_at_once_are_stopped_by_the_index(
    db_session, scene, monkeypatch
):
    from claims_portal.claims.services import starting

    first = start(db_session, scene)
    real = starting.blocking_claim
    calls = []

    def not_yet_visible(*args, **kwargs):
        # The first check runs before the other person's claim is committed.
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(starting, "blocking_claim", not_yet_visible)
    with pytest.raises(ClaimError) as caught:
        start(db_session, scene)
    assert caught.value.existing_claim_id == first.id
    assert first.status is S.DRAFT  # the savepoint kept the first claim


def test_an_ad_hoc_scheme_takes_several_claims_in_its_period(db_session):
    scene = claim_scene(frequency=ClaimFrequency.AD_HOC)
    first, second = start(db_session, scene), start(db_session, scene)
    assert (first.scope, second.scope) == (None, None)


def test_the_database_refuses_a_second_live_claim_too(db_session, scene):
    from sqlalchemy.exc import IntegrityError

    from tests.factories.claims import ClaimFactory

    start(db_session, scene)
    with pytest.raises(IntegrityError):
        ClaimFactory(
            provider=scene.practice,
            scheme=scene.scheme,
            window=scene.window,
            created_by=scene.user,
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("offer", "has not accepted"),
        ("closed", "closed on"),
        ("not_yet", "open on"),
    ],
)
def test_a_claim_starts_only_in_an_open_window_of_an_accepted_scheme(
    db_session, scene, change, message
):
    if change == "offer":
        scene.offer.status = OfferStatus.PENDING
    elif change == "closed":
        scene.window.closes_on = scene.today - dt.timedelta(days=1)
    else:
        scene.window.opens_on = scene.today + dt.timedelta(days=1)
    db_session.flush()
    with pytest.raises(ClaimError, match=message):
        start(db_session, scene)
    assert services.start_options(db_session, scene.practice, scene.today) == [] or change
    if change != "offer":
        assert services.start_options(db_session, scene.practice, scene.today) == []


def test_only_the_practices_own_users_start_claims(db_session, scene):
    other = claim_scene()
    with pytest.raises(PermissionDenied):
        start(db_session, scene, actor=other.user)
    with pytest.raises(PermissionDenied):
        start(db_session, scene, actor=scene.tier_1)


def test_start_options_list_open_windows_with_existing_claims(db_session, scene):
    options = services.start_options(db_session, scene.practice, scene.today)
    assert [(o.scheme, o.window, o.available) for o in options] == [
        (scene.scheme, scene.window, True)
    ]
    claim = start(db_session, scene)
    (option,) = services.start_options(db_session, scene.practice, scene.today)
    assert (option.available, option.existing) == (False, [claim])


# --- Drafts --------------------------------------------------------------------------------


def test_a_draft_saves_whatever_was_entered(db_session):
    scene = claim_scene(questions=True)
    claim = start(db_session, scene)
    number, _yes_no, text = scene.scheme.questions
    form = {
        f"units-{claim.lines[0].id}": "1,200",
        f"units-{claim.lines[1].id}": "",
        f"answer-{number.id}": "3",
        f"answer-{text.id}": "Clinic ran late in week 2",
        "answers-present": "1",
    }
    parsed = parse_entries(claim, form)
    assert parsed.problems == []
    version = claim.version
    services.save_draft(db_session, claim.id, scene.user, expected_version=version, entries=parsed)
    assert [line.units for line in claim.lines] == [1200, None]
    assert {a.question_id: a.value for a in claim.answers} == {
        number.id: "3",
        text.id: "Clinic ran late in week 2",
    }
    assert claim.version == version + 1
    # Nothing changed: no new version.
    services.save_draft(
        db_session, claim.id, scene.user, expected_version=claim.version, entries=parsed
    )
    assert claim.version == version + 1


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("12a", "as a whole number"),
        ("1.5", "as a whole number"),
        ("-3", "0 or more"),
        ("99999999", "1,000,000 or fewer"),
    ],
)
def test_units_that_cannot_be_read_are_refused_and_nothing_is_saved(
    db_session, scene, units, message
):
    claim = start(db_session, scene)
    parsed = parse_entries(
        claim, {f"units-{claim.lines[0].id}": units, f"units-{claim.lines[1].id}": "4"}
    )
    assert parsed.problems[0].field == f"units-{claim.lines[0].id}"
    assert message in parsed.problems[0].message
    with pytest.raises(ClaimInvalid):
        services.save_draft(
            db_session, claim.id, scene.user, expected_version=claim.version, entries=parsed
        )


@pytest.mark.parametrize(
    ("kind", "value", "stored", "problem"),
    [
        (QuestionKind.NUMBER, "1,234.5", "1234.5", None),
        (QuestionKind.NUMBER, "lots", None, "Enter a number"),
        (QuestionKind.YES_NO, "Yes", "yes", None),
        (QuestionKind.YES_NO, "maybe", None, "Select yes or no"),
        (QuestionKind.SINGLE_CHOICE, "Ardens", "Ardens", None),
        (QuestionKind.SINGLE_CHOICE, "Other tool", None, "Select one of the options"),
        (QuestionKind.TEXT, "Fine", "Fine", None),
        (QuestionKind.TEXT, "For 9434765919", None, "Remove the NHS number"),
        (QuestionKind.TEXT, "x" * 2001, None, "2,000 characters or fewer"),
    ],
)
def test_answers_are_read_by_their_kind(db_session, kind, value, stored, problem):
    from tests.factories.schemes import QuestionFactory

    scene = claim_scene()
    question = QuestionFactory(scheme=scene.scheme, kind=kind, choices="Eclipse Live\nArdens")
    claim = start(db_session, scene)
    parsed = parse_entries(claim, {f"answer-{question.id}": value})
    if problem:
        assert problem in parsed.problems[0].message
        assert question.id not in parsed.answers
    else:
        assert parsed.answers[question.id] == stored


@pytest.mark.parametrize(
    ("day", "month", "year", "stored"),
    [
        ("1", "12", "2026", "2026-12-01"),
        ("31", "2", "2027", None),
        ("1", "12", "26", None),
        ("", "", "", "empty"),
    ],
)
def test_date_answers(db_session, day, month, year, stored):
    from tests.factories.schemes import QuestionFactory

    scene = claim_scene()
    question = QuestionFactory(scheme=scene.scheme, kind=QuestionKind.DATE)
    claim = start(db_session, scene)
    name = f"answer-{question.id}"
    parsed = parse_entries(
        claim, {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}
    )
    if stored == "empty":
        assert parsed.answers[question.id] is None
    elif stored is None:
        assert parsed.problems[0].field == f"{name}-day"
    else:
        assert parsed.answers[question.id] == stored
        assert services.display_answer(question, stored) == "1 December 2026"


# --- Submission checks ---------------------------------------------------------------------


def test_submission_lists_every_problem_and_changes_nothing(db_session):
    scene = claim_scene(
        questions=True, evidence=EvidenceRequirement.WHOLE_SCHEME, max_units_per_claim=100
    )
    claim = start(db_session, scene)
    db_session.commit()  # as the view that started it did
    version = claim.version
    number = scene.scheme.questions[0]
    form = {
        f"units-{claim.lines[0].id}": "150",
        f"units-{claim.lines[1].id}": "",
        f"answer-{number.id}": "",
        "answers-present": "1",
    }
    with pytest.raises(ClaimInvalid) as caught:
        services.transition(
            db_session,
            claim.id,
            A.SUBMIT,
            scene.user,
            expected_version=version,
            entries=parse_entries(claim, form),
            today=scene.today,
        )
    messages = caught.value.messages
    assert messages == [
        "Enter the units for Health check part 2 (0 if none)",
        "Health check part 1: at most 100 can be claimed in one claim (you entered 150)",
        "Answer the question: How many patients declined?",
        "Answer the question: Did you hold a review meeting?",
        "Add an evidence file: this scheme needs evidence with every claim",
    ]
    fields = [p.field for p in caught.value.problems]
    assert fields[:2] == [f"units-{claim.lines[1].id}", f"units-{claim.lines[0].id}"]
    assert fields[-1] == "evidence-file"
    db_session.rollback()  # what the view does
    db_session.expire_all()
    assert claim.version == version
    assert claim.status is S.DRAFT
    assert claim.lines[0].units is None


def test_all_zero_units_are_not_a_claim(db_session, scene):
    claim = start(db_session, scene)
    with pytest.raises(ClaimInvalid, match="at least one unit"):
        submit(db_session, scene, claim, 0, 0)


def test_evidence_set_per_component(db_session):
    scene = claim_scene(evidence=EvidenceRequirement.PER_COMPONENT)
    scene.components[1].evidence_required = True
    db_session.flush()
    claim = start(db_session, scene)
    submit(db_session, scene, claim, 5, 0)  # the component needing evidence is not claimed
    other = claim_scene(evidence=EvidenceRequirement.PER_COMPONENT)
    other.components[1].evidence_required = True
    db_session.flush()
    claim = start(db_session, other)
    with pytest.raises(ClaimInvalid, match="Health check part 2 needs evidence"):
        submit(db_session, other, claim, 5, 1)


def test_a_window_closed_since_the_draft_started_stops_the_first_submission(db_session, scene):
    claim = start(db_session, scene)
    scene.window.closes_on = scene.today - dt.timedelta(days=1)
    db_session.flush()
    with pytest.raises(ClaimInvalid, match=r"closed on .*: this claim can no longer be submitted"):
        submit(db_session, scene, claim)


def test_a_declined_claim_may_be_resubmitted_after_its_window_closed(db_session, one_step):
    claim = start(db_session, one_step)
    submit(db_session, one_step, claim)
    act(db_session, claim, A.TIER_1_DECLINE, one_step.tier_1, reason="Wrong figures")
    one_step.window.closes_on = one_step.today - dt.timedelta(days=1)
    db_session.flush()
    submit(db_session, one_step, claim, 2, 2)
    assert claim.status is S.AWAITING_COMMISSIONER_REVIEW


def test_a_participation_only_claim_totals_nothing(db_session):
    scene = claim_scene(participation_only=True, two_step=False)
    claim = start(db_session, scene)
    assert claim.lines == []
    services.transition(
        db_session,
        claim.id,
        A.SUBMIT,
        scene.user,
        expected_version=claim.version,
        today=scene.today,
    )
    assert claim.value == Decimal("0.00")


# --- The value: caps and prior claims ------------------------------------------------------


def test_the_claim_cap_and_prior_claims_reduce_the_value(db_session):
    scene = claim_scene(
        two_step=False,
        frequency=ClaimFrequency.AD_HOC,
        tariffs=("25.00",),
        year_cap_amount=Decimal("1000.00"),
    )
    first = start(db_session, scene)
    submit(db_session, scene, first, 30)  # £750.00
    second = start(db_session, scene)
    submit(db_session, scene, second, 20)  # £500.00 asked; £250.00 left under the cap
    assert second.value == Decimal("250.00")
    line = second.lines[0]
    assert (line.gross_value, line.value, line.capped_amount) == (
        Decimal("500.00"),
        Decimal("250.00"),
        Decimal("250.00"),
    )
    assert "£750.00 already claimed this financial year" in line.cap_note
    # A declined claim no longer counts: a third claim gets the allowance back.
    act(db_session, first, A.TIER_1_DECLINE, scene.tier_1, reason="Duplicate")
    priced = services.price_claim(db_session, second)
    assert priced.total == Decimal("500.00")


def test_the_live_value_shows_before_submission(db_session, scene):
    claim = start(db_session, scene)
    services.save_draft(
        db_session,
        claim.id,
        scene.user,
        expected_version=claim.version,
        entries=entries(claim, 3, None),
    )
    priced, problems = services.try_price_claim(db_session, claim)
    assert problems == []
    assert priced.total == Decimal("75.00")
    assert "Gross value" in priced.result.lines[0].explanation.render()
