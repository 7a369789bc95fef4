"""Claim lists: who sees what, filters, sorting, paging, exports, and bounded queries."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest

from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services import listing
from claims_portal.claims.views.list_rows import STATUS_COLOURS, render_options
from claims_portal.clock import today as clock_today
from claims_portal.db import utcnow
from claims_portal.extensions import db
from tests.claims.helpers import at_tier_1, signed_in, start
from tests.factories.access import user_with_role
from tests.factories.claims import ClaimFactory, claim_scene
from tests.factories.organisations import PracticeFactory
from tests.helpers import counted_queries

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def references(body: str) -> list[str]:
    if 'data-testid="claims-all"' not in body:
        return []
    table = body.split('data-testid="claims-all"', 1)[1].split("</table>", 1)[0]
    return re.findall(r">(CLM-\d{6})</a>", table)


def summary_links(body: str) -> dict[str, str]:
    """The error summary's links: target -> text."""
    if "nhsuk-error-summary" not in body:
        return {}
    summary = body.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return {
        target: " ".join(words.split())
        for target, words in re.findall(r'<a href="(#[^"]*)">(.*?)</a>', summary, re.S)
    }


def add_claims(scene, count, *, status=S.AWAITING_COMMISSIONER_REVIEW, provider=None, **kwargs):
    """Bare claim rows (no rules applied) under the scene's scheme: enough for lists."""
    now = utcnow()
    submitted = status not in (S.DRAFT, S.WITHDRAWN)
    defaults = {
        "provider": provider or scene.practice,
        "scheme": scene.scheme,
        "window": scene.window,
        "scope": None,  # ad hoc: the one-live-claim index leaves these out
        "status": status,
        "created_by": scene.user,
        "submitted_at": now if submitted else None,
        "submitted_by": scene.user if submitted else None,
        "reached_commissioner_at": now if status is not S.DRAFT else None,
        "value": Decimal("100.00"),
    }
    defaults.update(kwargs)
    claims = [ClaimFactory(**defaults) for _ in range(count)]
    db.session.commit()
    return claims


# --- Who sees what -------------------------------------------------------------------------


def test_a_practice_sees_its_own_claims_and_a_commissioner_those_sent_to_it(app, db_session, scene):
    mine = add_claims(scene, 2)
    draft = add_claims(scene, 1, status=S.DRAFT)[0]
    elsewhere = claim_scene()
    theirs = add_claims(elsewhere, 1)[0]

    practice_page = text(signed_in(app, scene.user).get("/claims"))
    assert sorted(references(practice_page)) == sorted(c.reference for c in [*mine, draft])
    assert theirs.reference not in practice_page

    commissioner_page = text(signed_in(app, scene.tier_1).get("/claims"))
    assert sorted(references(commissioner_page)) == sorted(c.reference for c in mine)
    assert draft.reference not in commissioner_page  # not sent yet
    assert theirs.reference not in commissioner_page  # another ICB


def test_someone_without_a_claims_role_is_refused(app, db_session, scene):
    from tests.factories.access import UserFactory

    nobody = UserFactory()
    browser = app.test_client()
    from tests.helpers import sign_in

    sign_in(browser, nobody.email)
    assert browser.get("/claims").status_code == 403
    assert browser.get("/claims/export-csv").status_code == 403


# --- Filters, sorting, paging --------------------------------------------------------------


def test_filter_options_mark_only_the_chosen_one_and_stay_escaped():
    """Options are escaped once per set of choices; each list marks its own choice."""
    choices = [(1, "Ash <b>Surgery</b> (A1)"), (2, 'Birch "&" Co (B2)'), (10, "Cedar (C3)")]
    assert render_options(choices, 2) == (
        '<option value="1">Ash &lt;b&gt;Surgery&lt;/b&gt; (A1)</option>'
        '<option value="2" selected>Birch &#34;&amp;&#34; Co (B2)</option>'
        '<option value="10">Cedar (C3)</option>'
    )
    assert render_options(choices, 10).count(" selected") == 1
    assert '<option value="10" selected>' in render_options(choices, 10)
    assert " selected" not in render_options(choices, None)
    assert " selected" not in render_options(choices, 3)
    assert render_options([('"><script>', "x")], '"><script>') == (
        '<option value="&#34;&gt;&lt;script&gt;" selected>x</option>'
    )


def test_filters_narrow_the_list_and_come_back_in_the_form(app, db_session, one_step):
    other_practice = PracticeFactory(parent=one_step.practice.parent, name="Zebra Surgery")
    waiting = add_claims(one_step, 2)
    approved = add_claims(one_step, 1, status=S.APPROVED_FOR_PAYMENT)[0]
    zebra = add_claims(one_step, 1, provider=other_practice)[0]
    browser = signed_in(app, one_step.tier_1)

    body = text(browser.get("/claims?status=APPROVED_FOR_PAYMENT"))
    assert references(body) == [approved.reference]
    assert '<option value="APPROVED_FOR_PAYMENT" selected>' in body

    body = text(browser.get(f"/claims?practice={other_practice.id}"))
    assert references(body) == [zebra.reference]

    body = text(browser.get("/claims?q=zebra"))
    assert references(body) == [zebra.reference]
    body = text(browser.get(f"/claims?q={waiting[0].reference}"))
    assert references(body) == [waiting[0].reference]
    body = text(browser.get(f"/claims?q={waiting[1].id}"))
    assert references(body) == [waiting[1].reference]

    start_month = one_step.window.period_start.strftime("%Y-%m")
    body = text(browser.get(f"/claims?period-from={start_month}&period-to={start_month}"))
    assert len(references(body)) == 4
    later = (one_step.window.period_end + dt.timedelta(days=1)).strftime("%Y-%m")
    body = text(browser.get(f"/claims?period-from={later}"))
    assert references(body) == []
    assert "No claims match these filters." in body

    body = text(
        browser.get(f"/claims?scheme={one_step.scheme.id}&status=AWAITING_COMMISSIONER_REVIEW")
    )
    assert sorted(references(body)) == sorted(c.reference for c in [*waiting, zebra])


def test_unreadable_filters_are_dropped_and_said(app, db_session, one_step):
    add_claims(one_step, 1)
    body = text(
        signed_in(app, one_step.tier_1).get(
            "/claims?status=LOST&scheme=abc&period-from=soon&sort=evil;drop&page=-3"
        )
    )
    # The NHS error summary at the top, each problem linked to its filter (title: "Error:").
    assert body.index("nhsuk-error-summary") < body.index("<h1>Claims</h1>")
    summary = summary_links(body)
    assert summary["#filter-status"].startswith("The status was not recognised")
    assert summary["#filter-scheme"].startswith("The scheme was not recognised")
    assert summary["#filter-period-from"] == (
        "Enter the period as a month and year, like 2026-10: “soon” is not applied"
    )
    assert "<title>Error: Claims" in body
    assert list(summary) == ["#filter-scheme", "#filter-status", "#filter-period-from"]
    assert 'id="filter-status-error"' in body
    assert "nhsuk-form-group--error" in body
    assert len(references(body)) == 1


def test_a_scheme_or_practice_the_list_does_not_offer_is_said_not_silently_applied(
    app, db_session, one_step
):
    (claim,) = add_claims(one_step, 1)
    other = claim_scene(two_step=False)  # another ICB's scheme and practice
    browser = signed_in(app, one_step.tier_1)
    body = text(browser.get(f"/claims?scheme={other.scheme.id}&practice={other.practice.id}"))
    summary = summary_links(body)
    assert summary["#filter-scheme"] == "The scheme was not recognised, so it is not applied"
    assert summary["#filter-practice"] == "The practice was not recognised, so it is not applied"
    assert references(body) == [claim.reference]  # dropped, not an empty list
    body = text(browser.get(f"/claims?scheme={one_step.scheme.id}&status=draft"))
    assert "nhsuk-error-summary" not in body  # an offered scheme, a status in any case
    # A practice's list has no practice filter: the problem is the page's, linked nowhere.
    practice_body = text(signed_in(app, one_step.user).get("/claims?practice=999"))
    assert "The practice was not recognised, so it is not applied" in practice_body
    assert 'href="#filter-practice"' not in practice_body


def test_sorting_by_each_column_both_ways(app, db_session, one_step):
    cheap, dear = add_claims(one_step, 2)
    cheap.value, dear.value = Decimal("5.00"), Decimal("900.00")
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    assert references(text(browser.get("/claims?sort=value"))) == [dear.reference, cheap.reference]
    assert references(text(browser.get("/claims?sort=value&order=asc"))) == [
        cheap.reference,
        dear.reference,
    ]
    assert references(text(browser.get("/claims?sort=reference&order=asc"))) == [
        cheap.reference,
        dear.reference,
    ]
    for key in listing.SORTS:
        for order in ("asc", "desc"):
            response = browser.get(f"/claims?sort={key}&order={order}")
            assert response.status_code == 200
            assert len(references(text(response))) == 2
    page = browser.get("/claims?sort=value").get_data(as_text=True)
    assert 'aria-sort="descending"><a href="/claims?sort=value&amp;order=asc">Value' in page


def test_pages_of_fifty_with_the_nhs_pagination(app, db_session, one_step):
    claims = add_claims(one_step, listing.PAGE_SIZE + 5)
    browser = signed_in(app, one_step.tier_1)
    first = text(browser.get("/claims?sort=reference&order=asc"))
    assert references(first) == [c.reference for c in claims[: listing.PAGE_SIZE]]
    assert "Showing 1 to 50 of 55 claims." in first
    assert 'class="nhsuk-pagination' in first
    second = text(browser.get("/claims?sort=reference&order=asc&page=2"))
    assert references(second) == [c.reference for c in claims[listing.PAGE_SIZE :]]
    assert "Showing 51 to 55 of 55 claims." in second
    beyond = text(browser.get("/claims?sort=reference&order=asc&page=99"))
    assert references(beyond) == references(second)  # past the end: the last page


def test_parse_filter_reads_months_and_refuses_reversed_periods():
    chosen = listing.parse_filter({"period-from": "2026-04", "period-to": "2026-06"})
    assert chosen.period_from == dt.date(2026, 4, 1)
    assert chosen.period_to == dt.date(2026, 6, 30)
    reversed_ = listing.parse_filter({"period-from": "2026-06", "period-to": "2026-04"})
    assert reversed_.period_from is None
    assert reversed_.problems
    assert chosen.query_args() == {"period-from": "2026-04", "period-to": "2026-06"}
    assert listing.parse_filter({"sort": "value", "order": "asc"}).query_args(page=3) == {
        "sort": "value",
        "order": "asc",
        "page": "3",
    }


# --- Exports -------------------------------------------------------------------------------


def test_csv_export_is_the_whole_filtered_list_guarded_against_formulas(app, db_session, one_step):
    one_step.practice.name = "=HYPERLINK(evil)"
    add_claims(one_step, listing.PAGE_SIZE + 3)
    add_claims(one_step, 2, status=S.PAID)
    browser = signed_in(app, one_step.tier_1)
    response = browser.get("/claims/export-csv?status=AWAITING_COMMISSIONER_REVIEW")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    day = clock_today().isoformat()
    assert f'filename="claims-{day}.csv"' in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = response.get_data()
    response.close()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(listing.EXPORT_HEADER)
    assert len(rows) == 1 + listing.PAGE_SIZE + 3  # not just the first page; no paid claims
    assert rows[1][1] == "'=HYPERLINK(evil)"
    assert rows[1][7] == "Awaiting commissioner review"
    assert rows[1][8] == "100.00"


def test_xlsx_export_reads_back_in_a_spreadsheet(app, db_session, one_step):
    from openpyxl import load_workbook

    one_step.practice.name = "@SUM(1)"
    claims = add_claims(one_step, 3)
    response = signed_in(app, one_step.tier_1).get("/claims/export-xlsx?sort=reference&order=asc")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert ".xlsx" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Claims"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == listing.EXPORT_HEADER
    assert [r[0] for r in rows[1:]] == [c.reference for c in claims]
    assert rows[1][1] == "'@SUM(1)"
    assert rows[1][8] == 100


def test_safe_cell_guards_every_formula_start():
    for start_ in ("=", "+", "-", "@", "\t", "\r"):
        assert listing.safe_cell(f"{start_}x") == f"'{start_}x"
    assert listing.safe_cell("Riverside") == "Riverside"


# --- Queries per page ----------------------------------------------------------------------


@pytest.mark.parametrize("side", ["commissioner", "provider"])
def test_a_list_page_costs_the_same_queries_for_5_and_50_claims(app, db_session, side, monkeypatch):
    scene = claim_scene(two_step=False)
    user = scene.tier_1 if side == "commissioner" else scene.user
    browser = signed_in(app, user)
    add_claims(scene, 5)
    browser.get("/claims")  # warm: first-request work is not the page's

    with counted_queries() as few:
        assert browser.get("/claims").status_code == 200
    add_claims(scene, 45, status=S.AWAITING_PAYMENT_APPROVAL)
    with counted_queries() as many:
        body = text(browser.get("/claims"))
    assert len(references(body)) == 50
    assert len(few) == len(many), "\n".join(few)
    # Session and user (2), memberships (2), the ICB above (<= 2), the rows and their count,
    # filter options (<= 2), waiting claims, the finance threshold, the header's task count.
    assert len(many) <= 13, "\n".join(many)


def test_the_list_offers_waiting_claims_and_bulk_approval_to_approvers(app, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    db_session.commit()
    body = text(signed_in(app, one_step.tier_1).get("/claims"))
    assert 'data-testid="claims-waiting"' in body
    assert f'value="{claim.id}:{claim.version}"' in body
    assert 'value="TIER_1_APPROVE"' in body
    practice_body = text(signed_in(app, one_step.user).get("/claims"))
    assert 'data-testid="bulk-approval"' not in practice_body
    administrator = user_with_role(Role.ADMINISTRATOR, one_step.icb)
    admin_body = text(signed_in(app, administrator).get("/claims"))
    assert claim.reference in admin_body
    assert 'data-testid="bulk-approval"' not in admin_body  # sees claims, approves none
    draft = start(db_session, claim_scene(icb=one_step.icb))
    db_session.commit()
    assert draft.reference not in text(signed_in(app, one_step.tier_1).get("/claims"))


def test_a_claim_page_costs_the_same_queries_however_many_people_took_its_steps(app, db_session):
    from claims_portal.claims.models import ClaimAction
    from tests.claims.helpers import act

    scene = claim_scene(two_step=False)
    few_steps = at_tier_1(db_session, scene)  # one step, one person
    other = claim_scene(two_step=True, icb=scene.icb)
    many_steps = at_tier_1(db_session, other)  # submitted, then the provider approver
    act(db_session, many_steps, ClaimAction.TIER_1_APPROVE, other.tier_1)  # a third person
    db_session.commit()
    browser = signed_in(app, scene.tier_1)
    browser.get(f"/claims/{few_steps.id}")  # warm: first-request work is not the page's

    with counted_queries() as few:
        assert browser.get(f"/claims/{few_steps.id}").status_code == 200
    with counted_queries() as many:
        body = text(browser.get(f"/claims/{many_steps.id}"))
    assert other.approver.full_name in body
    assert other.tier_1.full_name in body
    assert len(few) == len(many), "\n".join(many)


# --- Every status ----------------------------------------------------------------------------


def test_every_status_has_a_tag_colour():
    assert set(STATUS_COLOURS) == {status.name for status in ClaimStatus}


def test_claims_in_every_status_are_listed_and_shown_with_their_tag(app, db_session, scene):
    """The payment statuses too (a claim sent for payment or held once made the list fail)."""
    claims = {status: add_claims(scene, 1, status=status)[0] for status in ClaimStatus}
    browser = signed_in(app, scene.user)
    response = browser.get("/claims")
    assert response.status_code == 200
    body = text(response)
    for status, claim in claims.items():
        assert claim.reference in body
        tag = f'nhsuk-tag--{STATUS_COLOURS[status.name]}">{status.value}</strong>'
        assert tag in body, status
        page = browser.get(f"/claims/{claim.id}")
        assert page.status_code == 200, status
        assert f"nhsuk-tag--{STATUS_COLOURS[status.name]}" in text(page), status
