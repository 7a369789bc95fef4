"""A payment run killed part way (``kill -9`` of a real ``claims-portal payments run``
process, at random moments) leaves no claim in two files and no file half sent; run again,
the same day's run carries on and every claim is paid once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims_portal.extensions import db
from claims_portal.payments import files
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRun,
)
from claims_portal.payments.transport import DropFolder
from tests.helpers import migrated_app
from tests.jobs.helpers import process_env
from tests.payments.run_helpers import commit_approved_claims

ROOT = Path(__file__).resolve().parents[2]
RUN_DAY = "2026-12-01"  # a Tuesday, a working day
ICBS, CLAIMS_EACH = 3, 150


@pytest.fixture(scope="module")
def kill_app() -> Iterator[Any]:
    with migrated_app("_paykill") as app:
        with app.app_context():
            commit_approved_claims(ICBS, CLAIMS_EACH, "12.34")
        yield app


def _start(app: Any, folder: Path) -> subprocess.Popen[bytes]:
    env = process_env(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["MIGRATION_DATABASE_URL"],
        JOBS_RUN_IN_PROCESS="true",
        PAYMENTS_TRANSPORT="folder",
        PAYMENTS_FOLDER=str(folder),
    )
    command = "from claims_portal.cli import main; main()"
    return subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-c", command, "payments", "run", "--date", RUN_DAY],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _check_nothing_half_done(app: Any, folder: DropFolder) -> None:
    with app.app_context(), Session(db.engine) as session:
        twice = session.execute(
            select(Payment.claim_id).group_by(Payment.claim_id).having(func.count() > 1)
        ).all()
        assert twice == []
        for file in session.scalars(select(PaymentFile)):
            rows = session.scalar(select(func.count()).where(Payment.file_id == file.id))
            assert rows == file.row_count, file.name  # written whole or not at all
            if file.status is PaymentFileStatus.SENT:
                read = files.read_payment_file(folder.get("outgoing", file.name))
                assert read.trailer.sha256 == file.sha256
    for name in folder.sent():  # whatever is in outgoing reads back whole
        files.read_payment_file(folder.get("outgoing", name))


def _state(app: Any) -> dict[str, int]:
    with app.app_context(), Session(db.engine) as session:
        return {
            "payments": session.scalar(select(func.count()).select_from(Payment)) or 0,
            "files": session.scalar(select(func.count()).select_from(PaymentFile)) or 0,
            "sends": session.scalar(select(func.coalesce(func.sum(PaymentFile.sends), 0))) or 0,
            "runs": session.scalar(select(func.count()).select_from(PaymentRun)) or 0,
        }


def test_a_run_killed_at_random_moments_then_run_again_pays_each_claim_once(kill_app, tmp_path):
    folder = DropFolder(tmp_path / "drop")
    chance = random.Random(20261201)
    for _ in range(4):
        before = _state(kill_app)
        process = _start(kill_app, folder.root)
        # Kill it soon after it has started to work (a run opened, a file written or sent).
        deadline = time.monotonic() + 120
        while process.poll() is None and _state(kill_app) == before:
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        time.sleep(chance.uniform(0, 0.3))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
        _check_nothing_half_done(kill_app, folder)
        print("after a kill:", _state(kill_app), "files sent:", len(folder.sent()))
    process = _start(kill_app, folder.root)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output.decode(errors="replace")
    _check_nothing_half_done(kill_app, folder)
    with kill_app.app_context(), Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == ICBS * CLAIMS_EACH
        sent = session.scalars(select(PaymentFile)).all()
        assert len(sent) == ICBS
        assert {f.status for f in sent} == {PaymentFileStatus.SENT}
    assert len(folder.sent()) == ICBS
