"""Paycodes kept through the admin's real forms: created, edited, refused with every problem
listed, each change in the audit trail; only ICB administrators may change them."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.payments import services
from claims_portal.payments.models import Paycode
from tests.admin.helpers import post
from tests.helpers import sign_in

GOOD = {
    "code": "les-anticoag",
    "description": "Local enhanced service: anticoagulation monitoring",
    "subjective_code": "521190",
    "contract_types": ["GMS", "PMS"],
}


def _events(db_session, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_administrator_adds_a_paycode_and_it_is_audited(client, db_session, ours):
    sign_in(client, ours.admin.email)
    response = post(client, "/admin/paycodes/new/", GOOD)
    assert response.status_code == 302, response.get_data(as_text=True)
    paycode = db_session.scalars(select(Paycode)).one()
    assert paycode.code == "LES-ANTICOAG"
    assert paycode.contract_types == ["GMS", "PMS"]
    (event,) = _events(db_session, "paycode.added")
    assert event.object_id == str(paycode.id)
    assert event.actor_id == ours.admin.id
    assert event.after["contract_types"] == ["GMS", "PMS"]
    listed = client.get("/admin/paycodes/").get_data(as_text=True)
    assert "LES-ANTICOAG" in listed
    assert "GMS, PMS" in listed


def test_an_edit_records_what_changed(client, db_session, ours):
    paycode = services.add_paycode(db_session, actor=ours.admin, organisation=ours.icb, **GOOD)
    sign_in(client, ours.admin.email)
    response = post(
        client,
        f"/admin/paycodes/edit/?id={paycode.id}",
        {**GOOD, "code": "LES-ANTICOAG", "contract_types": ["APMS"]},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalars(select(Paycode)).one().contract_types == ["APMS"]
    (event,) = _events(db_session, "paycode.updated")
    assert event.before == {"contract_types": ["GMS", "PMS"]}
    assert event.after == {"contract_types": ["APMS"]}


def test_a_bad_paycode_is_refused_with_every_problem(client, db_session, ours):
    services.add_paycode(db_session, actor=ours.admin, organisation=ours.icb, **GOOD)
    sign_in(client, ours.admin.email)
    page = post(
        client,
        "/admin/paycodes/new/",
        {"code": "Les-Anticoag", "description": "Again", "subjective_code": "x y"},
    ).get_data(as_text=True)
    assert "Choose at least one contract type" in page
    page = post(
        client,
        "/admin/paycodes/new/",
        {**GOOD, "subjective_code": "not valid!"},
    ).get_data(as_text=True)
    assert "There is already a paycode LES-ANTICOAG" in html.unescape(page)
    assert "Enter the subjective code" in page
    assert db_session.scalar(select(Paycode.id).where(Paycode.code != "LES-ANTICOAG")) is None
    assert len(_events(db_session, "paycode.added")) == 1


@pytest.mark.parametrize("role", ["tier_1", "finance"])
def test_only_administrators_change_paycodes(client, db_session, ours, role):
    paycode = services.add_paycode(db_session, actor=ours.admin, organisation=ours.icb, **GOOD)
    sign_in(client, getattr(ours, role).email)
    assert client.get("/admin/paycodes/").status_code == 200
    assert post(client, "/admin/paycodes/new/", {**GOOD, "code": "OTHER"}).status_code == 403
    edit = post(client, f"/admin/paycodes/edit/?id={paycode.id}", {**GOOD, "description": "X"})
    assert edit.status_code == 403
    assert post(client, "/admin/paycodes/delete/", {"id": paycode.id}).status_code in (403, 404)


def test_practice_users_do_not_reach_paycodes(client, ours):
    sign_in(client, ours.provider.email)
    assert client.get("/admin/paycodes/").status_code == 403


def test_the_service_refuses_unknown_contract_types(db_session, ours):
    with pytest.raises(services.PaymentsError) as refused:
        services.add_paycode(
            db_session,
            actor=ours.admin,
            organisation=ours.icb,
            **{**GOOD, "contract_types": ["GMS", "NHS"]},
        )
    assert [p.field for p in refused.value.problems] == ["contract_types"]
