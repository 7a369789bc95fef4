"""The benchmark of real use (bench/load.py) still loads, signs everyone in and runs every
part end to end, at a tiny scale in a database of its own. Twice it broke unnoticed: its
loader failed a check the schemes gained (the agency enrolment date), and its figures per
page kind came out empty once the project's gunicorn settings dropped the access log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "load.py"


@pytest.fixture
def database():
    url = make_url(os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/x"))
    name = f"claims_portal_load_smoke_{os.getpid()}"
    yield name
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_load_bench_runs_small(tmp_path, database):
    if shutil.which("wrk") is None:
        pytest.fail("the load benchmark needs wrk: run `make wrk` (apt-get install -y wrk)")
    out = tmp_path / "load.json"
    result = subprocess.run(  # noqa: S603 - our own script, no shell
        [sys.executable, str(BENCH), "--database", database, "--practices", "6",
         "--claims", "600", "--people", "10", "--seconds", "2", "--warmup", "1",
         "--connections", "4", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["data"]["claims"] == 600
    assert figures["data"]["practices"] == 6
    assert figures["people_browsing"] == 10
    assert figures["ceiling"]["rps"] > 0
    assert figures["ceiling"]["errors"] == 0
    assert set(figures["pages"]) == {"list", "list-filtered", "claim", "home", "signed-in-floor"}
    for kind, page in figures["pages"].items():
        assert page["rps"] > 0, kind
        assert page["errors"] == 0, kind
    assert figures["mix"]["requests"] > 0
    assert figures["mix"]["errors"] == 0
    # Per page kind, from gunicorn's access log (bench/gunicorn_bench.py keeps it: the
    # project's gunicorn.conf.py sends it nowhere, which once left these figures empty).
    per_kind = figures["mix"]["per_kind"]
    assert {"home", "list", "claim"} <= set(per_kind), per_kind
    for kind, page in per_kind.items():
        assert page["requests"] > 0, kind
        assert page["errors"] == 0, kind
    writes = figures["mix"]["writes"]
    assert writes["writes"] > 0
    assert writes["failed"] == 0
    for n in ("1", "4", "16"):
        assert figures["decisions"][n]["decisions_per_second"] > 0
        assert figures["decisions"][n]["errors"] == 0
    bulk = figures["bulk"]
    assert "error" not in bulk, bulk
    assert bulk["bulk_approved"] > 0
    assert bulk["bulk_summary"].endswith("0 not approved")
