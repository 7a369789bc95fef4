"""An export of a long list runs as a job: the link shows a page that says so, its button
starts the job, whose page shows the rows written and then offers the file to its owner
only; the job reads the list as its owner may see it when it runs, a run again does no
harm, and files expire."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from sqlalchemy import func, select

from claims_portal.access.roles import Role
from claims_portal.claims.evidence import store_from_config
from claims_portal.claims.models import ClaimStatus
from claims_portal.claims.services import export_job, listing
from claims_portal.clock import today
from claims_portal.db import utcnow
from claims_portal.jobs import registry
from claims_portal.jobs import services as jobs
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.mail.models import Notice
from tests.claims.helpers import signed_in, stored_files
from tests.claims.test_lists import add_claims
from tests.factories.access import user_with_role
from tests.helpers import csrf_token

S = ClaimStatus


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def store_dir(app, tmp_path, monkeypatch):
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(folder))
    monkeypatch.setitem(app.config, "EXPORT_IN_REQUEST", 3)
    return folder


def _export_files(folder):
    return [p for p in stored_files(folder) if p.relative_to(folder).parts[0] == "exports"]


def _ask(browser, path):
    page = browser.get(path)
    assert page.status_code == 200
    assert "Make the file" in text(page)
    return browser.post(path, data={"csrf_token": csrf_token(page)})


def _job_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Job))


def test_a_long_csv_export_is_made_by_a_job_and_downloaded_from_its_page(
    app, db_session, one_step, store_dir
):
    add_claims(one_step, 5)
    add_claims(one_step, 2, status=S.PAID)  # not on the filter
    browser = signed_in(app, one_step.tier_1)
    path = "/claims/export-csv?status=AWAITING_COMMISSIONER_REVIEW"

    page = browser.get(path)  # following the link starts nothing
    assert "This list has more than 3 claims" in text(page)
    assert _job_count(db_session) == 0

    response = _ask(browser, path)
    assert response.status_code == 302
    job_path = response.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_path)
    # The suite runs jobs in the web process, right after the request (JOBS_RUN_IN_PROCESS).
    job_page = text(browser.get(job_path))
    assert "Claims list as CSV: filtered" in job_page
    assert "5 rows written." in job_page
    assert "Download the file" in job_page
    assert 'http-equiv="refresh"' not in job_page

    download = browser.get(f"{job_path}/file")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="claims-{today().isoformat()}.csv"' in disposition
    assert download.headers["Cache-Control"] == "private, no-store"
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    download.close()
    assert rows[0] == list(listing.EXPORT_HEADER)
    assert len(rows) == 1 + 5
    assert {row[7] for row in rows[1:]} == {"Awaiting commissioner review"}
    assert len(_export_files(store_dir)) == 1

    # Told in their messages, with a link back to the job's page.
    notice = db_session.scalars(select(Notice).where(Notice.user_id == one_step.tier_1.id)).one()
    assert notice.link == job_path
    assert notice.subject.endswith("ready to download")


def test_the_file_is_its_owners_only(app, db_session, one_step, store_dir):
    add_claims(one_step, 4)
    browser = signed_in(app, one_step.tier_1)
    job_path = _ask(browser, "/claims/export-xlsx").headers["Location"]
    assert browser.get(f"{job_path}/file").status_code == 200
    colleague = signed_in(app, user_with_role(Role.APPROVER_TIER_1, one_step.icb))
    assert colleague.get(job_path).status_code == 404
    assert colleague.get(f"{job_path}/file").status_code == 404


def test_an_xlsx_export_job_reads_back_in_a_spreadsheet(app, db_session, one_step, store_dir):
    from openpyxl import load_workbook

    claims = add_claims(one_step, 4)
    browser = signed_in(app, one_step.tier_1)
    job_path = _ask(browser, "/claims/export-xlsx?sort=reference&order=asc").headers["Location"]
    download = browser.get(f"{job_path}/file")
    assert download.mimetype.endswith("spreadsheetml.sheet")
    assert ".xlsx" in download.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(download.get_data()), read_only=True)["Claims"]
    download.close()
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [c.reference for c in claims]


def test_a_short_list_is_still_exported_while_the_page_waits(app, db_session, one_step, store_dir):
    add_claims(one_step, 3)
    response = signed_in(app, one_step.tier_1).get("/claims/export-csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    response.close()
    assert _job_count(db_session) == 0


def _queued_export(db_session, scene, file_format="csv"):
    job = export_job.start_export(
        db_session,
        scene.tier_1,
        scene.icb,
        listing.parse_filter({}),
        file_format,
        at_least=4,
    )
    db_session.info.pop(jobs.PENDING, None)  # not handed over: a worker has not taken it yet
    db_session.commit()
    return job


def test_no_file_before_the_job_has_finished(app, db_session, one_step, store_dir):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    browser = signed_in(app, one_step.tier_1)
    page = text(browser.get(f"/jobs/{job.id}"))
    assert "Waiting to start." in page
    assert "Download the file" not in page
    assert browser.get(f"/jobs/{job.id}/file").status_code == 404
    running = db_session.get(Job, job.id)
    running.status, running.total, running.done = JobStatus.RUNNING, 4000, 1000
    db_session.commit()
    assert "1000 of 4000 done so far." in text(browser.get(f"/jobs/{job.id}"))
    assert browser.get(f"/jobs/{job.id}/file").status_code == 404


def test_progress_is_committed_as_rows_are_written(
    app, db_session, one_step, store_dir, monkeypatch
):
    monkeypatch.setattr(export_job, "PROGRESS_EVERY", 2)
    add_claims(one_step, 5)
    job = _queued_export(db_session, one_step)
    seen = []
    real = export_job._progress

    def watched(job_id, done):
        real(job_id, done)
        seen.append(done)

    monkeypatch.setattr(export_job, "_progress", watched)
    with app.app_context():
        assert registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "t", app.config) == (
            "5 rows written"
        )
    assert seen == [2, 4]
    db_session.expire_all()
    finished = db_session.get(Job, job.id)
    assert (finished.done, finished.total) == (5, 5)


def test_a_job_run_again_does_no_harm(app, db_session, one_step, store_dir):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    with app.app_context():
        registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-1", app.config)
        # delivered again (a duplicate, or after a worker died): the file stands
        assert (
            registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-2", app.config)
            == "nothing left to do"
        )
    db_session.expire_all()
    finished = db_session.get(Job, job.id)
    assert finished.status is JobStatus.SUCCEEDED
    assert [p.relative_to(store_dir).as_posix() for p in _export_files(store_dir)] == [
        finished.result_key
    ]


def test_a_second_run_that_finishes_late_leaves_no_second_file(
    app, db_session, one_step, store_dir, monkeypatch
):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    real = export_job._write

    def another_run_finishes_meanwhile(job_row, scope):
        written = real(job_row, scope)
        if not getattr(another_run_finishes_meanwhile, "nested", False):
            another_run_finishes_meanwhile.nested = True
            registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-2", app.config)
        return written

    monkeypatch.setattr(export_job, "_write", another_run_finishes_meanwhile)
    with app.app_context():
        result = registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-1", app.config)
    assert result == "ended by another run"
    db_session.expire_all()
    finished = db_session.get(Job, job.id)
    assert [p.relative_to(store_dir).as_posix() for p in _export_files(store_dir)] == [
        finished.result_key
    ]


def test_the_job_reads_the_list_as_its_owner_may_see_it_when_it_runs(
    app, db_session, one_step, store_dir
):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    one_step.tier_1.is_disabled = True  # or their role ended: they see no list now
    db_session.commit()
    with app.app_context():
        registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-1", app.config)
    db_session.expire_all()
    refused = db_session.get(Job, job.id)
    assert refused.status is JobStatus.FAILED
    assert refused.summary == "You may no longer see these claims, so no file was made"
    assert refused.result_key is None
    assert _export_files(store_dir) == []


def test_export_files_expire(app, db_session, one_step, store_dir):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    with app.app_context():
        registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-1", app.config)
    store = store_from_config(app.config)
    keep = dt.timedelta(days=app.config["EXPORT_KEEP_DAYS"])
    kept = export_job.expire_exports(db_session, store, keep=keep, now=utcnow())
    assert (kept.deleted, kept.kept) == ([], 1)
    later = utcnow() + keep + dt.timedelta(minutes=1)
    expired = export_job.expire_exports(db_session, store, keep=keep, now=later)
    db_session.commit()
    assert len(expired.deleted) == 1
    assert _export_files(store_dir) == []
    db_session.expire_all()
    assert db_session.get(Job, job.id).result_key is None
    browser = signed_in(app, one_step.tier_1)
    assert "has expired" in text(browser.get(f"/jobs/{job.id}"))
    assert browser.get(f"/jobs/{job.id}/file").status_code == 404


def test_the_nightly_evidence_sweep_expires_export_files(app, db_session, one_step, store_dir):
    add_claims(one_step, 4)
    job = _queued_export(db_session, one_step)
    with app.app_context():
        registry.execute(export_job.EXPORT_JOB, {"job_id": job.id}, "task-1", app.config)
    result = app.test_cli_runner().invoke(args=["claims", "sweep-evidence"])
    assert result.exit_code == 0, result.output
    assert "Export files: 0 expired and deleted, 1 kept, 0 failed." in result.output
    assert len(_export_files(store_dir)) == 1  # younger than EXPORT_KEEP_DAYS


def test_export_files_go_to_s3_under_exports(
    app, db_session, one_step, store_dir, s3_client, s3_config, monkeypatch
):
    from tests.claims.evidence.helpers import BUCKET

    for key, value in s3_config.items():
        monkeypatch.setitem(app.config, key, value)
    add_claims(one_step, 4)
    browser = signed_in(app, one_step.tier_1)
    job_path = _ask(browser, "/claims/export-csv").headers["Location"]
    db_session.expire_all()
    job = db_session.get(Job, int(job_path.rsplit("/", 1)[1]))
    assert re.fullmatch(r"evidence/exports/\d{4}/\d{2}/[0-9a-f]{32}", job.result_key)
    stored = s3_client.get_object(Bucket=BUCKET, Key=job.result_key)
    assert stored["ServerSideEncryption"] == "aws:kms"
    body = stored["Body"].read()
    with browser.get(f"{job_path}/file") as download:
        assert download.get_data() == body
    assert len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) == 1 + 4
