"""Scheme rules: creation, publishing (every problem listed), locking, closing, auditing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.schemes import services
from claims_portal.schemes.models import (
    ClaimFrequency,
    EvidenceRequirement,
    QuestionKind,
    Scheme,
    SchemeStatus,
)
from claims_portal.schemes.services import SchemeError
from tests.factories.payments import PaycodeFactory
from tests.factories.schemes import (
    ClaimWindowFactory,
    ComponentFactory,
    QuestionFactory,
    SchemeFactory,
    TariffFactory,
    ready_scheme,
)

D = dt.date


@pytest.fixture(autouse=True)
def _paycodes(db_session):
    """The paycodes these tests choose (a scheme's paycode comes from the paycode list)."""
    for code in ("HC01", "HC02"):
        PaycodeFactory(code=code)


def _new(session, tenant, **overrides):
    values = {
        "actor": tenant.admin,
        "commissioner": tenant.icb,
        "code": "les-hc-2627",
        "name": "  NHS health checks  ",
        "financial_year": "2026/27",
        "start_date": D(2026, 4, 1),
        "end_date": D(2027, 3, 31),
        "claim_frequency": ClaimFrequency.MONTHLY,
        "paycode": "hc01",
    } | overrides
    return services.create_scheme(session, **values)


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_create_scheme_normalises_and_audits(db_session, ours, theirs):
    scheme = _new(db_session, ours, shared_with=[theirs.icb])
    assert (scheme.code, scheme.name, scheme.paycode) == (
        "LES-HC-2627",
        "NHS health checks",
        "HC01",
    )
    assert scheme.status is SchemeStatus.DRAFT
    assert scheme.shared_with == [theirs.icb]
    (event,) = _events(db_session, "scheme.created")
    assert event.after["code"] == "LES-HC-2627"
    assert event.after["commissioner"] == ours.icb.ods_code
    assert event.after["shared_with"] == [theirs.icb.ods_code]
    assert event.actor_id == ours.admin.id


def test_create_scheme_lists_every_problem(db_session, ours):
    with pytest.raises(SchemeError) as raised:
        _new(
            db_session,
            ours,
            code="no spaces allowed",
            name=" ",
            financial_year="2026/28",
            start_date=D(2026, 5, 1),
            end_date=D(2026, 4, 1),
            window_days=0,
        )
    problems = raised.value.messages
    assert len(problems) == 5
    assert any("scheme code" in p for p in problems)
    assert any("name" in p for p in problems)
    assert any("financial year" in p for p in problems)
    assert any("end date" in p for p in problems)
    assert any("1 to 366 days" in p for p in problems)


def test_scheme_dates_must_lie_inside_its_financial_year(db_session, ours):
    with pytest.raises(SchemeError, match="inside the financial year 2026/27"):
        _new(db_session, ours, end_date=D(2027, 4, 30))


def test_codes_are_unique_within_a_commissioner_only(db_session, ours, theirs):
    _new(db_session, ours)
    with pytest.raises(SchemeError, match="already has a scheme with the code LES-HC-2627"):
        _new(db_session, ours)
    assert _new(db_session, theirs, actor=theirs.admin).code == "LES-HC-2627"


def test_a_sub_location_can_commission_a_scheme(db_session, ours):
    assert _new(db_session, ours, commissioner=ours.sub_location).commissioner == ours.sub_location


@pytest.mark.parametrize("who", ["tier_1", "tier_2", "finance", "provider"])
def test_only_administrators_configure_schemes(db_session, ours, who):
    with pytest.raises(PermissionDenied):
        _new(db_session, ours, actor=getattr(ours, who))


def test_another_icbs_administrator_cannot_create_or_change_our_schemes(db_session, ours, theirs):
    with pytest.raises(PermissionDenied):
        _new(db_session, ours, actor=theirs.admin)
    scheme = _new(db_session, ours)
    with pytest.raises(PermissionDenied):
        services.update_scheme(db_session, scheme, actor=theirs.admin, name="Hijacked")
    with pytest.raises(PermissionDenied):
        services.delete_scheme(db_session, scheme, actor=theirs.admin)


def test_a_scheme_cannot_be_shared_within_its_own_icb(db_session, ours):
    with pytest.raises(SchemeError, match="already sees"):
        _new(db_session, ours, shared_with=[ours.sub_location])
    with pytest.raises(SchemeError, match="ICBs and their sub-locations"):
        _new(db_session, ours, shared_with=[ours.practice])


# --- Publishing ---------------------------------------------------------------------------


def test_publishing_lists_every_problem_at_once(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, paycode=None)
    QuestionFactory(
        scheme=scheme, kind=QuestionKind.SINGLE_CHOICE, text="Which clinic?", choices="One"
    )
    with pytest.raises(SchemeError) as raised:
        services.publish_scheme(db_session, scheme, actor=ours.admin)
    assert raised.value.messages == [
        "Add at least one component, or make the scheme participation only",
        "Choose the paycode: the scheme pays through the payments agency",
        "Add the claim windows (generate them from the claim frequency)",
        "Give the question “Which clinic?” at least two choices",
    ]
    assert scheme.status is SchemeStatus.DRAFT


def test_publishing_checks_windows_and_a_tariff_for_every_period(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, start_date=D(2026, 4, 1), end_date=D(2026, 9, 30))
    component = ComponentFactory(scheme=scheme, code="HC1")
    TariffFactory(component=component, effective_from=D(2026, 6, 15))
    ClaimWindowFactory(
        scheme=scheme,
        period_start=D(2026, 4, 1),
        period_end=D(2026, 5, 31),
        opens_on=D(2026, 6, 1),
        closes_on=D(2026, 6, 30),
    )
    ClaimWindowFactory(
        scheme=scheme,
        period_start=D(2026, 5, 1),
        period_end=D(2026, 6, 30),
        opens_on=D(2026, 7, 1),
        closes_on=D(2026, 7, 30),
    )
    ClaimWindowFactory(
        scheme=scheme,
        period_start=D(2026, 10, 1),
        period_end=D(2026, 10, 31),
        opens_on=D(2026, 11, 1),
        closes_on=D(2026, 11, 30),
    )
    with pytest.raises(SchemeError) as raised:
        services.publish_scheme(db_session, scheme, actor=ours.admin)
    problems = raised.value.messages
    assert (
        "The claim periods 1 April 2026 to 31 May 2026 and 1 May 2026 to 30 June 2026 overlap"
        in problems
    )
    assert any("October 2026 falls outside the scheme's dates" in p for p in problems)
    # The tariff takes effect on 15 June: the periods starting before it have none.
    assert any(
        p.startswith(
            "Component HC1 has no tariff in force for 1 April 2026 to 31 May 2026, "
            "1 May 2026 to 30 June 2026"
        )
        for p in problems
    )


def test_participation_only_schemes_need_no_components_and_may_not_have_them(db_session, ours):
    scheme = SchemeFactory(
        commissioner=ours.icb, participation_only=True, claim_frequency=ClaimFrequency.ANNUAL
    )
    ClaimWindowFactory(
        scheme=scheme,
        period_start=scheme.start_date,
        period_end=scheme.end_date,
        opens_on=D(2027, 4, 1),
        closes_on=D(2027, 4, 30),
    )
    assert services.publication_problems(scheme) == []
    ComponentFactory(scheme=scheme)
    assert services.publication_problems(scheme) == [
        "A participation-only scheme pays nothing: remove its components or untick "
        "participation only"
    ]


def test_publish_succeeds_and_is_audited(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    assert scheme.status is SchemeStatus.PUBLISHED
    assert scheme.published_at is not None
    (event,) = _events(db_session, "scheme.published")
    assert event.before == {"status": "DRAFT"}
    assert event.after == {"status": "PUBLISHED", "paycode": scheme.paycode}
    with pytest.raises(SchemeError, match="already published"):
        services.publish_scheme(db_session, scheme, actor=ours.admin)


def test_tier_1_cannot_publish(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    with pytest.raises(PermissionDenied):
        services.publish_scheme(db_session, scheme, actor=ours.tier_1)


# --- After publishing ---------------------------------------------------------------------


def test_published_schemes_lock_the_paycode_and_structure_but_not_the_wording(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, paycode="HC01")
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="its paycode can no longer change"):
        services.update_scheme(db_session, scheme, actor=ours.admin, paycode="HC02")
    with pytest.raises(SchemeError, match="its code, end date can no longer change"):
        services.update_scheme(
            db_session, scheme, actor=ours.admin, code="NEW", end_date=D(2027, 1, 31)
        )
    assert scheme.paycode == "HC01"
    assert services.update_scheme(
        db_session, scheme, actor=ours.admin, name="Health checks 2026/27"
    )
    event = _events(db_session, "scheme.updated")[-1]
    assert event.before == {
        "name": scheme.name.replace("Health checks 2026/27", event.before["name"])
    }
    assert event.after == {"name": "Health checks 2026/27"}
    assert not services.update_scheme(
        db_session, scheme, actor=ours.admin, name="Health checks 2026/27"
    )
    with pytest.raises(SchemeError, match="components can no longer be added"):
        services.add_component(
            db_session, scheme, actor=ours.admin, code="X2", name="X", unit_label="x"
        )
    with pytest.raises(SchemeError, match="questions can no longer be added"):
        services.add_question(
            db_session, scheme, actor=ours.admin, text="Q?", kind=QuestionKind.TEXT
        )


def test_published_schemes_are_never_deleted_but_closed(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="cannot be deleted: close it instead"):
        services.delete_scheme(db_session, scheme, actor=ours.admin)
    services.close_scheme(db_session, scheme, actor=ours.admin)
    assert scheme.status is SchemeStatus.CLOSED
    with pytest.raises(SchemeError, match="closed"):
        services.update_scheme(db_session, scheme, actor=ours.admin, name="Again")
    with pytest.raises(SchemeError, match="Only a published scheme can be closed"):
        services.close_scheme(db_session, scheme, actor=ours.admin)


def test_deleting_a_draft_removes_its_parts_and_is_audited(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    QuestionFactory(scheme=scheme)
    scheme_id = scheme.id
    services.delete_scheme(db_session, scheme, actor=ours.admin)
    assert db_session.get(Scheme, scheme_id) is None
    (event,) = _events(db_session, "scheme.deleted")
    assert event.before["code"] == scheme.code


def test_scheme_updates_record_before_and_after(db_session, ours, theirs):
    scheme = _new(db_session, ours)
    services.update_scheme(
        db_session,
        scheme,
        actor=ours.admin,
        evidence_requirement=EvidenceRequirement.WHOLE_SCHEME,
        shared_with=[theirs.icb],
    )
    event = _events(db_session, "scheme.updated")[-1]
    assert event.before == {"evidence_requirement": "NOT_REQUIRED", "shared_with": []}
    assert event.after == {
        "evidence_requirement": "WHOLE_SCHEME",
        "shared_with": [theirs.icb.ods_code],
    }


# --- Components, questions ----------------------------------------------------------------


def test_components_validate_caps_and_codes(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb)
    component = services.add_component(
        db_session,
        scheme,
        actor=ours.admin,
        code="hc1",
        name="Health check",
        unit_label="check",
        period_cap_amount="1500.00",
        year_cap_units=400,
    )
    assert component.code == "HC1"
    assert component.period_cap_amount == Decimal("1500.00")
    with pytest.raises(SchemeError, match="already has a component HC1"):
        services.add_component(
            db_session, scheme, actor=ours.admin, code="HC1", name="x", unit_label="x"
        )
    with pytest.raises(SchemeError) as raised:
        services.add_component(
            db_session,
            scheme,
            actor=ours.admin,
            code="HC2",
            name="",
            unit_label="",
            period_cap_amount="12.345",
            year_cap_units=-1,
        )
    assert len(raised.value.problems) == 4
    services.update_component(db_session, component, actor=ours.admin, name="NHS health check")
    event = _events(db_session, "scheme_component.updated")[-1]
    assert (event.before, event.after) == ({"name": "Health check"}, {"name": "NHS health check"})
    services.remove_component(db_session, component, actor=ours.admin)
    assert scheme.components == []


def test_single_choice_questions_need_choices_and_keep_their_kind_once_published(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    with pytest.raises(SchemeError, match="at least two choices"):
        services.add_question(
            db_session,
            scheme,
            actor=ours.admin,
            text="Which?",
            kind=QuestionKind.SINGLE_CHOICE,
            choices="Only",
        )
    question = services.add_question(
        db_session,
        scheme,
        actor=ours.admin,
        text="Which clinic?",
        kind=QuestionKind.SINGLE_CHOICE,
        choices="Morning\n\n  Evening  ",
        required=True,
    )
    assert question.choice_list == ["Morning", "Evening"]
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="kind can no longer change"):
        services.update_question(db_session, question, actor=ours.admin, kind=QuestionKind.TEXT)
    assert services.update_question(db_session, question, actor=ours.admin, help_text="Pick one")
    with pytest.raises(SchemeError, match="questions can no longer be removed"):
        services.remove_question(db_session, question, actor=ours.admin)
