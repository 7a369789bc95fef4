"""Claims over HTTP: gunicorn + PostgreSQL on this machine, load from 127.0.0.1.

    .venv/bin/python bench/claims_http.py                 # everything (about 8 minutes)
    .venv/bin/python bench/claims_http.py --only list     # ceiling and list page only

1. Creates the database ``claims_portal_bench`` (dropped first), migrates it and loads one
   ICB, 100 practices, 20 schemes and 20,000 claims (``bench/claims/data.py``).
2. Starts gunicorn on 127.0.0.1 (gthread, each worker taking at most its share of the
   connections) with the production configuration (``CLAIMS_PORTAL_ENV=
   production``, a ``SECRET_KEY`` and ``DATABASE_URL`` in the child's environment; email
   queued, not sent; sign-in throttling off, since every simulated person signs in from
   127.0.0.1; evidence in a temporary folder). The app is ``bench/ceiling_app.py``: the
   product plus ``/bench/ceiling``.
3. Signs the tier 1 approver in through the real pages, two-factor code included (the
   account was enrolled through the service layer, so the TOTP is computed here).
4. Measures with Debian's ``wrk`` (1 thread, 16 connections, 5 s warm-up then 20 s):
   (a) the ceiling: one query for 50 rows and a minimal template, no session;
   (b) the commissioner's claim list, 50 rows of 18,000 (default sort, first page), and
       for reference the signed-in home page; the list again while another connection
       commits a change every second (every page is rendered: there is no page cache);
   then with this script's own keep-alive clients (threads):
   (c) claim submission with a 1 MB PDF: start, open, the units and the file in one post
       (the file checked by content and by a clamd of this run, stored, the claim priced),
       check your answers, the declaration, submit (16 practice users in parallel); each
       post's latency and claims submitted per second;
   (d) worker memory (VmRSS of each gunicorn worker, sampled every 0.25 s) before, during
       and after 5 MB evidence files are uploaded, removed and downloaded repeatedly.
5. Prints a table and writes ``bench/results/claims-<time>.json`` (git-ignored).

Numbers from the generator and the server share the machine's two cores; see
``docs/benchmarks.md`` for the figures and how to read them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The path is set above so the script runs from anywhere, hence imports after code.
from bench.claims import clamd  # noqa: E402
from bench.claims import data as bench_data  # noqa: E402
from bench.claims.forms import form_posting_to  # noqa: E402
from bench.claims.http import Client, percentile  # noqa: E402

#: The database's name (``--database``; the smoke test uses its own).
SETTINGS = {"database": "claims_portal_bench"}
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-only-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway server's key
MFA_KEY = "YmVuY2gtb25seS1tZmEta2V5LTAxMjM0NTY3ODlhYmM"  # 32 bytes, base64url; bench only


def database_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{SETTINGS['database']}"


def server_env(evidence_dir: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLAIMS_PORTAL", "DATABASE_URL", "SECRET_KEY"))
    }
    env.update(
        CLAIMS_PORTAL_ENV="production",
        SECRET_KEY=SECRET,
        MFA_SECRET_KEYS=MFA_KEY,
        # Required in production; its host is the one the server answers to.
        PUBLIC_BASE_URL="http://127.0.0.1",
        DATABASE_URL=database_url(),
        REDIS_URL="redis://127.0.0.1:6379/0",  # required in production
        MAIL_SEND_IMMEDIATELY="false",
        RATELIMIT_ENABLED="false",
        EVIDENCE_STORE="local",
        EVIDENCE_LOCAL_DIR=evidence_dir,
        PYTHONPATH=str(ROOT),
    )
    return env


# --- 1. The database -----------------------------------------------------------------------


def prepare_database(args: argparse.Namespace, evidence_dir: str) -> bench_data.BenchData:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SETTINGS["database"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SETTINGS["database"]}"')
    os.environ.update({k: v for k, v in server_env(evidence_dir).items() if k != "PYTHONPATH"})
    from flask_migrate import upgrade

    from claims_portal import create_app
    from claims_portal.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        loaded = bench_data.load(
            db.session, practices=args.practices, claims=args.claims, submitters=args.connections
        )
        db.session.execute(__import__("sqlalchemy").text("ANALYZE"))
        db.session.commit()
        print(f"loaded {loaded.claims:,} claims in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()
    return loaded


# --- 2. gunicorn ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(
    args: argparse.Namespace, port: int, evidence_dir: str, **env: str
) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--worker-connections",
        str(args.worker_connections or -(-args.connections // args.workers)),
        "--keep-alive",
        "2",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        "bench.ceiling_app:app",
    ]
    server = subprocess.Popen(  # noqa: S603 - our own command line
        command, env={**server_env(evidence_dir), **env}, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Client("127.0.0.1", port, timeout=2).get("/healthz").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop(server: subprocess.Popen) -> None:
    """End a process this script started, with its group (nothing to do if it has ended)."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(20)


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- 4a/b. wrk -----------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(url: str, args: argparse.Namespace, cookie: str | None) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    script = ROOT / "bench" / "claims" / "session.lua"
    env = {**os.environ, "BENCH_COOKIE": cookie or ""}
    base = [wrk, "-t1", f"-c{args.connections}", "-s", str(script), "--timeout", "10s"]
    warm = [*base, f"-d{args.warmup}s", url]
    subprocess.run(warm, env=env, capture_output=True, check=True)  # noqa: S603 - ours
    # A gthread worker at its --worker-connections stops polling its idle connections, so
    # it frees the warm-up's closed ones only when --keep-alive (2 s) runs out.
    time.sleep(3)
    done = subprocess.run(  # noqa: S603 - our own command line
        [*base, f"-d{args.duration}s", "--latency", url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    result: dict[str, Any] = {"raw": out}
    result["requests_per_second"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    for share in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{share}%\s+(\S+)", out, re.M)
        result[f"p{share}_ms"] = _ms(match.group(1)) if match else None
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = errors.group(1) if errors else ""
    return result


@contextlib.contextmanager
def changing_every_second() -> Iterator[None]:
    """A writer that changes the data under every page once a second meanwhile (a no-op
    update of the ICB's row: a write the pages' queries meet, its row locks and WAL), as
    other people's work would."""
    stopping = threading.Event()

    def write() -> None:
        with psycopg.connect(database_url(), autocommit=True) as connection:
            while not stopping.wait(1.0):
                connection.execute("UPDATE organisation SET name = name WHERE parent_id IS NULL")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        yield
    finally:
        stopping.set()
        writer.join()


# --- 4c. Submissions -----------------------------------------------------------------------


def make_pdf(size: int, seed: int = 0) -> bytes:
    """A valid PDF of about ``size`` bytes: one page whose content stream is letters and
    spaces (no digits, so no NHS number; no slashes, so no active-content names)."""
    import random

    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(500)
    ]
    filler = bytearray()
    while len(filler) < size - 600:
        filler += (" ".join(rng.choice(words) for _ in range(12)) + "\n").encode()
    stream = b"BT /F1 12 Tf 72 720 Td (Bench evidence) Tj ET\n% " + bytes(filler[: size - 600])
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def _open_draft(client: Client, window_id: int) -> tuple[int, int, str]:
    """Start a claim; returns (claim id, version, units field name)."""
    client.get("/claims/new")
    reply = client.post("/claims/new", {"option": str(window_id)})
    match = re.search(r"/claims/(\d+)/edit", reply.location)
    if reply.status != 302 or not match:
        raise RuntimeError(f"could not start a claim: {reply.status} {reply.text[:300]}")
    claim_id = int(match.group(1))
    page = client.get(f"/claims/{claim_id}/edit").text
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))  # type: ignore[union-attr]
    units = re.search(r'name="(units-\d+)"', page).group(1)  # type: ignore[union-attr]
    return claim_id, version, units


def run_submissions(port: int, loaded: bench_data.BenchData, args: argparse.Namespace):
    pdf = make_pdf(1024 * 1024)
    clients = []
    for email, window_id in loaded.submitters[: args.connections]:
        client = Client("127.0.0.1", port)
        client.sign_in(email, bench_data.PASSWORD)
        clients.append((client, window_id))
    latencies: list[float] = []
    uploads: list[float] = []
    flows: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def worker(client: Client, window_id: int, until: float, record: bool) -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                claim_id, version, units = _open_draft(client, window_id)
                # The units and the file in one post ("Continue": checked, virus-checked,
                # stored, priced), then check your answers, the declaration, submit.
                checked = client.post_file(
                    f"/claims/{claim_id}/edit",
                    {
                        "action": "check",
                        "version": str(version),
                        units: "3",
                        "answers-present": "1",
                    },
                    "evidence-file",
                    "evidence.pdf",
                    pdf,
                )
                reply = checked
                if checked.status == 302 and "check-your-answers" in checked.location:
                    page = client.get(f"/claims/{claim_id}/check-your-answers")
                    form = form_posting_to(page.text, f"/claims/{claim_id}/submit")
                    if form is not None:
                        client.csrf = None
                        reply = client.post(form.action, form.values() + form.unticked)
            except Exception as error:
                with lock:
                    failures.append(repr(error)[:200])
                continue
            ok = reply is not checked and reply.status == 302 and "/submitted" in reply.location
            with lock:
                if not record:
                    continue
                if ok:
                    uploads.append(checked.seconds * 1000)
                    latencies.append(reply.seconds * 1000)
                    flows.append((time.perf_counter() - started) * 1000)
                else:
                    failures.append(f"{reply.status} {reply.location} {reply.text[:200]}")

    for record, seconds in ((False, args.warmup), (True, args.duration)):
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=worker, args=(c, w, until, record)) for c, w in clients]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    for client, _ in clients:
        client.close()
    return {
        "connections": len(clients),
        "claims_submitted": len(latencies),
        "claims_per_second": len(latencies) / elapsed,
        "upload_p50_ms": percentile(uploads, 0.5),
        "upload_p99_ms": percentile(uploads, 0.99),
        "submit_p50_ms": percentile(latencies, 0.5),
        "submit_p99_ms": percentile(latencies, 0.99),
        "flow_p50_ms": percentile(flows, 0.5),
        "flow_p99_ms": percentile(flows, 0.99),
        "failures": len(failures),
        "failure_sample": failures[:3],
    }


# --- 4d. Worker memory with 5 MB files -----------------------------------------------------


def run_memory(port: int, master: int, loaded: bench_data.BenchData, args: argparse.Namespace):
    big = make_pdf(5 * 1024 * 1024 - 4096, seed=5)
    users = loaded.submitters[: args.memory_clients]
    clients = []
    for email, window_id in users:
        client = Client("127.0.0.1", port)
        client.sign_in(email, bench_data.PASSWORD)
        claim_id, version, _units = _open_draft(client, window_id)
        clients.append([client, claim_id])
    # One stored 5 MB file per person to download (attached to their draft).
    downloads = []
    for client, claim_id in clients:
        page = client.get(f"/claims/{claim_id}/edit").text
        version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        client.post_file(
            f"/claims/{claim_id}/edit",
            {"action": "upload", "version": version, "answers-present": "1"},
            "evidence-file",
            "keep.pdf",
            big,
        )
        page = client.get(f"/claims/{claim_id}/edit").text
        downloads.append(re.search(rf"/claims/{claim_id}/evidence/(\d+)", page).group(1))  # type: ignore[union-attr]

    pids = worker_pids(master)
    samples: list[tuple[float, dict[int, float]]] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.is_set():
            samples.append((time.monotonic(), {pid: rss_mib(pid) for pid in pids}))
            time.sleep(0.25)

    counts = {"uploads": 0, "downloads": 0, "failures": 0, "bytes": 0}
    failed: list[str] = []
    lock = threading.Lock()

    def worker(index: int, until: float) -> None:
        client, claim_id = clients[index]
        evidence_id = downloads[index]
        while time.monotonic() < until:
            try:
                reply = client.get(f"/claims/{claim_id}/evidence/{evidence_id}")
                ok = reply.status == 200 and len(reply.body) == len(big)
                page = client.get(f"/claims/{claim_id}/edit").text
                version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
                added = client.post_file(
                    f"/claims/{claim_id}/edit",
                    {"action": "upload", "version": version, "answers-present": "1"},
                    "evidence-file",
                    "churn.pdf",
                    big,
                )
                page = client.get(f"/claims/{claim_id}/edit").text
                version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
                ids = [
                    i for i in re.findall(r'name="remove" value="(\d+)"', page) if i != evidence_id
                ]
                # "Remove" asks first ("Are you sure ...?"), then removes.
                asked = client.post(
                    f"/claims/{claim_id}/edit",
                    [("version", version), ("answers-present", "1"), ("remove", ids[-1])],
                )
                asking = f"/claims/{claim_id}/evidence/{ids[-1]}/remove"
                question = client.get(asking)
                form = form_posting_to(question.text, asking, asking)
                assert form is not None, question.status
                client.csrf = None
                removed = client.post(form.action, form.values())
                ok = ok and added.status == 302 and asked.status == 302
                ok = ok and removed.status == 302 and "/edit" in removed.location
            except Exception as error:
                ok = False
                with lock:
                    failed.append(repr(error)[:300])
            with lock:
                if ok:
                    counts["uploads"] += 1
                    counts["downloads"] += 1
                    counts["bytes"] += 2 * len(big)
                else:
                    counts["failures"] += 1

    before = {pid: rss_mib(pid) for pid in pids}
    sampler = threading.Thread(target=sample)
    sampler.start()
    until = time.monotonic() + args.memory_seconds
    threads = [threading.Thread(target=worker, args=(i, until)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(2)
    stop_sampling.set()
    sampler.join()
    after = {pid: rss_mib(pid) for pid in pids}
    during = {pid: max(s[1][pid] for s in samples) for pid in pids}
    # Growth: the last quarter of the run against the first quarter (flat = no leak).
    quarter = max(1, len(samples) // 4)
    first = {pid: statistics.median(s[1][pid] for s in samples[:quarter]) for pid in pids}
    last = {pid: statistics.median(s[1][pid] for s in samples[-quarter:]) for pid in pids}
    for client, _ in clients:
        client.close()
    return {
        "workers": pids,
        "rss_before_mib": before,
        "rss_max_during_mib": during,
        "rss_first_quarter_mib": first,
        "rss_last_quarter_mib": last,
        "rss_after_mib": after,
        "growth_mib": {pid: round(last[pid] - first[pid], 1) for pid in pids},
        "mib_moved": counts["bytes"] / 1024 / 1024,
        **counts,
        "failure_sample": failed[:3],
    }


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--practices", type=int, default=100)
    parser.add_argument("--claims", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument(
        "--worker-connections",
        type=int,
        help="keep-alive connections a worker takes at most (default: connections / workers)",
    )
    parser.add_argument("--memory-clients", type=int, default=4)
    parser.add_argument("--memory-seconds", type=int, default=30)
    parser.add_argument("--only", choices=["list", "submit", "memory"], action="append")
    parser.add_argument("--database", default=SETTINGS["database"], help="dropped and made")
    parser.add_argument("--out", type=Path, help="the results file (default bench/results/)")
    args = parser.parse_args()
    SETTINGS["database"] = args.database
    parts = set(args.only or ["list", "submit", "memory"])
    from claims_portal.access.services import mfa  # after the path is set

    evidence_dir = tempfile.mkdtemp(prefix="claims-bench-evidence-")
    loaded = prepare_database(args, evidence_dir)
    port = free_port()
    # Every uploaded file is virus-checked, as in production: a clamd of this run, started
    # only when files are uploaded (a few seconds, and its own signatures in memory).
    scanner = None
    scanning: dict[str, str] = {}
    if parts & {"submit", "memory"}:
        scanner = clamd.start(Path(tempfile.mkdtemp(prefix="claims-bench-clamd-")))
        scanning = {"VIRUS_SCANNER": "clamd", "CLAMD_SOCKET": scanner.socket_path}
    server = start_gunicorn(args, port, evidence_dir, **scanning)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "processor": _processor(),
        },
        "server": f"gunicorn -w {args.workers} -k {args.worker_class} --threads {args.threads}",
        "load": {"practices": args.practices, "claims": loaded.claims},
        "connections": args.connections,
        "duration_s": args.duration,
    }
    try:
        base = f"http://127.0.0.1:{port}"
        if "list" in parts:
            commissioner = Client("127.0.0.1", port)
            commissioner.sign_in(
                loaded.tier_1_email,
                bench_data.PASSWORD,
                mfa.code_for(loaded.tier_1_secret, step_offset=1),
            )
            page = commissioner.get("/claims")
            rows = page.text.count('<tr class="nhsuk-table__row">')
            assert page.status == 200, page.status
            results["list_rows_on_page"] = rows
            results["ceiling"] = run_wrk(f"{base}/bench/ceiling", args, None)
            results["home"] = run_wrk(f"{base}/", args, commissioner.cookie)
            results["list"] = run_wrk(f"{base}/claims", args, commissioner.cookie)
            results["list_vs_ceiling"] = (
                results["list"]["requests_per_second"] / results["ceiling"]["requests_per_second"]
            )
            with changing_every_second():
                results["list_changing"] = run_wrk(f"{base}/claims", args, commissioner.cookie)
        if "submit" in parts:
            results["submit"] = run_submissions(port, loaded, args)
        if "memory" in parts:
            results["memory"] = run_memory(port, server.pid, loaded, args)
    finally:
        stop(server)
        if scanner is not None:
            clamd.stop(scanner)
        shutil.rmtree(evidence_dir, ignore_errors=True)
    report(results)
    out = args.out or ROOT / "bench" / "results" / f"claims-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    saved = dict(results.items())
    for key in ("ceiling", "home", "list", "list_changing"):
        if key in saved:
            saved[key] = {k: v for k, v in saved[key].items() if k != "raw"}
    out.write_text(json.dumps(saved, indent=2, default=str))
    print(f"\nwritten to {out}")


def _processor() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def report(results: dict[str, Any]) -> None:
    print(f"\n{results['server']}, {results['connections']} connections, {results['duration_s']} s")
    rows = []
    for key, label in (
        ("ceiling", "(a) ceiling: 1 query, 50 rows"),
        ("home", "    signed-in home page (floor)"),
        ("list", "(b) claim list, 50 rows"),
        ("list_changing", "    the same, data changing every 1 s"),
    ):
        if key in results:
            r = results[key]
            rows.append(
                (
                    label,
                    f"{r['requests_per_second']:.0f}/s",
                    f"{r['p50_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    str(r["non_2xx"]),
                )
            )
    if "submit" in results:
        s = results["submit"]
        rows.append(
            (
                "(c) units + 1 MB PDF post",
                f"{s['claims_per_second']:.1f}/s",
                f"{s['upload_p50_ms']:.0f}",
                f"{s['upload_p99_ms']:.0f}",
                str(s["failures"]),
            )
        )
        rows.append(
            ("    then the submit post", "", f"{s['submit_p50_ms']:.0f}",
             f"{s['submit_p99_ms']:.0f}", "")
        )  # fmt: skip
    print(f"{'measure':<34} {'throughput':>11} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(f"{row[0]:<34} {row[1]:>11} {row[2]:>8} {row[3]:>8} {row[4]:>7}")
    if "list_vs_ceiling" in results:
        print(f"list / ceiling throughput: {results['list_vs_ceiling']:.0%}")
    if "memory" in results:
        m = results["memory"]
        print(
            f"(d) {m['uploads']} uploads and {m['downloads']} downloads of 5 MB "
            f"({m['mib_moved']:.0f} MiB), {m['failures']} failures"
        )
        for pid in m["workers"]:
            print(
                f"    worker {pid}: before {m['rss_before_mib'][pid]:.0f} MiB, max "
                f"{m['rss_max_during_mib'][pid]:.0f}, first quarter "
                f"{m['rss_first_quarter_mib'][pid]:.0f}, last quarter "
                f"{m['rss_last_quarter_mib'][pid]:.0f}, after {m['rss_after_mib'][pid]:.0f}"
            )


if __name__ == "__main__":
    main()
