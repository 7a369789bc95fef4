"""Two payment runs at once (two schedulers, or a scheduled run and one by hand), each on its
own real connection to a database of this module's own: one run, one file per ICB, each claim
in exactly one payment, each file sent once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.extensions import db
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentRun,
    PaymentRunKind,
)
from claims_portal.payments.services import run
from claims_portal.payments.transport import DropFolder
from tests.helpers import migrated_app
from tests.payments.run_helpers import commit_approved_claims

RUN_DAY = dt.date(2026, 12, 1)
RUN_AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def race_app() -> Iterator[Any]:
    with migrated_app("_payrace") as app:
        yield app


@pytest.fixture
def claims(race_app) -> list[int]:
    with race_app.app_context():
        return commit_approved_claims(2, 20)


def _run(app, folder: DropFolder, kind: PaymentRunKind, start: threading.Barrier) -> Any:
    with app.app_context():
        session = Session(db.engine, expire_on_commit=False)
        try:
            start.wait(10)
            return run.run_payments(
                session, folder, run_date=RUN_DAY, now=RUN_AT, kind=kind,
                slot=None if kind is PaymentRunKind.SCHEDULED else f"hand-{threading.get_ident()}",
            )  # fmt: skip
        except Exception as error:
            session.rollback()
            return error
        finally:
            session.close()


@pytest.mark.parametrize(
    "kinds",
    [
        (PaymentRunKind.SCHEDULED, PaymentRunKind.SCHEDULED),  # two schedulers
        (PaymentRunKind.SCHEDULED, PaymentRunKind.BY_HAND),  # the day's run and finance's
    ],
)
def test_two_runs_at_once_pay_each_claim_once(race_app, claims, tmp_path, kinds):
    folder = DropFolder(tmp_path / "drop")
    start = threading.Barrier(2)
    results: list[Any] = [None, None]

    def go(index: int) -> None:
        results[index] = _run(race_app, folder, kinds[index], start)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(isinstance(r, Exception) for r in results), results
    with race_app.app_context(), Session(db.engine) as session:
        paid = session.execute(
            select(Payment.claim_id, func.count()).group_by(Payment.claim_id)
        ).all()
        assert sorted(claim_id for claim_id, _ in paid) == sorted(claims)
        assert {count for _, count in paid} == {1}
        files = session.scalars(select(PaymentFile)).all()
        assert len(files) == 2
        assert {f.sends for f in files} == {1}
        if kinds[1] is PaymentRunKind.SCHEDULED:
            assert session.scalar(select(func.count()).select_from(PaymentRun)) == 1
        # this test's claims out of the next one's way
        session.execute(
            Claim.__table__.update()
            .where(Claim.id.in_(claims))
            .values(status=ClaimStatus.WITHDRAWN.name)
        )
        session.execute(Payment.__table__.delete())
        session.execute(PaymentFile.__table__.delete())
        session.execute(PaymentRun.__table__.delete())
        session.commit()
    assert len(folder.sent()) == 2
