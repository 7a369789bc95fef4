"""A scheme's paycode is chosen from the paycode list (issue 15, "Set-up"): the schemes service
refuses a code the list does not hold, keeps a draft's own code, leaves a published scheme's
paycode locked, and the demo schemes are paid under demo paycodes."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.clock import today
from claims_portal.demo import load_demo_data
from claims_portal.payments.demo import DEMO_PAYCODES
from claims_portal.payments.models import Paycode
from claims_portal.schemes import services
from claims_portal.schemes.demo import demo_schemes, financial_year_start, last_year_schemes
from claims_portal.schemes.models import ClaimFrequency, Scheme, SchemeStatus
from claims_portal.schemes.services import SchemeError
from tests.factories.payments import PaycodeFactory
from tests.factories.schemes import SchemeFactory, ready_scheme

D = dt.date


@pytest.fixture(autouse=True)
def _paycodes(db_session):
    PaycodeFactory(code="HC01", description="NHS Health Checks")
    PaycodeFactory(code="HC02", description="Phlebotomy")


def _new(session, tenant, **overrides):
    values = {
        "actor": tenant.admin,
        "commissioner": tenant.icb,
        "code": "LES-PC",
        "name": "Paid scheme",
        "financial_year": "2026/27",
        "start_date": D(2026, 4, 1),
        "end_date": D(2027, 3, 31),
        "claim_frequency": ClaimFrequency.MONTHLY,
        "paycode": "HC01",
    } | overrides
    return services.create_scheme(session, **values)


def _scheme_events(session):
    return session.scalars(select(AuditEvent).where(AuditEvent.object_type == "scheme")).all()


def test_a_listed_paycode_is_taken_in_any_case(db_session, ours):
    assert _new(db_session, ours, paycode=" hc02 ").paycode == "HC02"
    assert services.paycode_listed(db_session, "hc01")
    assert not services.paycode_listed(db_session, "HC99")


def test_a_paycode_not_in_the_list_is_refused_and_nothing_is_saved(db_session, ours):
    with pytest.raises(SchemeError) as raised:
        _new(db_session, ours, paycode="HC99", name="")
    # Listed with every other problem, in the error summary's words.
    assert raised.value.messages == [
        "Enter the scheme's name",
        f"{services.NOT_A_LISTED_PAYCODE}: there is no paycode HC99",
    ]
    assert services.NOT_A_LISTED_PAYCODE == "Choose a paycode from the list"
    assert db_session.scalar(select(Scheme).where(Scheme.code == "LES-PC")) is None
    assert _scheme_events(db_session) == []


def test_a_drafts_paycode_changes_only_to_a_listed_one(db_session, ours):
    scheme = _new(db_session, ours)
    with pytest.raises(SchemeError, match="Choose a paycode from the list"):
        services.update_scheme(db_session, scheme, actor=ours.admin, paycode="HC99")
    assert scheme.paycode == "HC01"
    assert services.update_scheme(db_session, scheme, actor=ours.admin, paycode="hc02")
    assert scheme.paycode == "HC02"


def test_a_drafts_own_paycode_is_kept_when_the_list_no_longer_holds_it(db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, paycode="OLD01")
    assert services.update_scheme(db_session, scheme, actor=ours.admin, name="Renamed")
    assert (scheme.paycode, scheme.name) == ("OLD01", "Renamed")


def test_no_paycode_is_needed_only_when_not_paid_through_the_agency(db_session, ours):
    unpaid = _new(db_session, ours, pay_through_agency=False, participation_only=True, paycode="")
    assert unpaid.paycode is None
    assert "Choose the paycode" not in " ".join(services.publication_problems(unpaid))
    paid = _new(db_session, ours, code="LES-PC2", paycode=None)  # a draft may wait for it
    assert "Choose the paycode: the scheme pays through the payments agency" in (
        services.publication_problems(paid)
    )


def test_a_published_schemes_paycode_stays_locked(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, paycode="HC01")
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    assert scheme.status is SchemeStatus.PUBLISHED
    for other in ("HC02", "HC99"):  # listed or not, the lock is what is said
        with pytest.raises(SchemeError, match="its paycode can no longer change"):
            services.update_scheme(db_session, scheme, actor=ours.admin, paycode=other)
    assert scheme.paycode == "HC01"


def test_every_demo_scheme_is_paid_under_a_demo_paycode():
    codes = {code for code, *_ in DEMO_PAYCODES}
    year = financial_year_start(today())
    for demo in last_year_schemes(year) + demo_schemes(year):
        if demo.pay_through_agency:
            assert demo.paycode in codes, demo.code
        else:
            assert demo.paycode in codes | {None}, demo.code


@pytest.fixture
def _evidence_in_a_folder_of_the_test(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))


@pytest.mark.usefixtures("_evidence_in_a_folder_of_the_test")
def test_the_loaded_demo_schemes_paycodes_are_in_the_demo_paycode_list(db_session):
    load_demo_data(db_session)
    listed = set(db_session.scalars(select(Paycode.code)))
    schemes = db_session.scalars(select(Scheme)).all()
    assert schemes
    for scheme in schemes:
        assert scheme.paycode in listed or (
            scheme.paycode is None and not scheme.pay_through_agency
        ), scheme.code
