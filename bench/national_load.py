"""An England-scale year-end achievement extract (issue 16, "Performance").

    .venv/bin/python bench/national_load.py                 # 6,500 practices (about 15 min)
    .venv/bin/python bench/national_load.py --practices 500 # a quick look

1. The database ``claims_portal_bench_national`` (dropped, created, migrated): 6,500 GP
   practices, a QOF-like service (2025/26, year end 31/03/2026) of 75 counted indicators
   (45 weighted by one of 15 registers, 30 by list size), its reference values and national
   prevalences.
2. A CQRS export generated to a CSV: per practice and indicator four rows (Numerator,
   Denominator, a PCA code, and the register or an exclusion code), plus the list size: about
   two million rows; and the files of the first quarter and half of the practices.
3. Measured in this one run:
   - a bare PostgreSQL ``COPY`` of the same file into a plain table of text columns;
   - the core's own calculation (``calculation.calculate_achievements``) on the same figures
     in memory (all 6,500 practices at once);
   - ours: ``extracts.process`` (read and check every row, stage with ``COPY``, the checks
     across rows, submissions and values written, last submission moved, recalculated and
     stored) on the whole file, in one transaction, committed;
   - the peak memory of ours at 1/4, 1/2 and the whole file: the peak resident memory
     sampled every 20 ms of each (the whole file's from the timed run), and the
     ``tracemalloc`` peak of 1/4 and 1/2 (of the whole file too with ``--trace-full``).
4. Prints the figures (the target: ours within three times COPY + core) and writes
   ``bench/results/national-load-<time>.json``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.payments import ADMIN_URL, MIB, measured  # noqa: E402

DATABASE = "claims_portal_bench_national"
YEAR_END = dt.date(2026, 3, 31)
INDICATORS, WEIGHTED, REGISTERS = 75, 45, 15
HEADER = [
    "QUALITY_SERVICE", "NAME", "ORG_CODE", "ACH_DATE", "IND_CODE", "FIELD_NAME", "VALUE",
    "DEFAULT_VALUES_USED", "SUBMIT_USER_ID", "SUBMIT_DATE", "SUBMIT_TIME", "LAST_SUBMISSION",
]  # fmt: skip


def database_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"


def make_app(evidence: str) -> Any:
    from bench import claims_http

    env = claims_http.server_env(evidence)
    env["DATABASE_URL"] = database_url()
    env.pop("PYTHONPATH", None)
    os.environ.update(env)
    from claims_portal import create_app

    return create_app()


def create_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def indicators(rng: random.Random) -> list[dict[str, Any]]:
    found = []
    for i in range(INDICATORS):
        lower = rng.choice([40, 45, 50, 55, 60, 65, 70])
        found.append(
            {
                "code": f"IND{i:03d}",
                "points": rng.choice([2, 3, 5, 6, 8, 10, 12, 15, 20, 25, 30]),
                "lower": Decimal(lower) / 100,
                "upper": Decimal(min(lower + rng.choice([20, 25, 30, 35]), 100)) / 100,
                "register": f"REG{i % REGISTERS:02d}" if i < WEIGHTED else None,
            }
        )
    return found


def seed(practices: int, rng: random.Random) -> tuple[int, list[dict[str, Any]]]:
    """The practices and the service, straight into the migrated database."""
    rows = indicators(rng)
    with psycopg.connect(database_url()) as conn:
        national = conn.execute(
            "INSERT INTO organisation (ods_code, name, kind, active_from, created_at)"
            " VALUES ('X26', 'NHS England', 'NATIONAL_COMMISSIONER', '2020-01-01', now())"
            " RETURNING id"
        ).fetchone()[0]
        with conn.cursor().copy(
            "COPY organisation (ods_code, name, kind, parent_id, active_from, approval_mode,"
            " created_at)"
            " FROM STDIN"
        ) as copy:
            for p in range(practices):
                copy.write_row((f"P{p:05d}", f"Practice {p}", "GP_PRACTICE", national,
                                "2020-01-01", "ONE_STEP", dt.datetime.now(dt.UTC)))  # fmt: skip
        service = conn.execute(
            "INSERT INTO quality_service (code, financial_year, name, kind, payment_type,"
            " provider_level, start_date, end_date, source, created_at) VALUES ('QOF', 2025,"
            " 'Quality and Outcomes Framework', 'QOF', 'ACHIEVEMENT', 'PRACTICE', '2025-04-01',"
            " '2026-03-31', 'bench', now()) RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO achievement_date (service_id, date, is_payment_date)"
            " VALUES (%s, %s, true)",
            (service, YEAR_END),
        )
        conn.execute(
            "INSERT INTO service_reference (service_id, pounds_per_point,"
            " national_average_list_size, source) VALUES (%s, 225.49, 9964, 'bench')",
            (service,),
        )
        for r in range(REGISTERS):
            conn.execute(
                "INSERT INTO national_prevalence (service_id, register, prevalence, source)"
                " VALUES (%s, %s, %s, 'bench')",
                (service, f"REG{r:02d}", Decimal(r + 1) / 100),
            )
        group = conn.execute(
            "INSERT INTO indicator_group (service_id, code, description, domain_code,"
            " domain_description, position) VALUES (%s, 'ALL', 'All', 'CL', 'Clinical', 0)"
            " RETURNING id",
            (service,),
        ).fetchone()[0]
        for row in rows:
            conn.execute(
                "INSERT INTO quality_indicator (service_id, group_id, code, description, points,"
                " lower_threshold, upper_threshold, prevalence_register, tick_box, purpose,"
                " manual) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false, 'PAYMENT', false)",
                (service, group, row["code"], row["code"], row["points"], row["lower"],
                 row["upper"], row["register"]),
            )  # fmt: skip
        conn.commit()
    return service, rows


def write_extract(path: Path, practices: int, rows: list[dict[str, Any]], seed_: int) -> int:
    """The CQRS export of ``practices`` practices (the same figures for a given seed)."""
    rng = random.Random(seed_)
    written = 0
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        tail = ["N", "AUTOMATED", "20260401", "0100", "Y"]
        for p in range(practices):
            org = f"P{p:05d}"
            list_size = rng.randint(1_500, 30_000)
            registers = {
                f"REG{r:02d}": list_size * (r + 1) * rng.randint(50, 150) // 10_000
                for r in range(REGISTERS)
            }
            base = ["QOF", "Quality and Outcomes Framework", org, "20260331"]
            writer.writerow([*base, "IND000", "List size", list_size, *tail])
            written += 1
            for row in rows:
                denominator = rng.randint(0, 1_200)
                pcas = rng.randint(0, denominator // 10)
                cohort = denominator - pcas
                numerator = cohort * rng.randint(0, 1000) // 1000
                code = row["code"]
                writer.writerow([*base, code, "Numerator", numerator, *tail])
                writer.writerow([*base, code, "Denominator", denominator, *tail])
                writer.writerow([*base, code, "PCA_INFORMED_DISSENT", pcas, *tail])
                if row["register"] is not None:
                    writer.writerow([*base, code, "Register", registers[row["register"]], *tail])
                else:
                    writer.writerow([*base, code, "EXC_UNSUITABLE", 0, *tail])
                written += 4
    return written


def bare_copy(path: Path) -> float:
    with psycopg.connect(database_url()) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_copy (quality_service text, name text,"
            " org_code text, ach_date text, ind_code text, field_name text, value text,"
            " default_values_used text, submit_user_id text, submit_date text,"
            " submit_time text, last_submission text)"
        )
        conn.execute("TRUNCATE bench_copy")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor().copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def ours(app: Any, path: Path, service_id: int, figures: dict[str, Any], trace: bool) -> None:
    from claims_portal.extensions import db
    from claims_portal.national.models import AchievementLoad
    from claims_portal.national.services import extracts

    with app.app_context():
        load = AchievementLoad(filename=path.name, sha256="0" * 64, storage_key=None,
                               status=extracts.LOAD.initial)  # fmt: skip
        db.session.add(load)
        db.session.commit()
        with measured(figures, trace=trace), path.open("rb") as stream:
            outcome = extracts.process(
                db.session, load, {"load_id": load.id}, stream, now=dt.datetime.now(dt.UTC)
            )
            db.session.commit()
        figures["summary"] = outcome.summary
        figures["status"] = load.status.value
        db.session.remove()


def core_time(app: Any, service_id: int) -> dict[str, Any]:
    """The core alone on the loaded figures, in memory (read and built first, not timed)."""
    from claims_portal import calculation
    from claims_portal.extensions import db
    from claims_portal.national.models import QualityService
    from claims_portal.national.services import core_inputs

    with app.app_context():
        service = db.session.get(QualityService, service_id)
        indicator_set = core_inputs.indicator_set_for(db.session, service)
        reference = core_inputs.reference_data_for(db.session, service)
        providers = [
            pid for (pid,) in db.session.execute(
                db.text("SELECT id FROM organisation WHERE kind = 'GP_PRACTICE' ORDER BY id")
            )
        ]  # fmt: skip
        values = core_inputs.current_values(db.session, service_id, YEAR_END, providers)
        submissions = [
            core_inputs.build_submission(f"P{pid}", YEAR_END, values.get(pid, {}), indicator_set)
            for pid in providers
        ]
        started = time.perf_counter()
        results = calculation.calculate_achievements(submissions, indicator_set, reference)
        seconds = time.perf_counter() - started
        db.session.remove()
    return {"seconds": round(seconds, 2), "practices": len(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=6_500)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--trace-full", action="store_true", help="tracemalloc on the whole file too (slow)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="national-load-"))
    create_database()
    app = make_app(str(work / "evidence"))
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    service_id, rows = seed(args.practices, random.Random(args.seed))
    files = {}
    for label, share in (("quarter", 4), ("half", 2), ("full", 1)):
        path = work / f"extract-{label}.csv"
        count = write_extract(path, args.practices // share, rows, args.seed)
        files[label] = (path, count)
    full, full_rows = files["full"]
    figures: dict[str, Any] = {
        "practices": args.practices, "indicators": INDICATORS, "rows": full_rows,
        "file_mib": round(full.stat().st_size / MIB, 1), "load_average": os.getloadavg(),
    }  # fmt: skip
    figures["bare_copy_seconds"] = round(bare_copy(full), 2)
    timed: dict[str, Any] = {}
    ours(app, full, service_id, timed, trace=False)
    figures["ours"] = timed
    figures["core"] = core_time(app, service_id)
    memory: dict[str, Any] = {}
    for label in ("quarter", "half", "full"):
        path, count = files[label]
        if label == "full" and not args.trace_full:
            memory[label] = {"rows": count, **timed}  # resident memory of the timed run
            continue
        traced: dict[str, Any] = {"rows": count}
        ours(app, path, service_id, traced, trace=True)
        memory[label] = traced
    figures["memory"] = memory
    target = 3 * (figures["bare_copy_seconds"] + figures["core"]["seconds"])
    figures["target_seconds"] = round(target, 2)
    figures["within_target"] = timed["seconds"] <= target
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"national-load-{stamp}.json").write_text(json.dumps(figures, indent=2, default=str))
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
