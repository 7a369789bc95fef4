"""The admin reads like the portal: long dates, names in the audit trail, every problem of a
form in one summary, nothing said twice (the browser checks the look: tests/browser)."""

from __future__ import annotations

import html
import re

from claims_portal.audit.services import record_event
from claims_portal.formatting import long_date
from claims_portal.schemes.models import SchemeStatus
from tests.admin.helpers import post
from tests.factories.claims import ClaimFactory
from tests.factories.schemes import SchemeFactory, ready_scheme
from tests.helpers import csrf_token, sign_in


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _summary(page: str) -> list[str]:
    found = re.search(r'data-testid="error-summary".*?<ul[^>]*>(.*?)</ul>', page, re.S)
    assert found, "no error summary"
    return [
        re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", found[1])
    ]


def test_an_edit_lists_the_forms_problems_and_the_rules_together_once(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    sign_in(client, ours.admin.email)
    data = {
        "code": scheme.code,
        "name": "",  # the form's check
        "commissioner_id": ours.icb.id,
        "financial_year": scheme.financial_year,
        "start_date": scheme.start_date.isoformat(),
        "end_date": scheme.start_date.replace(year=scheme.start_date.year - 1).isoformat(),
        "claim_frequency": "MONTHLY",
        "window_days": "400",  # the form's check
        "evidence_requirement": "NOT_REQUIRED",
        "paycode": scheme.paycode,
    }
    response = post(client, f"/admin/schemes/edit/?id={scheme.id}", data)
    assert response.status_code == 200
    page = _text(response)
    problems = _summary(page)
    assert "Enter the name" in problems
    assert any("366" in problem for problem in problems), problems
    # The scheme's rule, which the form alone does not check.
    assert "The end date must be the same as or after the start date" in problems
    assert len(problems) == len(set(problems))
    assert "Failed to save record." not in page
    assert '<a href="#name">Enter the name</a>' in page
    db_session.expire_all()
    assert scheme.name  # nothing saved


def test_a_refused_publication_lists_its_problems_once(client, db_session, ours):
    scheme = SchemeFactory(commissioner=ours.icb, paycode=None)
    sign_in(client, ours.admin.email)
    response = post(client, "/admin/schemes/publish/", {"id": scheme.id})
    page = _text(client.get(response.headers["Location"]))
    assert _summary(page) == [f"{scheme.code} was not published: put right the problems listed."]
    assert page.count("Add the claim windows (generate them from the claim frequency)") == 1


def test_a_saved_offer_says_so_once(client, db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, status=SchemeStatus.PUBLISHED)
    sign_in(client, ours.admin.email)
    form = client.get(f"/admin/offers/new/?scheme_id={scheme.id}")
    response = client.post(
        f"/admin/offers/new/?scheme_id={scheme.id}",
        data={
            "scheme_id": scheme.id,
            "provider_ids": [ours.practice.id],
            "csrf_token": csrf_token(form),
        },
    )
    assert response.status_code == 302, _text(response)
    page = _text(client.get(response.headers["Location"]))
    assert f"{scheme.code} offered to 1 provider." in page
    assert "Record was successfully created." not in page


def test_lists_show_long_dates(client, db_session, ours):
    opens_on = ready_scheme(commissioner=ours.icb).windows[0].opens_on
    sign_in(client, ours.admin.email)
    page = _text(client.get("/admin/claim-windows/"))
    assert long_date(opens_on) in page
    assert opens_on.isoformat() not in page.split("model-list")[1]


def test_the_audit_trail_names_who_where_and_what(client, db_session, ours):
    claim = ClaimFactory(provider=ours.practice)
    record_event(
        db_session,
        action="claim.submitted",
        object_type="claim",
        object_id=str(claim.id),
        actor=ours.provider,
        organisation=ours.practice,
    )
    db_session.flush()
    sign_in(client, ours.admin.email)
    page = _text(client.get("/admin/audit-trail/"))
    row = re.search(r"<tr>(?:(?!</tr>).)*claim\.submitted.*?</tr>", page, re.S)
    assert row, page
    cells = row[0]
    assert ours.provider.full_name in cells
    assert ours.provider.email not in cells
    assert ours.practice.display_name in cells
    assert f"Claim {claim.reference}" in cells
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d", cells)
