"""Signing out after inactivity: the sign-in page's words, the timeout warning's endpoint, and
forms posted after the session ended coming back once the person signs in again."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from claims_portal.access.models import AccessRequest, AccessRequestStatus, UserSession
from claims_portal.access.roles import Role
from claims_portal.claims.models import Claim
from claims_portal.db import utcnow
from claims_portal.organisations.models import ApprovalMode
from claims_portal.session_timeout import KEPT_FORM
from tests.claims.helpers import start
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import TEST_PASSWORD, csrf_token, sign_in

TIMED_OUT = (
    "For your security, we signed you out because you had not used the service for 30 minutes."
)
KEPT = "Sign in again to go back to your form: we have kept what you typed."
BROUGHT_BACK = "We have kept what you typed before you were signed out."


def _sessions_idle(db_session, user, minutes: int = 31) -> None:
    for row in db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)):
        row.last_seen_at = utcnow() - dt.timedelta(minutes=minutes)
    db_session.commit()


def _next_of(response) -> str:
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    return parse_qs(location.query)["next"][0]


def _kept(client):
    with client.session_transaction() as flask_session:
        return flask_session.get(KEPT_FORM)


# --- Sent to sign in -------------------------------------------------------------------------


def test_a_first_visit_goes_to_a_plain_sign_in_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"  # no ?next=/ either
    page = client.get("/sign-in").get_data(as_text=True)
    assert "nhsuk-notification-banner" not in page
    assert "Sign in to continue" not in page
    assert "Important" not in page


def test_a_signed_out_link_comes_back_after_signing_in_without_a_banner(client, db_session):
    icb = IcbFactory()
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=icb))
    response = client.get("/claims?status=draft")
    assert _next_of(response) == "/claims?status=draft"
    assert "nhsuk-notification-banner" not in client.get("/sign-in").get_data(as_text=True)
    page = client.get("/sign-in?next=/claims?status=draft")
    response = client.post(
        "/sign-in?next=/claims?status=draft",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/claims?status=draft"


def test_an_ended_session_says_why_once(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    _sessions_idle(db_session, user)
    response = client.get("/claims")
    assert _next_of(response) == "/claims"
    page = client.get("/sign-in?next=/claims").get_data(as_text=True)
    assert TIMED_OUT in page
    assert "Sign in again to continue." in page
    client.get("/claims")  # the ended session is forgotten: no second message
    assert TIMED_OUT not in client.get("/sign-in").get_data(as_text=True)


def test_a_session_ended_elsewhere_says_so_plainly(app, client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    other = app.test_client()
    sign_in(other, user.email)
    other.post("/sign-out-everywhere", data={"csrf_token": csrf_token(other.get("/account"))})
    client.get("/")
    page = client.get("/sign-in").get_data(as_text=True)
    assert "You were signed out. Sign in again to continue." in page


def test_the_page_signing_out_when_the_warning_ran_out_says_why(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    token = csrf_token(client.get("/account"))
    response = client.post("/sign-out", data={"csrf_token": token, "timed_out": "1"})
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert TIMED_OUT in page
    assert "You have signed out." not in page


# --- The warning -----------------------------------------------------------------------------


def test_signed_in_pages_carry_the_warning_and_its_script(app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 20)
    assert 'id="app-timeout-warning"' not in client.get("/sign-in").get_data(as_text=True)
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    response = client.get("/account")
    page = response.get_data(as_text=True)
    assert 'data-idle-seconds="1200"' in page
    assert 'data-warning-seconds="120"' in page
    assert 'data-stay-url="/stay-signed-in"' in page
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert re.search(rf'src="/static/timeout\.js\?v=[0-9a-f]{{16}}" nonce="{nonce}"', page)
    assert "onclick" not in page
    script = client.get("/static/timeout.js")
    assert script.status_code == 200
    assert "showModal" in script.get_data(as_text=True)


def test_stay_signed_in_counts_as_activity(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    token = csrf_token(client.get("/account"))
    row = db_session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    # Within the minute in which an ordinary page does not write it again.
    row.last_seen_at = utcnow() - dt.timedelta(seconds=40)
    db_session.commit()
    before = row.last_seen_at
    response = client.post(
        "/stay-signed-in", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"expires_in": 1800}
    db_session.expire_all()
    assert db_session.get(UserSession, row.id).last_seen_at > before + dt.timedelta(seconds=30)


def test_stay_signed_in_needs_the_csrf_token_and_a_live_session(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    token = csrf_token(client.get("/account"))
    assert client.post("/stay-signed-in").status_code == 400
    _sessions_idle(db_session, user)
    response = client.post("/stay-signed-in", headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert _kept(client) is None


def test_near_the_end_of_its_lifetime_the_session_says_how_long_it_has(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    token = csrf_token(client.get("/account"))
    row = db_session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    row.created_at = utcnow() - dt.timedelta(hours=12) + dt.timedelta(minutes=10)
    db_session.commit()
    answer = client.post("/stay-signed-in", headers={"X-CSRFToken": token}).get_json()
    assert 590 <= answer["expires_in"] <= 600


# --- Forms posted after the session ended ----------------------------------------------------


@pytest.fixture
def draft(db_session):
    scene = claim_scene()
    claim = start(db_session, scene)
    db_session.commit()
    return scene, claim


def test_a_claim_posted_after_the_session_ended_comes_back_after_signing_in(
    client, db_session, draft
):
    scene, claim = draft
    first, second = claim.lines
    sign_in(client, scene.user.email)
    edit = f"/claims/{claim.id}/edit"
    token = csrf_token(client.get(edit))
    _sessions_idle(db_session, scene.user)
    posted = {
        "csrf_token": token,
        "version": str(claim.version),
        "action": "save",
        f"units-{first.id}": "17",
        f"units-{second.id}": "4",
    }
    response = client.post(edit, data=posted, headers={"Referer": f"http://localhost{edit}"})
    assert _next_of(response) == edit
    assert KEPT in client.get(response.headers["Location"]).get_data(as_text=True)
    db_session.expire_all()
    assert [line.units for line in db_session.get(Claim, claim.id).lines] == [None, None]

    response = sign_in_with_next(client, scene.user.email, edit)
    assert response.headers["Location"] == edit
    response = client.get(edit)
    page = response.get_data(as_text=True)
    assert BROUGHT_BACK in page
    assert re.search(rf'name="units-{first.id}"[^>]*value="17"', page)
    assert re.search(rf'name="units-{second.id}"[^>]*value="4"', page)
    assert token not in page  # a fresh CSRF token, and the old one no longer works
    assert _kept(client) is None

    again = {**posted, "csrf_token": csrf_token(response)}
    assert client.post(edit, data=again).status_code == 302
    db_session.expire_all()
    assert [line.units for line in db_session.get(Claim, claim.id).lines] == [17, 4]
    assert BROUGHT_BACK not in client.get(edit).get_data(as_text=True)  # once only


def test_without_a_referrer_the_form_is_kept_for_the_address_it_was_posted_to(
    client, db_session, draft
):
    scene, claim = draft
    sign_in(client, scene.user.email)
    edit = f"/claims/{claim.id}/edit"
    token = csrf_token(client.get(edit))
    _sessions_idle(db_session, scene.user)
    client.post(edit, data={"csrf_token": token, "version": "1", f"units-{claim.lines[0].id}": "9"})
    kept = _kept(client)
    assert kept["path"] == edit
    assert kept["user"] == scene.user.id
    assert ["csrf_token", token] not in kept["fields"]


def test_a_kept_form_goes_back_only_to_the_person_who_typed_it(client, db_session, draft):
    scene, claim = draft
    sign_in(client, scene.user.email)
    edit = f"/claims/{claim.id}/edit"
    token = csrf_token(client.get(edit))
    _sessions_idle(db_session, scene.user)
    client.post(edit, data={"csrf_token": token, "version": "1", f"units-{claim.lines[0].id}": "9"})
    assert _kept(client) is not None
    colleague = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice)
    sign_in_with_next(client, colleague.email, edit)
    page = client.get(edit).get_data(as_text=True)
    assert BROUGHT_BACK not in page
    assert not re.search(rf'name="units-{claim.lines[0].id}"[^>]*value="9"', page)
    assert _kept(client) is None


def test_without_a_valid_csrf_token_nothing_is_kept(client, db_session, draft):
    scene, claim = draft
    sign_in(client, scene.user.email)
    edit = f"/claims/{claim.id}/edit"
    client.get(edit)
    _sessions_idle(db_session, scene.user)
    response = client.post(edit, data={"csrf_token": "forged", f"units-{claim.lines[0].id}": "9"})
    assert response.status_code == 400
    assert _kept(client) is None


def test_passwords_are_never_kept(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    token = csrf_token(client.get("/account/password"))
    _sessions_idle(db_session, user)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": "old one",
            "password": "new one",
            "confirm": "new one",
        },
    )
    assert response.status_code == 302
    assert _kept(client) is None  # nothing but secrets: not kept at all


def test_a_form_too_large_for_the_cookie_is_not_kept_and_the_page_says_so(
    client, db_session, draft
):
    scene, claim = draft
    sign_in(client, scene.user.email)
    edit = f"/claims/{claim.id}/edit"
    token = csrf_token(client.get(edit))
    _sessions_idle(db_session, scene.user)
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3000))
    client.post(edit, data={"csrf_token": token, "version": "1", "answer-1": noise})
    assert _kept(client) is None
    page = client.get(f"/sign-in?next={edit}").get_data(as_text=True)
    assert TIMED_OUT in page
    assert KEPT not in page


def test_an_access_decision_posted_after_the_session_ended_comes_back(client, db_session):
    practice = PracticeFactory(parent=IcbFactory(), approval_mode=ApprovalMode.TWO_STEP)
    approver = user_with_role(Role.PROVIDER_APPROVER, practice)
    access = AccessRequest(
        organisation=practice,
        email="new.person@nhs.net",
        full_name="New Person",
        role=Role.PROVIDER_USER_MULTI,
        status=AccessRequestStatus.PENDING,
    )
    db_session.add(access)
    db_session.commit()
    sign_in(client, approver.email)
    address = f"/access-requests/{access.id}"
    token = csrf_token(client.get(address))
    _sessions_idle(db_session, approver)
    reason = "Not someone we know at this practice"
    response = client.post(
        address, data={"csrf_token": token, "decision": "reject", "reason": reason}
    )
    assert _next_of(response) == address
    sign_in_with_next(client, approver.email, address)
    page = client.get(address).get_data(as_text=True)
    assert BROUGHT_BACK in page
    assert reason in page
    assert re.search(r'value="reject"[^>]*checked|checked[^>]*value="reject"', page)
    db_session.expire_all()
    assert db_session.get(AccessRequest, access.id).status is AccessRequestStatus.PENDING


# --- Helpers ---------------------------------------------------------------------------------


def sign_in_with_next(client, email: str, next_page: str):
    from tests.access.helpers import complete_second_factor, ensure_enrolled_if_required

    ensure_enrolled_if_required(email)
    page = client.get(f"/sign-in?next={next_page}")
    response = client.post(
        f"/sign-in?next={next_page}",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf_token(page)},
    )
    return complete_second_factor(client, response, email)
