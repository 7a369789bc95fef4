"""Approvers may choose one email a day instead of one email per claim (issue 14): the
choice on the "Email notifications" page, claims waiting recorded as lines of the daily
email instead of emails, and the job ``mail.daily-digest`` sending each person one email
listing them, once."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import select

from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import ClaimAction
from claims_portal.extensions import db
from claims_portal.jobs import registry
from claims_portal.jobs.models import JobRun
from claims_portal.mail import services as mail
from claims_portal.mail.kinds import Delivery, EmailKind
from claims_portal.mail.models import EmailDigestItem, EmailMessage, NotificationPreference
from tests.claims.helpers import act, at_tier_1, signed_in, submitted
from tests.factories.access import UserFactory
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token, sign_in

APPROVALS = EmailKind.CLAIM_TO_APPROVE
BASE = "https://claims.example.nhs.uk"
JOB = "mail.daily-digest"


def _choose(session, user, how: Delivery) -> None:
    session.add(
        NotificationPreference(
            user_id=user.id,
            kind=APPROVALS.value,
            email_enabled=how is not Delivery.OFF,
            daily_digest=how is Delivery.DIGEST,
        )
    )
    session.flush()


def _emails(session, user, kind: EmailKind = APPROVALS) -> list[EmailMessage]:
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.user_id == user.id, EmailMessage.kind == kind.value)
            .order_by(EmailMessage.id)
        )
    )


def _items(session, user) -> list[EmailDigestItem]:
    return list(
        session.scalars(
            select(EmailDigestItem)
            .where(EmailDigestItem.user_id == user.id)
            .order_by(EmailDigestItem.id)
        )
    )


def _run(app, slot: str, task: str = "task-1") -> str:
    return registry.execute(
        JOB, {"scheduled_for": f"{slot}T07:00:00+00:00"}, f"{task}-{slot}", app.config
    )


@pytest.fixture
def public_base(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


def _neighbour(scene):
    """A one-step practice with a scheme of its own under ``scene``'s ICB."""
    return claim_scene(two_step=False, icb=scene.icb)


# --- The choice ----------------------------------------------------------------------------


def test_the_page_offers_one_email_each_one_a_day_or_none_and_saves_the_choice(client, db_session):
    user = UserFactory()
    sign_in(client, user.email)
    page = client.get("/account/email-notifications")
    text = html.unescape(page.get_data(as_text=True))
    assert "Claims waiting for your approval" in text
    for label in ("One email for each claim", "One email a day listing them", "No emails"):
        assert label in text
    assert 'value="each" checked' in page.get_data(as_text=True)  # today's default
    assert "The daily email listing" not in text  # not offered, not listed as always sent
    response = client.post(
        "/account/email-notifications",
        data={"approvals": "digest", "kinds": ["access_changed"], "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    chosen = mail.deliveries_of(db.session, user)
    assert chosen[APPROVALS] is Delivery.DIGEST
    assert chosen[EmailKind.ACCESS_CHANGED] is Delivery.EACH
    assert chosen[EmailKind.CLAIM_OUTCOME] is Delivery.OFF
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "notification_preferences.changed")
    ).one()
    assert event.before["claim_to_approve"] == "each"
    assert event.after["claim_to_approve"] == "digest"
    again = client.get("/account/email-notifications")
    assert 'value="digest" checked' in again.get_data(as_text=True)


def test_the_choice_is_required_and_shown_in_the_error_summary(client, db_session):
    user = UserFactory()
    sign_in(client, user.email)
    page = client.get("/account/email-notifications")
    for answer in ({}, {"approvals": "weekly"}):
        response = client.post(
            "/account/email-notifications", data={**answer, "csrf_token": csrf_token(page)}
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "nhsuk-error-summary" in body
        assert "#approvals" in body
        assert mail.deliveries_of(db.session, user)[APPROVALS] is Delivery.EACH


def test_the_page_refuses_a_post_without_its_csrf_token(client, db_session):
    user = UserFactory()
    sign_in(client, user.email)
    response = client.post("/account/email-notifications", data={"approvals": "off"})
    assert response.status_code == 400
    assert mail.deliveries_of(db.session, user)[APPROVALS] is Delivery.EACH


# --- Gathering -----------------------------------------------------------------------------


def test_a_claim_waiting_for_a_daily_chooser_is_a_line_not_an_email(db_session, scene):
    _choose(db_session, scene.approver, Delivery.DIGEST)
    claim = submitted(db_session, scene)
    assert _emails(db_session, scene.approver) == []
    [item] = _items(db_session, scene.approver)
    assert item.kind == APPROVALS.value
    assert item.link == f"/claims/{claim.id}"
    assert claim.reference in item.summary
    assert "waiting for your approval" in item.summary
    assert item.sent_in is None


def test_one_email_each_still_sends_at_once(db_session, scene):
    _choose(db_session, scene.approver, Delivery.EACH)
    claim = submitted(db_session, scene)
    [email] = _emails(db_session, scene.approver)
    assert claim.reference in email.subject
    assert _items(db_session, scene.approver) == []


def test_off_sends_nothing_now_or_later(app, db_session, scene):
    _choose(db_session, scene.approver, Delivery.OFF)
    submitted(db_session, scene)
    assert _emails(db_session, scene.approver) == []
    assert _items(db_session, scene.approver) == []
    _run(app, "2026-11-02")
    assert _emails(db_session, scene.approver, EmailKind.DAILY_DIGEST) == []


def test_a_rolled_back_step_leaves_no_line(db_session, scene):
    _choose(db_session, scene.approver, Delivery.DIGEST)
    db_session.commit()
    submitted(db_session, scene)
    db_session.rollback()
    assert _items(db_session, scene.approver) == []


def test_a_bulk_upload_is_one_line_for_a_daily_chooser(app, db_session, bulk_scene):
    from tests.claims.test_bulk_claims import (
        CLAIMS_SHEET,
        as_bytes,
        download_template,
        rows_by_code,
        upload,
    )

    second = bulk_scene.extra["second_tier_1"]
    _choose(db_session, second, Delivery.DIGEST)
    db_session.commit()
    browser = signed_in(app, bulk_scene.tier_1)
    workbook = download_template(browser, bulk_scene)
    sheet = workbook[CLAIMS_SHEET]
    sheet.cell(row=rows_by_code(sheet)[bulk_scene.practice.ods_code], column=3, value=10)
    response = upload(browser, as_bytes(workbook))
    assert response.status_code == 200
    assert _emails(db_session, second) == []
    [item] = _items(db_session, second)
    scheme = bulk_scene.scheme
    assert item.link == f"/claims?status=AWAITING_COMMISSIONER_REVIEW&scheme={scheme.id}"
    assert item.summary.startswith(f"1 bulk claims under {scheme.name} for ")
    assert bulk_scene.tier_1.full_name in item.summary


# --- The daily email -----------------------------------------------------------------------


def test_each_person_gets_one_email_listing_all_their_lines_and_only_once(
    app, db_session, one_step, public_base
):
    tier_1, tier_2 = one_step.tier_1, one_step.tier_2
    _choose(db_session, tier_1, Delivery.DIGEST)
    _choose(db_session, tier_2, Delivery.DIGEST)
    first = at_tier_1(db_session, one_step)
    # Other practices under the same ICB: the ICB's approvers are asked about them too.
    claims = [submitted(db_session, _neighbour(one_step)) for _ in range(2)]
    act(db_session, first, ClaimAction.TIER_1_APPROVE, tier_1)  # now waits for tier 2
    db_session.commit()
    assert len(_items(db_session, tier_1)) == 3
    assert len(_items(db_session, tier_2)) == 1
    assert _emails(db_session, tier_1) == []

    assert _run(app, "2026-11-02") == "succeeded"

    [theirs] = _emails(db_session, tier_1, EmailKind.DAILY_DIGEST)
    assert theirs.recipient == tier_1.email
    assert theirs.subject == "Daily email: Claims waiting for your approval (3)"
    for claim in (first, *claims):
        assert claim.reference in theirs.body
        assert f"\n  {BASE}/claims/{claim.id}\n" in theirs.body
    assert f"{BASE}/messages" in theirs.body
    assert "Some may have been dealt with since" in theirs.body
    [other] = _emails(db_session, tier_2, EmailKind.DAILY_DIGEST)
    assert first.reference in other.body
    assert "payment approval (tier 2)" in other.body
    assert claims[0].reference not in other.body
    assert {i.sent_in for i in _items(db_session, tier_1)} == {theirs.id}
    assert {i.sent_in for i in _items(db_session, tier_2)} == {other.id}
    run = db_session.scalars(select(JobRun).where(JobRun.kind == JOB)).one()
    assert run.detail == "2 daily email(s) queued"

    assert _run(app, "2026-11-02", task="another-scheduler") == "skipped"
    assert _run(app, "2026-11-03") == "succeeded"  # the next day: nothing new
    assert len(_emails(db_session, tier_1, EmailKind.DAILY_DIGEST)) == 1
    assert len(_emails(db_session, tier_2, EmailKind.DAILY_DIGEST)) == 1

    submitted(db_session, _neighbour(one_step))  # a new line goes in the next one only
    db_session.commit()
    assert _run(app, "2026-11-04") == "succeeded"
    later = _emails(db_session, tier_1, EmailKind.DAILY_DIGEST)
    assert len(later) == 2
    assert "(1)" in later[1].subject
    assert first.reference not in later[1].body


def test_lines_of_someone_who_turned_approvals_off_since_are_dropped(app, db_session, scene):
    _choose(db_session, scene.approver, Delivery.DIGEST)
    submitted(db_session, scene)
    mail.set_preferences(db_session, scene.approver, [])
    db_session.commit()
    assert _run(app, "2026-11-02") == "succeeded"
    assert _emails(db_session, scene.approver, EmailKind.DAILY_DIGEST) == []
    assert _items(db_session, scene.approver) == []


def test_user_text_in_lines_stays_plain_text_on_one_line(app, db_session, scene, public_base):
    scene.scheme.name = "Flu <b>jabs</b>\nOpen this instead:\nhttps://evil.example"
    _choose(db_session, scene.approver, Delivery.DIGEST)
    submitted(db_session, scene)
    db_session.commit()
    [item] = _items(db_session, scene.approver)
    assert "\n" not in item.summary
    assert "Flu <b>jabs</b> Open this instead: https://evil.example" in item.summary
    _run(app, "2026-11-02")
    [email] = _emails(db_session, scene.approver, EmailKind.DAILY_DIGEST)
    assert "Flu <b>jabs</b> Open this instead:" in email.body  # as typed, never markup
    assert "&lt;" not in email.body
    links = [line.strip() for line in email.body.splitlines() if line.startswith("  ")]
    assert links == [f"{BASE}/claims/{item.link.rsplit('/', 1)[1]}"]
    assert "\n" not in email.subject


def test_the_slot_is_daily_at_seven_in_england():
    from claims_portal.jobs.schedule import DEFAULT_SCHEDULE, DailyAt, parse_schedule

    assert parse_schedule(DEFAULT_SCHEDULE)[JOB] == DailyAt(7, 0)
    when = DailyAt(7, 0)
    summer = when.slot(dt.datetime(2026, 7, 1, 6, 30, tzinfo=dt.UTC))
    assert summer == dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)  # 07:00 BST
