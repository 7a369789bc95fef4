"""The payments benchmark (bench/payments.py) still loads and runs end to end, at a tiny
scale in a database of its own: 60 claims over 3 ICBs, answered, paid and stated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "payments.py"


@pytest.fixture
def database():
    url = make_url(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/x"))
    name = f"claims_portal_bench_payments_smoke_{os.getpid()}"
    yield name
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_bench_runs_small(tmp_path, database):
    out = tmp_path / "payments.json"
    result = subprocess.run(  # noqa: S603 - our own script, no shell
        [sys.executable, str(BENCH), "--quick", "--sizes", "", "--claims", "60",
         "--practices", "50", "--icbs", "3", "--render-seconds", "0.1", "--database", database,
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["finished"] is True
    assert figures["data"]["practices"] == 50
    run = figures["runs"]["traced-60"]
    assert run["rows"] == 60
    assert run["files"] == 3
    assert run["tracemalloc_peak_mib"] > 0
    assert figures["agency"]["rows_accepted"] == 60
    assert figures["answers"]["claims_paid"] == 60
    assert figures["statements"]["issued"] == 50
    assert figures["render_xlsx"]["rendered"] >= 1
    assert figures["render_pdf"]["rendered"] >= 1
