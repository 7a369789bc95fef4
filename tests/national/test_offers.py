"""Offers of national services: every step of the table and every refused one, offering one
by one, by selection and to all, PCN services and their member practices, services accepted
automatically, the lists' filters, who is told, and tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.national.models import OfferStatus, ProviderLevel
from claims_portal.national.services import offer_lists, offers
from claims_portal.national.services.machines import OFFER
from claims_portal.national.services.offers import OfferConflict, OfferDates, OfferError
from tests.factories.national import IndicatorGroupFactory, QualityServiceFactory
from tests.national.offer_helpers import make_scene, told

S = OfferStatus


@pytest.fixture
def scene(db_session):
    return make_scene()


def _offer(session, scene, service=None, provider=None, **kwargs):
    service = service or QualityServiceFactory(name="Quality and Outcomes Framework")
    [offer] = offers.offer_service(
        session,
        service,
        [provider or scene.practice],
        commissioner=kwargs.pop("commissioner", scene.icb),
        actor=kwargs.pop("actor", scene.commissioner),
        **kwargs,
    )
    return offer


def _actions(session, offer) -> list[str]:
    return [e.action for e in offer_lists.history(session, offer)]


# --- Each step ------------------------------------------------------------------------------


def test_offer_then_accept(db_session, scene):
    offer = _offer(db_session, scene)
    assert offer.status is S.OFFERED
    assert (offer.start_date, offer.end_date) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    offers.take_step(db_session, offer, "accept", actor=scene.manager)
    assert offer.status is S.APPROVED
    assert offer.answered_by_id == scene.manager.id
    assert offer.answered_at is not None
    assert offer.participates_on(dt.date(2025, 6, 1))
    assert _actions(db_session, offer) == ["national_offer.offered", "national_offer.accepted"]


def test_reject_needs_a_reason_and_keeps_it(db_session, scene):
    offer = _offer(db_session, scene)
    with pytest.raises(OfferError) as refused:
        offers.take_step(db_session, offer, "reject", actor=scene.manager, reason="   ")
    assert refused.value.field == "reason"
    assert offer.status is S.OFFERED
    offers.take_step(db_session, offer, "reject", actor=scene.manager, reason="No  nurse hours")
    assert offer.status is S.REJECTED
    assert offer.reason == "No nurse hours"
    event = offer_lists.history(db_session, offer)[-1]
    assert (event.action, event.reason) == ("national_offer.rejected", "No nurse hours")
    assert event.before == {"status": "OFFERED"}
    assert event.after["status"] == "REJECTED"


def test_withdraw_an_offer_not_yet_answered(db_session, scene):
    offer = _offer(db_session, scene)
    offers.take_step(db_session, offer, "withdraw", actor=scene.commissioner)
    assert offer.status is S.WITHDRAWN
    # The service may be offered again afterwards (a new offer).
    again = _offer(db_session, scene, service=offer.service)
    assert again.id != offer.id


@pytest.mark.parametrize("answer", ["accept", "reject"])
def test_cancel_an_answered_offer_with_a_reason(db_session, scene, answer):
    offer = _offer(db_session, scene)
    offers.take_step(db_session, offer, answer, actor=scene.manager, reason="Not this year")
    with pytest.raises(OfferError):
        offers.take_step(db_session, offer, "cancel", actor=scene.commissioner)
    offers.take_step(db_session, offer, "cancel", actor=scene.commissioner, reason="Closed")
    assert offer.status is S.CANCELLED
    assert offer.reason == "Closed"


# --- Refused steps --------------------------------------------------------------------------


def test_answering_a_withdrawn_offer_is_refused_saying_who_withdrew_it(db_session, scene):
    offer = _offer(db_session, scene)
    offers.take_step(db_session, offer, "withdraw", actor=scene.commissioner)
    with pytest.raises(OfferConflict) as refused:
        offers.take_step(db_session, offer, "accept", actor=scene.manager)
    message = refused.value.messages[0]
    assert message.startswith(
        "Only an offer not yet answered can be accepted; this one was withdrawn by Tom Okafor"
    )
    assert message.endswith("Nothing was changed.")
    assert refused.value.status_code == 409
    assert offer.status is S.WITHDRAWN


def test_cancelling_an_offered_one_is_refused(db_session, scene):
    offer = _offer(db_session, scene)
    with pytest.raises(OfferConflict) as refused:
        offers.take_step(db_session, offer, "cancel", actor=scene.commissioner, reason="x")
    assert "withdraw one not yet answered" in refused.value.messages[0]
    assert offer.status is S.OFFERED


@pytest.mark.parametrize("step", ["withdraw", "accept", "reject"])
def test_an_answered_offer_cannot_be_answered_or_withdrawn(db_session, scene, step):
    offer = _offer(db_session, scene)
    offers.take_step(db_session, offer, "accept", actor=scene.manager)
    actor = scene.commissioner if step == "withdraw" else scene.manager
    with pytest.raises(OfferConflict):
        offers.take_step(db_session, offer, step, actor=actor, reason="x")
    assert offer.status is S.APPROVED


def test_a_cancelled_offer_is_final(db_session, scene):
    offer = _offer(db_session, scene)
    offers.take_step(db_session, offer, "reject", actor=scene.manager, reason="No")
    offers.take_step(db_session, offer, "cancel", actor=scene.commissioner, reason="Tidy")
    for step in ("accept", "reject", "withdraw", "cancel"):
        actor = scene.manager if step in ("accept", "reject") else scene.commissioner
        with pytest.raises(OfferConflict):
            offers.take_step(db_session, offer, step, actor=actor, reason="x")
    assert OFFER.steps_from(S.CANCELLED) == []


def test_each_side_takes_only_its_own_steps(db_session, scene):
    offer = _offer(db_session, scene)
    with pytest.raises(PermissionDenied):
        offers.take_step(db_session, offer, "accept", actor=scene.commissioner)
    with pytest.raises(PermissionDenied):
        offers.take_step(db_session, offer, "withdraw", actor=scene.manager)
    assert offer.status is S.OFFERED


# --- Offering -------------------------------------------------------------------------------


def test_offer_by_selection_and_to_all(db_session, scene):
    service = QualityServiceFactory()
    made = offers.offer_service(
        db_session,
        service,
        [scene.practice],
        commissioner=scene.icb,
        actor=scene.commissioner,
        dates=OfferDates(dt.date(2025, 7, 1), dt.date(2026, 3, 31), dt.date(2025, 6, 30)),
    )
    assert [o.response_date for o in made] == [dt.date(2025, 6, 30)]
    rest = offers.offer_to_all(
        db_session, service, commissioner=scene.icb, actor=scene.commissioner
    )
    # The ICB's other practice (under it directly), not South ICB's, nor the PCN.
    assert [o.provider for o in rest] == [scene.second_practice]
    with pytest.raises(OfferError, match="Every provider already has an offer"):
        offers.offer_to_all(db_session, service, commissioner=scene.icb, actor=scene.commissioner)


def test_the_national_commissioner_reaches_every_practice(db_session, scene):
    service = QualityServiceFactory()
    made = offers.offer_to_all(
        db_session, service, commissioner=scene.national, actor=scene.national_commissioner
    )
    providers = {o.provider_id for o in made}
    assert {scene.practice.id, scene.second_practice.id, scene.other_practice.id} <= providers
    assert scene.pcn.id not in providers


def test_offering_is_refused_as_a_whole(db_session, scene):
    service = QualityServiceFactory(name="Flu")
    _offer(db_session, scene, service=service)
    with pytest.raises(OfferError) as refused:
        offers.offer_service(
            db_session,
            service,
            [scene.practice, scene.other_practice, scene.pcn, scene.second_practice],
            commissioner=scene.icb,
            actor=scene.commissioner,
        )
    assert refused.value.messages == [
        f"{scene.practice.display_name} already has an offer of Flu",
        f"{scene.other_practice.display_name} is not commissioned by North ICB",
        f"Flu is offered to GP practices, not to {scene.pcn.display_name}",
    ]
    assert refused.value.field == "provider"  # the offer page's providers (the summary's link)
    assert len(offer_lists.offers_made(db_session, scene.icb)) == 1


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        (OfferDates(dt.date(2025, 3, 31), dt.date(2026, 3, 31)), "start_date"),
        (OfferDates(dt.date(2025, 4, 1), dt.date(2026, 4, 1)), "end_date"),
        (OfferDates(dt.date(2025, 9, 1), dt.date(2025, 8, 1)), "end_date"),
        (
            OfferDates(dt.date(2025, 4, 1), dt.date(2025, 8, 1), dt.date(2025, 9, 1)),
            "response_date",
        ),
    ],
)
def test_the_offer_dates_lie_within_the_service(db_session, scene, dates, field):
    with pytest.raises(OfferError) as refused:
        _offer(db_session, scene, dates=dates)
    assert refused.value.field == field


def test_another_icbs_commissioner_cannot_offer_for_this_one(db_session, scene):
    with pytest.raises(PermissionDenied):
        _offer(db_session, scene, actor=scene.other_commissioner)
    with pytest.raises(PermissionDenied):
        offers.offer_service(
            db_session, QualityServiceFactory(), [scene.practice], commissioner=scene.icb,
            actor=scene.manager,
        )  # fmt: skip


# --- Services accepted automatically --------------------------------------------------------


def test_a_service_accepted_automatically_needs_no_answer(db_session, scene):
    service = QualityServiceFactory(name="Participation", automatically_accepted=True)
    offer = _offer(db_session, scene, service=service)
    assert offer.status is S.APPROVED
    assert offer.answered_by_id is None
    assert _actions(db_session, offer) == [
        "national_offer.offered",
        "national_offer.accepted_automatically",
    ]
    practice = scene.practice.display_name
    assert told(db_session) == [(scene.manager.id, f"{practice} takes part in {service}")]
    assert offer_lists.offers_to_answer(db_session, scene.manager, scene.practice) == []


# --- PCN services ---------------------------------------------------------------------------


def _pcn_service(**kwargs):
    return QualityServiceFactory(
        name="Network Contract DES", provider_level=ProviderLevel.NETWORK, **kwargs
    )


def test_the_pcns_acceptance_gives_its_members_offers_that_follow(db_session, scene):
    offer = _offer(db_session, scene, service=_pcn_service(), provider=scene.pcn)
    assert offers.member_offers(db_session, offer) == []  # not before it accepts
    offers.take_step(db_session, offer, "accept", actor=scene.pcn_manager)
    members = offers.member_offers(db_session, offer)
    assert [(m.provider, m.status) for m in members] == [
        (scene.practice, S.APPROVED),
        (scene.second_practice, S.APPROVED),
    ]
    # Each for the dates it is a member.
    assert (members[1].start_date, members[1].end_date) == (
        dt.date(2025, 4, 1),
        dt.date(2025, 9, 30),
    )
    assert all(m.network_offer_id == offer.id for m in members)
    assert _actions(db_session, members[0]) == [
        "national_offer.offered",
        "national_offer.accepted_with_network",
    ]
    assert (
        scene.manager.id,
        f"{scene.practice.display_name} takes part in {offer.service} through its PCN",
    ) in told(db_session)


def test_a_member_practices_offer_cannot_be_answered_or_cancelled_on_its_own(db_session, scene):
    offer = _offer(db_session, scene, service=_pcn_service(), provider=scene.pcn)
    offers.take_step(db_session, offer, "accept", actor=scene.pcn_manager)
    member = offers.member_offers(db_session, offer)[0]
    for step, actor in (("reject", scene.manager), ("cancel", scene.commissioner)):
        with pytest.raises(OfferError, match="only the PCN's offer can be"):
            offers.take_step(db_session, member, step, actor=actor, reason="x")
    assert member.status is S.APPROVED


def test_cancelling_the_pcns_ends_its_members(db_session, scene):
    offer = _offer(db_session, scene, service=_pcn_service(), provider=scene.pcn)
    offers.take_step(db_session, offer, "accept", actor=scene.pcn_manager)
    offers.take_step(db_session, offer, "cancel", actor=scene.commissioner, reason="Closed")
    members = offers.member_offers(db_session, offer)
    assert [m.status for m in members] == [S.CANCELLED, S.CANCELLED]
    assert members[0].reason == "Closed"
    assert _actions(db_session, members[0])[-1] == "national_offer.cancelled_with_network"


def test_a_pcn_service_is_offered_to_pcns_only(db_session, scene):
    with pytest.raises(OfferError, match="is offered to primary care networks"):
        _offer(db_session, scene, service=_pcn_service(), provider=scene.practice)


def test_a_pcn_service_accepted_automatically_brings_its_members_along(db_session, scene):
    offer = _offer(
        db_session, scene, service=_pcn_service(automatically_accepted=True), provider=scene.pcn
    )
    assert offer.status is S.APPROVED
    assert len(offers.member_offers(db_session, offer)) == 2


# --- Who is told ----------------------------------------------------------------------------


def test_each_move_tells_the_other_side(db_session, scene):
    colleague = make_colleague(scene)
    service = QualityServiceFactory(name="QOF", response_date=dt.date(2025, 5, 31))
    offer = offers.offer_service(
        db_session, service, [scene.practice], commissioner=scene.icb,
        actor=scene.commissioner, base_url="https://portal.test",
    )[0]  # fmt: skip
    practice = scene.practice.display_name
    subject = f"QOF 2025/26 is offered to {practice}"
    assert told(db_session) == [(scene.manager.id, subject)]
    email = db_session.scalars(select(EmailMessage)).one()
    assert email.kind == "offer_to_provider"
    assert f"https://portal.test/national/offers/received/{offer.id}" in email.body
    assert "Accept or reject the offer by 31 May 2025." in email.body

    offers.take_step(db_session, offer, "reject", actor=scene.manager, reason="No nurse hours")
    rejected = [u for u, s in told(db_session) if s == f"{practice} rejected QOF 2025/26"]
    assert sorted(rejected) == sorted([scene.commissioner.id, colleague.id])
    notice = db_session.scalars(select(Notice).where(Notice.user_id == colleague.id)).one()
    assert "Reason: “No nurse hours”" in notice.body
    assert notice.link == f"/national/offers/made/{offer.id}"
    emails = db_session.scalars(select(EmailMessage).where(EmailMessage.user_id == colleague.id))
    assert [e.kind for e in emails] == ["offer_answered"]

    offers.take_step(db_session, offer, "cancel", actor=colleague, reason="Tidy")
    assert told(db_session)[-1] == (
        scene.manager.id,
        f"{practice}'s participation in QOF 2025/26 was cancelled",
    )


def test_withdrawing_and_accepting_are_told_too(db_session, scene):
    first = _offer(db_session, scene, service=QualityServiceFactory(name="A"))
    second = _offer(db_session, scene, service=QualityServiceFactory(name="B"))
    offers.take_step(db_session, first, "withdraw", actor=scene.commissioner)
    offers.take_step(db_session, second, "accept", actor=scene.manager)
    practice = scene.practice.display_name
    assert told(db_session)[2:] == [
        (scene.manager.id, f"The offer of A 2025/26 to {practice} was withdrawn"),
        (scene.commissioner.id, f"{practice} accepted B 2025/26"),
    ]


def make_colleague(scene):
    from claims_portal.access.roles import Role
    from tests.factories.access import user_with_role

    return user_with_role(Role.COMMISSIONING_MANAGEMENT, scene.icb)


# --- Many at once ---------------------------------------------------------------------------


def test_accepting_many_at_once(db_session, scene):
    first = _offer(db_session, scene, service=QualityServiceFactory())
    second = _offer(db_session, scene, service=QualityServiceFactory())
    done = offers.take_steps(db_session, [second, first], "accept", actor=scene.manager)
    assert done == [first, second]  # in id order, so that two selections lock alike
    assert {o.status for o in done} == {S.APPROVED}
    with pytest.raises(OfferError, match="Choose at least one offer"):
        offers.take_steps(db_session, [], "accept", actor=scene.manager)


def test_one_offer_already_moved_refuses_the_selection(db_session, scene):
    first = _offer(db_session, scene, service=QualityServiceFactory())
    offers.take_step(db_session, first, "withdraw", actor=scene.commissioner)
    second = _offer(db_session, scene, service=QualityServiceFactory())
    with pytest.raises(OfferConflict, match="this one was withdrawn"):
        offers.take_steps(db_session, [second, first], "accept", actor=scene.manager)


# --- Lists and filters ----------------------------------------------------------------------


def test_the_lists_filter_by_year_and_status(db_session, scene):
    this_year = QualityServiceFactory(name="This year")
    last_year = QualityServiceFactory(name="Last year", financial_year=2024)
    a = _offer(db_session, scene, service=this_year)
    b = _offer(db_session, scene, service=last_year)
    c = _offer(db_session, scene, service=this_year, provider=scene.second_practice)
    offers.take_step(db_session, c, "withdraw", actor=scene.commissioner)
    made = offer_lists.offers_made
    assert made(db_session, scene.icb, financial_year=2025) == [a, c]
    assert made(db_session, scene.icb, financial_year=2024) == [b]
    assert made(db_session, scene.icb, status=S.OFFERED) == [b, a]
    # Cancelled lists the withdrawn ones too (as CQRS does).
    assert made(db_session, scene.icb, status=S.CANCELLED) == [c]
    assert made(db_session, scene.icb, service_id=last_year.id) == [b]
    assert offer_lists.offers_to(db_session, scene.practice, financial_year=2024) == [b]
    assert offer_lists.offers_to(db_session, scene.practice, status=S.OFFERED) == [b, a]
    assert offer_lists.offers_to_answer(db_session, scene.manager, scene.practice) == [b, a]
    assert offer_lists.financial_years(db_session)[:2] == [2025, 2024]


def test_another_icbs_people_neither_see_nor_answer(db_session, scene):
    offer = _offer(db_session, scene)
    assert offer_lists.offers_made(db_session, scene.other_icb) == []
    assert offer_lists.offers_to(db_session, scene.other_practice) == []
    assert offer_lists.offers_to_answer(db_session, scene.other_manager, scene.practice) == []
    with pytest.raises(LookupError):
        offer_lists.offer_for_provider(db_session, offer.id, scene.other_practice)
    with pytest.raises(LookupError):
        offer_lists.offer_for_commissioner(db_session, offer.id, scene.other_icb)
    with pytest.raises(PermissionDenied):
        offers.take_step(db_session, offer, "accept", actor=scene.other_manager)
    with pytest.raises(PermissionDenied):
        offers.take_step(db_session, offer, "withdraw", actor=scene.other_commissioner)
    assert offer.status is S.OFFERED
    assert (
        db_session.scalar(select(AuditEvent).where(AuditEvent.action == "national_offer.accepted"))
        is None
    )


def test_the_details_show_the_groups_by_domain(db_session, scene):
    service = QualityServiceFactory()
    IndicatorGroupFactory(
        service=service, domain_code="CL", domain_description="Clinical", code="AF"
    )
    IndicatorGroupFactory(
        service=service, domain_code="PH", domain_description="Public health", code="BP"
    )
    IndicatorGroupFactory(
        service=service, domain_code="CL", domain_description="Clinical", code="CHD"
    )
    db_session.refresh(service)
    domains = offer_lists.domains_of(service)
    assert [(d.description, [g.code for g in d.groups]) for d in domains] == [
        ("Clinical", ["AF", "CHD"]),
        ("Public health", ["BP"]),
    ]


def test_the_national_commissioner_offers_to_one_icbs_practices(db_session, scene):
    """What will be checked: QOF offered to an ICB's practices; one accepts, another rejects."""
    service = QualityServiceFactory(name="QOF")
    made = offers.offer_to_all(
        db_session, service, commissioner=scene.national, actor=scene.national_commissioner,
        within=scene.icb,
    )  # fmt: skip
    assert [o.provider for o in made] == [scene.practice, scene.second_practice]
    assert {o.commissioner_id for o in made} == {scene.national.id}
    offers.take_step(db_session, made[0], "accept", actor=scene.manager)
    offers.take_step(db_session, made[1], "reject", actor=scene.second_manager, reason="No")
    assert [o.status for o in made] == [S.APPROVED, S.REJECTED]
    # The national commissioner's people are told of both answers.
    subjects = [s for u, s in told(db_session) if u == scene.national_commissioner.id]
    assert subjects == [
        f"{scene.practice.display_name} accepted QOF 2025/26",
        f"{scene.second_practice.display_name} rejected QOF 2025/26",
    ]
    assert offer_lists.offers_made(db_session, scene.icb) == []  # the ICB made none itself


def test_the_audit_trail_names_the_offer(app, db_session, scene):
    from claims_portal.admin.audit_objects import object_name

    offer = _offer(db_session, scene)
    event = offer_lists.history(db_session, offer)[0]
    with app.test_request_context():
        name = object_name(event)
    assert name == (
        f"Offer of a national service Quality and Outcomes Framework 2025/26 to "
        f"{scene.practice.display_name}"
    )
