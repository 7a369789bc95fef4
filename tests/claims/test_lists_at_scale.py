"""Lists at the scale of a large ICB: a commissioner's scope kept on each claim, counts that
stop, the rows rendered in Python (escaped), and the header's counts kept between pages."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest

from claims_portal import kept_counts, navigation
from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services import listing
from claims_portal.claims.views import listing as list_view
from claims_portal.formatting import COUNTED_UP_TO, how_many
from claims_portal.organisations.services import commissioners_of
from tests.claims.helpers import at_tier_1, signed_in, start
from tests.claims.test_lists import add_claims, references
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import NationalCommissionerFactory, PracticeFactory

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- The commissioners kept on each claim ---------------------------------------------------


def test_a_claim_started_keeps_its_icb_and_sub_location(db_session):
    scene = claim_scene()
    claim = start(db_session, scene)
    sub_location = scene.practice.parent
    assert (claim.icb_id, claim.sub_location_id) == (scene.icb.id, sub_location.id)
    assert commissioners_of(scene.practice).icb_id == scene.icb.id


def test_a_provider_straight_under_the_icb_has_no_sub_location(db_session):
    scene = claim_scene()
    federation = PracticeFactory(parent=scene.icb)
    path = commissioners_of(federation)
    assert (path.icb_id, path.sub_location_id) == (scene.icb.id, None)
    assert commissioners_of(PracticeFactory(parent=None)).icb_id is None


def test_each_commissioner_sees_the_claims_sent_to_it_and_no_others(app, db_session):
    north = claim_scene(two_step=False)
    south = claim_scene(two_step=False, icb=north.icb)
    elsewhere = claim_scene(two_step=False)
    north_claims = add_claims(north, 2)
    south_claims = add_claims(south, 1)
    other_claims = add_claims(elsewhere, 1)
    north_place = north.practice.parent

    icb_people = signed_in(app, north.tier_1)
    assert sorted(references(text(icb_people.get("/claims")))) == sorted(
        c.reference for c in north_claims + south_claims
    )
    place_approver = user_with_role(Role.APPROVER_TIER_1, north_place)
    assert sorted(references(text(signed_in(app, place_approver).get("/claims")))) == sorted(
        c.reference for c in north_claims
    )
    national = user_with_role(Role.ADMINISTRATOR, NationalCommissionerFactory())
    seen = set(references(text(signed_in(app, national).get("/claims"))))
    assert {c.reference for c in north_claims + south_claims + other_claims} <= seen


# --- Counts that stop -----------------------------------------------------------------------


def test_how_many_says_more_than_past_the_count(db_session):
    assert how_many(0) == "0"
    assert how_many(COUNTED_UP_TO) == f"{COUNTED_UP_TO:,}"
    assert how_many(COUNTED_UP_TO + 1) == f"more than {COUNTED_UP_TO:,}"
    assert how_many(COUNTED_UP_TO + 1, short=True) == f"{COUNTED_UP_TO:,}+"


def test_a_long_list_says_more_than_and_pages_on(app, db_session, one_step, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    monkeypatch.setattr(listing, "COUNT_AHEAD", 4)
    claims = add_claims(one_step, 7)
    browser = signed_in(app, one_step.tier_1)
    first = text(browser.get("/claims?sort=reference&order=asc"))
    assert "Showing 1 to 2 of more than 4 claims." in first
    assert references(first) == [c.reference for c in claims[:2]]
    assert 'href="/claims?sort=reference&order=asc&page=3"' in first  # the next pages known
    third = text(browser.get("/claims?sort=reference&order=asc&page=3"))
    assert "Showing 5 to 6 of 7 claims." in third  # counted to the end from here
    last = text(browser.get("/claims?sort=reference&order=asc&page=99"))
    assert references(last) == [claims[6].reference]


def test_the_count_stops_at_the_horizon_whatever_the_list(db_session, one_step, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_AHEAD", 3)
    add_claims(one_step, 5)
    scope = listing.ListScope("commissioner", one_step.icb.id, one_step.icb.kind)
    chosen = listing.parse_filter({})
    assert listing.count(db_session, scope, chosen, at_most=4) == 4
    page = listing.list_page(db_session, scope, chosen)
    assert (page.total, page.more) == (3, True)


# --- Rows rendered in Python ------------------------------------------------------------------


def test_the_rows_show_text_as_text(app, db_session):
    scene = claim_scene(two_step=False)
    scene.practice.name = '<img src=x onerror="alert(1)"> & Co'
    scene.scheme.name = "<b>Flu</b>"
    claim = add_claims(scene, 1, value=None)[0]
    body = signed_in(app, scene.tier_1).get("/claims").get_data(as_text=True)
    assert "<img src=x" not in body
    assert "<b>Flu</b>" not in body
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Co" in body
    assert "&lt;b&gt;Flu&lt;/b&gt;" in body
    row = body.split(f'id="select-{claim.id}"', 1)[1].split("</tr>", 1)[0]
    assert "nhsuk-tag--blue" in row
    assert "Awaiting commissioner review" in row
    assert "\u2013</td>" in row  # no value yet


# --- The header's counts, kept between pages ------------------------------------------------


def _pending(body: str) -> str | None:
    found = re.search(r">\s*(Pending actions \([^)]*\))\s*<", body)
    return found.group(1) if found else None


def test_the_header_counts_are_kept_a_while_and_made_again_after_the_persons_own_change(
    app, db_session, one_step, monkeypatch
):
    monkeypatch.setitem(app.config, "HEADER_COUNTS_SECONDS", 30)
    moment = [dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(navigation, "now", lambda: moment[0])
    at_tier_1(db_session, one_step)
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    assert _pending(text(browser.get("/"))) == "Pending actions (1)"

    add_claims(one_step, 1)  # someone else's change
    assert _pending(text(browser.get("/"))) == "Pending actions (1)"  # kept
    moment[0] += dt.timedelta(seconds=31)
    assert _pending(text(browser.get("/"))) == "Pending actions (2)"  # counted again

    add_claims(one_step, 1)
    browser.post("/switch-organisation", data={})  # any change of the person's own
    assert _pending(text(browser.get("/"))) == "Pending actions (3)"


def test_the_filter_options_are_kept_a_while_for_everyone_in_the_scope(
    app, db_session, monkeypatch
):
    monkeypatch.setitem(app.config, "FILTER_OPTIONS_SECONDS", 60)
    monkeypatch.setattr(list_view, "_options_kept", {})
    moment = [dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(list_view, "now", lambda: moment[0])
    north = claim_scene(two_step=False)
    add_claims(north, 1)
    db_session.commit()
    browser = signed_in(app, north.tier_1)

    def offered(scene) -> bool:
        return f'<option value="{scene.practice.id}"' in browser.get("/claims").get_data(
            as_text=True
        )

    assert offered(north)
    newcomer = claim_scene(two_step=False, icb=north.icb)
    add_claims(newcomer, 1)  # a practice's first claim reaches the ICB
    db_session.commit()
    assert not offered(newcomer)  # the options read a moment ago
    moment[0] += dt.timedelta(seconds=61)
    assert offered(newcomer)  # read again
    moment[0] -= dt.timedelta(hours=1)  # a clock set back never keeps them for longer
    assert offered(newcomer)


def test_with_no_keeping_every_page_counts(app, db_session, one_step, monkeypatch):
    monkeypatch.setitem(app.config, "HEADER_COUNTS_SECONDS", 0)
    browser = signed_in(app, one_step.tier_1)
    assert _pending(text(browser.get("/"))) == "Pending actions (0)"
    add_claims(one_step, 1)
    assert _pending(text(browser.get("/"))) == "Pending actions (1)"


@pytest.fixture(params=["memory", "redis"])
def count_store(request):
    if request.param == "memory":
        return kept_counts.MemoryStore()
    store = kept_counts.RedisStore("redis://127.0.0.1:6379/0", f"test-{uuid.uuid4().hex}")
    try:
        store.forget(1)
        store._redis.ping()
    except Exception as error:
        pytest.fail(f"Redis is not answering on 127.0.0.1:6379 ({error}): run `make redis`")
    return store


def test_a_count_store_keeps_entries_per_person_and_organisation(count_store):
    count_store.put(1, 10, {"at": 5.0, "pending": 3})
    count_store.put(1, None, {"at": 6.0, "messages": None})
    count_store.put(2, 10, {"at": 7.0, "pending": 9})
    assert count_store.get(1, 10) == {"at": 5.0, "pending": 3}
    assert count_store.get(1, None) == {"at": 6.0, "messages": None}
    assert count_store.get(1, 11) is None
    count_store.forget(1)
    assert count_store.get(1, 10) is None
    assert count_store.get(2, 10) == {"at": 7.0, "pending": 9}


def test_redis_out_of_reach_is_a_miss_not_an_error():
    store = kept_counts.RedisStore("redis://127.0.0.1:1/0", "test")  # nothing listens there
    store.put(1, 10, {"at": 1.0})
    assert store.get(1, 10) is None
    store.forget(1)
