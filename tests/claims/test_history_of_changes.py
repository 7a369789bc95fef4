"""The claim history records every change between rounds: units and answers (before and
after), evidence added and removed, who and when, in plain words on the claim page."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.audit.models import AuditEvent
from claims_portal.claims import services
from claims_portal.claims.models import ClaimAction, ClaimEvidence
from tests.claims.helpers import act, entries, start, submit
from tests.claims.test_evidence_pages import upload
from tests.claims.test_pages import form_of, reload, text
from tests.factories.claims import claim_scene
from tests.helpers import sign_in


def _save(session, claim, actor, *units, answers=None):
    claim = reload(session, claim)
    services.save_draft(
        session,
        claim.id,
        session.get(User, actor.id),
        expected_version=claim.version,
        entries=entries(claim, *units, answers=answers),
    )
    session.commit()
    return reload(session, claim)


def test_every_change_between_rounds_is_in_the_claim_history(
    app, client, db_session, real_files, evidence_dir
):
    scene = claim_scene(two_step=False, questions=True)
    declined, meeting, _note = scene.scheme.questions
    claim = start(db_session, scene)
    db_session.commit()
    claim = _save(
        db_session, claim, scene.user, 10, 4, answers={declined.id: "3", meeting.id: "yes"}
    )
    submit(db_session, scene, claim, 10, 4, actor=db_session.get(User, scene.user.id))
    act(db_session, claim, ClaimAction.TIER_1_DECLINE, scene.tier_1, reason="Check the units")
    db_session.commit()

    # Round 2: the units and an answer change, a file is added and then removed.
    claim = _save(db_session, claim, scene.user, 12, 4, answers={declined.id: "5"})
    audit = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "claim.saved").order_by(AuditEvent.id)
    ).all()[-1]
    assert audit.before == {"units": {"HC1": 10}, "answers": {str(declined.id): "3"}}
    assert audit.after["units"] == {"HC1": 12}
    assert audit.after["answers"] == {str(declined.id): "5"}
    sign_in(client, scene.user.email)
    upload(client, claim, "scan.pdf", real_files["scan.pdf"])
    row = db_session.scalar(select(ClaimEvidence).where(ClaimEvidence.claim_id == claim.id))
    asked = client.post(
        f"/claims/{claim.id}/edit",
        data=form_of(client.get(f"/claims/{claim.id}/edit"), remove=str(row.id)),
    )
    question = client.get(asked.headers["Location"])
    client.post(asked.headers["Location"], data=form_of(question))

    body = text(client.get(f"/claims/{claim.id}"))
    history = body.split('data-testid="claim-history"', 1)[1].split("</ol>", 1)[0]
    flat = " ".join(history.split())
    assert "Figures changed by James Whitfield" in flat
    assert "Health check part 1: 12 (was 10)" in flat
    assert "How many patients declined?: “5” (was “3”)" in flat
    assert "Health check part 1: 10 (was not entered)" in flat  # round 1's first save
    assert "Evidence added by James Whitfield" in flat
    assert "Evidence removed by James Whitfield" in flat
    assert "scan.pdf" in flat
    # Newest first: round 2's changes above the decline, round 1's below it.
    decline = flat.index("Check the units")
    assert flat.index("Evidence removed by") < flat.index("Evidence added by") < decline
    assert flat.index("12 (was 10)") < decline < flat.index("10 (was not entered)")


def test_a_change_and_a_step_read_in_order(db_session):
    scene = claim_scene(two_step=False)
    claim = start(db_session, scene)
    db_session.commit()
    claim = _save(db_session, claim, scene.user, 3, 0)
    events = services.history(db_session, claim.id)
    changes = services.changes.changes_of(db_session, claim)
    timeline = services.changes.timeline(events, changes)
    assert [getattr(entry, "summary", None) for entry in timeline] == [
        events[0].summary,
        "Figures changed by James Whitfield",
    ]
    assert timeline[1].changes == [
        "Health check part 1: 3 (was not entered)",
        "Health check part 2: 0 (was not entered)",
    ]
