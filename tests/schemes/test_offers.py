"""Offers: who may make and answer them, every transition, and the provider's claim windows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.access.services.permissions import PermissionDenied
from claims_portal.audit.models import AuditEvent
from claims_portal.organisations.models import OrganisationKind
from claims_portal.schemes import services
from claims_portal.schemes.models import OfferStatus, SchemeShare, SchemeStatus
from claims_portal.schemes.services import SchemeError, offers
from claims_portal.schemes.services.schedule import WindowState
from tests.factories import BaseFactory
from tests.factories.access import user_with_role
from tests.factories.organisations import OrganisationFactory
from tests.factories.schemes import ready_scheme

D = dt.date


@pytest.fixture
def scheme(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    return scheme


def test_only_published_schemes_are_offered(db_session, ours):
    draft = ready_scheme(commissioner=ours.icb)
    with pytest.raises(SchemeError, match=r"Publish .* before offering it"):
        offers.offer_scheme(db_session, draft, ours.practice, actor=ours.admin)


def test_offers_go_to_practices_pcns_and_federations_of_the_icb(db_session, ours, theirs, scheme):
    federation = OrganisationFactory(
        kind=OrganisationKind.FEDERATION, ods_code="FED01", name="A federation", parent=ours.icb
    )
    # A PCN or federation is offered a scheme only once someone there answers offers (the
    # tenant's PCN has its lead; the federation has nobody yet).
    with pytest.raises(SchemeError, match="Nobody at A federation can answer offers yet"):
        offers.offer_scheme(db_session, scheme, federation, actor=ours.admin)
    user_with_role(Role.PROVIDER_USER_SINGLE, federation)
    for provider in (ours.practice, ours.pcn, federation):
        offer = offers.offer_scheme(db_session, scheme, provider, actor=ours.admin)
        assert offer.status is OfferStatus.PENDING
    with pytest.raises(SchemeError, match="practices, PCNs and federations"):
        offers.offer_scheme(db_session, scheme, ours.sub_location, actor=ours.admin)
    with pytest.raises(PermissionDenied):
        offers.offer_scheme(db_session, scheme, theirs.practice, actor=ours.admin)
    with pytest.raises(SchemeError, match="not commissioned for"):
        offers.offer_scheme(db_session, scheme, theirs.practice, actor=theirs.admin)
    with pytest.raises(PermissionDenied):
        offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.tier_1)


def test_one_live_offer_per_provider_and_history_is_kept(db_session, ours, scheme):
    first = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    with pytest.raises(SchemeError, match="already has this offer"):
        offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    offers.withdraw_offer(db_session, first, actor=ours.admin, reason="Sent in error")
    second = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    assert first.status is OfferStatus.WITHDRAWN
    assert first.reason == "Sent in error"
    assert second.id != first.id
    assert offers.offer_of_scheme(db_session, scheme.id, ours.practice) is second
    assert [o.id for o in offers.offers_to(db_session, ours.practice)] == [second.id, first.id]


def test_the_whole_life_of_an_offer_is_audited(db_session, ours, scheme):
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    offers.reject_offer(db_session, offer, actor=ours.provider, reason="  No capacity  ")
    assert (offer.status, offer.reason) == (OfferStatus.REJECTED, "No capacity")
    assert offer.responded_by_id == ours.provider.id
    offers.request_offer_again(db_session, offer, actor=ours.provider)
    assert offer.status is OfferStatus.RE_REQUESTED
    offers.reissue_offer(db_session, offer, actor=ours.admin)
    assert offer.status is OfferStatus.PENDING
    assert offer.responded_at is None
    offers.accept_offer(db_session, offer, actor=ours.provider)
    assert offer.status is OfferStatus.ACTIVE
    offers.cancel_offer(db_session, offer, actor=ours.admin, reason="Scheme ends early")
    assert offer.status is OfferStatus.CANCELLED
    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "scheme_offer", AuditEvent.object_id == str(offer.id))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, (e.before or {}).get("status"), e.after["status"]) for e in events] == [
        ("scheme_offer.offered", None, "PENDING"),
        ("scheme_offer.rejected", "PENDING", "REJECTED"),
        ("scheme_offer.requested_again", "REJECTED", "RE_REQUESTED"),
        ("scheme_offer.reissued", "RE_REQUESTED", "PENDING"),
        ("scheme_offer.accepted", "PENDING", "ACTIVE"),
        ("scheme_offer.cancelled", "ACTIVE", "CANCELLED"),
    ]
    assert events[1].reason == "No capacity"
    assert all(e.organisation_id == ours.practice.id for e in events)
    assert [e.id for e in offers.offer_history(db_session, offer)] == [e.id for e in events]


@pytest.mark.parametrize(
    ("status", "move", "message"),
    [
        (OfferStatus.ACTIVE, "accept_offer", "Only a pending offer can be accepted"),
        (OfferStatus.REJECTED, "reject_offer", "Only a pending offer can be rejected"),
        (OfferStatus.PENDING, "request_offer_again", "Only a rejected offer"),
        (OfferStatus.ACTIVE, "reissue_offer", "Only a rejected or re-requested offer"),
        (OfferStatus.ACTIVE, "withdraw_offer", "cancel it instead"),
        (OfferStatus.PENDING, "cancel_offer", "withdraw a pending one"),
        (OfferStatus.WITHDRAWN, "reissue_offer", "this one is withdrawn"),
    ],
)
def test_moves_that_do_not_apply_are_refused(db_session, ours, scheme, status, move, message):
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    offer.status = status
    actor = (
        ours.provider
        if move in {"accept_offer", "reject_offer", "request_offer_again"}
        else ours.admin
    )
    with pytest.raises(SchemeError, match=message):
        getattr(offers, move)(db_session, offer, actor=actor)


def test_who_may_answer_an_offer(db_session, ours, theirs, scheme):
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    multi_level_user = user_with_role(Role.PROVIDER_USER_MULTI, ours.practice)
    for outsider in (multi_level_user, theirs.provider, ours.admin, ours.tier_1):
        with pytest.raises(PermissionDenied):
            offers.accept_offer(db_session, offer, actor=outsider)
    with pytest.raises(PermissionDenied):
        offers.reissue_offer(db_session, offer, actor=ours.provider)
    approver = user_with_role(Role.PROVIDER_APPROVER, ours.practice)
    offers.accept_offer(db_session, offer, actor=approver)
    assert offer.status is OfferStatus.ACTIVE


def test_offers_of_a_closed_scheme_can_no_longer_be_answered(db_session, ours, scheme):
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    services.close_scheme(db_session, scheme, actor=ours.admin)
    with pytest.raises(SchemeError, match="closed: offers can no longer be answered"):
        offers.accept_offer(db_session, offer, actor=ours.provider)


def test_a_shared_scheme_is_offered_by_the_other_icb_to_its_own_providers(
    db_session, ours, theirs, scheme
):
    class ShareFactory(BaseFactory):
        class Meta:
            model = SchemeShare

    ShareFactory(scheme=scheme, commissioner=theirs.icb)
    db_session.refresh(scheme, ["shares"])
    offer = offers.offer_scheme(db_session, scheme, theirs.practice, actor=theirs.admin)
    assert offer.status is OfferStatus.PENDING


def test_claim_windows_as_the_provider_sees_them(db_session, ours, scheme):
    offer = offers.offer_scheme(db_session, scheme, ours.practice, actor=ours.admin)
    today = D(2026, 11, 23)
    # Not accepted yet: no window is open to this provider.
    assert offers.open_window_for(db_session, scheme, ours.practice, today) is None
    offers.accept_offer(db_session, offer, actor=ours.provider)
    window = offers.open_window_for(db_session, scheme, ours.practice, today)
    assert (window.period_start, window.opens_on, window.closes_on) == (
        D(2026, 10, 1),
        D(2026, 11, 1),
        D(2026, 11, 30),
    )
    states = {
        item.window.period_start: item.state
        for item in offers.window_schedule(db_session, scheme, ours.practice, today)
    }
    assert states[D(2026, 9, 1)] is WindowState.MISSED
    assert states[D(2026, 10, 1)] is WindowState.OPEN
    assert states[D(2026, 11, 1)] is WindowState.UPCOMING
    assert offers.window_for_period(scheme, D(2026, 10, 1)) is window
    assert (
        offers.ensure_claim_can_start(db_session, scheme, ours.practice, D(2026, 10, 1), today)
        is window
    )
    with pytest.raises(SchemeError, match="closed on 30 October 2026"):
        offers.ensure_claim_can_start(db_session, scheme, ours.practice, D(2026, 9, 1), today)
    with pytest.raises(SchemeError, match="open on 1 December 2026"):
        offers.ensure_claim_can_start(db_session, scheme, ours.practice, D(2026, 11, 1), today)
    with pytest.raises(SchemeError, match="no claim period starting"):
        offers.ensure_claim_can_start(db_session, scheme, ours.practice, D(2026, 11, 2), today)
    scheme.status = SchemeStatus.CLOSED
    assert offers.open_window_for(db_session, scheme, ours.practice, today) is None
