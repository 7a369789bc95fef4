"""A declined or returned claim says why where the practice acts: the reason, who gave it
and when, at the top of the claim page and the edit page."""

from __future__ import annotations

import html
import re

from claims_portal.claims.models import ClaimAction
from claims_portal.formatting import england_time
from tests.claims.helpers import act, at_tier_1, signed_in, submitted


def _callout(page) -> str:
    text = html.unescape(page.get_data(as_text=True))
    found = re.search(r'data-testid="sent-back">(.*?)</div>\s*</div>', text, re.S)
    assert found is not None, text[:3000]
    # It stands above the page's actions and lines.
    assert text.index('data-testid="sent-back"') < text.index("<h2")
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_a_declined_claim_says_why_who_and_when(app, db_session, scene):
    claim = at_tier_1(db_session, scene)
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, scene.tier_1, "Evidence is missing")
    event = claim.sent_back_by
    assert event is not None
    when = england_time(event.occurred_at)
    browser = signed_in(app, scene.user)
    for url in (f"/claims/{claim.id}", f"/claims/{claim.id}/edit"):
        callout = _callout(browser.get(url))
        assert "Declined: why" in callout
        assert "“Evidence is missing”" in callout
        assert f"Tom Okafor, the commissioner (tier 1 review), declined this claim on {when}" in (
            callout
        )


def test_a_returned_claim_says_why_on_both_pages(app, db_session, scene):
    claim = submitted(db_session, scene)
    act(db_session, claim, ClaimAction.PROVIDER_RETURN, scene.approver, "Units look doubled")
    browser = signed_in(app, scene.user)
    for url in (f"/claims/{claim.id}", f"/claims/{claim.id}/edit"):
        callout = _callout(browser.get(url))
        assert "Returned: why" in callout
        assert "“Units look doubled”" in callout
        assert "Sarah Bennett, your provider approver, returned this claim on" in callout


def test_a_claim_not_sent_back_has_no_callout(app, db_session, scene):
    claim = submitted(db_session, scene)
    assert claim.sent_back_by is None
    page = signed_in(app, scene.user).get(f"/claims/{claim.id}").get_data(as_text=True)
    assert 'data-testid="sent-back"' not in page
