"""Two people deciding about the same national offer at once, on PostgreSQL with two real
connections: exactly one wins, the other is told who got there first, and only the winner's
audit event exists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.extensions import db
from claims_portal.national.models import OfferStatus, QualityService, ServiceOffer
from claims_portal.national.services import offers
from claims_portal.national.services.offers import OfferConflict, OfferError
from claims_portal.organisations.models import Organisation
from tests.factories.access import user_with_role
from tests.factories.national import QualityServiceFactory
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import migrated_app
from tests.races import audit_count, one_after_the_other, together


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_national_offer_race") as app:
        yield app


@pytest.fixture
def scene(race_app) -> dict[str, int]:
    with race_app.app_context():
        icb = IcbFactory()
        practice = PracticeFactory(parent=icb)
        tom = user_with_role(Role.COMMISSIONING_MANAGEMENT, icb, full_name="Tom Okafor")
        priya = user_with_role(Role.COMMISSIONING_MANAGEMENT, icb, full_name="Priya Shah")
        aisha = user_with_role(Role.SERVICE_MANAGEMENT, practice, full_name="Aisha Khan")
        ben = user_with_role(Role.SERVICE_MANAGEMENT, practice, full_name="Ben Hall")
        service = QualityServiceFactory()
        [offer] = offers.offer_service(db.session, service, [practice], commissioner=icb, actor=tom)
        db.session.commit()
        ids = {
            "offer": offer.id,
            "service": service.id,
            "icb": icb.id,
            "practice": practice.id,
            "tom": tom.id,
            "priya": priya.id,
            "aisha": aisha.id,
            "ben": ben.id,
        }
        db.session.remove()
    return ids


def _step(ids: dict[str, int], name: str, who: str) -> Any:
    def work(session: Session) -> Any:
        offer = session.get(ServiceOffer, ids["offer"])
        offers.take_step(session, offer, name, actor=session.get(User, ids[who]), reason="Why")
        return name

    return work


def _status(app: Any, offer_id: int) -> OfferStatus:
    with app.app_context(), Session(db.engine) as session:
        return session.get(ServiceOffer, offer_id).status


def test_accept_then_withdraw_the_second_waits_and_is_told_who_accepted(race_app, scene):
    first, second, waited = one_after_the_other(
        race_app, _step(scene, "accept", "aisha"), _step(scene, "withdraw", "tom")
    )
    assert first == "accept"
    assert isinstance(second, OfferConflict), second
    assert waited >= 0.4
    message = second.messages[0]
    assert message.startswith(
        "Only an offer not yet answered can be withdrawn (cancel an answered one); this one "
        "was accepted by Aisha Khan at "
    )
    assert message.endswith("Nothing was changed.")
    assert _status(race_app, scene["offer"]) is OfferStatus.APPROVED
    assert audit_count(race_app, "national_offer.withdrawn", scene["offer"]) == 0


def test_withdraw_then_accept_the_provider_is_told_who_withdrew(race_app, scene):
    first, second, _ = one_after_the_other(
        race_app, _step(scene, "withdraw", "tom"), _step(scene, "accept", "aisha")
    )
    assert first == "withdraw"
    assert isinstance(second, OfferConflict)
    assert "this one was withdrawn by Tom Okafor at " in second.messages[0]
    assert audit_count(race_app, "national_offer.accepted", scene["offer"]) == 0


@pytest.mark.parametrize("rounds", range(3))
def test_accepting_while_withdrawing_exactly_one_wins(race_app, scene, rounds):
    outcomes = together(race_app, _step(scene, "accept", "aisha"), _step(scene, "withdraw", "tom"))
    assert sorted(type(o).__name__ for o in outcomes) == ["OfferConflict", "str"], outcomes
    accepted = audit_count(race_app, "national_offer.accepted", scene["offer"])
    withdrawn = audit_count(race_app, "national_offer.withdrawn", scene["offer"])
    assert accepted + withdrawn == 1
    expected = OfferStatus.APPROVED if accepted else OfferStatus.WITHDRAWN
    assert _status(race_app, scene["offer"]) is expected


def test_two_colleagues_answering_one_accepts_one_is_refused(race_app, scene):
    outcomes = together(race_app, _step(scene, "accept", "aisha"), _step(scene, "reject", "ben"))
    assert sorted(type(o).__name__ for o in outcomes) == ["OfferConflict", "str"], outcomes


def test_two_commissioners_offering_the_same_practice_at_once(race_app, scene):
    with race_app.app_context():
        service = QualityServiceFactory()
        db.session.commit()
        service_id = service.id
        db.session.remove()

    def offer(who: str) -> Any:
        def work(session: Session) -> Any:
            offers.offer_service(
                session,
                session.get(QualityService, service_id),
                [session.get(Organisation, scene["practice"])],
                commissioner=session.get(Organisation, scene["icb"]),
                actor=session.get(User, scene[who]),
            )
            return who

        return work

    outcomes = together(race_app, offer("tom"), offer("priya"))
    assert sorted(type(o).__name__ for o in outcomes) == ["OfferError", "str"], outcomes
    refused = next(o for o in outcomes if isinstance(o, OfferError))
    assert "already has an offer" in refused.messages[0]
