"""The payment run at England's scale (issue 15, "Tests and figures": the Bench point).

    .venv/bin/python bench/payments.py                     # everything (about an hour on 2 cores)
    .venv/bin/python bench/payments.py --claims 2000 --sizes 200,1000 --render-seconds 5

1. The database ``claims_portal_bench_payments`` (dropped, created, migrated with the app's
   migrations, and loaded in bulk by a child process, so its memory is not this process's):
   42 ICBs, each with three sub-locations, its ``icb_payment_settings`` row (an agency
   account) and four monthly schemes of this financial year paid through the agency
   (enrolled from 1 April, one paycode each); 6,500 practices spread unevenly across the
   ICBs (about 50 to 230 an ICB, as real ICBs differ), each offered its ICB's schemes, with one
   practice user (who is told of statements); an approver and a finance person per ICB.
   Claims approved for payment in November 2026, each with its line and its history
   (started, submitted, tier 1, tier 2): one set per measured size (``--sizes``, by default
   5,000 and 25,000, spread over the 42 ICBs) and the ``--claims`` set (50,000; every
   practice has at least one), each set held (Payment on hold) until its run.
2. In this one process, for each set in turn, smallest first (each run's own drop folder
   and slot): the set released (and ``claim`` and ``payment`` analysed), then
   ``run_payments`` under ``tracemalloc``: peak traced
   memory, peak resident memory (sampled every 20 ms from ``/proc/self/statm``) and
   ``ru_maxrss`` before and after, wall time (traced). Then the ``--claims`` set again
   untraced (``--claims`` more claims): the run's wall time, its files (count, total and
   largest size).
3. The stand-in agency (``agency_pass`` in process) accepts every file of that run with a
   remittance; ``read_answers`` applies the acknowledgements and remittances (every claim
   Sent for payment, then Paid): time and peak memory.
4. ``issue_statements`` for December 2026 (every practice paid something: 6,500 statements,
   each with its message centre item and email); then statements rendered as XLSX and PDF
   for as long as ``--render-seconds`` allows each: seconds per statement, and the time
   for all 6,500 extrapolated when not all were rendered (marked so).
5. Prints the figures and writes ``bench/results/payments-<time>.json``.

The machine's two cores are shared with PostgreSQL (and with other sessions' tests): read
the figures with the load average recorded beside them. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The database's name (``--database``; the smoke test uses its own).
SETTINGS = {"database": "claims_portal_bench_payments"}
ICBS = 42
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SUBS_PER_ICB = 3
SCHEMES_PER_ICB = 4
#: The run's day (a working Tuesday) and moments; the remittance pays in the same month.
RUN_DAY = dt.date(2026, 12, 1)
RUN_AT = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
ANSWERS_AT = RUN_AT + dt.timedelta(hours=1)
PAID_DATE = dt.date(2026, 12, 18)
STATEMENT_MONTH = dt.date(2026, 12, 1)
FY_START = dt.date(2026, 4, 1)
ENROLLED = dt.date(2026, 4, 1)
#: Claim periods (months of the financial year whose windows have closed).
PERIODS = 7
START = dt.date(2024, 4, 1)
BASE_URL = "http://127.0.0.1"
HELD = "PAYMENT_ON_HOLD"
APPROVED = "APPROVED_FOR_PAYMENT"
MIB = 2**20


def database_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{SETTINGS['database']}"


def app_env() -> dict[str, str]:
    """The production configuration bench/claims_http.py serves with, on this database."""
    from bench import claims_http

    evidence = tempfile.mkdtemp(prefix="claims-payments-evidence-")
    env = claims_http.server_env(evidence)
    env["DATABASE_URL"] = database_url()
    env.pop("PYTHONPATH", None)
    return env


def make_app() -> Any:
    os.environ.update(app_env())
    from claims_portal import create_app

    return create_app()


# --- 1. The database (a child process: ``--load``) ----------------------------------------


def create_database() -> None:
    name = SETTINGS["database"]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` split into ``parts`` uneven shares (each 60 to 300 before scaling)."""
    weights = [rng.randint(60, 300) for _ in range(parts)]
    shares = [max(1, total * w // sum(weights)) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


def load(practices: int, sets: list[int], seed: int, icbs: int = ICBS) -> dict[str, Any]:
    """Migrate and fill the fresh database; returns the claim id range of each set."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from bench.claims.large import _copy
    from claims_portal.access.models import Membership, User
    from claims_portal.access.roles import Role
    from claims_portal.claims.models import ClaimAction, ClaimStatus, component_scope
    from claims_portal.extensions import db
    from claims_portal.organisations.models import ApprovalMode, Organisation, OrganisationKind
    from claims_portal.payments.models import IcbPaymentSettings, Paycode
    from claims_portal.schemes.models import (
        ClaimFrequency,
        ClaimWindow,
        Component,
        Offer,
        OfferStatus,
        Scheme,
        SchemeStatus,
        Tariff,
    )

    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    rng = random.Random(seed)
    app = make_app()
    with app.app_context():
        upgrade()
        seconds["migrate"] = time.perf_counter() - clock
        session = db.session
        now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

        def ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
            return list(
                session.scalars(
                    insert(model).returning(model.id, sort_by_parameter_order=True), rows
                )
            )

        icb_ids = ids(
            Organisation,
            [
                {
                    "kind": OrganisationKind.ICB,
                    "ods_code": f"QB{n:02d}",
                    "name": f"Bench ICB {n:02d}",
                    "active_from": START,
                }
                for n in range(icbs)
            ],
        )
        sub_ids = ids(
            Organisation,
            [
                {
                    "kind": OrganisationKind.ICB_SUB_LOCATION,
                    "ods_code": f"QB{n:02d}S{k}",
                    "name": f"Bench ICB {n:02d} - Place {k}",
                    "parent_id": icb_id,
                    "active_from": START,
                }
                for n, icb_id in enumerate(icb_ids)
                for k in range(SUBS_PER_ICB)
            ],
        )
        per_icb = _spread(practices, icbs, rng)
        practice_rows: list[dict[str, Any]] = []
        practice_icb: list[int] = []
        practice_sub: list[int] = []
        for n, (icb_id, count) in enumerate(zip(icb_ids, per_icb, strict=True)):
            for k in range(count):
                number = len(practice_rows)
                sub_id = sub_ids[n * SUBS_PER_ICB + k % SUBS_PER_ICB]
                practice_rows.append(
                    {
                        "kind": OrganisationKind.GP_PRACTICE,
                        "ods_code": f"B{number:05d}",
                        "name": f"Bench Surgery {number:05d}",
                        "parent_id": sub_id,
                        "active_from": START,
                        "approval_mode": ApprovalMode.ONE_STEP,
                    }
                )
                practice_icb.append(icb_id)
                practice_sub.append(sub_id)
        practice_ids = ids(Organisation, practice_rows)
        session.execute(
            insert(IcbPaymentSettings),
            [
                {
                    "icb_id": icb_id,
                    "agency_account": f"PCSE-ACC-{n:04d}",
                    "finance_contacts": [f"finance.qb{n:02d}@example.nhs.net"],
                    "cut_off_working_days": 8,
                    "payment_day": 20,
                    "updated_at": now,
                }
                for n, icb_id in enumerate(icb_ids)
            ],
        )
        seconds["organisations"] = time.perf_counter() - clock

        # People: one practice user each (told of statements), an approver and a finance
        # person per ICB. No passwords: nobody signs in here.
        people = [
            (f"pat.lee{n:05d}@example.nhs.net", f"Pat Lee {n:05d}", pid, Role.PROVIDER_USER_SINGLE)
            for n, pid in enumerate(practice_ids)
        ]
        for n, icb_id in enumerate(icb_ids):
            people.append(
                (
                    f"tom.ross{n:02d}@example.nhs.net",
                    f"Tom Ross {n:02d}",
                    icb_id,
                    Role.APPROVER_TIER_1,
                )
            )
            people.append(
                (f"fay.ross{n:02d}@example.nhs.net", f"Fay Ross {n:02d}", icb_id, Role.FINANCE)
            )
        user_ids = ids(User, [{"email": e, "full_name": name} for e, name, _, _ in people])
        session.execute(
            insert(Membership),
            [
                {"user_id": uid, "organisation_id": org, "role": role, "start_date": START}
                for uid, (_, _, org, role) in zip(user_ids, people, strict=True)
            ],
        )
        staff = dict(zip(practice_ids, user_ids, strict=False))
        approver = {icb_id: user_ids[len(practice_ids) + 2 * n] for n, icb_id in enumerate(icb_ids)}
        seconds["people"] = time.perf_counter() - clock

        # Schemes: four monthly schemes of 2026/27 per ICB, paid through the agency.
        session.execute(
            insert(Paycode),
            [
                {
                    "code": f"LCS-{k:02d}",
                    "description": f"Local enhanced service {k:02d}",
                    "subjective_code": f"5210{k:02d}",
                    "applies_to_gms": True,
                    "applies_to_pms": True,
                    "applies_to_apms": True,
                }
                for k in range(SCHEMES_PER_ICB)
            ],
        )
        scheme_ids = ids(
            Scheme,
            [
                {
                    "code": f"QB{n:02d}-LCS{k}",
                    "name": f"Local scheme {k} of ICB {n:02d} (2026/27)",
                    "description": "",
                    "commissioner_id": icb_id,
                    "financial_year": "2026/27",
                    "start_date": FY_START,
                    "end_date": dt.date(2027, 3, 31),
                    "status": SchemeStatus.PUBLISHED,
                    "claim_frequency": ClaimFrequency.MONTHLY,
                    "published_at": now,
                    "pay_through_agency": True,
                    "agency_enrolment_date": ENROLLED,
                    "paycode": f"LCS-{k:02d}",
                }
                for n, icb_id in enumerate(icb_ids)
                for k in range(SCHEMES_PER_ICB)
            ],
        )
        component_ids = ids(
            Component,
            [
                {
                    "scheme_id": sid,
                    "code": "C1",
                    "name": "Service",
                    "unit_label": "service delivered",
                }
                for sid in scheme_ids
            ],
        )
        session.execute(
            insert(Tariff),
            [
                {"component_id": cid, "unit_value": Decimal("25.00"), "effective_from": FY_START}
                for cid in component_ids
            ],
        )
        months = []
        for m in range(PERIODS):
            first = dt.date(2026 + (3 + m) // 12, (3 + m) % 12 + 1, 1)
            nxt = dt.date(2026 + (4 + m) // 12, (4 + m) % 12 + 1, 1)
            months.append((first, nxt - dt.timedelta(days=1)))
        window_rows = [
            {
                "scheme_id": sid,
                "period_start": s,
                "period_end": e,
                "opens_on": e + dt.timedelta(days=1),
                "closes_on": e + dt.timedelta(days=30),
            }
            for sid in scheme_ids
            for s, e in months
        ]
        window_ids = ids(ClaimWindow, window_rows)
        windows = {
            (row["scheme_id"], row["period_start"]): wid
            for wid, row in zip(window_ids, window_rows, strict=True)
        }
        pairs = list(zip(scheme_ids, component_ids, strict=True))
        schemes_of = {
            icb_id: pairs[n * SCHEMES_PER_ICB : (n + 1) * SCHEMES_PER_ICB]
            for n, icb_id in enumerate(icb_ids)
        }
        session.execute(
            insert(Offer),
            [
                {
                    "scheme_id": sid,
                    "provider_id": pid,
                    "status": OfferStatus.ACTIVE,
                    "offered_at": now,
                    "status_changed_at": now,
                    "responded_at": now,
                }
                for pid, icb_id in zip(practice_ids, practice_icb, strict=True)
                for sid, _ in schemes_of[icb_id]
            ],
        )
        session.commit()
        seconds["schemes"] = time.perf_counter() - clock

        # Claims: each set spread over every practice in turn (so over the 42 ICBs); each
        # practice's claims take its slots (scheme, period) one after another.
        slots_per_practice = SCHEMES_PER_ICB * PERIODS
        if sum(-(-size // len(practice_ids)) for size in sets) > slots_per_practice:
            raise SystemExit("too many claims for the practices' scheme periods")
        used = [0] * len(practice_ids)
        ranges = []
        # Practices in a shuffled order, so a set smaller than the practices is spread over
        # every ICB too.
        order = list(range(len(practice_ids)))
        rng.shuffle(order)
        for number, size in enumerate(sets):
            status = APPROVED if number == 0 else HELD
            first_id = None
            batch: list[dict[str, Any]] = []
            for index in range(size):
                p = order[index % len(practice_ids)]
                slot = used[p]
                used[p] += 1
                icb_id = practice_icb[p]
                scheme_id, component_id = schemes_of[icb_id][slot % SCHEMES_PER_ICB]
                period_start, period_end = months[slot // SCHEMES_PER_ICB]
                units = rng.randint(5, 120)
                approved_at = now - dt.timedelta(minutes=rng.randint(60, 40_000))
                submitted_at = approved_at - dt.timedelta(days=3)
                batch.append(
                    {
                        "provider_id": practice_ids[p],
                        "icb_id": icb_id,
                        "sub_location_id": practice_sub[p],
                        "scheme_id": scheme_id,
                        "window_id": windows[(scheme_id, period_start)],
                        "period_start": period_start,
                        "period_end": period_end,
                        "scope": component_scope(component_id),
                        "status": status,
                        "version": 4,
                        "round": 1,
                        "created_by_id": staff[practice_ids[p]],
                        "submitted_at": submitted_at,
                        "submitted_by_id": staff[practice_ids[p]],
                        "value": Decimal(units) * Decimal("25.00"),
                        "reached_commissioner_at": submitted_at,
                        "status_changed_at": approved_at,
                        "approved_at": approved_at,
                        "paid_at": None,
                        "updated_at": approved_at,
                        "updated_by_id": approver[icb_id],
                        "_units": units,
                        "_component": component_id,
                    }
                )
                if len(batch) == 5000 or index == size - 1:
                    made = _insert_claims(session, _copy, batch, approver, ClaimAction, ClaimStatus)
                    first_id = made[0] if first_id is None else first_id
                    last_id = made[-1]
                    batch = []
            session.commit()
            ranges.append((first_id, last_id))
        seconds["claims"] = time.perf_counter() - clock
        session.execute(text("ANALYZE"))
        session.commit()
        counts = session.execute(
            select(
                select(text("count(*)")).select_from(text("claim")).scalar_subquery(),
                select(text("count(*)")).select_from(text("claim_event")).scalar_subquery(),
            )
        ).one()
        db.engine.dispose()
    seconds["total"] = time.perf_counter() - clock
    return {
        "sets": [
            {"claims": size, "first_id": a, "last_id": b}
            for size, (a, b) in zip(sets, ranges, strict=True)
        ],
        "icbs": icbs,
        "practices": len(practice_ids),
        "practices_per_icb": {"min": min(per_icb), "max": max(per_icb)},
        "people": len(user_ids),
        "schemes": len(scheme_ids),
        "claims": counts[0],
        "claim_events": counts[1],
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }


def _insert_claims(
    session: Any,
    copy: Callable[[Any, str, list[dict[str, Any]]], None],
    batch: list[dict[str, Any]],
    approver: dict[int, int],
    action: Any,
    status: Any,
) -> list[int]:
    from sqlalchemy import text

    units = [row.pop("_units") for row in batch]
    components = [row.pop("_component") for row in batch]
    claim_ids = list(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence('claim', 'id')) FROM generate_series(1, :n)"
            ),
            {"n": len(batch)},
        )
    )
    created = batch[0]["submitted_at"]
    copy(
        session,
        "claim",
        [{"id": i, **row, "created_at": created} for i, row in zip(claim_ids, batch, strict=True)],
    )
    copy(
        session,
        "claim_line",
        [
            {"claim_id": i, "component_id": c, "units": n, "unit_value": Decimal("25.00"),
             "gross_value": row["value"], "payable_units": n, "value": row["value"]}
            for i, row, n, c in zip(claim_ids, batch, units, components, strict=True)
        ],
    )  # fmt: skip
    S, A = status, action  # noqa: N806 - short names for the steps below
    events = []
    for claim_id, row in zip(claim_ids, batch, strict=True):
        staff, tier = row["created_by_id"], approver[row["icb_id"]]
        steps = [
            (A.START, None, S.DRAFT, staff, row["submitted_at"] - dt.timedelta(days=1)),
            (A.SUBMIT, S.DRAFT, S.AWAITING_COMMISSIONER_REVIEW, staff, row["submitted_at"]),
            (A.TIER_1_APPROVE, S.AWAITING_COMMISSIONER_REVIEW, S.AWAITING_PAYMENT_APPROVAL, tier,
             row["approved_at"] - dt.timedelta(hours=5)),
            (A.TIER_2_APPROVE, S.AWAITING_PAYMENT_APPROVAL, S.APPROVED_FOR_PAYMENT, tier,
             row["approved_at"]),
        ]  # fmt: skip
        for n, (act, before, after, actor, moment) in enumerate(steps):
            events.append(
                {
                    "claim_id": claim_id,
                    "round": 1,
                    "action": act,
                    "from_status": before,
                    "to_status": after,
                    "actor_id": actor,
                    "reason": None,
                    "value": row["value"] if n else None,
                    "version": n + 1,
                    "occurred_at": moment,
                }
            )
    copy(session, "claim_event", events)
    return claim_ids


# --- Memory ------------------------------------------------------------------------------


class RssSampler:
    """The process's resident memory, sampled every 20 ms in a thread (``ru_maxrss`` only
    ever rises, so it cannot show a later, smaller step's peak)."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def measured(figures: dict[str, Any], *, trace: bool) -> Iterator[None]:
    """Wall time, peak resident memory and ``ru_maxrss`` before and after (and the
    ``tracemalloc`` peak when ``trace``) of the block, into ``figures``."""
    gc.collect()
    figures["maxrss_before_mib"] = round(maxrss_mib(), 1)
    if trace:
        tracemalloc.start()
    with RssSampler() as sampler:
        figures["rss_before_mib"] = round(sampler.peak / MIB, 1)
        started = time.perf_counter()
        yield
        figures["seconds"] = round(time.perf_counter() - started, 2)
    if trace:
        figures["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / MIB, 1)
        tracemalloc.stop()
        figures["traced"] = True
    figures["rss_peak_mib"] = round(sampler.peak / MIB, 1)
    figures["maxrss_after_mib"] = round(maxrss_mib(), 1)


# --- 2. to 4. The measurements -----------------------------------------------------------


def release(set_: dict[str, Any]) -> None:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute(
            "UPDATE claim SET status = %s WHERE id BETWEEN %s AND %s AND status = %s",
            (APPROVED, set_["first_id"], set_["last_id"], HELD),
        )
        # Autovacuum may be off (it is on the project's machine) or not yet round: without
        # fresh figures for payment PostgreSQL takes it for empty and runs the collection's
        # NOT EXISTS as a nested loop over every payment (docs/benchmarks.md, "Payments").
        conn.execute("ANALYZE claim")
        conn.execute("ANALYZE payment")


def files_figures(folder: Path) -> dict[str, Any]:
    sizes = sorted((p.stat().st_size, p.name) for p in (folder / "archive").iterdir())
    return {
        "files": len(sizes),
        "total_bytes": sum(s for s, _ in sizes),
        "largest_bytes": sizes[-1][0] if sizes else 0,
        "largest_file": sizes[-1][1] if sizes else None,
        "smallest_bytes": sizes[0][0] if sizes else 0,
    }


def one_run(session: Any, root: Path, label: str, *, trace: bool) -> dict[str, Any]:
    from claims_portal.payments.services.run import run_payments
    from claims_portal.payments.transport import DropFolder

    folder = DropFolder(root / label)
    figures: dict[str, Any] = {}
    with measured(figures, trace=trace):
        outcome = run_payments(session, folder, run_date=RUN_DAY, now=RUN_AT, slot=f"bench-{label}")
    session.close()
    figures.update(rows=outcome.rows, total=str(outcome.total), **files_figures(root / label))
    figures["rows_per_second"] = round(outcome.rows / figures["seconds"])
    return figures


def render(session: Any, providers: list[Any], kind: str, budget: float) -> dict[str, Any]:
    from claims_portal.payments.services.statements import statement_for
    from claims_portal.payments.statements import statement_pdf, statement_xlsx

    draw = statement_pdf if kind == "pdf" else statement_xlsx
    done, size, lines = 0, 0, 0
    started = time.perf_counter()
    for provider in providers:
        statement = statement_for(session, provider, STATEMENT_MONTH, generated=RUN_DAY)
        size += len(draw(statement))
        lines += len(statement.lines)
        done += 1
        if time.perf_counter() - started > budget:
            break
    session.rollback()
    seconds = time.perf_counter() - started
    each = seconds / done
    return {
        "rendered": done,
        "seconds": round(seconds, 1),
        "seconds_each": round(each, 4),
        "mean_lines": round(lines / done, 1),
        "mean_bytes": round(size / done),
        "all_practices": len(providers),
        "all_seconds": round(each * len(providers), 1),
        "all_seconds_extrapolated": done < len(providers),
    }


def runs_and_answers(
    args: argparse.Namespace,
    loaded: dict[str, Any],
    session: Any,
    root: Path,
    out: dict[str, Any],
    save: Callable[[dict[str, Any]], None],
) -> None:
    """The runs (traced, then timed), the agency's pass and ``read_answers``."""
    from sqlalchemy import func, select

    from claims_portal.claims.models import Claim, ClaimStatus
    from claims_portal.payments.services.answers import read_answers
    from claims_portal.payments.stand_in_agency import AgencyRules, agency_pass
    from claims_portal.payments.transport import DropFolder

    out["runs"] = {}
    sets = loaded["sets"]
    # Memory as the run grows: each size traced, smallest first.
    for set_ in sets:
        release(set_)
        label = f"traced-{set_['claims']}"
        out["runs"][label] = one_run(session, root, label, trace=True)
        print(f"run {label}: {out['runs'][label]}", flush=True)
        save(out)
    # The timed run (untraced; with --quick the largest traced one), answered, paid
    # and stated.
    last = sets[-1]
    if not args.quick:
        last = loaded["timed"]
        release(last)
        label = f"timed-{last['claims']}"
        out["runs"][label] = one_run(session, root, label, trace=False)
        print(f"run {label}: {out['runs'][label]}", flush=True)
        save(out)
    folder = DropFolder(root / label)

    agency: dict[str, Any] = {}
    with measured(agency, trace=False):
        answered = agency_pass(folder, AgencyRules(remit=True, paid_date=PAID_DATE), ANSWERS_AT)
    agency["files_answered"] = sum(1 for a in answered if a.get("remittance"))
    agency["rows_accepted"] = sum(a.get("accepted", 0) for a in answered)
    out["agency"] = agency
    print(f"agency: {agency}", flush=True)
    save(out)

    answers: dict[str, Any] = {}
    with measured(answers, trace=args.trace_answers):
        outcome = read_answers(session, folder, ANSWERS_AT, base_url=BASE_URL)
    session.close()
    paid = session.scalar(
        select(func.count(Claim.id)).where(
            Claim.id.between(last["first_id"], last["last_id"]),
            Claim.status == ClaimStatus.PAID,
        )
    )
    answers.update(responses=len(outcome.read), claims_paid=paid)
    answers["claims_per_second"] = round((paid or 0) / answers["seconds"])
    session.rollback()
    out["answers"] = answers
    print(f"answers: {answers}", flush=True)
    save(out)


def measure(
    args: argparse.Namespace, loaded: dict[str, Any], save: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Every measurement; ``save`` is given the figures so far after each step (a run
    stopped midway keeps them)."""
    from sqlalchemy import select

    from claims_portal.extensions import db
    from claims_portal.organisations.models import Organisation, OrganisationKind
    from claims_portal.payments.models import PaymentStatement
    from claims_portal.payments.services.statements import issue_statements

    app = make_app()
    # WeasyPrint logs every layout step at INFO.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="claims-payments-bench-"))
    out: dict[str, Any] = {}
    with app.app_context():
        session = db.session
        session.execute(select(1))  # connect and warm up before measuring
        session.rollback()
        out[
            "maxrss_at_start_mib" if not args.statements_only else "statements_maxrss_at_start_mib"
        ] = round(maxrss_mib(), 1)
        if not args.statements_only:
            runs_and_answers(args, loaded, session, root, out, save)

        statements: dict[str, Any] = {}
        with measured(statements, trace=False):
            issued = issue_statements(session, STATEMENT_MONTH, BASE_URL)
            session.commit()
        session.close()
        statements["issued"] = issued
        out["statements"] = statements
        print(f"statements: {statements}", flush=True)
        save(out)

        provider_ids = list(
            session.scalars(
                select(PaymentStatement.provider_id)
                .where(PaymentStatement.month == STATEMENT_MONTH)
                .order_by(PaymentStatement.provider_id)
            )
        )
        random.Random(args.seed).shuffle(provider_ids)
        providers = list(
            session.scalars(
                select(Organisation).where(
                    Organisation.id.in_(provider_ids),
                    Organisation.kind == OrganisationKind.GP_PRACTICE,
                )
            )
        )
        order = {pid: n for n, pid in enumerate(provider_ids)}
        providers.sort(key=lambda o: order[o.id])
        # The part of issue_statements that finds who to tell (holders_in over every
        # practice paid), timed alone.
        from claims_portal.access.roles import Capability
        from claims_portal.access.services.permissions import holders_in

        started = time.perf_counter()
        told = holders_in(session, providers, Capability.VIEW_PRACTICE_PAYMENTS)
        statements["holders_in_seconds"] = round(time.perf_counter() - started, 1)
        statements["people_told"] = sum(len(v) for v in told.values())
        session.rollback()
        print(f"holders_in alone: {statements['holders_in_seconds']} s", flush=True)
        for kind in ("xlsx", "pdf"):
            rendering: dict[str, Any] = {}
            with measured(rendering, trace=False):
                rendering.update(render(session, providers, kind, args.render_seconds))
            out[f"render_{kind}"] = rendering
            print(f"render {kind}: {rendering}", flush=True)
            save(out)
        db.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)
    return out


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--icbs", type=int, default=ICBS)
    parser.add_argument("--practices", type=int, default=6_500)
    parser.add_argument("--claims", type=int, default=50_000, help="the full run's claims")
    parser.add_argument(
        "--sizes", default="5000,25000", help="smaller runs measured for memory (comma-separated)"
    )
    parser.add_argument("--render-seconds", type=float, default=150.0, help="budget per format")
    parser.add_argument(
        "--trace-answers", action="store_true", help="read the answers under tracemalloc too"
    )
    parser.add_argument(
        "--quick", action="store_true", help="no separate untraced run: the largest traced one"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default=SETTINGS["database"], help="dropped and made")
    parser.add_argument(
        "--out", help="the results file (default bench/results/payments-<time>.json)"
    )
    parser.add_argument(
        "--statements-only",
        action="store_true",
        help="only issue and render statements in the database as it is (its figures are"
        " added to --out when that file exists)",
    )
    parser.add_argument("--load", metavar="SETS", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    SETTINGS["database"] = args.database

    if args.load:
        sets = [int(s) for s in args.load.split(",")]
        print(json.dumps(load(args.practices, sets, args.seed, args.icbs)))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    sets = sorted(sizes) + [args.claims] + ([] if args.quick else [args.claims])
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
            "note": "2 cores shared with PostgreSQL and with other sessions' test runs",
        },
    }
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / f"payments-{time.strftime('%Y%m%d-%H%M%S')}.json"
    )
    out.parent.mkdir(exist_ok=True)

    def save(figures: dict[str, Any]) -> None:
        results.update(figures)
        results["machine"]["load_average_now"] = os.getloadavg()
        out.write_text(json.dumps(results, indent=2, default=str))

    if args.statements_only:
        if out.exists():
            results = {**json.loads(out.read_text()), "statements_only_when": results["when"]}
        save(measure(args, results.get("data", {}), save))
        print(f"\nwritten to {out}")
        return
    create_database()
    started = time.perf_counter()
    child = subprocess.run(  # noqa: S603 - this script, no shell
        [sys.executable, __file__, "--load", ",".join(map(str, sets)),
         "--practices", str(args.practices), "--seed", str(args.seed),
         "--database", args.database, "--icbs", str(args.icbs)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if child.returncode != 0:
        sys.stderr.write(child.stderr)
        raise SystemExit("loading failed")
    loaded = json.loads(child.stdout.strip().splitlines()[-1])
    if not args.quick:
        loaded["timed"] = loaded["sets"].pop()
    results["data"] = loaded
    print(f"loaded in {time.perf_counter() - started:.0f} s: {loaded}", flush=True)
    save({"finished": False})
    save({**measure(args, loaded, save), "finished": True})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
