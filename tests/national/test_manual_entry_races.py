"""Two people saving the same group at once, on PostgreSQL with two real connections, from the
same page (the same version): exactly one save wins, the other waits for it and is told whose
it was, and only the winner's figures and audit event exist."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from claims_portal.access.models import User
from claims_portal.access.roles import Role
from claims_portal.clock import ENGLAND
from claims_portal.extensions import db
from claims_portal.national.models import (
    AchievementValue,
    DataSubmission,
    IndicatorGroup,
    QualityService,
)
from claims_portal.national.services import manual_entry
from claims_portal.national.services.manual_entry import EntryConflict
from claims_portal.organisations.models import Organisation
from tests.factories.access import user_with_role
from tests.helpers import migrated_app
from tests.national.manual_entry_helpers import FULL, extract_loaded, make_scene
from tests.races import count, one_after_the_other, together

DAY = dt.date(2026, 3, 31)
_CODES = itertools.count(1)
TODAY = dt.date(2026, 4, 10)


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_entry_race") as app:
        yield app


@pytest.fixture
def scene(race_app) -> dict[str, Any]:
    with race_app.app_context():
        scene = make_scene(DAY, code=f"QOF-{next(_CODES)}")
        extract_loaded(scene, dt.datetime(2026, 4, 3, 21, 0, tzinfo=ENGLAND))
        colleague = user_with_role(Role.ACHIEVEMENT_ENTRY, scene.practice, full_name="Tom Okafor")
        who = manual_entry.entrant(scene.provider, scene.practice, scene.practice)
        seen = manual_entry.open_group(
            db.session, who, scene.service, DAY, scene.group, today=TODAY
        )
        ids = {
            "practice": scene.practice.id,
            "service": scene.service.id,
            "group": scene.group.id,
            "aisha": scene.provider.id,
            "tom": colleague.id,
            "token": seen.token,
        }
        db.session.commit()
        db.session.remove()
    return ids


def _save(ids: dict[str, Any], person: str, list_size: str, *, submit: bool) -> Any:
    def work(session: Session) -> Any:
        practice = session.get(Organisation, ids["practice"])
        who = manual_entry.entrant(session.get(User, ids[person]), practice, practice)
        saved = manual_entry.save_group(
            session, who, session.get(QualityService, ids["service"]), DAY,
            session.get(IndicatorGroup, ids["group"]), {**FULL, "list-size": list_size},
            token=ids["token"], notes=None, submit=submit, today=TODAY,
        )  # fmt: skip
        return person if saved else None

    return work


def _list_sizes(app: Any, practice_id: int) -> list[int]:
    with app.app_context(), Session(db.engine) as session:
        return list(
            session.scalars(
                select(AchievementValue.value).where(
                    AchievementValue.provider_id == practice_id,
                    AchievementValue.code == "LIST_SIZE",
                )
            )
        )


def test_the_second_submission_waits_and_is_told_whose_won(race_app, scene):
    first, second, waited = one_after_the_other(
        race_app,
        _save(scene, "aisha", "8000", submit=True),
        _save(scene, "tom", "8100", submit=True),
    )
    assert first == "aisha"
    assert isinstance(second, EntryConflict), second
    assert waited >= 0.4  # it waited for the first one's lock
    (message,) = second.messages
    assert message.startswith("Atrial fibrillation was submitted by Aisha Rahman at ")
    assert "Nothing was changed." in message
    assert _list_sizes(race_app, scene["practice"]) == [8000]
    assert count(race_app, DataSubmission, DataSubmission.group_id == scene["group"]) == 1


@pytest.mark.parametrize("submit", [True, False])
def test_two_saves_at_once_exactly_one_wins(race_app, scene, submit):
    outcomes = together(
        race_app,
        _save(scene, "aisha", "8000", submit=submit),
        _save(scene, "tom", "8100", submit=submit),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["EntryConflict", "str"], outcomes
    winner = next(o for o in outcomes if isinstance(o, str))
    assert _list_sizes(race_app, scene["practice"]) == [8000 if winner == "aisha" else 8100]
    saved = count(race_app, DataSubmission, DataSubmission.group_id == scene["group"])
    assert saved == 1
