"""Practices are told when a scheme is offered, reissued, withdrawn or cancelled, and the ICB
when an offer is rejected or asked for again: a message centre item and an email each, from
the offer's one take_step (offers._record), never the person who took the step."""

from __future__ import annotations

from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.schemes import services
from claims_portal.schemes.services import offers
from tests.factories.access import user_with_role
from tests.factories.schemes import ready_scheme


def _told(session) -> list[tuple[str, str]]:
    """(person, subject) of every notice so far, and check each has its email beside it."""
    notices = session.scalars(select(Notice).order_by(Notice.id)).all()
    emails = {(m.user_id, m.subject) for m in session.scalars(select(EmailMessage))}
    for notice in notices:
        assert (notice.user_id, notice.subject) in emails
    return [(n.user_id, n.subject) for n in notices]


def test_each_step_tells_the_other_side(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb, name="NHS health checks")
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    colleague = user_with_role(Role.PROVIDER_APPROVER, ours.practice)
    second_admin = user_with_role(Role.ADMINISTRATOR, ours.icb)
    practice = ours.practice.display_name

    offer = offers.offer_scheme(
        db_session, scheme, ours.practice, actor=ours.admin, base_url="https://portal.test"
    )
    subject = f"NHS health checks is offered to {practice}"
    assert _told(db_session) == [(ours.provider.id, subject), (colleague.id, subject)]
    email = db_session.scalars(
        select(EmailMessage).where(EmailMessage.user_id == ours.provider.id)
    ).one()
    assert email.kind == "offer_to_provider"
    assert f"https://portal.test/schemes/{scheme.id}" in email.body
    assert "Accept or reject the offer." in email.body

    offers.reject_offer(db_session, offer, actor=ours.provider, reason="No nurse hours")
    rejected = [t for t in _told(db_session) if t[1] == f"{practice} rejected NHS health checks"]
    # The ICB's administrators, not the practice (nor the person who rejected).
    assert sorted(user for user, _ in rejected) == sorted([ours.admin.id, second_admin.id])
    notice = db_session.scalars(select(Notice).where(Notice.user_id == ours.admin.id)).one()
    assert "Reason: “No nurse hours”" in notice.body
    assert notice.link == f"/admin/offers/details/?id={offer.id}"

    offers.request_offer_again(db_session, offer, actor=colleague)
    asked = [
        t for t in _told(db_session) if t[1] == f"{practice} asked for NHS health checks again"
    ]
    assert len(asked) == 2

    offers.reissue_offer(db_session, offer, actor=second_admin)
    again = f"NHS health checks is offered to {practice} again"
    assert sorted(u for u, s in _told(db_session) if s == again) == sorted(
        [ours.provider.id, colleague.id]
    )

    offers.withdraw_offer(db_session, offer, actor=ours.admin, reason="Sent in error")
    gone = f"The offer of NHS health checks to {practice} was withdrawn"
    assert len([s for _, s in _told(db_session) if s == gone]) == 2


def test_accepting_tells_nobody_and_a_pcn_offer_goes_to_the_pcns_lead(db_session, ours):
    scheme = ready_scheme(commissioner=ours.icb)
    services.publish_scheme(db_session, scheme, actor=ours.admin)
    offer = offers.offer_scheme(db_session, scheme, ours.pcn, actor=ours.admin)
    assert [user for user, _ in _told(db_session)] == [ours.pcn_lead.id]  # not the practice
    offers.accept_offer(db_session, offer, actor=ours.pcn_lead)
    assert len(_told(db_session)) == 1
