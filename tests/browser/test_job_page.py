"""A job's page (a bulk approval run by a worker), while it runs and once it has ended:
what it says, and axe. The jobs are made here without running them, so the demo data other
tests rely on is not changed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from claims_portal.access.models import User
from claims_portal.clock import now
from claims_portal.demo import DEMO_PASSWORD
from claims_portal.extensions import db
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import JobStatus
from tests.browser.helpers import assert_accessible, sign_in_as

pytestmark = pytest.mark.browser

APPROVER = "sarah.bennett@example.nhs.net"
WAIT_MS = 20_000


def _job(live_app, *, ended: bool) -> int:
    with live_app.app_context():
        owner = db.session.scalars(select(User).where(User.email == APPROVER)).one()
        membership = owner.memberships[0]
        job = jobs.start_job(
            db.session,
            "claims.bulk-approve",
            owner_id=owner.id,
            organisation_id=membership.organisation_id,
            title="Approve for the practice: 3 claims",
            total=3,
            params={"item_heading": "Claim", "done_heading": "Approved"},
        )
        db.session.info.pop(jobs.PENDING, None)  # shown, never run
        if ended:
            job.status = JobStatus.RUNNING
            jobs.record_items(
                db.session,
                job,
                [
                    jobs.ItemOutcome(
                        900_001, True, "CLM-900001", None, "Awaiting commissioner review"
                    ),
                    jobs.ItemOutcome(
                        900_002, False, "CLM-900002", None, "Not at this step: it was withdrawn"
                    ),
                ],
            )
            jobs.end_job(
                db.session, job, succeeded=True, summary="1 approved, 1 not approved", now=now()
            )
        else:
            job.status, job.done = JobStatus.RUNNING, 1
        db.session.commit()
        job_id = job.id
        db.session.remove()
        return job_id


def test_a_jobs_page_while_it_runs_and_once_it_has_ended(page, live_app, tmp_path):
    running, ended = _job(live_app, ended=False), _job(live_app, ended=True)
    sign_in_as(page, APPROVER, DEMO_PASSWORD)
    page.goto(f"/jobs/{running}")
    expect(page.get_by_test_id("job-progress")).to_contain_text(
        "1 of 3 done so far", timeout=WAIT_MS
    )
    assert_accessible(page)
    # A worker moves it on: the page says so without being reloaded.
    with live_app.app_context():
        from claims_portal.jobs.models import Job

        job = db.session.get(Job, running)
        job.done = 2
        db.session.commit()
        db.session.remove()
    expect(page.get_by_test_id("job-progress")).to_contain_text(
        "2 of 3 done so far", timeout=WAIT_MS
    )
    page.goto(f"/jobs/{ended}")
    expect(page.get_by_test_id("job-summary")).to_contain_text("1 approved, 1 not approved")
    expect(page.get_by_test_id("job-not-done")).to_contain_text("withdrawn")
    assert_accessible(page)
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
