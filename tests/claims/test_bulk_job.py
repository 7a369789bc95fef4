"""A big bulk approval runs as a job: the page answers at once and takes the person to the
job's page (progress, then outcome), they are told when it ends, and a job run again after
its worker died approves each claim once."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from claims_portal.access.roles import Role
from claims_portal.claims.models import Claim, ClaimAction, ClaimEvent, ClaimStatus
from claims_portal.claims.services import bulk_job
from claims_portal.jobs import registry
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobItem, JobStatus
from claims_portal.mail.models import EmailMessage, Notice
from tests.claims.helpers import act, signed_in
from tests.claims.test_bulk_approval import _confirm, waiting_claims
from tests.factories.access import user_with_role
from tests.helpers import csrf_token

A = ClaimAction
S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _ask(browser, claims):
    page = browser.get("/claims")
    return browser.post(
        "/claims/bulk-approval",
        data={
            "csrf_token": csrf_token(page),
            "claim": [f"{c.id}:{c.version}" for c in claims],
            "action": "TIER_1_APPROVE",
            "filter": "",
        },
    )


def test_a_big_bulk_approval_runs_as_a_job_with_a_page_of_its_own(
    app, db_session, one_step, monkeypatch
):
    monkeypatch.setitem(app.config, "BULK_APPROVAL_IN_REQUEST", 3)
    claims = waiting_claims(db_session, one_step.icb, 5)
    stale = claims[0]
    stale_version = stale.version
    act(db_session, stale, A.TIER_1_APPROVE, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    confirmation = _ask(browser, claims)
    assert "Are you sure you want to approve 5 claims?" in text(confirmation)
    body = confirmation.get_data(as_text=True).replace(
        f'value="{stale.id}:{stale.version}"', f'value="{stale.id}:{stale_version}"'
    )
    confirmation.set_data(body)

    response = _confirm(browser, confirmation)
    assert response.status_code == 302
    job_path = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_path)
    # The suite runs jobs in the web process, right after the request (JOBS_RUN_IN_PROCESS).
    page = text(browser.get(job_path))
    assert "Approve at tier 1: 5 claims" in page
    assert "4 approved, 1 not approved." in page
    done = page.split('data-testid="job-done"', 1)[1].split("</table>", 1)[0]
    not_done = page.split('data-testid="job-not-done"', 1)[1].split("</table>", 1)[0]
    assert all(c.reference in done for c in claims[1:])
    assert stale.reference in not_done
    assert "Changed by someone else" in not_done
    assert "job_progress.js" not in page  # ended: nothing more to follow
    db_session.expire_all()
    assert {db_session.get(Claim, c.id).status for c in claims[1:]} == {S.AWAITING_PAYMENT_APPROVAL}
    # Told in their messages and by email, with a link to the job's page.
    notice = db_session.scalars(select(Notice).where(Notice.user_id == one_step.tier_1.id)).one()
    assert notice.link == job_path
    assert "4 approved, 1 not approved" in notice.body
    email = db_session.scalars(
        select(EmailMessage).where(
            EmailMessage.user_id == one_step.tier_1.id, EmailMessage.kind == "job_finished"
        )
    ).one()
    assert job_path in email.body
    # Nobody else sees it.
    other = signed_in(app, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    assert other.get(job_path).status_code == 404


def test_a_small_bulk_approval_is_done_while_the_page_waits(app, db_session, one_step):
    assert app.config["BULK_APPROVAL_IN_REQUEST"] >= 2
    claims = waiting_claims(db_session, one_step.icb, 2)
    browser = signed_in(app, one_step.tier_1)
    response = _confirm(browser, _ask(browser, claims))
    assert response.status_code == 200
    assert "2 claims approved, 0 not approved." in text(response)
    assert db_session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_page_of_a_job_not_yet_done_shows_its_progress(app, db_session, one_step):
    claims = waiting_claims(db_session, one_step.icb, 3)
    job = _not_yet_run(db_session, one_step, claims)
    db_session.commit()
    browser = signed_in(app, one_step.tier_1)
    page = text(browser.get(f"/jobs/{job.id}"))
    assert "job_progress.js" in page
    assert f'data-progress-url="/jobs/{job.id}/progress"' in page
    assert "Waiting to start." in page
    assert "You can leave this page." in page
    running = db_session.get(Job, job.id)
    running.status, running.done = JobStatus.RUNNING, 2
    db_session.commit()
    assert "2 of 3 done so far." in text(browser.get(f"/jobs/{job.id}"))
    progress = browser.get(f"/jobs/{job.id}/progress").get_json()
    assert progress == {
        "status": "RUNNING", "outcome": "In progress", "done": 2, "total": 3,
        "ended": False, "summary": None,
    }  # fmt: skip
    other = signed_in(app, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    assert other.get(f"/jobs/{job.id}/progress").status_code == 404


def _not_yet_run(db_session, scene, claims) -> Job:
    """A job approving ``claims`` at tier 1, not handed over: a worker has not taken it."""
    job = bulk_job.start_bulk_approval(
        db_session, scene.tier_1, scene.icb, A.TIER_1_APPROVE, [(c.id, c.version) for c in claims]
    )
    db_session.info.pop(jobs.PENDING, None)
    return job


class WorkerDied(BaseException):
    """What a worker killed mid-step leaves: no handler runs, the transaction is lost."""


def test_a_job_run_again_after_its_worker_died_approves_each_claim_once(
    app, db_session, one_step, monkeypatch
):
    monkeypatch.setattr(bulk_job, "STEP", 2)
    claims = waiting_claims(db_session, one_step.icb, 5)
    job = _not_yet_run(db_session, one_step, claims)
    db_session.commit()
    real = bulk_job.bulk_approve
    steps = []

    def dies_in_the_second_step(*args, **kwargs):
        result = real(*args, **kwargs)  # the claims approved, not yet committed
        steps.append(len(result.outcomes))
        if len(steps) == 2:
            raise WorkerDied
        return result

    monkeypatch.setattr(bulk_job, "bulk_approve", dies_in_the_second_step)
    with app.app_context(), pytest.raises(WorkerDied):
        registry.execute(bulk_job.BULK_JOB, {"job_id": job.id}, "task-1", app.config)
    db_session.rollback()  # the connection's transaction is gone with the worker
    db_session.expire_all()
    assert db_session.get(Job, job.id).done == 2  # the first step stands
    assert db_session.get(Job, job.id).status is JobStatus.RUNNING

    with app.app_context():  # the message is delivered again (acks late): run again
        registry.execute(bulk_job.BULK_JOB, {"job_id": job.id}, "task-1", app.config)
        # and once more, as a duplicate would: nothing left to do
        assert (
            registry.execute(bulk_job.BULK_JOB, {"job_id": job.id}, "task-2", app.config)
            == "nothing left to do"
        )
    db_session.expire_all()
    finished = db_session.get(Job, job.id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.summary == "5 approved, 0 not approved"
    approvals = db_session.execute(
        select(ClaimEvent.claim_id, func.count())
        .where(ClaimEvent.action == A.TIER_1_APPROVE)
        .group_by(ClaimEvent.claim_id)
    ).all()
    assert dict(approvals) == {c.id: 1 for c in claims}
    items = db_session.scalar(
        select(func.count()).select_from(JobItem).where(JobItem.job_id == job.id)
    )
    assert items == 5


def test_an_error_stops_the_job_and_says_so(app, db_session, one_step, monkeypatch):
    monkeypatch.setattr(bulk_job, "STEP", 2)
    claims = waiting_claims(db_session, one_step.icb, 4)
    job = _not_yet_run(db_session, one_step, claims)
    db_session.commit()
    real = bulk_job.bulk_approve
    calls = []

    def fails_the_second_time(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk_job, "bulk_approve", fails_the_second_time)
    with app.app_context(), pytest.raises(RuntimeError):
        registry.execute(bulk_job.BULK_JOB, {"job_id": job.id}, "task-1", app.config)
    db_session.expire_all()
    stopped = db_session.get(Job, job.id)
    assert stopped.status is JobStatus.FAILED
    assert stopped.summary.startswith("Stopped by an error after 2 of 4 claims")
    page = text(signed_in(app, one_step.tier_1).get(f"/jobs/{job.id}"))
    assert "Stopped" in page
    assert "the rest were not approved" in page
    notice = db_session.scalars(select(Notice).where(Notice.user_id == one_step.tier_1.id)).one()
    assert notice.subject.endswith("stopped")


def test_a_job_whose_message_was_lost_is_done_after_the_sweep(
    app, db_session, one_step, monkeypatch
):
    from claims_portal.jobs import dispatch, tasks

    claims = waiting_claims(db_session, one_step.icb, 2)
    job = _not_yet_run(db_session, one_step, claims)  # its message never reached a worker
    db_session.commit()
    job_id = job.id
    asked = db_session.get(Job, job_id).created_at
    moment = [asked + dt.timedelta(minutes=2)]
    monkeypatch.setattr(tasks.clock, "now", lambda: moment[0])

    def sweep() -> str:
        with app.app_context():
            outcome = tasks.sweep_jobs(registry.JobContext("sweep", app.config))
            dispatch.run_committed(app)  # what the workers would do with what it handed over
        db_session.expire_all()
        return outcome

    assert sweep() == "0 job(s) handed to the workers again"  # not yet: it may be on its way
    assert db_session.get(Job, job_id).status is JobStatus.QUEUED
    moment[0] = asked + dt.timedelta(seconds=app.config["JOBS_RESEND_AFTER_SECONDS"] + 1)
    assert sweep() == "1 job(s) handed to the workers again"
    finished = db_session.get(Job, job_id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.summary == "2 approved, 0 not approved"
    assert sweep() == "0 job(s) handed to the workers again"  # ended: left alone
