"""Finance starts a payment run by hand (a confirmation page, then the job's page), and
withdraws a failed file so that its claims go in the next run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.claims.models import ClaimStatus
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.payments.models import (
    IcbPaymentSettings,
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRun,
    PaymentRunKind,
    PaymentStatus,
)
from claims_portal.payments.services import run
from claims_portal.payments.transport import DropFolder
from claims_portal.statemachine import set_status
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.claims import claim_scene
from tests.payments.finance_helpers import approved_claims


@pytest.fixture
def scene(db_session, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS_FOLDER", str(tmp_path / "drop"))
    monkeypatch.setitem(app.config, "PAYMENTS_TRANSPORT", "folder")
    scene = claim_scene(two_step=False)
    db_session.add(
        IcbPaymentSettings(
            icb_id=scene.icb.id,
            agency_account="PCSE-77",
            finance_contacts=[],
            cut_off_working_days=8,
            payment_day=20,
        )
    )
    db_session.commit()
    return scene


def test_finance_sees_what_the_run_would_send_then_starts_it(app, db_session, scene, tmp_path):
    claims = approved_claims(scene, 2, value=Decimal("250.00"))
    browser = signed_in(app, scene.finance)
    page = browser.get("/payments/run")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "2 (£500.00)" in text
    assert "PCSE-77" in text
    started = post(browser, "/payments/run")
    assert started.status_code == 303
    job = db_session.scalar(select(Job).order_by(Job.id.desc()))
    assert started.headers["Location"].endswith(f"/jobs/{job.id}")
    db_session.expire_all()
    assert job.status is JobStatus.SUCCEEDED
    assert "2 rows, £500.00" in job.summary
    paid_run = db_session.scalar(
        select(PaymentRun).where(PaymentRun.kind == PaymentRunKind.BY_HAND)
    )
    assert paid_run.started_by_id == scene.finance.id
    assert paid_run.finished_at is not None
    assert len(DropFolder(tmp_path / "drop").sent()) == 1
    payments = db_session.scalars(select(Payment)).all()
    assert {p.claim_id for p in payments} == {c.id for c in claims}
    # the day's scheduled run afterwards sends nothing twice
    outcome = run.run_payments(
        db_session, DropFolder(tmp_path / "drop"), run_date=paid_run.run_date,
        now=paid_run.started_at, kind=PaymentRunKind.SCHEDULED,
    )  # fmt: skip
    assert outcome.rows == 0
    job_page = browser.get(f"/jobs/{job.id}")
    assert job_page.status_code == 200
    sent = db_session.scalar(select(PaymentFile))
    assert f'href="/payments/files/{sent.id}"' in job_page.get_data(as_text=True)


def test_nothing_to_send_is_said_and_a_post_is_refused(app, db_session, scene):
    browser = signed_in(app, scene.finance)
    page = browser.get("/payments/run")
    assert "There is nothing to send now" in page.get_data(as_text=True)
    refused = post(browser, "/payments/run")
    assert refused.status_code == 400
    assert "There is a problem" in refused.get_data(as_text=True)
    assert db_session.scalar(select(PaymentRun)) is None


def test_only_finance_may_start_a_run(app, db_session, scene):
    approved_claims(scene)
    for person in (scene.tier_1, scene.tier_2, scene.user):
        assert signed_in(app, person).get("/payments/run").status_code == 403
        assert post(signed_in(app, person), "/payments/run").status_code == 403
    assert db_session.scalar(select(PaymentRun)) is None


def test_a_failed_file_withdrawn_frees_its_claims_for_the_next_run(
    app, db_session, scene, tmp_path
):
    claim = approved_claims(scene)[0]
    folder = DropFolder(tmp_path / "drop")
    run.run_payments(
        db_session,
        folder,
        run_date=scene.today,
        now=claim.approved_at,
        kind=PaymentRunKind.BY_HAND,
        icb=scene.icb,
        slot="t1",
    )
    file = db_session.scalar(select(PaymentFile))
    browser = signed_in(app, scene.finance)
    # a file still waiting for its answer cannot be withdrawn
    refused = post(browser, f"/payments/files/{file.id}/withdraw", {"reason": "agency says no"})
    assert refused.status_code == 409
    db_session.expire_all()
    file = db_session.get(PaymentFile, file.id)
    set_status(file, PaymentFileStatus.FAILED)
    db_session.commit()
    empty = post(browser, f"/payments/files/{file.id}/withdraw", {"reason": " "})
    assert empty.status_code == 400
    assert "Enter why the file is withdrawn" in empty.get_data(as_text=True)
    done = post(
        browser, f"/payments/files/{file.id}/withdraw", {"reason": "PCSE confirmed by phone"}
    )
    assert done.status_code == 303
    db_session.expire_all()
    assert db_session.get(PaymentFile, file.id).status is PaymentFileStatus.WITHDRAWN
    assert db_session.scalar(select(Payment.status)) is PaymentStatus.WITHDRAWN
    assert db_session.get(type(claim), claim.id).status is ClaimStatus.APPROVED_FOR_PAYMENT
    again = run.run_payments(
        db_session,
        folder,
        run_date=scene.today,
        now=claim.approved_at,
        kind=PaymentRunKind.BY_HAND,
        icb=scene.icb,
        slot="t2",
    )
    assert again.rows == 1
    # another ICB's finance cannot see it
    other = claim_scene(two_step=False)
    assert (
        post(
            signed_in(app, other.finance), f"/payments/files/{file.id}/withdraw", {"reason": "x"}
        ).status_code
        == 404
    )


def test_finance_has_a_task_for_a_failed_file_and_for_rejected_payments(
    app, db_session, scene, tmp_path
):
    claims = approved_claims(scene, 2)
    folder = DropFolder(tmp_path / "drop")
    run.run_payments(
        db_session, folder, run_date=scene.today, now=claims[0].approved_at,
        kind=PaymentRunKind.BY_HAND, icb=scene.icb, slot="t1",
    )  # fmt: skip
    file = db_session.scalar(select(PaymentFile))
    set_status(file, PaymentFileStatus.FAILED)
    payment = db_session.scalar(select(Payment).order_by(Payment.id))
    set_status(payment, PaymentStatus.REJECTED)
    db_session.commit()
    page = signed_in(app, scene.finance).get("/messages")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"{file.name}</a> (2 rows, £200.00) was sent 1 times" in text
    assert "1 payment to send again or hold" in text
    # tier 1 of the same ICB has no such task
    assert file.name not in signed_in(app, scene.tier_1).get("/messages").get_data(as_text=True)


def test_the_run_and_the_answers_by_command(app, db_session, scene, tmp_path):
    approved_claims(scene, 1)
    runner = app.test_cli_runner()
    ran = runner.invoke(args=["payments", "run"])
    assert ran.exit_code == 0, ran.output
    from claims_portal.clock import today
    from claims_portal.payments.services.run import is_working_day

    if is_working_day(today()):
        assert "1 file, 1 row, £100.00" in ran.output
        assert len(DropFolder(tmp_path / "drop").sent()) == 1
    else:
        assert "no run" in ran.output
    read = runner.invoke(args=["payments", "answers"])
    assert read.exit_code == 0, read.output
    assert "0 responses read" in read.output


def test_the_audit_trail_names_payment_objects(app, db_session, scene, tmp_path):
    from claims_portal.admin.audit_objects import object_name
    from claims_portal.audit.models import AuditEvent

    approved_claims(scene, 1)
    run.run_payments(
        db_session, DropFolder(tmp_path / "drop"), run_date=scene.today,
        now=scene.finance.created_at, kind=PaymentRunKind.BY_HAND, icb=scene.icb, slot="t9",
    )  # fmt: skip
    file = db_session.scalar(select(PaymentFile))
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "payment_file")
    ).all()
    with app.test_request_context():
        assert {object_name(e) for e in events} == {f"Payment file {file.name}"}


def test_moving_the_clock_shows_the_resends_and_their_limit(app, db_session, scene, tmp_path):
    """The scheduled jobs themselves, the clock moved as ``--today`` moves it: the 15:00 run,
    then the 16:00 answers job on the following days, the agency silent throughout."""
    import datetime as dt

    import time_machine

    from claims_portal.clock import ENGLAND
    from claims_portal.jobs.registry import JobContext
    from claims_portal.payments import jobs as payment_jobs

    approved_claims(scene, 1)
    context = JobContext("test", app.config)
    day = dt.date(2026, 12, 1)  # a Tuesday
    with time_machine.travel(dt.datetime.combine(day, dt.time(15), tzinfo=ENGLAND), tick=False):
        assert "1 file, 1 row" in payment_jobs.payment_run(context)
    resends = []
    # The 16:00 answers job runs every day; each of these is over 18 hours after the last send.
    for later in (1, 2, 3, 4, 5):
        moment = dt.datetime.combine(day + dt.timedelta(days=later), dt.time(16), tzinfo=ENGLAND)
        with time_machine.travel(moment, tick=False):
            resends.append(payment_jobs.payment_answers(context))
    assert resends == [
        "0 responses read, 1 file sent again, 0 failed",
        "0 responses read, 1 file sent again, 0 failed",
        "0 responses read, 1 file sent again, 0 failed",
        "0 responses read, 0 files sent again, 1 failed",
        "0 responses read, 0 files sent again, 0 failed",
    ]
    file = db_session.scalar(select(PaymentFile))
    assert file.sends == 4
    assert file.status is PaymentFileStatus.FAILED
