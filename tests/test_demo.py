from __future__ import annotations

import pytest
from sqlalchemy import func, select

from claims_portal.access.models import Membership, User
from claims_portal.access.roles import Role
from claims_portal.claims.models import Claim, ClaimEvidence, ClaimStatus
from claims_portal.demo import DEMO_PASSWORD, load_demo_data
from claims_portal.organisations.models import ApprovalMode, Organisation, OrganisationKind
from tests.helpers import sign_in


def _counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, User, Membership, Claim)
    )


@pytest.fixture(autouse=True)
def _evidence_in_a_folder_of_the_test(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))


def test_demo_data_loads_once(db_session):
    summary = load_demo_data(db_session)
    db_session.commit()
    assert summary.created > 0
    before = _counts(db_session)
    again = load_demo_data(db_session)
    assert again.created == 0
    assert _counts(db_session) == before
    assert "Portal-demo-2026" in again.describe(DEMO_PASSWORD)


def test_demo_data_covers_the_brief(db_session):
    load_demo_data(db_session)
    kinds = db_session.scalars(select(Organisation.kind)).all()
    assert kinds.count(OrganisationKind.ICB) >= 1
    assert kinds.count(OrganisationKind.ICB_SUB_LOCATION) >= 2
    assert kinds.count(OrganisationKind.PCN) >= 2
    assert kinds.count(OrganisationKind.GP_PRACTICE) >= 8
    modes = set(db_session.scalars(select(Organisation.approval_mode)).all()) - {None}
    assert modes == {ApprovalMode.ONE_STEP, ApprovalMode.TWO_STEP}
    roles = db_session.scalars(select(Membership.role)).all()
    assert set(roles) == set(Role)
    # Claims one tier 1 approver makes in bulk can be approved by another.
    assert roles.count(Role.APPROVER_TIER_1) >= 2


def test_a_demo_user_signs_in_with_the_printed_password(client, db_session):
    load_demo_data(db_session)
    db_session.commit()
    response = sign_in(client, "priya.shah@example.nhs.net", DEMO_PASSWORD)
    assert response.headers["Location"] == "/"
    assert "NHS Vale and Downs Integrated Care Board" in client.get("/").get_data(as_text=True)


def test_demo_claims_cover_every_status(db_session, tmp_path):
    load_demo_data(db_session)
    statuses = set(db_session.scalars(select(Claim.status)).all())
    # The payments demo's run pays one claim and has the other's row rejected (back at
    # Approved for payment, waiting for finance); nothing is left sent or held.
    payment_run = {ClaimStatus.SENT_FOR_PAYMENT, ClaimStatus.PAYMENT_ON_HOLD}
    assert statuses == set(ClaimStatus) - payment_run
    declined = db_session.scalars(select(Claim).where(Claim.status == ClaimStatus.DECLINED)).one()
    assert declined.events[-1].reason
    big = db_session.scalars(
        select(Claim).where(Claim.status == ClaimStatus.AWAITING_FINANCE_APPROVAL)
    ).one()
    assert big.value > 15000
    paid = db_session.scalars(select(Claim).where(Claim.status == ClaimStatus.PAID)).one()
    assert paid.value == sum(line.value for line in paid.lines)  # priced by the core
    files = db_session.scalars(select(ClaimEvidence)).all()
    assert files
    assert all(f.content_type == "application/pdf" for f in files)
    assert len(list((tmp_path / "evidence").rglob("*"))) > len(files)  # objects and folders
