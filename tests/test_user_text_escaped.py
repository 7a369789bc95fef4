"""User text is never markup.

Markup typed into every field that reaches another person's page or an email is stored as
given and shown as text: each page a person can reach is rendered (by following its links,
the admin's included) and must hold the escaped form, never the markup itself, and never a
second escaping. Pages made from ordinary data must show no escaped markup at all (trusted
HTML given to the NHS macros stays HTML). Emails are plain text only, so the same text
cannot become markup in a mail reader.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from claims_portal.access.models import AccessRequest
from claims_portal.access.roles import Role
from claims_portal.access.services import people
from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction, ClaimEvidence
from claims_portal.db import utcnow
from claims_portal.organisations.models import ApprovalMode
from claims_portal.organisations.services import change_approval_mode
from claims_portal.schemes.models import OfferStatus, QuestionKind, SchemeStatus
from claims_portal.schemes.services.offers import reject_offer
from tests.claims.helpers import act, entries, signed_in, start, submit
from tests.factories.access import user_with_role
from tests.factories.claims import ClaimScene, claim_scene, previous_month
from tests.factories.organisations import IcbFactory
from tests.factories.schemes import ClaimWindowFactory, OfferFactory, QuestionFactory, ready_scheme
from tests.helpers import csrf_token
from tests.smtp_fixtures import Mailbox, body_of

META = '<meta http-equiv="refresh" content="0;url=https://evil.example">'
IMG = '"><img src=x onerror=alert(1)>'
LINK = '<a href="https://evil.example">x</a>'

#: The beginnings of the payloads' tags: none may ever reach a page as markup.
RAW = ('<meta http-equiv="refresh"', "<img src=x", '<a href="https://evil.example"')
#: Text escaped twice (shown to the person as "&lt;...").
TWICE = ("&amp;lt;", "&amp;gt;", "&amp;#34;", "&amp;quot;")


def hostile(label: str, *parts: str) -> str:
    """``label`` followed by markup (all three payloads unless some are named)."""
    return label + " " + "".join(parts or (META, IMG, LINK))


def shown_escaped(label: str) -> str:
    """How a field holding ``hostile(label)`` reads in the page's source."""
    return label + " &lt;meta http-equiv="


#: Flask-Admin keeps the form for a new inline row escaped on purpose (its script reads it
#: as text and inserts it), so that block is left out of the checks.
_INLINE_TEMPLATE = re.compile(r'<div class="inline-field-template d-none">.*?</div>', re.S)


def page_text(body: str) -> str:
    return _INLINE_TEMPLATE.sub("", body)


def assert_no_markup(body: str, where: str) -> None:
    body = page_text(body)
    for raw in RAW:
        assert raw not in body, f"{where}: user text arrived as markup ({raw!r})"
    for twice in TWICE:
        assert twice not in body, f"{where}: user text escaped twice ({twice!r})"


# --- Reaching every page -------------------------------------------------------------------

#: Paths not followed: files, exports and assets are not pages; signing out ends the crawl.
_NOT_PAGES = re.compile(
    r"^/(assets|static|admin/static)/|/export|/evidence/|/template$|^/sign-out|^/admin/.*/(new|delete)/"
)
_HREF = re.compile(r'href="(/[^"#]*)')


def crawl(browser: Any, *start: str, limit: int = 150, per_path: int = 3) -> Iterator[tuple]:
    """(url, status, body) of every HTML page reachable from ``start`` by same-site links.

    At most ``per_path`` addresses per path (sorting and paging links vary only the query).
    """
    queue = list(start)
    seen: set[str] = set()
    paths: Counter[str] = Counter()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or paths[path] >= per_path:
            continue
        seen.add(url)
        paths[path] += 1
        response = browser.get(url, buffered=True)
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
            continue
        if response.mimetype != "text/html":
            continue
        body = response.get_data(as_text=True)
        yield url, response.status_code, body
        for href in _HREF.findall(body):
            href = html.unescape(href)
            if not _NOT_PAGES.search(href) and href not in seen:
                queue.append(href)


def crawl_checked(browser: Any, *start: str) -> dict[str, str]:
    """Crawl, asserting no page fails or shows markup from user text; the bodies by URL."""
    bodies = {}
    for url, status, body in crawl(browser, *start):
        assert status < 500, f"{url} answered {status}"
        assert_no_markup(body, url)
        bodies[url] = body
    assert len(bodies) > 3, f"only {sorted(bodies)} reached"
    return bodies


def everything(bodies: dict[str, str]) -> str:
    return "\n".join(bodies.values())


def test_the_nhs_macros_escape_text_and_keep_trusted_html(app):
    """Flask escapes only .html-like names by default; the NHS macros are .jinja files."""
    macro = app.jinja_env.get_template("nhsuk/components/inset-text/macro.jinja").module
    assert "&lt;meta http-equiv=" in macro.insetText({"text": META})
    assert "<p>Trusted</p>" in macro.insetText({"html": "<p>Trusted</p>"})


# --- A world full of hostile text ----------------------------------------------------------


def _ask_for_access(client: Any, ods_code: str, role: Role, **fields: str) -> Any:
    page = client.get(f"/request-access/{ods_code}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page), "role": role.name, **fields}
    return client.post(f"/request-access/{ods_code}", data=data)


def _set_text(scene: ClaimScene) -> None:
    """Admin-entered and person-entered names and texts, every one hostile."""
    scene.icb.name = hostile("ICB name")
    scene.practice.name = hostile("Practice name")
    scene.practice.parent.name = hostile("Sub-location name")
    scene.scheme.name = hostile("Scheme name")
    scene.scheme.description = hostile("Scheme description")
    for component in scene.components:
        component.name = hostile(f"Component name {component.code}")
        component.unit_label = hostile("Unit", META)
    for question in scene.scheme.questions:
        question.text = hostile(f"Question {question.display_order}")
        question.help_text = hostile(f"Help {question.display_order}")
    QuestionFactory(
        scheme=scene.scheme,
        text=hostile("Choice question"),
        kind=QuestionKind.SINGLE_CHOICE,
        required=False,
        choices=hostile("Choice one") + "\n" + hostile("Choice two"),
        display_order=3,
    )
    scene.user.full_name = hostile("Practice User")
    assert scene.approver is not None
    scene.approver.full_name = hostile("Practice Approver")
    scene.tier_1.full_name = hostile("Tier One")
    scene.tier_2.full_name = hostile("Tier Two")
    scene.finance.full_name = hostile("Finance Person")


@pytest.fixture
def world(app, db_session, mailbox) -> dict[str, Any]:
    """A two-step practice under an ICB, where every name, text, answer and reason is
    hostile, reached through the forms where strangers and practices type it."""
    scene = claim_scene(questions=True)
    _set_text(scene)
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb, full_name=hostile("Icb Admin"))
    db_session.commit()

    # A claim answered with markup, approved by the practice and declined with markup.
    text_question = next(q for q in scene.scheme.questions if q.kind is QuestionKind.TEXT)
    claim = start(db_session, scene)
    answers = {text_question.id: hostile("Free-text answer")}
    for question in scene.scheme.questions:
        if question.kind is QuestionKind.NUMBER:
            answers[question.id] = "3"
        elif question.kind is QuestionKind.YES_NO:
            answers[question.id] = "yes"
    services.transition(
        db_session,
        claim.id,
        ClaimAction.SUBMIT,
        scene.user,
        expected_version=claim.version,
        entries=entries(claim, 10, 4, answers=answers),
        today=scene.today,
    )
    db_session.add(
        ClaimEvidence(
            claim_id=claim.id,
            key=f"test/{claim.id}/hostile",
            filename=hostile("File", IMG) + ".pdf",
            content_type="application/pdf",
            size=1000,
            sha256="0" * 64,
            round=claim.round,
            uploaded_by_id=scene.user.id,
            uploaded_at=utcnow(),
        )
    )
    act(db_session, claim, ClaimAction.PROVIDER_APPROVE, scene.approver)
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, scene.tier_1, hostile("Decline reason"))
    # A claim for the month before, returned to the practice with markup.
    earlier_start, earlier_end = previous_month(scene.window.period_start)
    earlier = ClaimWindowFactory(
        scheme=scene.scheme,
        period_start=earlier_start,
        period_end=earlier_end,
        opens_on=scene.window.opens_on,
        closes_on=scene.window.closes_on,
    )
    returned = services.start_claim(
        db_session, scene.practice, scene.scheme, earlier, scene.user, scene.today
    )
    services.transition(
        db_session,
        returned.id,
        ClaimAction.SUBMIT,
        scene.user,
        expected_version=returned.version,
        entries=entries(returned, 2, 1, answers={**answers, text_question.id: "Nothing"}),
        today=scene.today,
    )
    act(db_session, returned, ClaimAction.PROVIDER_RETURN, scene.approver, hostile("Return reason"))

    # An offer the practice rejected with markup; an approval mode changed with markup;
    # a person disabled with markup (only in the audit trail, under no organisation).
    other = ready_scheme(
        commissioner=scene.icb, status=SchemeStatus.PUBLISHED, name=hostile("Other scheme")
    )
    offer = OfferFactory(scheme=other, provider=scene.practice, status=OfferStatus.PENDING)
    reject_offer(db_session, offer, actor=scene.approver, reason=hostile("Offer rejection"))
    for mode in (ApprovalMode.ONE_STEP, ApprovalMode.TWO_STEP):
        change_approval_mode(
            db_session,
            practice=scene.practice,
            mode=mode,
            actor=admin,
            reason=hostile("Approval mode reason"),
        )
    leaver = user_with_role(Role.PROVIDER_USER_MULTI, scene.practice, full_name="Leaving Person")
    people.disable_user(db_session, leaver, actor=admin, reason=hostile("Disabled because"))
    db_session.commit()

    # Strangers ask for access on the public form: to the practice (its approver decides)
    # and to the ICB (its administrators decide, one rejects with markup).
    stranger = app.test_client()
    for ods_code, role, label in [
        (scene.practice.ods_code, Role.PROVIDER_USER_MULTI, "Mallory Smith"),
        (scene.icb.ods_code, Role.APPROVER_TIER_1, "Mallory Jones"),
    ]:
        response = _ask_for_access(
            stranger,
            ods_code,
            role,
            full_name=hostile(label),
            email=f"{label.lower().replace(' ', '.')}@example.nhs.net",
            note=hostile(f"{label} does"),
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    icb_request = db_session.scalar(
        select(AccessRequest).where(AccessRequest.email == "mallory.jones@example.nhs.net")
    )
    deciding = signed_in(app, admin)
    page = deciding.get(f"/access-requests/{icb_request.id}")
    response = deciding.post(
        f"/access-requests/{icb_request.id}",
        data={
            "csrf_token": csrf_token(page),
            "decision": "reject",
            "reason": hostile("Rejection reason"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    flashed = deciding.get(response.headers["Location"]).get_data(as_text=True)

    return {
        "flashed": flashed,
        "scene": scene,
        "admin": admin,
        "deciding": deciding,
        "claim": claim,
        "returned": returned,
        "icb_request": icb_request,
        "practice_request": db_session.scalar(
            select(AccessRequest).where(AccessRequest.email == "mallory.smith@example.nhs.net")
        ),
    }


# --- Pages ---------------------------------------------------------------------------------


def test_the_practice_approver_sees_a_strangers_request_as_text(app, world):
    """The reported case: name and "what they do there" from the signed-out form."""
    browser = signed_in(app, world["scene"].approver)
    request_id = world["practice_request"].id
    bodies = crawl_checked(browser, "/", "/pending-actions", f"/access-requests/{request_id}")
    decide_page = bodies[f"/access-requests/{request_id}"]
    assert shown_escaped("Mallory Smith") in decide_page
    assert shown_escaped("Mallory Smith does") in decide_page
    assert shown_escaped("Mallory Smith") in bodies["/pending-actions"]
    seen = everything(bodies)
    for label in ["Practice Approver", "Practice name", "Scheme name", "Other scheme"]:
        assert shown_escaped(label) in seen, label


def test_the_icb_administrator_sees_requests_people_and_the_admin_as_text(app, world):
    browser = world["deciding"]
    request_id = world["icb_request"].id
    bodies = crawl_checked(
        browser,
        "/",
        f"/access-requests/{request_id}",
        "/people",
        "/practices",
        "/admin/",
        "/admin/audit-trail/",
        "/admin/schemes/",
        "/admin/components/",
        "/admin/questions/",
        "/admin/offers/",
        "/admin/organisations/",
    )
    # "You rejected the request from ..."
    assert_no_markup(world["flashed"], "the page after deciding")
    assert shown_escaped("Mallory Jones") in world["flashed"]
    decided = bodies[f"/access-requests/{request_id}"]
    for label in ["Mallory Jones", "Mallory Jones does", "Rejection reason"]:
        assert shown_escaped(label) in decided, label
    seen = everything(bodies)
    for label in [
        "Icb Admin",  # the header
        "ICB name",
        "Practice User",  # the people pages
        "Scheme name",  # admin lists and details
        "Scheme description",
        "Component name HC1",
        "Question 2",
        "Help 2",
        "Choice question",
        "Approval mode reason",  # the audit trail
        "Offer rejection",
        "Rejection reason",
    ]:
        assert shown_escaped(label) in seen, label
    audit = "\n".join(body for url, body in bodies.items() if url.startswith("/admin/audit-trail"))
    assert shown_escaped("Approval mode reason") in audit


def test_an_invitation_shows_the_name_typed_as_text(app, world, mailbox):
    scene, browser = world["scene"], world["deciding"]
    page = browser.get("/people/invite")
    response = browser.post(
        "/people/invite",
        data={
            "csrf_token": csrf_token(page),
            "full_name": hostile("Invited Person"),
            "email": "invited.person@example.nhs.net",
            "organisation_id": str(scene.practice.id),
            "role": Role.PROVIDER_USER_MULTI.name,
        },
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_no_markup(body, "the page after inviting")
    invited = mailbox.wait_for("invited.person@example.nhs.net")
    assert hostile("Invited Person") in body_of(invited)
    bodies = crawl_checked(browser, "/people")
    assert shown_escaped("Invited Person") in everything(bodies)


def test_approvers_see_the_practices_answers_reasons_and_files_as_text(app, world):
    """The reported case: a practice user's free-text answer on the approvers' claim page."""
    scene, claim = world["scene"], world["claim"]
    for approver in (scene.approver, scene.tier_1):
        browser = signed_in(app, approver)
        bodies = crawl_checked(browser, "/", "/claims", f"/claims/{claim.id}", "/messages")
        detail = bodies[f"/claims/{claim.id}"]
        for label in [
            "Free-text answer",
            "Question 0",
            "Decline reason",
            "Practice User",
            "Practice Approver",
            "Tier One",
            "Scheme name",
            "Practice name",
            "Component name HC1",
        ]:
            assert shown_escaped(label) in detail, label
        assert "File &#34;&gt;&lt;img src=x onerror=alert(1)&gt;.pdf" in detail


def test_the_practice_sees_reasons_questions_and_scheme_text_as_text(app, world):
    scene, returned = world["scene"], world["returned"]
    browser = signed_in(app, scene.user)
    bodies = crawl_checked(
        browser,
        "/",
        "/claims",
        f"/claims/{returned.id}",
        f"/claims/{returned.id}/edit",
        "/messages",
        "/messages/updates",
        "/schemes",
        "/claims/new",
    )
    edit = bodies[f"/claims/{returned.id}/edit"]
    for label in ["Question 0", "Help 0", "Question 2", "Choice question", "Choice one", "Unit"]:
        assert shown_escaped(label) in edit, label
    seen = everything(bodies)
    for label in ["Return reason", "Decline reason", "Tier One", "Scheme description"]:
        assert shown_escaped(label) in seen, label


def test_finance_and_tier_2_pages_hold_no_markup(app, world):
    scene = world["scene"]
    for person in (scene.tier_2, scene.finance):
        crawl_checked(signed_in(app, person), "/", "/claims", "/messages", "/admin/")


def test_the_forgotten_password_confirmation_shows_the_typed_address_as_text(client):
    page = client.get("/forgotten-password")
    response = client.post(
        "/forgotten-password",
        data={"csrf_token": csrf_token(page), "email": hostile("someone@example.nhs.net")},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert_no_markup(body, "the forgotten-password confirmation")
    assert shown_escaped("If someone@example.nhs.net") in body


def test_a_refused_access_request_shows_what_was_typed_as_text(client, db_session):
    icb = IcbFactory()
    db_session.commit()
    response = _ask_for_access(
        client,
        icb.ods_code,
        Role.APPROVER_TIER_1,
        full_name=hostile("Mallory Typed"),
        email=hostile("mallory@example.nhs.net"),
        note=hostile("Typed note"),
    )
    body = response.get_data(as_text=True)
    assert "There is a problem" in body
    assert_no_markup(body, "the refused access request")
    for label in ["Mallory Typed", "Typed note"]:
        assert label + " &lt;meta http-equiv=&#34;refresh&#34;" in body, label
    assert "mallory@example.nhs.net &lt;meta http-equiv=&#34;refresh&#34;" in body


def test_a_person_whose_name_is_markup_sees_it_as_text_in_the_header(app, db_session):
    person = user_with_role(
        Role.PROVIDER_USER_SINGLE,
        IcbFactory(name=hostile("Header organisation")),
        full_name=hostile("Header Person"),
    )
    db_session.commit()
    bodies = crawl_checked(signed_in(app, person), "/", "/account")
    header = bodies["/"].split("</header>", 1)[0]
    assert shown_escaped("Header Person") in header
    assert shown_escaped("Header organisation") in header


# --- Emails --------------------------------------------------------------------------------


def test_emails_are_plain_text_and_carry_the_text_as_typed(world, mailbox: Mailbox):
    """Plain text cannot be markup: no email has an HTML part, so what people typed is
    kept as they typed it (escaping it would show "&lt;" to the reader)."""
    scene = world["scene"]
    decided = mailbox.wait_for("mallory.jones@example.nhs.net", "", where=_mentions("Rejection"))
    to_decide = mailbox.wait_for(scene.approver.email, "", where=_mentions("Mallory Smith"))
    assert hostile("Rejection reason") in body_of(decided)
    assert hostile("Mallory Smith") in body_of(to_decide)
    messages = mailbox.messages
    assert len(messages) >= 3
    for message in messages:
        assert message.get_content_type() == "text/plain", message["Subject"]
        assert not message.is_multipart(), message["Subject"]
        assert "\n" not in str(message["Subject"])


def _mentions(text: str) -> Any:
    return lambda message: text in body_of(message)


# --- Trusted HTML stays HTML ---------------------------------------------------------------


def test_pages_made_from_ordinary_data_show_no_escaped_markup(app, db_session):
    """With every template escaped, the HTML our templates give the NHS macros must still
    arrive as HTML: no "&lt;" anywhere on any page reached with ordinary data."""
    scene = claim_scene(questions=True)
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb, full_name="Priya Shah")
    claim = start(db_session, scene)
    answers = {
        q.id: {"NUMBER": "3", "YES_NO": "yes", "TEXT": "All done"}[q.kind.name]
        for q in scene.scheme.questions
    }
    submit(db_session, scene, claim, 10, 4, answers=answers)
    act(db_session, claim, ClaimAction.PROVIDER_APPROVE, scene.approver)
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, scene.tier_1, "Counted twice")
    db_session.commit()
    stranger = app.test_client()
    response = _ask_for_access(
        stranger,
        scene.practice.ods_code,
        Role.PROVIDER_USER_MULTI,
        full_name="Nadia Rahman",
        email="nadia.rahman@example.nhs.net",
        note="Practice nurse",
    )
    assert response.status_code == 302
    for url, _status, body in crawl(stranger, "/sign-in", "/request-access?q=test", "/"):
        assert "&lt;" not in body, url
    starts = {
        scene.user: ["/", f"/claims/{claim.id}/edit", "/schemes", "/claims/new"],
        scene.approver: ["/", "/pending-actions", "/account/password"],
        scene.tier_1: ["/", f"/claims/{claim.id}", "/claims?status=LOST&scheme=abc"],
        admin: ["/", "/people", "/people/invite", "/admin/", "/admin/audit-trail/"],
    }
    for person, urls in starts.items():
        browser = signed_in(app, person)
        reached = 0
        for url, status, body in crawl(browser, *urls):
            assert status < 500, url
            body = page_text(body)
            assert "&lt;" not in body, (url, _around(body, "&lt;"))
            reached += 1
        assert reached > 3


def _around(body: str, needle: str) -> str:
    at = body.find(needle)
    return body[max(0, at - 200) : at + 200]
