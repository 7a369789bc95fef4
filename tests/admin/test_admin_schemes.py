"""An ICB administrator builds, publishes and offers a scheme in the admin (services behind)."""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.clock import today
from claims_portal.schemes.demo import financial_year_start
from claims_portal.schemes.models import (
    ClaimFrequency,
    Offer,
    OfferStatus,
    QuestionKind,
    Scheme,
    SchemeStatus,
)
from tests.admin.helpers import post
from tests.factories.payments import PaycodeFactory
from tests.factories.schemes import ComponentFactory, SchemeFactory, ready_scheme
from tests.helpers import csrf_token, sign_in

#: The financial year of the moment the suite runs as (``--today``): the admin offers the
#: years around it.
YEAR = financial_year_start(today())
YEAR_LABEL = f"{YEAR}/{(YEAR + 1) % 100:02d}"

SCHEME_FORM = {
    "code": "les-hc-2627",
    "name": "NHS health checks",
    "description": "Checks for people aged 40 to 74",
    "financial_year": YEAR_LABEL,
    "start_date": f"{YEAR}-04-01",
    "end_date": f"{YEAR + 1}-03-31",
    "claim_frequency": "MONTHLY",
    "window_days": "30",
    "evidence_requirement": "NOT_REQUIRED",
    "pay_through_agency": "y",
    "paycode": "HC01",
    "components-0-code": "HC1",
    "components-0-name": "Health check",
    "components-0-unit_label": "health check completed",
    "components-0-max_units_per_claim": "200",
    "components-0-new_unit_value": "25.50",
    "components-0-new_effective_from": f"{YEAR}-04-01",
    "questions-0-text": "How many invitations were sent?",
    "questions-0-kind": "NUMBER",
    "questions-0-required": "y",
    "questions-0-display_order": "1",
}


@pytest.fixture(autouse=True)
def _paycodes(db_session):
    """The paycode list the scheme form offers (a scheme's paycode comes from it)."""
    PaycodeFactory(code="HC01", description="NHS Health Checks")
    PaycodeFactory(code="HC02", description="Phlebotomy")


def _actions(session, object_type):
    return [
        e.action
        for e in session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == object_type).order_by(AuditEvent.id)
        )
    ]


def test_build_publish_and_offer_a_scheme_in_the_admin(client, db_session, ours):
    sign_in(client, ours.admin.email)
    form = client.get("/admin/schemes/new/")
    assert form.status_code == 200
    response = client.post(
        "/admin/schemes/new/",
        data={**SCHEME_FORM, "commissioner_id": ours.icb.id, "csrf_token": csrf_token(form)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    scheme = db_session.scalar(select(Scheme).where(Scheme.code == "LES-HC-2627"))
    assert scheme.commissioner_id == ours.icb.id
    assert scheme.claim_frequency is ClaimFrequency.MONTHLY
    (component,) = scheme.components
    assert component.max_units_per_claim == 200
    assert [t.unit_value for t in component.tariffs] == [Decimal("25.50")]
    assert scheme.questions[0].kind is QuestionKind.NUMBER
    assert response.headers["Location"].startswith(f"/admin/schemes/edit/?id={scheme.id}")
    # Each part went through its service, and so is in the audit trail.
    assert _actions(db_session, "scheme") == ["scheme.created"]
    assert _actions(db_session, "scheme_component") == ["scheme_component.added"]
    assert _actions(db_session, "scheme_tariff") == ["scheme_tariff.added"]
    assert _actions(db_session, "supplementary_question") == ["supplementary_question.added"]

    page = client.get(f"/admin/schemes/edit/?id={scheme.id}").get_data(as_text=True)
    assert "Add the claim windows" in html.unescape(page)

    response = post(client, "/admin/schemes/generate-windows/", {"id": scheme.id})
    assert response.status_code == 302
    assert "12 added" in client.get(response.headers["Location"]).get_data(as_text=True)

    response = post(client, "/admin/schemes/publish/", {"id": scheme.id})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "LES-HC-2627 is published" in page
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id).status is SchemeStatus.PUBLISHED
    assert f"/admin/offers/new/?scheme_id={scheme.id}" in page

    offer_form = client.get(f"/admin/offers/new/?scheme_id={scheme.id}")
    assert f'<option selected value="{scheme.id}">' in offer_form.get_data(as_text=True)
    response = client.post(
        f"/admin/offers/new/?scheme_id={scheme.id}",
        data={
            "scheme_id": scheme.id,
            "provider_ids": [ours.practice.id, ours.pcn.id],
            "csrf_token": csrf_token(offer_form),
        },
    )
    assert response.status_code == 302
    offers = db_session.scalars(select(Offer).where(Offer.scheme_id == scheme.id)).all()
    assert {(o.provider_id, o.status) for o in offers} == {
        (ours.practice.id, OfferStatus.PENDING),
        (ours.pcn.id, OfferStatus.PENDING),
    }


def test_publish_shows_every_problem(client, db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, paycode=None)
    sign_in(client, ours.admin.email)
    response = post(client, "/admin/schemes/publish/", {"id": scheme.id})
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert f"{scheme.code} was not published" in page
    for problem in [
        "Add at least one component, or make the scheme participation only",
        "Choose the paycode: the scheme pays through the payments agency",
        "Add the claim windows (generate them from the claim frequency)",
    ]:
        assert page.count(problem) == 1  # listed on the scheme's panel, not flashed too
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id).status is SchemeStatus.DRAFT


def test_create_form_errors_come_back_from_the_service(client, db_session, ours):
    sign_in(client, ours.admin.email)
    data = {**SCHEME_FORM, "commissioner_id": ours.icb.id, "end_date": f"{YEAR + 1}-05-31"}
    response = post(client, "/admin/schemes/new/", data)
    assert response.status_code == 200
    assert f"inside the financial year {YEAR_LABEL}" in html.unescape(
        response.get_data(as_text=True)
    )
    assert db_session.scalar(select(Scheme).where(Scheme.code == "LES-HC-2627")) is None


def test_a_published_schemes_paycode_is_read_only_and_not_changed(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, paycode="HC01", status=SchemeStatus.PUBLISHED)
    component = scheme.components[0]
    sign_in(client, ours.admin.email)
    page = client.get(f"/admin/schemes/edit/?id={scheme.id}").get_data(as_text=True)
    assert 'disabled id="paycode" name="paycode"' in page
    assert "Locked: the scheme is published" in page
    assert 'disabled id="code"' in page
    response = post(
        client,
        f"/admin/schemes/edit/?id={scheme.id}",
        {
            "code": "CHANGED",
            "name": "Renamed scheme",
            "paycode": "HC99",
            "window_days": "30",
            "evidence_requirement": "WHOLE_SCHEME",
            "components-0-id": component.id,
            "components-0-code": component.code,
            "components-0-name": "Renamed component",
            "components-0-unit_label": component.unit_label,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    scheme = db_session.get(Scheme, scheme.id)
    assert (scheme.code, scheme.paycode, scheme.name) == (scheme.code, "HC01", "Renamed scheme")
    assert scheme.code != "CHANGED"
    assert scheme.components[0].name == "Renamed component"


def test_deleting_a_published_scheme_is_refused(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    sign_in(client, ours.admin.email)
    response = post(client, "/admin/schemes/delete/", {"id": scheme.id}, follow_redirects=True)
    assert "cannot be deleted: close it instead" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id) is not None
    response = post(client, "/admin/schemes/close/", {"id": scheme.id}, follow_redirects=True)
    assert "is closed" in response.get_data(as_text=True)


def test_admin_posts_need_a_csrf_token(client, db_session, ours):
    sign_in(client, ours.admin.email)
    data = {**SCHEME_FORM, "commissioner_id": ours.icb.id}
    assert client.post("/admin/schemes/new/", data=data).status_code == 400
    scheme = ready_scheme(commissioner=ours.icb)
    assert client.post("/admin/schemes/publish/", data={"id": scheme.id}).status_code == 400
    assert client.post("/admin/schemes/delete/", data={"id": scheme.id}).status_code == 400
    action = {"action": "delete", "rowid": scheme.id}
    assert client.post("/admin/schemes/action/", data=action).status_code == 400
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id).status is SchemeStatus.DRAFT
    # The token rendered in the admin's own forms is accepted.
    listing = client.get("/admin/schemes/")
    response = client.post(
        "/admin/schemes/action/",
        data={**action, "csrf_token": csrf_token(listing)},
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id) is None


def test_an_inline_row_cannot_name_another_schemes_component(client, db_session, ours, theirs):
    scheme = SchemeFactory(commissioner=ours.icb)
    foreign = ComponentFactory(scheme=SchemeFactory(commissioner=theirs.icb), name="Theirs")
    sign_in(client, ours.admin.email)
    response = post(
        client,
        f"/admin/schemes/edit/?id={scheme.id}",
        {
            **SCHEME_FORM,
            "code": scheme.code,
            "commissioner_id": ours.icb.id,
            "components-0-id": foreign.id,
            "components-0-code": "X1",
            "components-0-name": "Hijacked",
            "components-0-unit_label": "x",
        },
    )
    assert "not part of this record" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(type(foreign), foreign.id).name == "Theirs"


def test_offer_actions_move_offers_through_the_service(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    from tests.factories.schemes import OfferFactory

    pending = OfferFactory(scheme=scheme, provider=ours.practice)
    active = OfferFactory(scheme=scheme, provider=ours.pcn, status=OfferStatus.ACTIVE)
    sign_in(client, ours.admin.email)
    post(client, "/admin/offers/action/", {"action": "withdraw", "rowid": [pending.id, active.id]})
    post(client, "/admin/offers/action/", {"action": "cancel", "rowid": [active.id]})
    db_session.expire_all()
    assert db_session.get(Offer, pending.id).status is OfferStatus.WITHDRAWN
    assert db_session.get(Offer, active.id).status is OfferStatus.CANCELLED
    assert _actions(db_session, "scheme_offer") == [
        "scheme_offer.withdrawn",
        "scheme_offer.cancelled",
    ]


def test_tariffs_and_windows_are_edited_through_their_pages(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    component = scheme.components[0]
    window = scheme.windows[0]
    sign_in(client, ours.admin.email)
    response = post(
        client,
        "/admin/tariffs/new/",
        {"component_id": component.id, "unit_value": "30.00", "effective_from": "2026-10-01"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = post(
        client,
        f"/admin/claim-windows/edit/?id={window.id}",
        {
            "period_start": window.period_start.isoformat(),
            "period_end": window.period_end.isoformat(),
            "opens_on": "2026-05-01",
            "closes_on": "2026-06-30",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert [t.unit_value for t in db_session.get(type(component), component.id).tariffs] == [
        Decimal("25.00"),
        Decimal("30.00"),
    ]
    assert db_session.get(type(window), window.id).closes_on == dt.date(2026, 6, 30)


def test_components_tariffs_and_questions_through_their_own_pages(client, db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb)
    sign_in(client, ours.admin.email)
    response = post(
        client,
        "/admin/components/new/",
        {
            "scheme_id": scheme.id,
            "code": "ph1",
            "name": "Blood test",
            "unit_label": "sample taken",
            "period_cap_amount": "500.00",
            "tariffs-0-unit_value": "4.20",
            "tariffs-0-effective_from": "2026-04-01",
            "tariffs-1-unit_value": "4.50",
            "tariffs-1-effective_from": "2026-10-01",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    (component,) = db_session.get(Scheme, scheme.id).components
    assert component.code == "PH1"
    assert [t.unit_value for t in component.tariffs] == [Decimal("4.20"), Decimal("4.50")]
    first, second = component.tariffs

    # Correct one tariff and remove the other inline, while the scheme is a draft.
    response = post(
        client,
        f"/admin/components/edit/?id={component.id}",
        {
            "code": "PH1",
            "name": "Blood test taken",
            "unit_label": "sample taken",
            "tariffs-0-id": first.id,
            "tariffs-0-unit_value": "4.25",
            "tariffs-0-effective_from": "2026-04-01",
            "tariffs-1-id": second.id,
            "tariffs-1-unit_value": "4.50",
            "tariffs-1-effective_from": "2026-10-01",
            "del-tariffs-1": "on",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    component = db_session.get(type(component), component.id)
    assert component.name == "Blood test taken"
    assert [t.unit_value for t in component.tariffs] == [Decimal("4.25")]

    response = post(
        client,
        "/admin/questions/new/",
        {
            "scheme_id": scheme.id,
            "text": "Which clinic?",
            "kind": "SINGLE_CHOICE",
            "choices": "Morning\nEvening",
            "required": "y",
            "display_order": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    (question,) = db_session.get(Scheme, scheme.id).questions
    response = post(
        client,
        f"/admin/questions/edit/?id={question.id}",
        {"text": "Which clinic did most?", "kind": "SINGLE_CHOICE", "choices": "Morning\nEvening"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    question = db_session.get(type(question), question.id)
    assert (question.text, question.required) == ("Which clinic did most?", False)

    assert post(client, "/admin/questions/delete/", {"id": question.id}).status_code == 302
    assert post(client, "/admin/components/delete/", {"id": component.id}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Scheme, scheme.id).components == []
    assert db_session.get(Scheme, scheme.id).questions == []
    actions = [
        e.action
        for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.object_type in {"scheme_component", "scheme_tariff", "supplementary_question"}
    ]
    assert actions == [
        "scheme_component.added",
        "scheme_tariff.added",
        "scheme_tariff.added",
        "scheme_component.updated",
        "scheme_tariff.updated",
        "scheme_tariff.removed",
        "supplementary_question.added",
        "supplementary_question.updated",
        "supplementary_question.removed",
        "scheme_component.removed",  # with its tariffs listed in "before"
    ]


def test_a_window_is_added_by_hand_and_a_draft_tariff_deleted(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, claim_frequency=ClaimFrequency.AD_HOC)
    tariff_id = scheme.components[0].tariffs[0].id
    window_ids = [w.id for w in scheme.windows]
    sign_in(client, ours.admin.email)
    for window_id in window_ids:
        assert post(client, "/admin/claim-windows/delete/", {"id": window_id}).status_code == 302
    response = post(
        client,
        "/admin/claim-windows/new/",
        {"scheme_id": scheme.id, "period_start": "2026-04-01", "period_end": "2026-09-30"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert post(client, "/admin/tariffs/delete/", {"id": tariff_id}).status_code == 302
    db_session.expire_all()
    scheme = db_session.get(Scheme, scheme.id)
    assert [(w.period_start, w.opens_on, w.closes_on) for w in scheme.windows] == [
        (dt.date(2026, 4, 1), dt.date(2026, 10, 1), dt.date(2026, 10, 30))
    ]
    assert scheme.components[0].tariffs == []


# --- The paycode, chosen from the paycode list ----------------------------------------------


def test_the_scheme_form_offers_the_paycode_list(client, ours):
    sign_in(client, ours.admin.email)
    page = html.unescape(client.get("/admin/schemes/new/").get_data(as_text=True))
    select_html = page[page.index('id="paycode" name="paycode">') :]
    select_html = select_html[: select_html.index("</select>")]
    assert '<option value="HC01">HC01 - NHS Health Checks</option>' in select_html
    assert '<option value="HC02">HC02 - Phlebotomy</option>' in select_html
    assert '<option value="">None (only for a scheme not paid through' in select_html
    assert select_html.count("<option") == 3


def test_an_unknown_paycode_is_refused_and_nothing_is_saved(client, db_session, ours):
    sign_in(client, ours.admin.email)
    data = {**SCHEME_FORM, "commissioner_id": ours.icb.id, "paycode": "HC99"}
    response = post(client, "/admin/schemes/new/", data)
    assert response.status_code == 200
    assert "Choose a paycode from the list: there is no paycode HC99" in html.unescape(
        response.get_data(as_text=True)
    )
    assert db_session.scalar(select(Scheme).where(Scheme.code == "LES-HC-2627")) is None
    assert _actions(db_session, "scheme") == []

    scheme = SchemeFactory(commissioner=ours.icb, paycode="HC01")
    edit = {
        **SCHEME_FORM,
        "code": scheme.code,
        "commissioner_id": ours.icb.id,
        "financial_year": scheme.financial_year,
        "start_date": scheme.start_date.isoformat(),
        "end_date": scheme.end_date.isoformat(),
        "paycode": "HC99",
        "name": "Renamed",
    }
    response = post(client, f"/admin/schemes/edit/?id={scheme.id}", edit)
    assert "Choose a paycode from the list" in html.unescape(response.get_data(as_text=True))
    db_session.expire_all()
    saved = db_session.get(Scheme, scheme.id)
    assert (saved.paycode, saved.name) == ("HC01", scheme.name)
    assert _actions(db_session, "scheme") == []


def test_a_drafts_paycode_no_longer_listed_still_shows_and_keeps(client, db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, paycode="OLD01")
    sign_in(client, ours.admin.email)
    page = html.unescape(client.get(f"/admin/schemes/edit/?id={scheme.id}").get_data(as_text=True))
    assert '<option selected value="OLD01">OLD01 - not in the paycode list</option>' in page
    edit = {
        **SCHEME_FORM,
        "code": scheme.code,
        "commissioner_id": ours.icb.id,
        "financial_year": scheme.financial_year,
        "start_date": scheme.start_date.isoformat(),
        "end_date": scheme.end_date.isoformat(),
        "paycode": "OLD01",
        "name": "Renamed",
    }
    response = post(client, f"/admin/schemes/edit/?id={scheme.id}", edit)
    assert response.status_code == 302, response.get_data(as_text=True)
    db_session.expire_all()
    assert (db_session.get(Scheme, scheme.id).paycode, "Renamed") == ("OLD01", "Renamed")
