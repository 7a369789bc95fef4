"""The runs of scheduled jobs in the admin: administrators read them, others do not."""

from __future__ import annotations

import datetime as dt

from claims_portal.jobs.models import JobOutcome, JobRun
from tests.helpers import sign_in


def test_administrators_read_the_job_runs_others_get_403(client, db_session, ours):
    moment = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    db_session.add(
        JobRun(
            kind="audit.verify",
            scheduled_for=moment,
            task_id="task-1",
            started_at=moment,
            finished_at=moment + dt.timedelta(seconds=4),
            outcome=JobOutcome.SUCCEEDED,
            detail="Audit trail intact: 12 events checked",
        )
    )
    db_session.commit()
    sign_in(client, ours.admin.email)
    page = client.get("/admin/job-runs/").get_data(as_text=True)
    assert "audit.verify" in page
    assert "Succeeded" in page


def test_tier_1_approvers_do_not_see_the_job_runs(client, ours):
    sign_in(client, ours.tier_1.email)
    assert client.get("/admin/job-runs/").status_code == 403
