"""A big bulk claims spreadsheet is claimed by a job: checked whole in the request, then the
job's page shows the claims made and the rows that could not be; a job run again after its
worker died claims each row once."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from claims_portal.audit.models import AuditEvent
from claims_portal.claims.models import BulkUpload, BulkUploadClaim, Claim, ClaimStatus
from claims_portal.claims.services import bulk_claims_job, bulk_reading
from claims_portal.clock import today
from claims_portal.jobs import registry
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobItem, JobStatus
from claims_portal.mail.models import EmailMessage, Notice
from claims_portal.schemes.models import Offer, OfferStatus
from tests.claims import test_bulk_claims
from tests.claims.helpers import signed_in
from tests.claims.test_bulk_claims import (
    CLAIMS_SHEET,
    as_bytes,
    download_template,
    rows_by_code,
    upload,
)

#: The bulk claims tests' scene: three practices with an Active offer, two tier 1 approvers.
bulk_scene = test_bulk_claims.bulk_scene

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _filled(browser, scene) -> bytes:
    """The template with units for all three practices."""
    workbook = download_template(browser, scene)
    sheet = workbook[CLAIMS_SHEET]
    for number in rows_by_code(sheet).values():
        sheet.cell(row=number, column=3, value=2)
    return as_bytes(workbook)


def _claims(session, scene) -> list[Claim]:
    return list(
        session.scalars(
            select(Claim).where(Claim.scheme_id == scene.scheme.id).order_by(Claim.provider_id)
        )
    )


def test_a_big_upload_is_claimed_by_a_job_with_a_page_of_its_own(
    app, db_session, bulk_scene, monkeypatch
):
    monkeypatch.setitem(app.config, "BULK_CLAIMS_IN_REQUEST", 2)
    browser = signed_in(app, bulk_scene.tier_1)
    response = upload(browser, _filled(browser, bulk_scene))
    assert response.status_code == 302
    job_path = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_path)
    # The suite runs jobs in the web process, right after the request (JOBS_RUN_IN_PROCESS).
    page = text(browser.get(job_path))
    assert "3 rows" in page
    assert "3 claims made, 0 not claimed." in page
    claims = _claims(db_session, bulk_scene)
    assert len(claims) == 3
    assert {c.status for c in claims} == {S.AWAITING_COMMISSIONER_REVIEW}
    made = page.split('data-testid="job-done"', 1)[1].split("</table>", 1)[0]
    assert all(c.reference in made for c in claims)
    upload_row = db_session.scalars(select(BulkUpload)).one()
    assert upload_row.claim_count == 3
    assert db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "claim.bulk_uploaded")
    ).one().after["claims"] == sorted(c.id for c in claims)
    # The other tier 1 approver is told once; the owner is told the job has finished.
    emails = db_session.scalars(
        select(EmailMessage).where(
            EmailMessage.recipient == bulk_scene.extra["second_tier_1"].email
        )
    ).all()
    assert len(emails) == 1
    notice = db_session.scalars(select(Notice).where(Notice.user_id == bulk_scene.tier_1.id)).one()
    assert notice.link == job_path
    other = signed_in(app, bulk_scene.extra["second_tier_1"])
    assert other.get(job_path).status_code == 404


def test_a_small_upload_is_still_claimed_while_the_page_waits(app, db_session, bulk_scene):
    assert app.config["BULK_CLAIMS_IN_REQUEST"] >= 3
    browser = signed_in(app, bulk_scene.tier_1)
    response = upload(browser, _filled(browser, bulk_scene))
    assert response.status_code == 200
    assert "3 claims created" in text(response)
    assert db_session.scalar(select(func.count()).select_from(Job)) == 0


def _queued_job(db_session, app, scene):
    """The job for a checked upload of three rows, not yet taken by a worker."""
    browser = signed_in(app, scene.tier_1)
    data = _filled(browser, scene)
    parsed = bulk_reading.read_upload(
        db_session, scene.tier_1, scene.icb, io.BytesIO(data), "bulk.xlsx", today=today()
    )
    job = bulk_claims_job.start_bulk_claims(db_session, scene.tier_1, scene.icb, parsed)
    db_session.info.pop(jobs.PENDING, None)  # not handed over yet
    db_session.commit()
    return job


def test_a_row_that_can_no_longer_be_claimed_is_an_outcome_not_an_error(
    app, db_session, bulk_scene
):
    job = _queued_job(db_session, app, bulk_scene)
    birch = bulk_scene.extra["birch"]
    offer = db_session.scalars(
        select(Offer).where(Offer.provider_id == birch.id, Offer.scheme_id == bulk_scene.scheme.id)
    ).one()
    offer.status = OfferStatus.CANCELLED  # ended after the upload was checked
    db_session.commit()
    with app.app_context():
        summary = registry.execute(
            bulk_claims_job.BULK_CLAIMS_JOB, {"job_id": job.id}, "task-1", app.config
        )
    assert summary == "2 claims made, 1 not claimed"
    assert birch.id not in {c.provider_id for c in _claims(db_session, bulk_scene)}
    page = text(signed_in(app, bulk_scene.tier_1).get(f"/jobs/{job.id}"))
    not_made = page.split('data-testid="job-not-done"', 1)[1].split("</table>", 1)[0]
    assert "Birch Practice" in not_made
    assert "no longer has an active offer" in not_made
    assert db_session.scalars(select(BulkUpload)).one().claim_count == 2


class WorkerDied(BaseException):
    """What a worker killed mid-step leaves: no handler runs, the transaction is lost."""


def test_a_job_run_again_after_its_worker_died_claims_each_row_once(
    app, db_session, bulk_scene, monkeypatch
):
    monkeypatch.setattr(bulk_claims_job, "STEP", 1)
    job = _queued_job(db_session, app, bulk_scene)
    real = bulk_claims_job.create_row_claim
    calls = []

    def dies_in_the_second_step(*args, **kwargs):
        claim = real(*args, **kwargs)  # made, not yet committed
        calls.append(claim.id)
        if len(calls) == 2:
            raise WorkerDied
        return claim

    monkeypatch.setattr(bulk_claims_job, "create_row_claim", dies_in_the_second_step)
    with app.app_context(), pytest.raises(WorkerDied):
        registry.execute(bulk_claims_job.BULK_CLAIMS_JOB, {"job_id": job.id}, "t1", app.config)
    db_session.rollback()  # the connection's transaction is gone with the worker
    db_session.expire_all()
    assert db_session.get(Job, job.id).done == 1  # the first step stands
    assert len(_claims(db_session, bulk_scene)) == 1

    with app.app_context():  # delivered again: carries on; and once more: nothing to do
        registry.execute(bulk_claims_job.BULK_CLAIMS_JOB, {"job_id": job.id}, "t1", app.config)
        assert (
            registry.execute(bulk_claims_job.BULK_CLAIMS_JOB, {"job_id": job.id}, "t2", app.config)
            == "nothing left to do"
        )
    db_session.expire_all()
    finished = db_session.get(Job, job.id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.summary == "3 claims made, 0 not claimed"
    claims = _claims(db_session, bulk_scene)
    assert len({c.provider_id for c in claims}) == len(claims) == 3
    assert db_session.scalar(select(func.count()).select_from(BulkUploadClaim)) == 3
    items = db_session.scalar(
        select(func.count()).select_from(JobItem).where(JobItem.job_id == job.id)
    )
    assert items == 3
