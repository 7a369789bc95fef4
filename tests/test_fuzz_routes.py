"""Every route, every method it allows, as every kind of person: no input answers 5xx.

The routes come from ``app.url_map`` when the test runs, so a new route is fuzzed without
anyone listing it; each person's run fails if it did not reach one of them (the URL matched
the route and its view ran), and :func:`test_the_fuzz_can_fill_every_route` fails for a
route with a converter it cannot fill. Each person's run:

1. a sweep with real values (ids of the scene's claims, schemes, people...) that must reach
   every route, plus the scene's own pages (a draft claim's edit page, the admin's forms);
   the forms met give the field names and values the fuzzing then uses;
2. for each route and method, hypothesis examples with generated path values (huge,
   negative and zero ids, Unicode, a null character, long strings), query strings and form
   bodies, sent with this session's CSRF token or without one; and hostile forms posted to
   each of the scene's own pages.

Any response of 500 or more, or an exception out of a view (the test app propagates them),
fails with the request that caused it. The budget is fixed (``derandomize``, no example
database), so CI repeats the same requests; ``FUZZ_EXAMPLES`` runs more locally.

Each person's run is one test in one rolled-back transaction: a request that commits only
releases a savepoint, and one that fails in the database is rolled back by the request's
own teardown (``db.session.remove()``), so it cannot poison the next example
(:func:`test_a_failed_statement_does_not_poison_the_next_request`).
"""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, request, request_started
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from werkzeug.routing import Rule

from claims_portal.access.models import (
    AccessRequest,
    Membership,
    TokenPurpose,
    User,
    UserSession,
)
from claims_portal.access.roles import Role
from claims_portal.access.services import hash_token, open_session
from claims_portal.access.services.tokens import issue_token
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services import transition
from claims_portal.extensions import db
from claims_portal.schemes.models import (
    ClaimWindow,
    Component,
    Offer,
    Scheme,
    SupplementaryQuestion,
    Tariff,
)
from claims_portal.service_settings import access_settings
from claims_portal.static_files import FOLDERS as STATIC_ENDPOINTS
from tests.claims.helpers import entries, start
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import PcnFactory
from tests.factories.schemes import ready_scheme
from tests.helpers import sign_in

#: Hypothesis examples per route and method, for each person (CI: about a minute in all).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
#: Converters the fuzz can fill; a route with another one fails the coverage test.
KNOWN_CONVERTERS = {"IdConverter", "UnicodeConverter", "PathConverter"}
#: Methods every route answers by itself (Flask adds them).
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
#: Endpoints that end the session: fuzzed last; the session is opened again after them.
SESSION_ENDING = {"access.sign_out", "access.sign_out_everywhere"}

PEOPLE = [
    "signed out",
    "practice user",
    "provider approver",
    "PCN user",
    "ICB administrator",
    "tier 1 approver",
    "tier 2 approver",
    "finance",
]

#: The run's totals, printed at the end (``pytest -s``) and kept for the coverage test.
TOTALS: dict[str, dict[str, int]] = {}


def routes(app: Flask) -> list[tuple[Rule, str]]:
    """(rule, method) for every route of ``app``, session-ending ones last."""
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - AUTOMATIC_METHODS)
    ]
    return sorted(pairs, key=lambda pair: (pair[0].endpoint in SESSION_ENDING, pair[0].rule))


def converters(rule: Rule) -> dict[str, str]:
    return {name: type(conv).__name__ for name, conv in rule._converters.items()}


_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def fill(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with each argument replaced by ``values[name]``, percent-encoded as
    given (hostile values too, which ``MapAdapter.build`` would refuse)."""
    kinds = converters(rule)

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(values[name], safe="/" if kinds[name] == "PathConverter" else "")

    return _ARGUMENT.sub(one, rule.rule)


# --- The scene ------------------------------------------------------------------------------


@dataclass
class World:
    """Records of every kind, the people acting on them, and pages worth posting to."""

    people: dict[str, User | None]
    ids: list[str]
    strings: list[str]
    tokens: list[str]
    pages: list[str]


def build_world(session: Any) -> World:
    scene = claim_scene(questions=True)
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb, full_name="Priya Shah")
    pcn = PcnFactory(parent=scene.practice.parent)
    pcn_user = user_with_role(Role.PROVIDER_APPROVER, pcn, full_name="Owen Price")
    draft = start(session, scene)
    other = claim_scene(icb=scene.icb)
    sent = start(session, other)
    transition(
        session,
        sent.id,
        ClaimAction.SUBMIT,
        other.user,
        expected_version=sent.version,
        entries=entries(sent, 3, 2),
        today=other.today,
    )
    draft_scheme = ready_scheme(commissioner=scene.icb)
    claim_scene()  # another ICB: its records exist but are out of everyone's reach
    pending = AccessRequest(
        organisation_id=scene.practice.id,
        role=Role.PROVIDER_USER_MULTI,
        email="new.starter@example.nhs.net",
        full_name="New Starter",
    )
    session.add(pending)
    invited = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice, password_hash=None)
    invitation, _ = issue_token(
        session, invited, TokenPurpose.INVITATION, settings=access_settings()
    )
    reset, _ = issue_token(
        session, scene.user, TokenPurpose.PASSWORD_RESET, settings=access_settings()
    )
    session.commit()

    ids: set[int] = set()
    for model in (Claim, Scheme, Component, Tariff, ClaimWindow, Offer, User, Membership):
        ids.update(session.scalars(select(model.id)))
    ids.update(session.scalars(select(AccessRequest.id)))
    ids.update(session.scalars(select(SupplementaryQuestion.id)))
    ids.update(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(10)))
    organisations = [scene.practice, scene.icb, pcn, scene.practice.parent]
    ids.update(o.id for o in organisations)
    component = draft_scheme.components[0]
    pages = [
        f"/claims/{draft.id}/edit",
        f"/claims/{draft.id}/withdraw",
        f"/claims/{sent.id}/decline",
        f"/claims/{sent.id}/return",
        f"/claims/{sent.id}/approve",
        "/claims/new",
        "/claims/bulk-approval",
        "/claims/finance-threshold",
        f"/access-requests/{pending.id}",
        f"/people/{scene.user.id}",
        "/people/invite",
        f"/practices/{scene.practice.id}/approval-mode",
        f"/schemes/{scene.scheme.id}/reject",
        f"/request-access/{scene.practice.ods_code}",
        f"/reset-password/{reset}",
        f"/complete-registration/{invitation}",
        "/account/password",
        "/account/email-notifications",
        "/admin/schemes/new/",
        f"/admin/schemes/edit/?id={draft_scheme.id}",
        f"/admin/components/edit/?id={component.id}",
        f"/admin/components/new/?scheme_id={draft_scheme.id}",
        f"/admin/tariffs/edit/?id={component.tariffs[0].id}",
        "/admin/tariffs/new/",
        f"/admin/claim-windows/edit/?id={draft_scheme.windows[0].id}",
        "/admin/claim-windows/new/",
        "/admin/questions/new/",
        "/admin/offers/new/",
    ]
    strings = [o.ods_code for o in organisations] + [
        "csv",
        "xlsx",
        "nhsuk-frontend.min.css",
        "portal.css",
        scene.scheme.code,
        scene.today.isoformat(),
        scene.today.strftime("%Y-%m"),
        f"{sent.id}:{sent.version}",
        f"CLM-{sent.id:06d}",
    ]
    return World(
        people={
            "signed out": None,
            "practice user": scene.user,
            "provider approver": scene.approver,
            "PCN user": pcn_user,
            "ICB administrator": admin,
            "tier 1 approver": scene.tier_1,
            "tier 2 approver": scene.tier_2,
            "finance": scene.finance,
        },
        ids=sorted(str(i) for i in ids),
        strings=strings,
        tokens=[invitation, reset],
        pages=pages,
    )


# --- What gets sent -------------------------------------------------------------------------

AWKWARD = [
    "",
    " ",
    "0",
    "-1",
    "1",
    str(2**31 - 1),
    str(2**31),
    str(2**63),
    "9" * 5000,
    "0" * 300 + "1",
    "1e100",
    "1E+999999999",
    "NaN",
    "sNaN",
    "Infinity",
    "-0.001",
    "1.234",
    "0.0000000001",
    "99999999999.99",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-31",
    "2026-13",
    "a\x00b",
    "é",
    "\u202e",
    "\u00b2",
    "\u0661\u0662",
    "\ufeff",
    "<script>alert(1)</script>",
    "%",
    "_",
    "\\",
    "'",
    "CLM-99999999999",
    "x" * 5000,
    "y",
    "on",
    "../../etc/passwd",
    "//evil.example/",
    "https://evil.example/",
]

#: Query-string names the views and Flask-Admin read.
QUERY_NAMES = [
    "q",
    "scheme",
    "practice",
    "status",
    "period-from",
    "period-to",
    "sort",
    "order",
    "page",
    "next",
    "id",
    "url",
    "search",
    "desc",
    "page_size",
    "scheme_id",
    "component_id",
    "error",
    "flt0_0",
    "flt1_1",
    "flt2_2",
    "flt3_3",
    "flt0_5",
    "flt1_10",
    "flt4_0",
    "query",
]


def values(seeds: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(AWKWARD),
        st.sampled_from(seeds),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=20),
    )


def path_value(world: World, kind: str) -> st.SearchStrategy[str]:
    if kind == "IdConverter":
        return st.one_of(
            st.sampled_from(world.ids),
            st.integers(min_value=-(2**66), max_value=2**66).map(str),
            st.sampled_from(["0", str(2**31), "9" * 5000, "\u0661", "1\x00", "01"]),
        )
    if kind == "PathConverter":
        return st.one_of(
            st.sampled_from(world.strings),
            st.text(min_size=1, max_size=40),
            st.sampled_from(["../../../etc/passwd", "a/../../b", "x" * 3000, "a\x00b"]),
        )
    return st.one_of(
        st.sampled_from(world.strings + world.tokens),
        st.text(min_size=1, max_size=40),
        st.sampled_from(["\x00", "x" * 5000, "é", "\u202e" * 5, "tok\u20acn"]),
    )


def real_path_values(rule: Rule, world: World) -> dict[str, str]:
    """Values that match the rule (the sweep that must reach every route)."""
    chosen = {}
    for name, kind in converters(rule).items():
        if kind == "IdConverter":
            chosen[name] = world.ids[0]
        elif kind == "PathConverter":
            chosen[name] = "portal.css" if rule.endpoint == "static" else "nhsuk-frontend.min.css"
        elif name == "token":
            chosen[name] = world.tokens[-1]
        elif name == "export_type":
            chosen[name] = "csv"
        else:
            chosen[name] = world.strings[0]
    return chosen


# --- The person's browser -------------------------------------------------------------------

_FIELD = re.compile(r'<(?:input|select|textarea|button)\b[^>]*?\bname="([^"]+)"')
_VALUE = re.compile(r'\bvalue="([^"]{1,60})"')
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class Browser:
    """A test client acting as one person, signed in again whenever a request ended that."""

    app: Flask
    user: User | None
    client: Any = None
    token: str = ""
    requests: int = 0
    examples: int = 0
    #: Form field names (and values) met on each path, and on any page.
    names_on: dict[str, set[str]] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    seeds: set[str] = field(default_factory=set)
    #: The first failing request of each (method, route, error), and how many failed.
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    failed: int = 0
    last_rule: str = ""

    def open(self) -> None:
        self.client = self.app.test_client()
        if self.user is not None:
            response = sign_in(self.client, self.user.email)
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
        self.token = self._fresh_token()

    def restore(self) -> None:
        """Undo what the fuzz did to the person (locked by wrong current passwords, signed
        out, disabled, a membership revoked) so that they go on acting as themselves."""
        if self.user is None:
            return
        user = db.session.get(User, self.user.id)
        memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id))
        if (
            user.is_disabled
            or user.locked_at
            or user.failed_sign_ins
            or any(m.revoked_at or m.end_date for m in memberships)
        ):
            db.session.execute(
                update(User)
                .where(User.id == user.id)
                .values(is_disabled=False, locked_at=None, failed_sign_ins=0)
            )
            db.session.execute(
                update(Membership)
                .where(Membership.user_id == user.id)
                .values(revoked_at=None, revoked_by_id=None, end_date=None)
            )
            db.session.commit()
        if not self._signed_in():
            # Straight to a new session (the sign-in form would wait for the next
            # two-factor step): what a successful sign-in stores in the cookie.
            token = open_session(db.session, user)
            db.session.commit()
            with self.client.session_transaction() as cookie:
                cookie.clear()
                cookie["_user_id"] = token
                cookie["_fresh"] = True
            self.token = self._fresh_token()

    def _signed_in(self) -> bool:
        with self.client.session_transaction() as cookie:
            token = cookie.get("_user_id")
        if not token:
            return False
        row = db.session.scalar(
            select(UserSession).where(UserSession.token_hash == hash_token(token))
        )
        return row is not None and row.revoked_at is None

    def _fresh_token(self) -> str:
        page = self.client.get("/sign-in" if self.user is None else "/account")
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token for {self.who}"
        return match.group(1) or match.group(2)

    @property
    def who(self) -> str:
        return "signed out" if self.user is None else self.user.email

    def call(
        self,
        method: str,
        url: str,
        query: dict[str, str] | None = None,
        form: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        """Send one request; a 5xx or an exception is kept (the run goes on, and fails at
        its end listing each distinct failure once) and reported as a 500."""
        self.requests += 1
        described = f"{method} {url} query={_short(query)} form={_short(form)} as {self.who}"
        matched: list[str] = []

        def remember(sender: Any, **extra: Any) -> None:
            matched.append(request.url_rule.rule if request.url_rule else "(no route)")

        try:
            with request_started.connected_to(remember, self.app):
                response = self.client.open(
                    url, method=method, query_string=query or None, data=form or None
                )
        except Exception as error:  # the test app propagates exceptions out of views
            self._fail(method, matched, type(error).__name__, traceback.format_exc(), described)
            return 500, ""
        self.last_rule = matched[0] if matched else ""
        status = response.status_code
        body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        response.close()
        if status >= 500:
            self._fail(method, matched, str(status), body[:2000], described)
        return status, body

    def _fail(
        self, method: str, matched: list[str], error: str, detail: str, described: str
    ) -> None:
        self.failed += 1
        key = (method, matched[0] if matched else "(no route)", error)
        self.failures.setdefault(key, f"{described}: {error}\n{detail[-3000:]}")

    def learn(self, path: str, body: str) -> None:
        found = set(_FIELD.findall(body)) - {"csrf_token"}
        self.names_on.setdefault(path, set()).update(found)
        self.names.update(found)
        self.seeds.update(v for v in _VALUE.findall(body) if len(v) < 40)


def _short(values: dict[str, Any] | None) -> str:
    if not values:
        return "{}"
    return repr(
        {
            k: (v[:60] + f"...({len(v)} chars)" if isinstance(v, str) and len(v) > 60 else v)
            for k, v in values.items()
        }
    )


def _budget(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the failure names the request
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def fuzz_routes(browser: Browser, world: World, pairs: list[tuple[Rule, str]]) -> None:
    """``EXAMPLES`` requests per route on average, each to a route hypothesis picks, with
    generated path values, query string and (for other methods than GET) form body."""
    seeds = sorted(set(world.ids + world.strings) | browser.seeds)
    everywhere = sorted(browser.names) or ["x"]

    @_budget(EXAMPLES * len(pairs))
    @given(data=st.data())
    def example(data: Any) -> None:
        browser.examples += 1
        browser.restore()
        rule, method = data.draw(st.sampled_from(pairs))
        chosen = {
            name: data.draw(path_value(world, kind)) for name, kind in converters(rule).items()
        }
        query = data.draw(
            st.dictionaries(
                st.sampled_from(QUERY_NAMES) | st.text(max_size=8), values(seeds), max_size=4
            )
        )
        form = None
        if method != "GET":
            own = sorted(browser.names_on.get(rule.rule, set())) or everywhere
            keys = st.sampled_from(own) | st.sampled_from(everywhere) | st.text(max_size=8)
            form = data.draw(st.dictionaries(keys, values(seeds), max_size=8))
            if data.draw(st.integers(0, 3)):  # three times in four, a valid CSRF token
                form["csrf_token"] = browser.token
        browser.call(method, fill(rule, chosen), query, form)

    example()


def fuzz_pages(browser: Browser, world: World) -> None:
    """Hostile forms posted to the scene's own pages (a draft claim's, the admin's forms),
    with the field names each page showed this person, and a valid CSRF token."""
    seeds = sorted(set(world.ids + world.strings) | browser.seeds)
    pages = {
        path: sorted(browser.names_on.get(path, set()))
        for path in world.pages
        if browser.names_on.get(path)
    }
    if not pages:
        return  # this person opens none of these forms: the route fuzzing covers them

    @_budget(EXAMPLES * 2 * len(pages))
    @given(data=st.data())
    def example(data: Any) -> None:
        browser.examples += 1
        browser.restore()
        path = data.draw(st.sampled_from(sorted(pages)))
        own = pages[path]
        form = data.draw(
            st.dictionaries(st.sampled_from(own), values(seeds), min_size=1, max_size=len(own))
        )
        form["csrf_token"] = browser.token
        browser.call("POST", path, None, form)

    example()


# --- The tests ------------------------------------------------------------------------------


def test_the_fuzz_can_fill_every_route(app):
    """A new route is fuzzed without being listed; one the fuzz cannot fill fails here."""
    pairs = routes(app)
    assert len(pairs) > 100
    for rule, _ in pairs:
        unknown = set(converters(rule).values()) - KNOWN_CONVERTERS
        assert not unknown, f"{rule.rule}: the fuzz cannot fill a {unknown} argument"
    assert app.url_map.converters["int"].__name__ == "IdConverter"


@pytest.mark.parametrize("person", PEOPLE)
def test_no_route_answers_a_server_error(app, db_session, person):
    started = time.monotonic()
    world = build_world(db_session)
    browser = Browser(app, world.people[person])
    browser.open()
    pairs = routes(app)
    reached: set[tuple[str, str]] = set()

    def record(sender: Any, **extra: Any) -> None:
        if request.url_rule is not None:
            reached.add((request.url_rule.rule, request.method))

    with request_started.connected_to(record, app):
        # 1. Real values: every route must be reached; its forms teach the fuzzing.
        for path in world.pages:
            browser.restore()
            status, body = browser.call("GET", path)
            if status == 200:
                browser.learn(path, body)
                browser.learn(browser.last_rule, body)  # the route's other methods use them
        for rule, method in pairs:
            browser.restore()
            url = fill(rule, real_path_values(rule, world))
            form = {"csrf_token": browser.token} if method != "GET" else None
            status, body = browser.call(method, url, None, form)
            if method == "GET" and status == 200:
                browser.learn(rule.rule, body)
        # 2. Generated values, route by route, then the scene's own pages.
        fuzz_routes(browser, world, pairs)
        fuzz_pages(browser, world)

    TOTALS[person] = {
        "routes": len(pairs),
        "examples": browser.examples,
        "requests": browser.requests,
        "server errors": browser.failed,
        "distinct": len(browser.failures),
        "seconds": round(time.monotonic() - started),
    }
    print(f"\nfuzz as {person}: {TOTALS[person]}")
    for method, rule, error in browser.failures:
        print(f"  5xx: {method} {rule}: {error}")
    assert not browser.failures, (
        f"{browser.failed} requests failed, {len(browser.failures)} ways:\n\n"
        + "\n\n".join(browser.failures.values())
    )
    # A static file that exists is answered before the app (static_files.StaticFilesMiddleware),
    # so its route is reached only by the names that are no file.
    missed = sorted(
        {(rule.rule, method) for rule, method in pairs if rule.endpoint not in STATIC_ENDPOINTS}
        - reached
    )
    assert not missed, f"the fuzz did not reach {missed}"


def test_a_failed_statement_does_not_poison_the_next_request(database_url, db_session):
    """A request whose statement fails in PostgreSQL leaves the test's transaction usable:
    the request's teardown rolls its session back to the savepoint."""
    from tests.helpers import make_test_app

    broken = make_test_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @broken.get("/fails-in-the-database")
    def fails() -> str:
        db.session.execute(text("SELECT 1 / 0"))
        return "unreachable"

    @broken.get("/reads")
    def reads() -> str:
        return str(db.session.execute(text("SELECT 41 + 1")).scalar())

    client = broken.test_client()
    assert client.get("/fails-in-the-database").status_code == 500
    assert client.get("/reads").get_data(as_text=True) == "42"
    assert db_session.execute(text("SELECT 1")).scalar() == 1
