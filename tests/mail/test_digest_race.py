"""Two runs of the daily email at once (a manual ``jobs run`` during the scheduled one), on
PostgreSQL with two real connections: each line is listed in one email only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from claims_portal.extensions import db
from claims_portal.mail import services as mail
from claims_portal.mail.kinds import EmailKind
from claims_portal.mail.models import EmailDigestItem, EmailMessage
from claims_portal.mail.services.digests import DigestEntry
from tests.factories.access import UserFactory
from tests.helpers import migrated_app
from tests.races import one_after_the_other, together

BASE = "https://claims.example.nhs.uk"


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_digest_race") as app:
        yield app


@pytest.fixture
def person(race_app) -> int:
    """Someone with three lines waiting (committed); their id."""
    with race_app.app_context():
        user = UserFactory()
        for number in range(3):
            mail.digests.gather(
                db.session,
                [user.id],
                EmailKind.CLAIM_TO_APPROVE,
                DigestEntry(f"Claim {number} is waiting", f"/claims/{number}"),
            )
        db.session.commit()
        user_id = user.id
        db.session.remove()
    return user_id


def _send(session) -> list[int]:
    return mail.send_daily_emails(session, base_url=BASE)


def _sent(app, user_id: int) -> tuple[list[EmailMessage], set[int | None]]:
    with app.app_context():
        emails = list(
            db.session.scalars(select(EmailMessage).where(EmailMessage.user_id == user_id))
        )
        marks = set(
            db.session.scalars(
                select(EmailDigestItem.sent_in).where(EmailDigestItem.user_id == user_id)
            )
        )
        db.session.remove()
    return emails, marks


def test_a_run_while_another_is_sending_waits_and_sends_nothing_twice(race_app, person):
    first, second, waited = one_after_the_other(race_app, _send, _send)
    assert len(first) == 1
    assert second == []  # it waited for the first run's commit, then found the lines marked
    assert waited >= 0.4
    emails, marks = _sent(race_app, person)
    assert [e.id for e in emails] == first
    assert marks == {first[0]}
    assert emails[0].body.count(f"{BASE}/claims/") == 3


def test_two_runs_at_once_send_one_email(race_app, person):
    results = together(race_app, _send, _send)
    assert sorted(len(r) for r in results) == [0, 1]
    emails, marks = _sent(race_app, person)
    assert len(emails) == 1
    assert marks == {emails[0].id}
