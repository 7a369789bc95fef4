"""Two administrators changing the same setting at once (a practice's approval mode, an
ICB's finance threshold), on PostgreSQL with two real connections.

"Last write wins" is the danger: each change names the value the person saw, re-checked
under the row lock, so the second is told the value changed under them and nothing of
theirs is recorded. The pages that tell them are checked at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims import services as claim_services
from claims_portal.claims.models import IcbClaimSettings
from claims_portal.claims.services import ClaimConflict
from claims_portal.extensions import db
from claims_portal.organisations import services as organisation_services
from claims_portal.organisations.models import ApprovalMode, Organisation
from claims_portal.organisations.services import OrganisationConflict
from claims_portal.service_settings import claims_settings
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import csrf_token, migrated_app, sign_in
from tests.races import audit_count, count, one_after_the_other, together

MODE_CHANGED = "organisation.approval_mode_changed"
THRESHOLD_CHANGED = "icb_claim_settings.finance_threshold_changed"


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_setting_race") as app:
        yield app


@pytest.fixture
def scene(race_app) -> dict[str, int]:
    with race_app.app_context():
        icb = IcbFactory()
        practice = PracticeFactory(parent=icb, approval_mode=ApprovalMode.ONE_STEP)
        priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
        tom = user_with_role(Role.ADMINISTRATOR, icb, full_name="Tom Okafor")
        ids = {"icb": icb.id, "practice": practice.id, "priya": priya.id, "tom": tom.id}
        db.session.remove()
    return ids


def _mode(ids: dict[str, int], who: str, mode: ApprovalMode, seen: ApprovalMode) -> Any:
    def work(session: Session) -> Any:
        return organisation_services.change_approval_mode(
            session,
            practice=session.get(Organisation, ids["practice"]),
            mode=mode,
            actor=session.get(User, ids[who]),
            expected=seen,
        )

    return work


def _threshold(ids: dict[str, int], who: str, amount: str, seen: str) -> Any:
    def work(session: Session) -> Any:
        return claim_services.set_finance_threshold(
            session,
            session.get(Organisation, ids["icb"]),
            Decimal(amount),
            actor=session.get(User, ids[who]),
            settings=claims_settings(),
            expected=Decimal(seen),
        )

    return work


def test_two_approval_mode_changes_the_second_is_told_the_mode_changed(race_app, scene):
    """Both saw one-step; Priya saves two-step, Tom (waiting for her lock) saves one-step
    with a reason. Tom's change would silently undo hers: it is refused instead."""
    first, second, waited = one_after_the_other(
        race_app,
        _mode(scene, "priya", ApprovalMode.TWO_STEP, ApprovalMode.ONE_STEP),
        _mode(scene, "tom", ApprovalMode.ONE_STEP, ApprovalMode.ONE_STEP),
    )

    assert first is True
    assert isinstance(second, OrganisationConflict), second
    assert waited >= 0.4
    message = str(second)
    assert " was changed to two-step by Priya Shah at " in message
    assert message.endswith("while you were looking at it. Nothing was changed.")
    assert audit_count(race_app, MODE_CHANGED, scene["practice"]) == 1
    with race_app.app_context(), Session(db.engine) as session:
        practice = session.get(Organisation, scene["practice"])
        assert practice.approval_mode is ApprovalMode.TWO_STEP


def test_two_threshold_changes_the_second_is_told_the_value_changed(race_app, scene):
    first, second, waited = one_after_the_other(
        race_app,
        _threshold(scene, "priya", "20000", "15000.00"),
        _threshold(scene, "tom", "12000", "15000.00"),
    )

    assert first is True
    assert isinstance(second, ClaimConflict), second
    assert waited >= 0.4
    assert second.messages[0].startswith(
        "The finance threshold was changed to £20,000.00 by Priya Shah at "
    )
    assert second.messages[0].endswith("Nothing was changed.")
    assert audit_count(race_app, THRESHOLD_CHANGED, scene["icb"]) == 1
    with race_app.app_context(), Session(db.engine) as session:
        row = session.scalar(
            select(IcbClaimSettings).where(IcbClaimSettings.icb_id == scene["icb"])
        )
        assert row.finance_threshold == Decimal("20000.00")


@pytest.mark.parametrize("rounds", range(3))
def test_the_first_threshold_of_an_icb_set_twice_at_once(race_app, scene, rounds):
    """Neither has a settings row yet: the lock is on the ICB's row, so one inserts it and
    the other is told (no duplicate-key error)."""
    outcomes = together(
        race_app,
        _threshold(scene, "priya", "20000", "15000.00"),
        _threshold(scene, "tom", "12000", "15000.00"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["ClaimConflict", "bool"], outcomes
    assert count(race_app, IcbClaimSettings, IcbClaimSettings.icb_id == scene["icb"]) == 1
    assert audit_count(race_app, THRESHOLD_CHANGED, scene["icb"]) == 1


# --- What the second person sees ----------------------------------------------------------


def test_the_approval_mode_page_says_the_mode_changed_under_you(client, db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb, name="Hill Top Surgery")
    priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
    tom = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, tom.email)
    url = f"/practices/{practice.id}/approval-mode"
    form = client.get(url)
    assert 'name="seen_mode" type="hidden" value="ONE_STEP"' in form.get_data(as_text=True)
    organisation_services.change_approval_mode(
        db_session,
        practice=db_session.get(Organisation, practice.id),
        mode=ApprovalMode.TWO_STEP,
        actor=db_session.get(User, priya.id),
    )
    db_session.commit()

    response = client.post(
        url,
        data={
            "approval_mode": "TWO_STEP",
            "seen_mode": "ONE_STEP",
            "reason": "Their approver started",
            "csrf_token": csrf_token(form),
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "There is a problem" in page
    assert "The approval mode of Hill Top Surgery was changed to two-step by Priya Shah" in page
    assert "Nothing was changed." in page
    assert 'value="TWO_STEP"' in page  # saving again now is a decision about what is there
    reasons = db_session.scalars(select(AuditEvent.reason).where(AuditEvent.action == MODE_CHANGED))
    assert list(reasons) == [None]


def test_the_threshold_page_says_the_value_changed_under_you(client, db_session):
    icb = IcbFactory()
    priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
    tom = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, tom.email)
    page = client.get("/claims/finance-threshold")
    assert 'name="seen" type="hidden" value="15000.00"' in page.get_data(as_text=True)
    claim_services.set_finance_threshold(
        db_session,
        db_session.get(Organisation, icb.id),
        Decimal("20000"),
        actor=db_session.get(User, priya.id),
        settings=claims_settings(),
    )
    db_session.commit()

    response = client.post(
        "/claims/finance-threshold",
        data={"csrf_token": csrf_token(page), "finance_threshold": "12000", "seen": "15000.00"},
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "The finance threshold was changed to £20,000.00 by Priya Shah" in html
    assert 'name="seen" type="hidden" value="20000.00"' in html
    assert claim_services.finance_threshold(db_session, icb, settings=claims_settings()) == Decimal(
        "20000.00"
    )
