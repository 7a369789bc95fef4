"""Closing a scheme with claims in progress warns the ICB first (the admin's close button and
its confirmation count them) and tells the practices affected (message centre item and email),
from the scheme's one take_step."""

from __future__ import annotations

import html

from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimAction
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.schemes import services
from claims_portal.schemes.models import ClaimFrequency, SchemeStatus
from tests.admin.helpers import post
from tests.claims.helpers import act, start, submitted
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.helpers import sign_in


def _scene_with_claims(db_session):
    """An ad hoc scheme (many claims a practice): a draft, one awaiting provider approval,
    and a withdrawn one (finished: not in progress)."""
    scene = claim_scene(frequency=ClaimFrequency.AD_HOC)
    start(db_session, scene)
    submitted(db_session, scene)
    withdrawn = start(db_session, scene)
    act(db_session, withdrawn, ClaimAction.WITHDRAW, scene.user)
    db_session.commit()
    return scene


def test_closing_tells_the_practices_with_claims_in_progress(db_session):
    scene = _scene_with_claims(db_session)
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb, full_name="Asha Patel")
    claims = services.close_scheme(
        db_session, scene.scheme, actor=admin, base_url="https://claims.example"
    )
    assert scene.scheme.status is SchemeStatus.CLOSED
    assert claims.count == 2
    assert [p.id for p in claims.practices] == [scene.practice.id]
    assert "2 claims in progress (1 draft, 1 being reviewed) at 1 practice" in claims.warning

    notices = db_session.scalars(select(Notice).order_by(Notice.user_id)).all()
    assert {n.user_id for n in notices} == {scene.user.id, scene.approver.id}  # not the ICB
    notice = notices[0]
    assert notice.organisation_id == scene.practice.id
    assert notice.subject == f"{scene.scheme.name} was closed: 2 claims of yours in progress"
    assert "Drafts can no longer be submitted: withdraw them." in notice.body
    assert "Claims being reviewed will still be decided." in notice.body
    assert notice.link == f"/claims?scheme={scene.scheme.id}"
    emails = db_session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "scheme_closed")
    ).all()
    assert {e.recipient for e in emails} == {scene.user.email, scene.approver.email}
    assert f"https://claims.example/claims?scheme={scene.scheme.id}" in emails[0].body

    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "scheme.closed"))
    assert audit.after["claims_in_progress"] == 2
    assert audit.after["practices_told"] == [scene.practice.ods_code]


def test_a_scheme_without_claims_in_progress_closes_quietly(db_session):
    scene = claim_scene()
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb)
    claims = services.close_scheme(db_session, scene.scheme, actor=admin)
    assert claims.count == 0
    assert claims.warning == ""
    assert db_session.scalars(select(Notice)).all() == []


def test_the_admin_warns_before_closing_and_says_who_was_told(client, db_session):
    scene = _scene_with_claims(db_session)
    admin = user_with_role(Role.ADMINISTRATOR, scene.icb)
    db_session.commit()
    sign_in(client, admin.email)
    page = html.unescape(
        client.get(f"/admin/schemes/edit/?id={scene.scheme.id}").get_data(as_text=True)
    )
    warning = page.split('data-testid="closing-warning">', 1)[1].split("</p>", 1)[0]
    assert "2 claims in progress (1 draft, 1 being reviewed) at 1 practice" in warning
    assert "each practice will be told" in warning
    confirm = page.split("data-fa-confirm=", 1)[1].split(">Close scheme", 1)[0]
    assert "2 claims in progress" in confirm
    response = post(client, "/admin/schemes/close/", {"id": scene.scheme.id}, follow_redirects=True)
    body = html.unescape(response.get_data(as_text=True))
    assert "is closed. 2 claims were in progress: 1 practice told." in body
    db_session.expire_all()
    assert len(db_session.scalars(select(Notice)).all()) == 2
