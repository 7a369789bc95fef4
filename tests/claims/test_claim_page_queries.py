"""The claim page reads a claim with its lines, their tariffs and its evidence in one query
(joined: rows are lines x files) and shows each once, in as many queries whatever the claim
holds."""

from __future__ import annotations

import html

from tests.claims.helpers import attach_pdf, signed_in, start, submit
from tests.factories.claims import claim_scene
from tests.helpers import counted_queries


def test_the_claim_page_shows_every_line_and_file_once_in_the_same_queries(
    app, db_session, evidence_dir
):
    scene = claim_scene(two_step=False, tariffs=("25.00",))
    bare = start(db_session, scene)
    submit(db_session, scene, bare, 10)
    other = claim_scene(two_step=False, icb=scene.icb, tariffs=("25.00", "12.50", "5.00"))
    full = start(db_session, other)
    files = ["first-scan.pdf", "second-scan.pdf", "third-scan.pdf"]
    for name in files:
        attach_pdf(app, db_session, other.user, full, name)
        db_session.refresh(full)
    submit(db_session, other, full, 10, 4, 2)
    db_session.commit()
    browser = signed_in(app, scene.tier_1)
    browser.get(f"/claims/{bare.id}")  # warm: first-request work is not the page's

    with counted_queries() as few:
        bare_page = html.unescape(browser.get(f"/claims/{bare.id}").get_data(as_text=True))
    with counted_queries() as many:
        response = browser.get(f"/claims/{full.id}")
    full_page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200

    for name in files:
        assert full_page.count(f">{name}<") == 1, name
    for component in other.components:
        assert full_page.count(component.name) == bare_page.count(scene.components[0].name)
    # One line and no file, or three lines with their tariffs and three files: the same
    # queries (the session; the claim with its provider, scheme, window, lines, tariffs and
    # evidence; answers; questions; history; changes; the header's counts).
    assert len(few) == len(many), "\n".join(many)


def test_the_claim_page_shows_each_answer_beside_its_question_in_the_schemes_order(
    app, db_session, evidence_dir
):
    """Answers and questions are read in a query each and shown in the scheme's order
    (display order, then id), each once, with no more queries than a scheme without."""
    plain = claim_scene(two_step=False)
    unasked = start(db_session, plain)
    submit(db_session, plain, unasked, 10, 4)
    scene = claim_scene(two_step=False, icb=plain.icb, questions=True)
    declined, meeting, note = scene.scheme.questions
    note.display_order = -1  # now first, though made last
    claim = start(db_session, scene)
    submit(db_session, scene, claim, 10, 4, answers={declined.id: "3", meeting.id: "yes"})
    db_session.commit()
    browser = signed_in(app, scene.tier_1)
    browser.get(f"/claims/{unasked.id}")

    with counted_queries() as without:
        browser.get(f"/claims/{unasked.id}")
    with counted_queries() as asked:
        response = browser.get(f"/claims/{claim.id}")
    assert response.status_code == 200
    page = " ".join(html.unescape(response.get_data(as_text=True)).split())
    shown = [page.find(q.text) for q in (note, declined, meeting)]
    assert -1 not in shown, shown
    assert shown == sorted(shown), shown
    for question in (note, declined, meeting):
        assert page.count(question.text) == 1, question.text
    for question, answer in ((declined, "3"), (meeting, "Yes"), (note, "Not answered")):
        assert f'{question.text}</dt><dd class="nhsuk-summary-list__value">{answer}<' in page
    assert len(asked) == len(without), "\n".join(asked)
