"""The page cache (core.page_cache) and the page generation under it (core.models).

A stored page must never outlive a change it does not show, never reach another person or
session's tokens, and never stand in for a sign-in check.
"""

from __future__ import annotations

import re
import threading

import psycopg
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimAction, ClaimStatus
from claims_portal.core.models import (
    GENERATION_EXCLUDED,
    GENERATION_EXCLUDED_COLUMNS,
    current_generation,
)
from claims_portal.core.page_cache import PageCache, page_cache
from claims_portal.db import Base
from claims_portal.extensions import db
from tests.claims.helpers import act, at_tier_1, signed_in
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import counted_queries, csrf_token, make_test_app, migrated_app


@pytest.fixture
def one_step(db_session):
    return claim_scene(two_step=False)


def count_queries(client, path):
    """The response to a GET of ``path`` and the SQL statements it ran."""
    with counted_queries() as statements:
        response = client.get(path)
    return response, statements


def statuses_listed(browser):
    body = browser.get("/claims").get_data(as_text=True)
    table = body.split('data-testid="claims-all"', 1)[1].split("</table>", 1)[0]
    return [s for s in ClaimStatus if s.value in table]


def nonce_of(response):
    policy = response.headers["Content-Security-Policy"]
    return re.search(r"'nonce-([^']+)'", policy).group(1)


# --- The generation -----------------------------------------------------------------------


def test_every_table_but_the_excluded_ones_moves_the_generation_on(app, db_session):
    rows = db_session.execute(
        text(
            "SELECT c.relname, array(SELECT a.attname FROM unnest(t.tgattr::int2[]) AS k "
            "JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k) "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'page_generation' AND t.tgdeferrable AND t.tginitdeferred"
        )
    ).all()
    triggered = {table: set(columns) for table, columns in rows}
    tables = set(Base.metadata.tables)
    assert tables - GENERATION_EXCLUDED == set(triggered), (
        "a new table needs the trigger: claims_portal.core.models.trigger_sql"
    )
    assert tables >= GENERATION_EXCLUDED
    assert set(inspect(db_session.connection()).get_table_names()) - {"alembic_version"} == tables
    for table, columns in triggered.items():
        excluded = GENERATION_EXCLUDED_COLUMNS.get(table)
        if excluded is None:
            assert columns == set(), table  # updates of any column
        else:
            shown = set(Base.metadata.tables[table].columns.keys()) - excluded
            assert columns == shown, f"{table}: a new column belongs in the trigger or excluded"


def test_signing_in_leaves_the_generation_alone_but_a_new_name_moves_it(app, db_session, one_step):
    user = one_step.tier_1
    before = current_generation(db_session)
    user.failed_sign_ins = 2
    user.mfa_last_step = 123
    user.password_hash = "rehashed"
    db_session.commit()
    assert current_generation(db_session) == before
    user.full_name = "Renamed Person"
    db_session.commit()
    assert current_generation(db_session) == before + 1


def test_a_change_moves_the_generation_on_once_when_committed(app, db_session, one_step):
    before = current_generation(db_session)
    at_tier_1(db_session, one_step)  # several tables, many rows, one commit point
    assert current_generation(db_session) == before  # not before the commit
    db_session.commit()
    assert current_generation(db_session) == before + 1


def test_writers_do_not_wait_on_the_generation_until_they_commit():
    """Two open transactions write; the second commits while the first still holds its
    rows. With an immediate trigger the second would wait for the first (and writers that
    then lock each other's rows would deadlock); deferred to commit, it does not wait."""
    with migrated_app("generation") as application:
        url = application.config["SQLALCHEMY_DATABASE_URI"]
        with application.app_context():
            start = current_generation(db.session)
            db.session.remove()
        conninfo = str(url)
        with psycopg.connect(conninfo) as first, psycopg.connect(conninfo) as second:
            first.execute("SET lock_timeout = '2s'")
            second.execute("SET lock_timeout = '2s'")
            insert = (
                "INSERT INTO organisation (ods_code, name, kind, active_from) "
                "VALUES (%s, %s, 'ICB', current_date)"
            )
            first.execute(insert, ("A1", "A"))
            second.execute(insert, ("B1", "B"))
            second.commit()  # would fail with lock_timeout if the first held the row
            first.commit()
            generation = first.execute("SELECT generation FROM page_generation").fetchone()[0]
        assert generation == start + 2


def test_the_embedded_demo_database_moves_the_generation_on_too(tmp_path):
    """``make run`` uses SQLite: ordinary triggers there, and the migration goes both ways."""
    application = make_test_app(f"sqlite:///{tmp_path / 'demo.db'}")
    with application.app_context():
        upgrade()
        start = current_generation(db.session)
        db.session.execute(
            text(
                "INSERT INTO organisation (ods_code, name, kind, active_from, created_at) "
                "VALUES ('A1', 'A', 'ICB', '2026-01-01', '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
        assert current_generation(db.session) == start + 1
        db.session.execute(
            text(
                "INSERT INTO user_account (email, full_name, is_disabled, failed_sign_ins, "
                "created_at) VALUES ('a@example.nhs.net', 'A', 0, 0, '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
        assert current_generation(db.session) == start + 2
        db.session.execute(text("UPDATE user_account SET mfa_last_step = 7"))
        db.session.execute(text("UPDATE user_session SET last_seen_at = last_seen_at"))
        db.session.commit()
        assert current_generation(db.session) == start + 2
        db.session.execute(text("UPDATE user_account SET full_name = 'B'"))
        db.session.commit()
        assert current_generation(db.session) == start + 3
        downgrade(revision="0005_claims_work")
        assert "page_generation" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


# --- The cache ----------------------------------------------------------------------------


def test_a_page_seen_again_is_served_from_the_cache(app, db_session, one_step):
    browser = signed_in(app, one_step.tier_1)
    first, cold = count_queries(browser, "/claims")
    second, warm = count_queries(browser, "/claims")
    assert first.status_code == second.status_code == 200
    # Only the generation, then the session and its user: no memberships, no rendering.
    assert len(warm) == 2 < len(cold), "\n".join(warm)
    assert "page_generation" in warm[0]
    assert "user_session" in warm[1]
    same = first.get_data(as_text=True).replace(nonce_of(first), "N")
    again = second.get_data(as_text=True).replace(nonce_of(second), "N")
    assert re.sub(r'name="csrf_token" value="[^"]+"', "", same) == re.sub(
        r'name="csrf_token" value="[^"]+"', "", again
    )


def test_a_change_anywhere_shows_on_the_next_request(app, db_session, one_step):
    claim = at_tier_1(db_session, one_step)
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    assert statuses_listed(browser) == [ClaimStatus.AWAITING_COMMISSIONER_REVIEW]
    act(db_session, claim, ClaimAction.TIER_1_APPROVE, one_step.tier_1)
    db_session.commit()
    assert statuses_listed(browser) == [ClaimStatus.AWAITING_PAYMENT_APPROVAL]


def test_each_response_has_its_own_nonce_and_a_token_valid_for_its_own_session(
    app, db_session, one_step
):
    first_browser = signed_in(app, one_step.tier_1)
    second_browser = signed_in(app, one_step.tier_1)  # the same person, another session
    first = first_browser.get("/claims")
    second = second_browser.get("/claims")  # the stored page
    for response in (first, second):
        nonce = nonce_of(response)
        assert f'nonce="{nonce}"' in response.get_data(as_text=True)
        assert "cp-nonce-" not in response.get_data(as_text=True)
        assert "cp-csrf-" not in response.get_data(as_text=True)
    assert nonce_of(first) != nonce_of(second)
    token = csrf_token(second)
    assert token != csrf_token(first)
    signed_out = second_browser.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 302
    assert second_browser.get("/claims").status_code == 302  # signed out: not the page
    assert first_browser.get("/claims").status_code == 200


def test_people_and_organisations_never_share_a_page(app, db_session, one_step):
    tier_1 = signed_in(app, one_step.tier_1)
    other = user_with_role(Role.APPROVER_TIER_1, one_step.icb)
    db_session.commit()
    colleague = signed_in(app, other)
    assert one_step.tier_1.full_name in tier_1.get("/").get_data(as_text=True)
    body = colleague.get("/").get_data(as_text=True)
    assert other.full_name in body
    assert one_step.tier_1.full_name not in body


def test_a_revoked_session_is_refused_although_its_page_is_stored(app, db_session, one_step):
    browser = signed_in(app, one_step.tier_1)
    assert browser.get("/claims").status_code == 200
    db_session.execute(text("UPDATE user_session SET revoked_at = now()"))
    db_session.commit()
    assert browser.get("/claims").status_code == 302


def test_flash_messages_are_shown_once_and_never_stored(app, db_session, one_step):
    browser = signed_in(app, one_step.tier_1)
    browser.get("/")  # stored without a message
    with browser.session_transaction() as session:
        session["_flashes"] = [("success", "Saved for you")]
    assert "Saved for you" in browser.get("/").get_data(as_text=True)
    assert "Saved for you" not in browser.get("/").get_data(as_text=True)


def test_the_cache_can_be_switched_off(app, db_session, one_step, monkeypatch):
    monkeypatch.setitem(app.extensions, "page_cache", None)
    browser = signed_in(app, one_step.tier_1)
    browser.get("/claims")
    _, again = count_queries(browser, "/claims")
    assert len(again) > 2
    assert not any("page_generation" in statement for statement in again)


def test_the_cache_keeps_to_its_size_dropping_the_least_recently_used():
    cache = PageCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recently used
    cache.put("c", b"1234")  # 12 bytes: "b" goes
    assert cache.get("b") is None
    assert cache.get("a") == cache.get("c") == b"1234"
    assert cache.size == 8
    cache.put("big", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("big") is None
    assert len(cache) == 2


def test_concurrent_readers_and_writers_keep_the_accounting_right():
    cache = PageCache(max_bytes=1000)

    def work(offset):
        for number in range(500):
            cache.put((offset, number % 37), b"x" * (number % 50))
            cache.get((offset, number % 11))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.size == sum(len(cache.get(key) or b"") for key in list(cache._pages))
    assert cache.size <= 1000


def test_the_test_app_has_the_cache_on(app):
    assert page_cache(app) is not None


def test_one_render_per_page_at_a_time_and_nothing_left_behind():
    cache = PageCache(max_bytes=1000)
    inside = []
    most = []
    lock = threading.Lock()

    def render(key):
        with cache.rendering(key):
            with lock:
                inside.append(key)
                most.append(inside.count(key))
            threading.Event().wait(0.01)
            with lock:
                inside.remove(key)

    threads = [threading.Thread(target=render, args=(n % 2,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(most) == 1  # never two renders of the same page at once
    assert not cache._rendering
    with cache.rendering("slow"), cache.rendering("slow", timeout=0.05):
        pass  # a waiter gives up after its timeout and renders itself
    assert not cache._rendering


def test_a_page_rendered_with_a_real_token_is_served_but_not_stored(
    app, db_session, one_step, monkeypatch
):
    from flask_wtf.csrf import generate_csrf

    from claims_portal.core import page_cache as module

    monkeypatch.setattr(module, "_template_csrf_token", generate_csrf)  # as a form would
    browser = signed_in(app, one_step.tier_1)
    first = browser.get("/claims")
    _, again = count_queries(browser, "/claims")
    assert len(again) > 2  # rendered again: nothing was stored
    token = csrf_token(first)
    assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302
