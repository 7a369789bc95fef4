"""Two people deciding about the same offer or scheme at once, on PostgreSQL with two real
connections: exactly one wins, the other is told who got there first, and only the winner's
audit event exists. The provider's page that tells them is checked at the end.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.extensions import db
from claims_portal.schemes import services as scheme_services
from claims_portal.schemes.models import Offer, OfferStatus, Scheme, SchemeStatus
from claims_portal.schemes.services import SchemeConflict, SchemeError, offers
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.factories.schemes import OfferFactory, ready_scheme
from tests.helpers import csrf_token, migrated_app, sign_in
from tests.races import audit_count, one_after_the_other, together


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_scheme_race") as app:
        yield app


@pytest.fixture
def scene(race_app) -> dict[str, int]:
    """A draft scheme ready to publish, a published one offered (pending) to a practice, two
    ICB administrators and two people who answer the practice's offers (committed ids)."""
    with race_app.app_context():
        icb = IcbFactory()
        practice = PracticeFactory(parent=icb)
        priya = user_with_role(Role.ADMINISTRATOR, icb, full_name="Priya Shah")
        tom = user_with_role(Role.ADMINISTRATOR, icb, full_name="Tom Okafor")
        aisha = user_with_role(Role.PROVIDER_USER_SINGLE, practice, full_name="Aisha Khan")
        ben = user_with_role(Role.PROVIDER_USER_SINGLE, practice, full_name="Ben Hall")
        draft = ready_scheme(commissioner=icb)
        published = ready_scheme(commissioner=icb)
        scheme_services.publish_scheme(db.session, published, actor=priya)
        offer = offers.offer_scheme(db.session, published, practice, actor=priya)
        db.session.commit()
        ids = {
            "draft": draft.id,
            "published": published.id,
            "offer": offer.id,
            "priya": priya.id,
            "tom": tom.id,
            "aisha": aisha.id,
            "ben": ben.id,
        }
        db.session.remove()
    return ids


def _on_offer(ids: dict[str, int], move: str, who: str) -> Any:
    def work(session: Session) -> Any:
        getattr(offers, move)(
            session, session.get(Offer, ids["offer"]), actor=session.get(User, ids[who])
        )
        return move

    return work


def _on_scheme(ids: dict[str, int], step: str, key: str, who: str) -> Any:
    def work(session: Session) -> Any:
        getattr(scheme_services, step)(
            session, session.get(Scheme, ids[key]), actor=session.get(User, ids[who])
        )
        return step

    return work


def _offer_status(app: Any, offer_id: int) -> OfferStatus:
    with app.app_context(), Session(db.engine) as session:
        return session.get(Offer, offer_id).status


# --- Offers ---------------------------------------------------------------------------------


def test_accept_then_reject_the_second_waits_and_is_told_who_accepted(race_app, scene):
    first, second, waited = one_after_the_other(
        race_app,
        _on_offer(scene, "accept_offer", "aisha"),
        _on_offer(scene, "reject_offer", "ben"),
    )

    assert first == "accept_offer"
    assert isinstance(second, SchemeConflict), second
    assert waited >= 0.4
    message = second.messages[0]
    assert message.startswith(
        "Only a pending offer can be rejected; this one was accepted by Aisha Khan at "
    )
    assert message.endswith("Nothing was changed.")
    assert _offer_status(race_app, scene["offer"]) is OfferStatus.ACTIVE
    assert audit_count(race_app, "scheme_offer.accepted", scene["offer"]) == 1
    assert audit_count(race_app, "scheme_offer.rejected", scene["offer"]) == 0


@pytest.mark.parametrize("rounds", range(3))
def test_the_provider_accepting_while_the_commissioner_withdraws(race_app, scene, rounds):
    outcomes = together(
        race_app,
        _on_offer(scene, "accept_offer", "aisha"),
        _on_offer(scene, "withdraw_offer", "priya"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["SchemeConflict", "str"], outcomes
    accepted = audit_count(race_app, "scheme_offer.accepted", scene["offer"])
    withdrawn = audit_count(race_app, "scheme_offer.withdrawn", scene["offer"])
    assert accepted + withdrawn == 1
    expected = OfferStatus.ACTIVE if accepted else OfferStatus.WITHDRAWN
    assert _offer_status(race_app, scene["offer"]) is expected


def test_two_commissioners_reissuing_a_rejected_offer(race_app, scene):
    from tests.races import act

    assert act(race_app, _on_offer(scene, "reject_offer", "aisha")) == "reject_offer"
    first, second, _ = one_after_the_other(
        race_app,
        _on_offer(scene, "reissue_offer", "tom"),
        _on_offer(scene, "reissue_offer", "priya"),
    )

    assert first == "reissue_offer"
    assert isinstance(second, SchemeConflict)
    assert "this one was reissued by Tom Okafor at " in second.messages[0]
    assert audit_count(race_app, "scheme_offer.reissued", scene["offer"]) == 1
    assert _offer_status(race_app, scene["offer"]) is OfferStatus.PENDING


def test_an_offer_is_not_accepted_while_its_scheme_is_being_closed(race_app, scene):
    """Closing holds the scheme's row; the answer waits, then finds the scheme closed."""
    first, second, waited = one_after_the_other(
        race_app,
        _on_scheme(scene, "close_scheme", "published", "priya"),
        _on_offer(scene, "accept_offer", "aisha"),
    )

    assert first == "close_scheme"
    assert isinstance(second, SchemeError)
    assert "closed: offers can no longer be answered" in second.messages[0]
    assert waited >= 0.4
    assert audit_count(race_app, "scheme_offer.accepted", scene["offer"]) == 0


# --- Publishing and closing ----------------------------------------------------------------


def test_publishing_twice_at_once_publishes_once(race_app, scene):
    first, second, waited = one_after_the_other(
        race_app,
        _on_scheme(scene, "publish_scheme", "draft", "priya"),
        _on_scheme(scene, "publish_scheme", "draft", "tom"),
    )

    assert first == "publish_scheme"
    assert isinstance(second, SchemeConflict)
    assert waited >= 0.4
    assert " is already published by Priya Shah at " in second.messages[0]
    assert second.messages[0].endswith("Nothing was changed.")
    assert audit_count(race_app, "scheme.published", scene["draft"]) == 1


def test_closing_twice_released_together_closes_once(race_app, scene):
    outcomes = together(
        race_app,
        _on_scheme(scene, "close_scheme", "published", "priya"),
        _on_scheme(scene, "close_scheme", "published", "tom"),
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["SchemeConflict", "str"]
    conflict = next(o for o in outcomes if isinstance(o, SchemeConflict))
    assert "is already closed by " in conflict.messages[0]
    assert audit_count(race_app, "scheme.closed", scene["published"]) == 1


# --- What the second person sees ----------------------------------------------------------


def test_a_rejection_sent_after_a_colleague_accepted_says_so(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    offer = OfferFactory(scheme=scheme, provider=ours.practice)
    colleague = user_with_role(Role.PROVIDER_USER_SINGLE, ours.practice, full_name="Aisha Khan")
    sign_in(client, ours.provider.email)
    url = f"/schemes/{scheme.id}/reject"
    form = client.get(url)  # the page is open ...
    offers.accept_offer(  # ... a colleague accepts ...
        db_session, db_session.get(Offer, offer.id), actor=db_session.get(User, colleague.id)
    )
    db_session.commit()

    response = client.post(url, data={"reason": "No nurse", "csrf_token": csrf_token(form)})

    assert response.status_code == 409  # the offer's page, the reason in its error summary
    page = html.unescape(response.get_data(as_text=True))
    assert "There is a problem" in page
    assert "this one was accepted by Aisha Khan at " in page
    assert "Nothing was changed." in page
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.ACTIVE
    rejected = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "scheme_offer.rejected")
    ).all()
    assert rejected == []
