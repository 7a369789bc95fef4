"""The provider's scheme pages: offers, answering them, and the schedule of claim windows."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from claims_portal.access.roles import Role
from claims_portal.schemes.models import Offer, OfferStatus, SchemeStatus
from tests.factories.access import user_with_role
from tests.factories.schemes import OfferFactory, QuestionFactory, ready_scheme
from tests.helpers import csrf_token, sign_in


@pytest.fixture
def offer(db_session, ours):
    scheme = ready_scheme(
        commissioner=ours.icb, name="NHS health checks", status=SchemeStatus.PUBLISHED
    )
    QuestionFactory(scheme=scheme, text="How many invitations were sent?")
    return OfferFactory(scheme=scheme, provider=ours.practice)


@pytest.fixture
def today(monkeypatch):
    day = dt.date(2026, 11, 23)
    monkeypatch.setattr("claims_portal.schemes.views.today", lambda: day)
    return day


def _page(client, url):
    return html.unescape(client.get(url).get_data(as_text=True))


def test_the_practice_sees_its_offers_and_their_status(client, ours, offer):
    sign_in(client, ours.provider.email)
    page = _page(client, "/schemes")
    assert "NHS health checks" in page
    assert "Pending" in page


def test_accepting_shows_the_claim_windows(client, db_session, ours, offer, today):
    sign_in(client, ours.provider.email)
    url = f"/schemes/{offer.scheme_id}"
    page = _page(client, url)
    assert "How many invitations were sent?" in page
    assert "£25.00" in page
    assert "You can claim once the offer is active" in page
    # Asked first: the offer stays pending until the person says yes.
    question = client.get(f"{url}/accept")
    assert "Are you sure you want to accept NHS health checks?" in question.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.PENDING
    response = client.post(f"{url}/accept", data={"csrf_token": csrf_token(question)})
    assert response.headers["Location"] == url
    page = _page(client, url)
    assert "You accepted NHS health checks" in page
    assert "You can claim once the offer is active" not in page
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.ACTIVE
    # 23 November 2026: September's window closed, October's is open, November's is to come.
    rows = {
        period: page.split(f'data-testid="window-{period}"')[1].split("</tr>")[0]
        for period in ("2026-09-01", "2026-10-01", "2026-11-01")
    }
    assert "Missed" in rows["2026-09-01"]
    assert "Open" in rows["2026-10-01"]
    assert "Upcoming" in rows["2026-11-01"]
    assert "Start a claim" in rows["2026-10-01"]  # the open window links to its claim
    assert "Not claimed" in rows["2026-09-01"]


def test_rejecting_with_a_reason_then_asking_again(client, db_session, ours, offer):
    sign_in(client, ours.provider.email)
    url = f"/schemes/{offer.scheme_id}"
    form = client.get(f"{url}/reject")
    assert form.status_code == 200
    assert "Are you sure you want to reject NHS health checks?" in form.get_data(as_text=True)
    response = client.post(
        f"{url}/reject", data={"reason": "No nurse until spring", "csrf_token": csrf_token(form)}
    )
    assert response.headers["Location"] == url
    page = _page(client, url)
    assert "Rejected" in page
    assert "Ask for this offer again" in page
    assert "No nurse until spring" in page  # in the offer's history
    client.post(f"{url}/request-again", data={"csrf_token": csrf_token(client.get(url))})
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.RE_REQUESTED
    assert "You asked for this offer again" in _page(client, url)


def test_an_offer_answered_meanwhile_is_not_asked_about(client, db_session, ours, offer):
    offer.status = OfferStatus.REJECTED  # answered by a colleague since the page was shown
    db_session.commit()
    sign_in(client, ours.provider.email)
    response = client.get(f"/schemes/{offer.scheme_id}/accept")
    assert response.status_code == 409
    assert "it can no longer be accepted" in response.get_data(as_text=True)


def test_a_too_long_reason_shows_the_error_summary(client, ours, offer):
    sign_in(client, ours.provider.email)
    url = f"/schemes/{offer.scheme_id}/reject"
    response = client.post(
        url, data={"reason": "x" * 1001, "csrf_token": csrf_token(client.get(url))}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert 'href="#reason"' in page


def test_users_who_cannot_answer_offers_only_see_them(client, db_session, ours, offer):
    viewer = user_with_role(Role.PROVIDER_USER_MULTI, ours.practice)
    sign_in(client, viewer.email)
    url = f"/schemes/{offer.scheme_id}"
    page = _page(client, url)
    assert "Accept offer" not in page
    assert "waiting for an answer" in page
    token = csrf_token(client.get("/"))
    assert client.post(f"{url}/accept", data={"csrf_token": token}).status_code == 403
    assert client.get(f"{url}/accept").status_code == 403
    assert client.get(f"{url}/reject").status_code == 403
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.PENDING


def test_another_practices_offer_is_not_found(client, db_session, ours, theirs, offer):
    sign_in(client, theirs.provider.email)
    url = f"/schemes/{offer.scheme_id}"
    assert client.get(url).status_code == 404
    token = csrf_token(client.get("/"))
    assert client.post(f"{url}/accept", data={"csrf_token": token}).status_code == 404
    assert "NHS health checks" not in _page(client, "/schemes")
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.PENDING


def test_commissioners_do_not_use_the_provider_pages(client, ours, offer):
    sign_in(client, ours.admin.email)
    assert client.get("/schemes").status_code == 403
    assert client.get(f"/schemes/{offer.scheme_id}").status_code == 403


def test_answering_needs_a_csrf_token(client, db_session, ours, offer):
    sign_in(client, ours.provider.email)
    assert client.post(f"/schemes/{offer.scheme_id}/accept").status_code == 400
    db_session.expire_all()
    assert db_session.get(Offer, offer.id).status is OfferStatus.PENDING


def test_withdrawn_offers_stay_as_history(client, ours, offer, db_session):
    offer.status = OfferStatus.WITHDRAWN
    db_session.commit()
    sign_in(client, ours.provider.email)
    page = _page(client, "/schemes")
    assert "Past offers" in page
    assert "Withdrawn" in page
    assert "Accept offer" not in _page(client, f"/schemes/{offer.scheme_id}")


def test_the_header_links_to_schemes_for_providers_and_the_admin_for_commissioners(client, ours):
    sign_in(client, ours.provider.email)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/schemes"' in home
    assert 'href="/admin/"' not in home
    client.post("/sign-out", data={"csrf_token": csrf_token(client.get("/"))})
    sign_in(client, ours.tier_1.email)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/"' in home
    assert 'href="/schemes"' not in home
