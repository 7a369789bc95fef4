"""The ODS import at England's scale: a synthetic mapping CSV of 6,500 practices in 1,300 PCNs
(106 sub-ICB locations, 42 ICBs, 7 regions), imported into a fresh database, then imported
again with a few changes (renamed practices, practices moved to another sub-ICB location,
practices changing PCN or leaving one), then a third time unchanged.

    .venv/bin/python bench/ods_import.py [--practices 6500] [--pcns 1300]

The database ``claims_portal_bench_ods`` on 127.0.0.1 is dropped and made afresh. Prints the
seconds of each import (the service and its commit, as ``claims-portal organisations
import-ods`` does) and what each one changed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import resource
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATABASE = "claims_portal_bench_ods"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HEADINGS = [
    "REGION_ODS_CODE",
    "REGION_NAME",
    "ICB_ODS_CODE",
    "ICB_NAME",
    "SUB_ICB_ODS_CODE",
    "SUB_ICB_NAME",
    "PCN_ODS_CODE",
    "PCN_NAME",
    "PRACTICE_CODE",
    "PRACTICE_NAME",
]


def _base36(n: int, width: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    for _ in range(width):
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out


def rows(practices: int, pcns: int) -> list[dict[str, str]]:
    subs, icbs, regions = 106, 42, 7
    out = []
    for i in range(practices):
        pcn = i * pcns // practices
        sub = pcn * subs // pcns
        icb = sub * icbs // subs
        region = icb * regions // icbs
        out.append(
            {
                "REGION_ODS_CODE": f"Y{56 + region:02d}",
                "REGION_NAME": f"Region {region}",
                "ICB_ODS_CODE": f"Q{_base36(icb + 100, 2)}",
                "ICB_NAME": f"NHS Bench {icb} Integrated Care Board",
                "SUB_ICB_ODS_CODE": f"{sub % 100:02d}{chr(65 + sub // 100)}",
                "SUB_ICB_NAME": f"NHS Bench ICB - sub-location {sub}",
                "PCN_ODS_CODE": f"U{10000 + pcn:05d}",
                "PCN_NAME": f"BENCH {pcn} PCN",
                "PRACTICE_CODE": f"B{i:05d}",
                "PRACTICE_NAME": f"BENCH SURGERY {i}",
            }
        )
    return out


def as_csv(data: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, HEADINGS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data)
    return buffer.getvalue().encode()


def with_changes(data: list[dict[str, str]]) -> tuple[list[dict[str, str]], dict[str, int]]:
    changed = [dict(r) for r in data]
    step = len(changed) // 40
    for n in range(10):  # renamed
        changed[n * step]["PRACTICE_NAME"] += " (RENAMED)"
    for n in range(10):  # moved to the next practice's sub-ICB location in the same ICB
        row = changed[n * step + 1]
        other = next(
            r
            for r in changed
            if r["ICB_ODS_CODE"] == row["ICB_ODS_CODE"]
            and r["SUB_ICB_ODS_CODE"] != row["SUB_ICB_ODS_CODE"]
        )
        row["SUB_ICB_ODS_CODE"], row["SUB_ICB_NAME"] = (
            other["SUB_ICB_ODS_CODE"],
            other["SUB_ICB_NAME"],
        )
    for n in range(10):  # to another PCN
        row, other = changed[n * step + 2], changed[n * step + 12]
        row["PCN_ODS_CODE"], row["PCN_NAME"] = other["PCN_ODS_CODE"], other["PCN_NAME"]
    for n in range(5):  # left its PCN
        changed[n * step + 3]["PCN_ODS_CODE"], changed[n * step + 3]["PCN_NAME"] = "U", ""
    return changed, {"renamed": 10, "moved": 10, "changed_pcn": 10, "left_pcn": 5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=6500)
    parser.add_argument("--pcns", type=int, default=1300)
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    os.environ["CLAIMS_PORTAL_ENV"] = "development"
    os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
    from flask_migrate import upgrade

    from claims_portal import create_app
    from claims_portal.extensions import db
    from claims_portal.organisations.services import ods

    app = create_app()
    first = rows(args.practices, args.pcns)
    second, made = with_changes(first)
    files = {
        "first": as_csv(first),
        "with changes": as_csv(second),
        "unchanged": as_csv(second),
    }
    days = {
        "first": dt.date(2025, 4, 1),
        "with changes": dt.date(2025, 10, 1),
        "unchanged": dt.date(2025, 10, 1),
    }
    print(
        f"mapping CSV: {args.practices} practices, {args.pcns} PCNs, "
        f"{len(files['first']) / 2**20:.1f} MiB; changes in the second: {made}"
    )
    with app.app_context():
        upgrade()
        for label, content in files.items():
            started = time.perf_counter()
            record = ods.import_ods(
                db.session, [("mapping.csv", content)], as_of=days[label], run_by="bench"
            )
            db.session.commit()
            seconds = time.perf_counter() - started
            print(
                f"{label:>13}: {seconds:6.2f} s  created {record.organisations_created}, "
                f"changed {record.organisations_changed}, memberships added "
                f"{record.memberships_added} ended {record.memberships_ended}, held "
                f"{record.changes_held}"
            )
            db.session.expunge_all()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MiB; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
