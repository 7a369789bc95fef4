from __future__ import annotations

from claims_portal.access.roles import Role
from claims_portal.organisations.models import ApprovalMode, Organisation
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import csrf_token, sign_in


def test_icb_administrator_switches_a_practice_to_two_step(client, db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb, name="Hill Top Surgery")
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, admin.email)
    listing = client.get("/practices")
    assert "Hill Top Surgery" in listing.get_data(as_text=True)
    url = f"/practices/{practice.id}/approval-mode"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url, data={"approval_mode": "TWO_STEP", "reason": "", "csrf_token": csrf_token(form)}
    )
    assert response.headers["Location"] == "/practices"
    assert db_session.get(Organisation, practice.id).approval_mode is ApprovalMode.TWO_STEP
    assert "now uses Two-step approval" in client.get("/practices").get_data(as_text=True)


def test_missing_choice_shows_the_error_summary(client, db_session):
    icb = IcbFactory()
    practice = PracticeFactory(parent=icb)
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, admin.email)
    url = f"/practices/{practice.id}/approval-mode"
    response = client.post(url, data={"csrf_token": csrf_token(client.get(url))})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert 'href="#approval_mode"' in page


def test_another_icbs_practice_is_refused_by_url(client, db_session):
    own_icb, other_icb = IcbFactory(), IcbFactory()
    foreign_practice = PracticeFactory(parent=other_icb)
    admin = user_with_role(Role.ADMINISTRATOR, own_icb)
    sign_in(client, admin.email)
    url = f"/practices/{foreign_practice.id}/approval-mode"
    assert client.get(url).status_code == 403
    listing = client.get("/practices")
    response = client.post(
        url, data={"approval_mode": "TWO_STEP", "csrf_token": csrf_token(listing)}
    )
    assert response.status_code == 403
    assert db_session.get(Organisation, foreign_practice.id).approval_mode is ApprovalMode.ONE_STEP


def test_practice_users_cannot_see_the_practice_list(client, db_session):
    practice = PracticeFactory()
    user = user_with_role(Role.PROVIDER_APPROVER, practice)
    sign_in(client, user.email)
    assert client.get("/practices").status_code == 403
    assert client.get(f"/practices/{practice.id}/approval-mode").status_code == 403


def test_unknown_practice_is_404(client, db_session):
    icb = IcbFactory()
    admin = user_with_role(Role.ADMINISTRATOR, icb)
    sign_in(client, admin.email)
    assert client.get("/practices/999999/approval-mode").status_code == 404
