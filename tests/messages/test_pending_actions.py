"""Every count matches its label, per role, on the demo data: "Messages (N)" counts unread
messages, "Pending actions (N)" everything the Pending actions page lists for the person
(claims at their step, bulk uploads to review, offers to answer or asked for again, access
requests to decide)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.demo import DEMO_PASSWORD, PEOPLE, load_demo_data
from claims_portal.messages import services
from claims_portal.messages.services import waiting
from claims_portal.organisations.models import Organisation
from tests.helpers import csrf_token, sign_in

_COUNT = re.compile(r">\s*(Messages|Pending actions) \((\d+)\)\s*<")


@pytest.fixture(autouse=True)
def _evidence_in_a_folder_of_the_test(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))


def _header_counts(html: str) -> dict[str, int]:
    return {label: int(count) for label, count in _COUNT.findall(html)}


def _items_listed(html: str) -> int:
    """Rows and list items in the Pending actions page's sections."""
    total = 0
    sections = ("tasks", "uploads", "offers-to-answer", "offers-asked-again", "access-requests")
    for testid in (*sections, "failed-payment-files", "rejected-payments-task"):
        found = re.search(rf'data-testid="{testid}".*?</(table|ul)>', html, re.S)
        if found:
            body = found.group(0)
            total += (
                body.count('<tr class="nhsuk-table__row">') - 1
                if testid == "tasks"
                else (body.count("<li"))
            )
    return total


@pytest.mark.parametrize(
    "email",
    [
        p[0]
        for p in PEOPLE
        if p[0].split("@")[0]
        in {
            "priya.shah",
            "tom.okafor",
            "nadia.hussain",
            "helen.morris",
            "gareth.lewis",
            "sarah.bennett",
            "james.whitfield",
            "aisha.rahman",
            "marcus.lee",
            "lucy.turner",
        }
    ],
)
def test_the_header_counts_match_what_the_pages_list(app, client, db_session, email):
    load_demo_data(db_session)
    db_session.commit()
    sign_in(client, email, DEMO_PASSWORD)
    home = _header_counts(client.get("/").get_data(as_text=True))
    pending_page = client.get("/messages").get_data(as_text=True)
    if "Pending actions" in home:
        assert home["Pending actions"] == _items_listed(pending_page), email
        assert _header_counts(pending_page)["Pending actions"] == home["Pending actions"]
    else:
        assert "Nothing is waiting for you." in pending_page
    if "Messages" in home:
        updates = client.get("/messages/updates").get_data(as_text=True)
        unread = updates.count('nhsuk-tag--blue">New</strong>')
        assert home["Messages"] == unread, email


def test_what_waits_for_each_demo_role(app, db_session):
    load_demo_data(db_session)
    db_session.commit()
    people = {u.email.split("@")[0]: u for u in db_session.scalars(select(User))}
    by_code = {o.ods_code: o for o in db_session.scalars(select(Organisation))}

    def waits(name: str, ods_code: str) -> waiting.Waiting:
        return waiting.waiting_for(db_session, people[name], by_code[ods_code])

    # A practice's user answers the offer waiting for it; the PCN's lead answers the PCN's.
    assert waits("aisha.rahman", "Y90002").total == len(
        waits("aisha.rahman", "Y90002").claims
    ) + len(waits("aisha.rahman", "Y90002").offers_to_answer)
    assert [o.provider.ods_code for o in waits("marcus.lee", "U90001").offers_to_answer] == [
        "U90001"
    ]
    # The ICB's administrator sees offers asked for again (to reissue).
    assert waits("priya.shah", "QXV").offers_asked_again
    # Tier 1 approvers see claims at their step; a view-only national person nothing.
    assert waits("tom.okafor", "QXV").claim_count + len(waits("tom.okafor", "QXV").uploads) >= 1
    assert waits("lucy.turner", "X24").total == 0
    assert (
        waiting.pending_count(
            db_session, people["lucy.turner"], by_code["X24"], people["lucy.turner"].memberships
        )
        is None
    )


def test_unread_messages_are_counted_and_read_once_marked(app, client, db_session):
    load_demo_data(db_session)
    db_session.commit()
    sign_in(client, "aisha.rahman@example.nhs.net", DEMO_PASSWORD)
    before = _header_counts(client.get("/").get_data(as_text=True))["Messages"]
    user = db_session.scalar(select(User).where(User.email == "aisha.rahman@example.nhs.net"))
    organisation = db_session.scalar(select(Organisation).where(Organisation.ods_code == "Y90002"))
    assert before == services.unread_count(db_session, user, organisation)
    page = client.get("/messages/updates")
    found = re.search(r'name="notices_up_to" value="(\d+)"', page.get_data(as_text=True))
    newest = re.search(r'name="up_to" value="(\d+)"', page.get_data(as_text=True))
    if before:
        assert newest is not None
        assert found is not None
        client.post(
            "/messages/updates/mark-read",
            data={
                "csrf_token": csrf_token(page),
                "up_to": newest.group(1),
                "notices_up_to": found.group(1),
            },
        )
    assert _header_counts(client.get("/").get_data(as_text=True))["Messages"] == 0
