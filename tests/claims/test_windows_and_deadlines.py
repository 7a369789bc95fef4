"""From an open claim window a link starts its claim; a claim sent back whose window closed
says it may still be resubmitted, not "Claim by" a day that has passed."""

from __future__ import annotations

import datetime as dt
import html
import re

from claims_portal.claims.models import ClaimAction, ClaimStatus
from claims_portal.claims.services import timing
from claims_portal.schemes.models import ClaimWindow, Scheme, SchemeStatus
from tests.claims.helpers import act, at_tier_1, signed_in, start
from tests.factories.claims import claim_scene


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return html.unescape(response.get_data(as_text=True))


def checked_options(page: str) -> list[str]:
    return re.findall(r'<input[^>]*value="([^"]+)"[^>]*checked', page)


def test_an_open_window_on_the_scheme_page_links_to_starting_its_claim(app, db_session, scene):
    browser = signed_in(app, scene.user)
    page = text(browser.get(f"/schemes/{scene.scheme.id}"))
    row = page.split(f'data-testid="window-{scene.window.period_start.isoformat()}"')[1]
    row = row.split("</tr>")[0]
    link = f"/claims/new?window={scene.window.id}"
    assert f'href="{link}"' in row
    assert (
        f'Start a claim<span class="nhsuk-u-visually-hidden"> for {scene.window.period_label}'
        in row
    )

    form = text(browser.get(link))
    assert checked_options(form) == [str(scene.window.id)]  # the window chosen
    # Starting from there is the ordinary claim start (the same service).
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    response = browser.post(link, data={"csrf_token": token.group(1), "option": scene.window.id})
    assert response.status_code == 302
    assert "/edit" in response.headers["Location"]


def test_a_single_service_scheme_offers_only_that_windows_services(app, db_session):
    scene = claim_scene(multi_service=False)
    form = text(signed_in(app, scene.user).get(f"/claims/new?window={scene.window.id}"))
    values = re.findall(r'name="option" type="radio" value="([^"]+)"', form)
    assert values == [f"{scene.window.id}:{c.id}" for c in scene.components]
    assert checked_options(form) == []  # the practice chooses the service


def test_no_link_once_the_scheme_closed_and_a_window_not_open_is_ignored(app, db_session, scene):
    browser = signed_in(app, scene.user)
    # An unknown window in the link is ignored: every open one is offered, none chosen.
    assert checked_options(text(browser.get("/claims/new?window=99999"))) == []
    assert browser.get("/claims/new?window=abc").status_code == 200
    # A bare row change (the requests left the scene's rows detached): no rules needed here.
    db_session.get(Scheme, scene.scheme.id).status = SchemeStatus.CLOSED
    db_session.commit()
    page = text(browser.get(f"/schemes/{scene.scheme.id}"))
    assert "/claims/new?window=" not in page


def _closed_yesterday(db_session, scene) -> None:
    window = db_session.get(ClaimWindow, scene.window.id)
    window.opens_on = scene.today - dt.timedelta(days=20)
    window.closes_on = scene.today - dt.timedelta(days=1)
    db_session.commit()


def test_a_declined_claim_whose_window_closed_may_still_be_resubmitted(app, db_session, scene):
    claim = at_tier_1(db_session, scene)
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, scene.tier_1, "Units do not match")
    db_session.commit()
    _closed_yesterday(db_session, scene)
    assert claim.status is ClaimStatus.DECLINED
    browser = signed_in(app, scene.user)
    closed = (scene.today - dt.timedelta(days=1)).strftime("%-d %B %Y")
    for url in (f"/claims/{claim.id}/edit", f"/claims/{claim.id}"):
        page = text(browser.get(url))
        deadline = page.split('data-testid="claim-deadline">', 1)[1].split("</p>", 1)[0]
        assert "Claim by" not in page
        assert f"The claim window closed on {closed}" in deadline
        assert "it may still be resubmitted" in deadline


def test_what_each_claim_is_told_about_its_deadline(db_session, scene):
    claim = start(db_session, scene)
    closes = scene.window.closes_on.strftime("%-d %B %Y")
    assert timing.submission_deadline(claim, scene.today) == f"Claim by {closes}."
    after = scene.window.closes_on + dt.timedelta(days=1)
    assert "this draft can no longer be submitted" in timing.submission_deadline(claim, after)
    claim.status = ClaimStatus.RETURNED_BY_PROVIDER
    assert "may be resubmitted even after" in timing.submission_deadline(claim, scene.today)
    assert "may still be resubmitted" in timing.submission_deadline(claim, after)
    claim.status = ClaimStatus.AWAITING_COMMISSIONER_REVIEW
    assert timing.submission_deadline(claim, scene.today) is None
