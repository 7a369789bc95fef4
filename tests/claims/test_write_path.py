"""The write path's cost does not grow with the people told: who may act next, their email
preferences and the emails queued are looked up and written in a fixed number of statements
for one approval, and once for all the claims of a bulk approval (issue 13)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from claims_portal.access.roles import Capability, Role
from claims_portal.access.services.permissions import holders, holders_in
from claims_portal.claims.models import ClaimAction
from claims_portal.claims.services.bulk import bulk_approve
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.models import EmailMessage, NotificationPreference
from claims_portal.mail.services import Outgoing, enqueue_many
from tests.claims.helpers import act, at_tier_1
from tests.factories.access import MembershipFactory, user_with_role
from tests.factories.claims import claim_scene

A = ClaimAction


@contextmanager
def statements(session):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _mail(session, kind: str = "claim_to_approve") -> list[tuple[str, str]]:
    rows = session.execute(
        select(EmailMessage.recipient, EmailMessage.subject)
        .where(EmailMessage.kind == kind)
        .order_by(EmailMessage.id)
    ).all()
    return [(r, s) for r, s in rows]


def _tier_2_people(session, icb, count: int):
    people = [user_with_role(Role.APPROVER_TIER_2, icb) for _ in range(count)]
    session.flush()
    return people


def _approve_one(session, scene) -> int:
    claim = at_tier_1(session, scene)
    session.commit()
    with statements(session) as seen:
        act(session, claim, A.TIER_1_APPROVE, scene.tier_1)
    return len(seen)


def test_one_approval_costs_the_same_for_2_or_12_people_told(db_session):
    few = claim_scene(two_step=False)
    cost_few = _approve_one(db_session, few)
    many = claim_scene(two_step=False)
    _tier_2_people(db_session, many.icb, 10)
    cost_many = _approve_one(db_session, many)
    assert cost_many == cost_few
    assert len([m for m in _mail(db_session) if "payment approval" in m[1]]) == 1 + 11


def test_preferences_apply_to_each_person_told(db_session):
    scene = claim_scene(two_step=False)
    quiet, loud = _tier_2_people(db_session, scene.icb, 2)
    db_session.add(
        NotificationPreference(user_id=quiet.id, kind="claim_to_approve", email_enabled=False)
    )
    db_session.add(
        NotificationPreference(user_id=loud.id, kind="claim_to_approve", email_enabled=True)
    )
    claim = at_tier_1(db_session, scene)
    before = len(_mail(db_session))
    act(db_session, claim, A.TIER_1_APPROVE, scene.tier_1)
    told = {recipient for recipient, _ in _mail(db_session)[before:]}
    assert told == {scene.tier_2.email, loud.email}


def test_a_bulk_approval_looks_people_up_once_for_all_its_claims(db_session):
    first = claim_scene(two_step=False)
    icb = first.icb
    _tier_2_people(db_session, icb, 3)
    claims = [at_tier_1(db_session, first)]
    claims += [at_tier_1(db_session, claim_scene(two_step=False, icb=icb)) for _ in range(5)]
    db_session.commit()
    targets = [(c.id, c.version) for c in claims]

    with statements(db_session) as seen:
        result = bulk_approve(db_session, first.tier_1, A.TIER_1_APPROVE, targets)
    db_session.commit()

    assert len(result.approved) == 6
    assert len(holders(db_session, first.practice, Capability.APPROVE_CLAIM_TIER_2)) >= 4
    for claim in claims:
        people = {
            u.email for u in holders(db_session, claim.provider, Capability.APPROVE_CLAIM_TIER_2)
        }
        told = [r for r, s in _mail(db_session) if claim.reference in s and "payment" in s]
        assert sorted(told) == sorted(people)  # the same emails as single approvals
    per_claim = [s for s in seen if "notification_preference" in s or "FROM user_account" in s]
    assert len(per_claim) <= 2  # candidates and preferences once; not once a claim
    assert len(seen) <= 6 * 8 + 10  # about 7 a claim (lock, history, writes)


def test_holders_in_agrees_with_holders_for_each_organisation(db_session):
    one = claim_scene(two_step=False)
    other = claim_scene(two_step=False, icb=one.icb)
    elsewhere = claim_scene(two_step=False)
    MembershipFactory(
        user=one.tier_2, organisation=elsewhere.icb, role=Role.APPROVER_TIER_2, revoked_at=None
    )
    disabled = user_with_role(Role.APPROVER_TIER_2, one.icb, is_disabled=True)
    db_session.flush()
    practices = [one.practice, other.practice, elsewhere.practice]
    for capability in (Capability.APPROVE_CLAIM_TIER_2, Capability.VIEW_PROVIDER_CLAIMS):
        together = holders_in(db_session, practices, capability)
        for practice in practices:
            assert together[practice.id] == holders(db_session, practice, capability)
        assert disabled not in together[one.practice.id]
    assert holders_in(db_session, [], Capability.APPROVE_CLAIM_TIER_2) == {}


def test_enqueue_many_writes_one_email_a_person_who_wants_it(db_session):
    scene = claim_scene(two_step=False)
    quiet = scene.tier_2
    db_session.add(
        NotificationPreference(user_id=quiet.id, kind="claim_to_approve", email_enabled=False)
    )
    db_session.flush()
    people = [scene.tier_1, quiet, scene.finance]
    ids = enqueue_many(
        db_session,
        [Outgoing(p, f"Subject {p.id}", f"Body for {p.full_name}") for p in people],
        EmailKind.CLAIM_TO_APPROVE,
    )
    messages = db_session.scalars(
        select(EmailMessage).where(EmailMessage.id.in_(ids)).order_by(EmailMessage.id)
    ).all()
    assert [(m.recipient, m.user_id) for m in messages] == [
        (scene.tier_1.email, scene.tier_1.id),
        (scene.finance.email, scene.finance.id),
    ]
    assert all(m.status.name == "QUEUED" and m.attempts == 0 for m in messages)
    assert messages[0].subject == f"Subject {scene.tier_1.id}"
    assert enqueue_many(db_session, [], EmailKind.CLAIM_TO_APPROVE) == []


def test_the_seal_after_each_commit_reads_one_seal_not_all(db_session, one_step):
    from claims_portal.audit.services import recorded_event_ids, seal

    claim = at_tier_1(db_session, one_step)
    act(db_session, claim, A.TIER_1_APPROVE, one_step.tier_1)
    recorded = recorded_event_ids(db_session)
    db_session.commit()
    with statements(db_session) as seen:
        assert seal(db_session, recorded) >= 1
    db_session.commit()
    newest = [s for s in seen if "FROM audit_seal ORDER BY" in " ".join(s.split())]
    assert newest
    assert all("LIMIT" in s for s in newest)  # not every seal on each commit
