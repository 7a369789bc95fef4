"""The manual entry pages: a practice's journey from its services to the confirmation, each
problem on its figure, notes for the next submitter, the commissioner on the practice's
behalf (and not another ICB's), a save after someone else's, and a blocked achievement."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from claims_portal import clock
from claims_portal.access.models import User
from claims_portal.national.models import (
    AchievementValue,
    DataSubmission,
    Declaration,
    DeclarationStatus,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.national.services import manual_entry
from tests.factories.national import AchievementDateFactory
from tests.helpers import csrf_token, sign_in
from tests.national.manual_entry_helpers import FULL, extract_loaded, make_scene, month_end_before


@pytest.fixture
def scene(db_session):
    scene = make_scene(month_end_before(clock.today()))
    # The extract brought the list size two days ago: entry is open.
    extract_loaded(scene, clock.now() - dt.timedelta(days=2), {("LIST_SIZE", "LIST_SIZE"): 8000})
    return scene


def _manual_entries():
    return select(DataSubmission).where(DataSubmission.group_id.is_not(None))


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _urls(scene, provider=None):
    provider_id = (provider or scene.practice).id
    dates = f"/national/entry/providers/{provider_id}/services/{scene.service.id}"
    tasks = f"{dates}/dates/{scene.day.isoformat()}"
    return dates, tasks, f"{tasks}/groups/{scene.group.id}"


def _post(client, url, page, data):
    return client.post(url, data={"csrf_token": csrf_token(page), **data})


def _token(page):
    text = page.get_data(as_text=True)
    return text.split('name="token" value="')[1].split('"')[0]


def test_a_practice_saves_work_in_progress_then_submits(client, db_session, scene):
    sign_in(client, scene.provider.email)
    services = client.get("/national/entry", follow_redirects=True)
    assert "Quality and Outcomes Framework" in _text(services)
    dates_url, tasks_url, group_url = _urls(scene)
    earlier = month_end_before(scene.day)
    AchievementDateFactory(service=scene.service, date=earlier, is_payment_date=False)
    dates = _text(client.get(dates_url))
    recorded = dates.split('data-testid="recorded-dates"')[1].split("</ul>")[0]
    assert scene.day.strftime("%B %Y") in recorded  # the extract brought its list size
    assert "Add new achievement" in dates
    assert f'value="{earlier.isoformat()}"' in dates
    added = client.get(f"{dates_url}?date={earlier.isoformat()}")
    assert added.headers["Location"].endswith(f"/dates/{earlier.isoformat()}")
    # A date with data is opened from its link, not added again.
    assert client.get(f"{dates_url}?date={scene.day.isoformat()}").status_code == 400
    tasks = _text(client.get(tasks_url))
    assert "Atrial fibrillation (AF)" in tasks
    assert "Indicators submitted: 0 of 2" in tasks
    assert "Not started" in tasks

    page = client.get(group_url)
    assert page.status_code == 200
    assert "List size came from the extract" in _text(page)  # locked for the practice
    saved = _post(client, group_url, page, {**FULL, "token": _token(page), "action": "save",
                                            "notes": "The audit of 12 March"})  # fmt: skip
    assert saved.status_code == 302
    assert saved.headers["Location"] == tasks_url
    tasks = _text(client.get(tasks_url))
    assert "Atrial fibrillation was saved as work in progress" in tasks
    assert "Work in progress" in tasks

    page = client.get(group_url)
    assert 'value="40"' in page.get_data(as_text=True)  # the work in progress, to carry on
    check = _post(client, group_url, page, {**FULL, "token": _token(page), "action": "check",
                                            "notes": "The audit of 12 March"})  # fmt: skip
    assert check.status_code == 200
    assert "Check your answers before submitting" in _text(check)
    assert "AF006 numerator" in _text(check)
    done = client.post(
        f"{group_url}/submit",
        data=_hidden_fields(check),
    )
    assert done.status_code == 200, _text(done)
    assert "Achievement data submitted" in _text(done)
    assert "Indicators submitted: 2 of 2" in _text(done)
    db_session.expire_all()
    submission = db_session.scalar(
        select(DataSubmission).where(DataSubmission.group_id.is_not(None))
    )
    assert submission.status is SubmissionStatus.SUBMITTED
    assert submission.source is SubmissionSource.MANUAL
    assert submission.notes == "The audit of 12 March"
    tasks = _text(client.get(tasks_url))
    assert "Indicators submitted: 2 of 2" in tasks
    assert "The audit of 12 March" in tasks  # notes, for whoever comes next


def _hidden_fields(response):
    """The hidden fields of the check page's submit form (what "Submit" posts)."""
    text = response.get_data(as_text=True)
    form = text[text.index('/submit"') :].split("</form>")[0]
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    return {html.unescape(name): html.unescape(value) for name, value in found}


def test_each_problem_is_shown_on_its_figure(client, db_session, scene):
    sign_in(client, scene.provider.email)
    _, _, group_url = _urls(scene)
    page = client.get(group_url)
    response = _post(client, group_url, page, {
        **FULL, "AF006-numerator": "60", "AF006-exclusions": "lots", "token": _token(page),
        "action": "check",
    })  # fmt: skip
    assert response.status_code == 400
    text = _text(response)
    assert "There is a problem" in text
    assert 'href="#AF006-numerator"' in text
    assert "AF006 numerator (60) cannot be more than its denominator (50)" in text
    assert 'href="#AF006-exclusions"' in text
    assert "AF006 exclusions must be a whole number, like 25" in text
    assert 'value="lots"' in response.get_data(as_text=True)  # what was typed, kept
    assert (
        db_session.scalar(select(DataSubmission).where(DataSubmission.group_id.is_not(None)))
        is None
    )


def test_the_commissioner_enters_on_the_practice_s_behalf(client, db_session, scene):
    sign_in(client, scene.commissioner.email)
    start = client.get("/national/entry")
    assert "Enter achievement data on a practice's behalf" in _text(start)
    other = client.get(f"/national/entry?ods_code={scene.other_practice.ods_code}")
    assert other.status_code == 400
    assert f"commissions no practice with ODS code {scene.other_practice.ods_code}" in _text(other)
    chosen = client.get(f"/national/entry?ods_code={scene.practice.ods_code.lower()}")
    assert chosen.headers["Location"].endswith(f"/national/entry/providers/{scene.practice.id}")
    _, _, group_url = _urls(scene)
    page = client.get(group_url)
    assert "entered by" in _text(page)
    check = _post(client, group_url, page, {**FULL, "list-size": "8100", "token": _token(page),
                                            "action": "check"})  # fmt: skip
    done = client.post(f"{group_url}/submit", data=_hidden_fields(check))
    assert "marked as a commissioner entry" in _text(done)
    db_session.expire_all()
    values = db_session.scalars(
        select(AchievementValue).where(
            AchievementValue.code == "LIST_SIZE", AchievementValue.last_submission
        )
    ).all()
    assert [v.value for v in values] == [8100]  # the commissioner may correct the extract


def test_another_icb_s_practice_is_not_found(client, scene):
    sign_in(client, scene.commissioner.email)
    for url in _urls(scene, scene.other_practice):
        assert client.get(url).status_code == 404
    assert client.get(f"/national/entry/providers/{scene.other_practice.id}").status_code == 404


def test_a_practice_without_the_role_is_refused(client, scene):
    from claims_portal.access.roles import Role
    from tests.factories.access import user_with_role

    clerk = user_with_role(Role.PROVIDER_USER_SINGLE, scene.practice)
    sign_in(client, clerk.email)
    assert client.get("/national/entry").status_code == 403


def test_a_save_after_someone_else_s_says_whose(client, db_session, scene):
    sign_in(client, scene.provider.email)
    _, _, group_url = _urls(scene)
    page = client.get(group_url)
    # The ICB submits meanwhile.
    commissioner, icb = db_session.get(User, scene.commissioner.id), db_session.merge(scene.icb)
    service, group = db_session.merge(scene.service), db_session.merge(scene.group)
    who = manual_entry.entrant(commissioner, icb, db_session.merge(scene.practice))
    seen = manual_entry.open_group(db_session, who, service, scene.day, group)
    manual_entry.save_group(
        db_session, who, service, scene.day, group, FULL,
        token=seen.token, notes=None, submit=True,
    )  # fmt: skip
    db_session.commit()
    response = _post(client, group_url, page, {**FULL, "token": _token(page), "action": "save"})
    assert response.status_code == 409
    text = _text(response)
    assert "Atrial fibrillation was submitted by Priya Shah" in text
    assert "Nothing was changed." in text


def test_a_declared_achievement_cannot_be_amended_by_the_practice(client, db_session, scene):
    db_session.add(
        Declaration(
            service_id=scene.service.id, provider_id=scene.practice.id,
            achievement_date=scene.day, status=DeclarationStatus.AWAITING_FINANCE_APPROVAL,
        )
    )  # fmt: skip
    db_session.commit()
    sign_in(client, scene.provider.email)
    _, tasks_url, group_url = _urls(scene)
    assert "only the commissioner can amend it now" in _text(client.get(tasks_url))
    page = client.get(group_url)
    assert "Save work in progress" not in _text(page)
    response = _post(client, group_url, page, {**FULL, "token": _token(page), "action": "save"})
    assert response.status_code == 400
    assert "has been declared (awaiting finance approval)" in _text(response)
