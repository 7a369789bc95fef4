"""Real use: many signed-in people browsing and writing at once against a large ICB.

    .venv/bin/python bench/load.py                  # everything (about 15 minutes)
    .venv/bin/python bench/load.py --reuse --seconds 10 --warmup 3   # a short run
    .venv/bin/python bench/load.py --reuse --people 150 --writes-per-second 10 \\
        --pages home,list-filtered,claim,messages    # another workload

1. The database ``claims_portal_load`` (dropped, created, migrated, and loaded in bulk by
   ``bench/claims/large.py``: one ICB, three sub-locations, 150 practices in both approval
   modes, 30 schemes, 100,000 claims, 300 people); ``--reuse`` keeps it when it is loaded.
2. gunicorn on 127.0.0.1 with the production configuration, as ``bench/claims_http.py``
   starts it (``--workers 2 -k gthread``), plus an access log of each request's status,
   microseconds and path (``%(D)s``): the mix's figures per page kind come from it.
3. Signs ``--people`` people in through the real pages (password, then the TOTP code for
   the roles that need one), each with their own session, and writes one file of
   (cookie, path) lines: what each of them opens, as their role would (home, claim lists
   with filters, sorts and pages, claim pages, messages, schemes). ``--pages`` chooses the
   page kinds.
4. Measures with wrk (1 thread, ``--connections``, warm-up, then ``--seconds``):
   (a) the ceiling (``/bench/ceiling``: one query, 50 rows, a minimal template);
   (b) each page kind alone, rendered: the commissioner's claim list (default sort; and
       filtered by status and scheme), claim pages (one commissioner, many claims), the
       home page, and the signed-in floor (a page of static text in the signed-in layout:
       what every signed-in page costs before its own content);
   (c) the mix: wrk rotating through the (cookie, path) file while this script's writer
       threads, as other people, save drafts, submit claims, approve and decline at
       ``--writes-per-second`` through the real forms (page read, its form posted with its
       CSRF token and version); worker memory at its start and end;
   (d) decisions per second with 1, 4 and 16 tier 1 approvers approving different claims
       at once (claim page, then its approve form), and single approvals' latency while one
       bulk approval of 500 claims runs: confirmed on the page, which answers at once with
       the job's page; a worker (``claims-portal worker``, started here) approves them while
       this script follows the job's progress as its page does.
5. Prints a table and writes ``bench/results/load-<time>.json``.

Generator and server share the machine's cores (and other sessions may be running): read
the figures against the ceiling measured in the same run. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The path is set above so the script runs from anywhere, hence imports after code.
from bench import claims_http  # noqa: E402
from bench.claims import large  # noqa: E402
from bench.claims.forms import form_posting_to  # noqa: E402
from bench.claims.http import Client, percentile  # noqa: E402

#: The database's name (``--database``; the smoke test uses its own).
SETTINGS = {"database": "claims_portal_load"}
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROTATE = ROOT / "bench" / "claims" / "rotate.lua"
ALL_PAGES = (
    "home",
    "list",
    "list-filtered",
    "list-sorted",
    "list-paged",
    "claim",
    "messages",
    "schemes",
)
#: What a person of each side opens, with weights (a list view far more than the rest).
COMMISSIONER_PAGES = {
    "home": 2,
    "list": 3,
    "list-filtered": 4,
    "list-sorted": 2,
    "list-paged": 2,
    "claim": 6,
    "messages": 1,
}
PRACTICE_PAGES = {
    "home": 2,
    "list": 3,
    "list-filtered": 2,
    "list-sorted": 1,
    "list-paged": 1,
    "claim": 4,
    "messages": 1,
    "schemes": 2,
}
WAITING_PAYMENT = (
    "SELECT count(*) FROM claim WHERE id = ANY(%s) AND status = 'AWAITING_PAYMENT_APPROVAL'"
)
ACCESS_LOG_FORMAT = "%(s)s %(D)s %(m)s %(U)s %(q)s"


def database_url() -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{SETTINGS['database']}"


#: This run's own job queue in Redis (an earlier run's messages are not this run's work).
JOBS_QUEUE = f"bench-load-{os.getpid()}"


def server_env(evidence_dir: str) -> dict[str, str]:
    env = claims_http.server_env(evidence_dir)
    env["DATABASE_URL"] = database_url()
    env["JOBS_QUEUE"] = JOBS_QUEUE
    return env


# --- 1. The database -----------------------------------------------------------------------


def prepare_database(args: argparse.Namespace, evidence_dir: str) -> Any:
    """Creates and loads the database unless ``--reuse`` finds it loaded; returns the app
    (this process reads people and their two-factor secrets through it)."""
    os.environ.update({k: v for k, v in server_env(evidence_dir).items() if k != "PYTHONPATH"})
    name = SETTINGS["database"]
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not (args.reuse and found):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    from flask_migrate import upgrade

    from claims_portal import create_app
    from claims_portal.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        if args.reuse and large.existing(db.session):
            print("reusing the loaded database")
        else:
            loaded = large.load(db.session, practices=args.practices, claims=args.claims)
            print(
                f"loaded {loaded.claims:,} claims and {loaded.people} people in "
                f"{loaded.seconds['total']:.0f} s ({_rounded(loaded.seconds)})"
            )
        db.engine.dispose()
    return app


def _rounded(values: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.0f} s" for k, v in values.items())


# --- People --------------------------------------------------------------------------------


@dataclass
class Person:
    email: str
    role: str
    organisation_id: int
    #: The practice (practice people) or None; for commissioners the ICB or sub-location.
    practice_id: int | None
    sub_location_id: int | None
    two_step: bool
    secret: str | None
    client: Client | None = None
    #: Held while one thread uses the person's client (a Client is one connection).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def is_commissioner(self) -> bool:
        return self.practice_id is None


def read_people(app: Any) -> list[Person]:
    """Everyone in the database, with their two-factor secret (unsealed here, as the app
    would); their last used code step is cleared so the current code signs them in."""
    from sqlalchemy import select, text

    from claims_portal.access.models import Membership, User
    from claims_portal.access.services import mfa
    from claims_portal.extensions import db
    from claims_portal.organisations.models import ApprovalMode, OrganisationKind
    from claims_portal.service_settings import access_settings

    people = []
    with app.app_context():
        db.session.execute(text("UPDATE user_account SET mfa_last_step = NULL"))
        db.session.commit()
        rows = db.session.execute(
            select(User, Membership).join(Membership, Membership.user_id == User.id)
        ).all()
        for user, membership in rows:
            organisation = membership.organisation
            practice = organisation.kind is OrganisationKind.GP_PRACTICE
            sub = organisation.parent_id if practice else None
            if organisation.kind is OrganisationKind.ICB_SUB_LOCATION:
                sub = organisation.id
            people.append(
                Person(
                    email=user.email,
                    role=membership.role.name,
                    organisation_id=organisation.id,
                    practice_id=organisation.id if practice else None,
                    sub_location_id=sub,
                    two_step=organisation.approval_mode is ApprovalMode.TWO_STEP,
                    secret=mfa.secret_of(user, settings=access_settings())
                    if user.mfa_enabled
                    else None,
                )
            )
        db.session.rollback()
        db.engine.dispose()
    return sorted(people, key=lambda p: p.email)


def sign_in(port: int, person: Person) -> Client:
    from claims_portal.access.services import mfa

    client = Client("127.0.0.1", port)
    code = mfa.code_for(person.secret) if person.secret else None
    client.sign_in(person.email, large.PASSWORD, code)
    person.client = client
    return client


def sign_in_all(port: int, people: list[Person]) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda p: sign_in(port, p), people))


# --- What people open ----------------------------------------------------------------------


@dataclass
class Catalogue:
    """Ids to build paths from, read once from the database."""

    schemes: list[int]
    practices: list[int]
    #: Claim ids a commissioner may open (they reached the commissioner): all, and per
    #: sub-location; and per practice.
    commissioner_claims: list[int]
    sub_claims: dict[int, list[int]]
    sub_practices: dict[int, list[int]]
    practice_claims: dict[int, list[int]]
    statuses: list[str]
    offers: dict[int, list[int]] = field(default_factory=dict)


def read_catalogue() -> Catalogue:
    with psycopg.connect(database_url()) as conn:
        schemes = [r[0] for r in conn.execute("SELECT id FROM scheme ORDER BY id")]
        practices = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM organisation WHERE kind = 'GP_PRACTICE' ORDER BY id"
            )
        ]
        seen = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM claim WHERE reached_commissioner_at IS NOT NULL "
                "ORDER BY md5(id::text) LIMIT 5000"
            )
        ]
        sub_claims: dict[int, list[int]] = defaultdict(list)
        for claim_id, sub_id in conn.execute(
            "SELECT id, parent_id FROM (SELECT c.id, o.parent_id, row_number() OVER"
            " (PARTITION BY o.parent_id ORDER BY md5(c.id::text)) AS n FROM claim c"
            " JOIN organisation o ON o.id = c.provider_id"
            " WHERE c.reached_commissioner_at IS NOT NULL) AS s WHERE n <= 2000"
        ):
            sub_claims[sub_id].append(claim_id)
        sub_practices: dict[int, list[int]] = defaultdict(list)
        for practice_id, sub_id in conn.execute(
            "SELECT id, parent_id FROM organisation WHERE kind = 'GP_PRACTICE'"
        ):
            sub_practices[sub_id].append(practice_id)
        per_practice: dict[int, list[int]] = defaultdict(list)
        for claim_id, provider_id in conn.execute(
            "SELECT id, provider_id FROM ("
            " SELECT id, provider_id, row_number() OVER (PARTITION BY provider_id"
            " ORDER BY md5(id::text)) AS n FROM claim) AS c WHERE n <= 40"
        ):
            per_practice[provider_id].append(claim_id)
        statuses = [r[0] for r in conn.execute("SELECT DISTINCT status::text FROM claim")]
        offers: dict[int, list[int]] = defaultdict(list)
        for scheme_id, provider_id in conn.execute(
            "SELECT scheme_id, provider_id FROM scheme_offer"
        ):
            offers[provider_id].append(scheme_id)
    return Catalogue(
        schemes,
        practices,
        seen,
        dict(sub_claims),
        dict(sub_practices),
        dict(per_practice),
        sorted(statuses),
        dict(offers),
    )


def page_path(kind: str, person: Person, cat: Catalogue, rng: random.Random) -> str:
    practice = person.practice_id
    if kind == "home":
        return "/"
    if kind == "list":
        return "/claims"
    if kind == "list-filtered":
        choice = rng.random()
        status = rng.choice(cat.statuses)
        scheme = rng.choice(cat.offers.get(practice, cat.schemes) if practice else cat.schemes)
        if choice < 0.4:
            return f"/claims?status={status}"
        if choice < 0.6:
            return f"/claims?scheme={scheme}"
        if choice < 0.8 and practice is None:
            pool = cat.sub_practices.get(person.sub_location_id or 0, cat.practices)
            return f"/claims?practice={rng.choice(pool)}"
        return f"/claims?status={status}&scheme={scheme}"
    if kind == "list-sorted":
        sort = rng.choice(["reference", "practice", "scheme", "period", "value", "status"])
        return f"/claims?sort={sort}" + rng.choice(["", "&order=asc"])
    if kind == "list-paged":
        return f"/claims?page={rng.randint(2, 40 if practice is None else 8)}"
    if kind == "claim":
        if practice is not None:
            pool = cat.practice_claims[practice]
        elif person.sub_location_id is not None:
            pool = cat.sub_claims[person.sub_location_id]
        else:
            pool = cat.commissioner_claims
        return f"/claims/{rng.choice(pool)}"
    if kind == "messages":
        return "/messages"
    if kind == "schemes":
        if rng.random() < 0.5:
            return "/schemes"
        return f"/schemes/{rng.choice(cat.offers[practice])}"
    raise ValueError(kind)


def kind_of(path: str, query: str) -> str:
    """The page kind of a logged request (as :func:`page_path` makes them)."""
    if path == "/":
        return "home"
    if path == "/claims":
        if not query:
            return "list"
        if "page=" in query:
            return "list-paged"
        if "sort=" in query:
            return "list-sorted"
        return "list-filtered"
    if re.fullmatch(r"/claims/\d+", path):
        return "claim"
    if path.startswith("/messages"):
        return "messages"
    if path.startswith("/schemes"):
        return "schemes"
    if path == "/bench/ceiling":
        return "ceiling"
    return "other"


def write_paths(
    out: Path,
    people: list[Person],
    pages: list[str],
    cat: Catalogue,
    rng: random.Random,
    per_person: int,
) -> int:
    lines = []
    for person in people:
        assert person.client is not None
        assert person.client.cookie
        weights = COMMISSIONER_PAGES if person.is_commissioner else PRACTICE_PAGES
        kinds = [k for k in pages if k in weights]
        if not kinds:
            continue
        chosen = rng.choices(kinds, [weights[k] for k in kinds], k=per_person)
        lines += [f"{person.client.cookie}\t{page_path(k, person, cat, rng)}" for k in chosen]
    rng.shuffle(lines)  # people interleaved, as they are at once
    out.write_text("\n".join(lines) + "\n")
    return len(lines)


# --- gunicorn ------------------------------------------------------------------------------


#: Connections a worker accepts beyond its share of wrk's: room for the writers' requests in
#: flight (the mix's, the single approvals beside the bulk approval), so that they neither
#: wait for wrk's kept-alive connections nor make wrk's wait; small, so that one worker
#: cannot take most of wrk's connections (see docs/benchmarks.md, Server).
WRITERS_ROOM = 2


def start_gunicorn(args: argparse.Namespace, port: int, evidence_dir: str, log: Path):
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--config",
        str(ROOT / "bench" / "gunicorn_bench.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--worker-connections",
        str(-(-args.connections // args.workers) + WRITERS_ROOM),
        "--keep-alive",
        "2",
        "--log-level",
        "warning",
        "--access-logfile",
        str(log),
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--chdir",
        str(ROOT),
        "bench.ceiling_app:app",
    ]
    server = subprocess.Popen(  # noqa: S603 - our own command line
        command, env=server_env(evidence_dir), start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if Client("127.0.0.1", port, timeout=2).get("/healthz").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    claims_http.stop(server)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def start_worker(evidence_dir: str, log: Path) -> subprocess.Popen[bytes]:
    """A job worker (``claims-portal worker``, one process) with the server's settings and
    queue: it approves the bulk approval's claims."""
    command = [
        sys.executable,
        "-c",
        "from claims_portal.cli import main; main()",
        "worker",
        "--concurrency",
        "1",
        "--loglevel",
        "WARNING",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command line
            command,
            env=server_env(evidence_dir),
            cwd=str(ROOT),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def memory(master: int) -> dict[int, float]:
    return {pid: round(claims_http.rss_mib(pid), 1) for pid in claims_http.worker_pids(master)}


# --- wrk -----------------------------------------------------------------------------------


def _wrk(url: str, paths: Path, args: argparse.Namespace, seconds: int) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk (make wrk)")
    command = [wrk, "-t1", f"-c{args.connections}", "-s", str(ROTATE), "--timeout", "10s"]
    done = subprocess.run(  # noqa: S603 - our own command line
        [*command, f"-d{seconds}s", "--latency", url],
        env={**os.environ, "BENCH_PATHS": str(paths)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def warm_up(url: str, paths: Path, args: argparse.Namespace) -> None:
    if args.warmup:
        _wrk(url, paths, args, args.warmup)
        # A gthread worker at its --worker-connections frees the warm-up's closed
        # connections only when --keep-alive (2 s) runs out.
        time.sleep(3)


def measure(url: str, paths: Path, args: argparse.Namespace) -> dict[str, Any]:
    out = _wrk(url, paths, args, args.seconds)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result: dict[str, Any] = {"rps": float(rps.group(1)) if rps else 0.0}
    for share in ("50", "99"):
        match = re.search(rf"^\s+{share}%\s+(\S+)", out, re.M)
        result[f"p{share}_ms"] = round(claims_http._ms(match.group(1)), 1) if match else None
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result["non_2xx_3xx"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = sum(int(n) for n in sockets.groups()) if sockets else 0
    result["errors"] = result["non_2xx_3xx"] + result["socket_errors"]
    requests = re.search(r"(\d+) requests in", out)
    result["requests"] = int(requests.group(1)) if requests else 0
    return result


def run_wrk(url: str, paths: Path, args: argparse.Namespace) -> dict[str, Any]:
    warm_up(url, paths, args)
    return measure(url, paths, args)


def single_path_file(out: Path, cookie: str, paths: list[str]) -> Path:
    out.write_text("".join(f"{cookie}\t{p}\n" for p in paths))
    return out


# --- The access log ------------------------------------------------------------------------


def log_figures(log: Path, start: int, end: int, seconds: float) -> dict[str, dict[str, Any]]:
    """Per page kind of the GET requests logged between two offsets: rps, p50, p99 and the
    requests that were not 200 (a redirect to sign-in would be one)."""
    with log.open("rb") as file:
        file.seek(start)
        chunk = file.read(end - start).decode("utf-8", "replace")
    times: dict[str, list[float]] = defaultdict(list)
    bad: dict[str, int] = defaultdict(int)
    for line in chunk.splitlines():
        parts = line.split(" ", 4)
        if len(parts) < 4 or parts[2] != "GET":
            continue
        status, micros, _method, path = parts[:4]
        kind = kind_of(path, parts[4] if len(parts) > 4 else "")
        times[kind].append(int(micros) / 1000)
        if status != "200":
            bad[kind] += 1
    return {
        kind: {
            "rps": round(len(values) / seconds, 1),
            "p50_ms": round(percentile(values, 0.5), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
            "errors": bad[kind],
            "requests": len(values),
            "source": "access log (server time)",
        }
        for kind, values in sorted(times.items())
    }


# --- Writes --------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    ok: bool
    ms: float
    detail: str = ""


def _post_form(client: Client, page_path: str, action_end: str, changes: dict[str, str]):
    page = client.get(page_path)
    if page.status != 200:
        raise RuntimeError(f"GET {page_path}: {page.status}")
    form = form_posting_to(page.text, action_end, page_path)
    if form is None:
        raise RuntimeError(f"no form posting to {action_end} on {page_path}")
    client.csrf = None  # the form carries its own token
    return client.post(form.action, form.values(changes))


def approve(client: Client, claim_id: int) -> Outcome:
    reply = _post_form(client, f"/claims/{claim_id}", f"/claims/{claim_id}/approve", {})
    ok = reply.status == 302 and reply.location.endswith(f"/claims/{claim_id}")
    return Outcome("approve", ok, reply.seconds * 1000, "" if ok else _why(reply))


def decline(client: Client, claim_id: int) -> Outcome:
    reply = _post_form(
        client,
        f"/claims/{claim_id}/decline",
        f"/claims/{claim_id}/decline",
        {"reason": "The evidence does not cover the period claimed."},
    )
    ok = reply.status == 302
    return Outcome("decline", ok, reply.seconds * 1000, "" if ok else _why(reply))


def save_draft(client: Client, claim_id: int, rng: random.Random) -> Outcome:
    page = client.get(f"/claims/{claim_id}/edit")
    form = form_posting_to(page.text, f"/claims/{claim_id}/edit")
    if form is None:
        return Outcome("save", False, 0, f"no edit form ({page.status})")
    units = {name: str(rng.randint(1, 99)) for name, _ in form.fields if name.startswith("units-")}
    client.csrf = None
    reply = client.post(form.action, form.values({**units, "action": "save"}))
    ok = reply.status == 302
    return Outcome("save", ok, reply.seconds * 1000, "" if ok else _why(reply))


def submit(client: Client, claim_id: int, rng: random.Random) -> Outcome:
    page = client.get(f"/claims/{claim_id}/edit")
    form = form_posting_to(page.text, f"/claims/{claim_id}/edit")
    if form is None:
        return Outcome("submit", False, 0, f"no edit form ({page.status})")
    units = {name: str(rng.randint(1, 99)) for name, _ in form.fields if name.startswith("units-")}
    client.csrf = None
    checked = client.post(form.action, form.values({**units, "action": "check"}))
    if checked.status != 302:
        return Outcome("submit", False, 0, "check: " + _why(checked))
    check_page = client.get(f"/claims/{claim_id}/check-your-answers")
    final = form_posting_to(check_page.text, f"/claims/{claim_id}/submit")
    if final is None:
        return Outcome("submit", False, 0, f"no submit form ({check_page.status})")
    client.csrf = None
    reply = client.post(final.action, final.values() + final.unticked)
    ok = reply.status == 302 and "/submitted" in reply.location
    return Outcome("submit", ok, reply.seconds * 1000, "" if ok else _why(reply))


def _why(reply: Any) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.text))
    summary = re.search(r"There is a problem(.{0,200})", text)
    return f"{reply.status} {reply.location} {summary.group(1).strip() if summary else ''}"[:300]


@dataclass
class Targets:
    """Claims waiting at each step, read once and handed out (each claim to one writer)."""

    tier_1: list[int]
    tier_2: list[int]
    drafts: dict[int, list[int]]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, pool: list[int]) -> int | None:
        with self.lock:
            return pool.pop() if pool else None


def read_targets() -> Targets:
    with psycopg.connect(database_url()) as conn:

        def ids(status: str) -> list[int]:
            return [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM claim WHERE status = %s ORDER BY md5(id::text)", (status,)
                )
            ]

        drafts: dict[int, list[int]] = defaultdict(list)
        for claim_id, provider_id in conn.execute(
            "SELECT id, provider_id FROM claim WHERE status = 'DRAFT' AND scope IS NULL ORDER BY id"
        ):
            drafts[provider_id].append(claim_id)
        return Targets(
            ids("AWAITING_COMMISSIONER_REVIEW"), ids("AWAITING_PAYMENT_APPROVAL"), dict(drafts)
        )


class Writers:
    """Other people writing at a steady rate while the mix runs: each ticket goes to the
    next writer thread, which does it as one of its own people."""

    PLAN = (
        ("save", 0.35),
        ("submit", 0.15),
        ("approve-1", 0.30),
        ("decline-1", 0.08),
        ("approve-2", 0.12),
    )
    #: Enough that writes keep their rate when each takes a few requests under load.
    THREADS = 8

    def __init__(self, people: dict[str, list[Person]], targets: Targets, rate: float) -> None:
        self.people, self.targets, self.rate = people, targets, rate
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.rng = random.Random(7)

    def _do(self, kind: str, rng: random.Random) -> Outcome:
        group = "practice" if kind in ("save", "submit") else "tier_" + kind[-1]
        person = rng.choice(self.people[group])
        with person.lock:
            try:
                return self._as(person, kind, rng)
            finally:
                # A write is a few requests, then nothing from that person for a while: its
                # connection is closed rather than left holding one of a worker's
                # --worker-connections for the 2 s of keep-alive, during which wrk's
                # connections waited to be accepted (the mix's p99 of 1-4 s until 4 December).
                if person.client is not None:
                    person.client.close()

    def _as(self, person: Person, kind: str, rng: random.Random) -> Outcome:
        started = time.perf_counter()
        try:
            if kind in ("save", "submit"):
                assert person.client is not None
                assert person.practice_id is not None
                drafts = self.targets.drafts.get(person.practice_id, [])
                if not drafts:
                    return Outcome(kind, False, 0, "no drafts left")
                if kind == "save":
                    return save_draft(person.client, rng.choice(drafts), rng)
                claim_id = self.targets.take(drafts)
                assert claim_id is not None
                return submit(person.client, claim_id, rng)
            tier = "tier_1" if kind.endswith("1") else "tier_2"
            pool = self.targets.tier_1 if tier == "tier_1" else self.targets.tier_2
            claim_id = self.targets.take(pool)
            if claim_id is None:
                return Outcome(kind, False, 0, "no claims left")
            assert person.client is not None
            if kind.startswith("decline"):
                return decline(person.client, claim_id)
            return approve(person.client, claim_id)
        except Exception as error:  # a failed write is counted, never stops the run
            return Outcome(kind, False, (time.perf_counter() - started) * 1000, repr(error)[:300])

    def _worker(self, seed: int) -> None:
        rng = random.Random(seed)
        while True:
            kind = self.queue.get()
            if kind is None:
                return
            outcome = self._do(kind, rng)
            outcome.kind = kind
            with self.lock:
                self.outcomes.append(outcome)

    def run(self, seconds: float) -> None:
        threads = [
            threading.Thread(target=self._worker, args=(n,), daemon=True)
            for n in range(self.THREADS)
        ]
        for thread in threads:
            thread.start()
        kinds = [k for k, _ in self.PLAN]
        weights = [w for _, w in self.PLAN]
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < seconds:
            due = int((time.monotonic() - started) * self.rate) + 1
            while sent < due:
                self.queue.put(self.rng.choices(kinds, weights)[0])
                sent += 1
            time.sleep(0.02)
        for _ in threads:
            self.queue.put(None)
        for thread in threads:
            thread.join()


def write_summary(outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    kinds: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        kinds[outcome.kind].append(outcome)
    summary: dict[str, Any] = {
        "writes": len(outcomes),
        "writes_per_second": round(sum(o.ok for o in outcomes) / seconds, 2),
        "failed": sum(not o.ok for o in outcomes),
        "failure_sample": [f"{o.kind}: {o.detail}" for o in outcomes if not o.ok][:5],
    }
    for kind, items in sorted(kinds.items()):
        good = [o.ms for o in items if o.ok]
        summary[kind] = {
            "done": len(good),
            "failed": len(items) - len(good),
            "p50_ms": round(percentile(good, 0.5), 1),
            "p99_ms": round(percentile(good, 0.99), 1),
        }
    return summary


# --- Decisions -----------------------------------------------------------------------------


def decisions(approvers: list[Person], targets: Targets, seconds: float) -> dict[str, Any]:
    """Each approver approves claim after claim (page, then form) for ``seconds``."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def work(person: Person) -> None:
        assert person.client is not None
        while time.monotonic() < until:
            claim_id = targets.take(targets.tier_1)
            if claim_id is None:
                return
            try:
                outcome = approve(person.client, claim_id)
            except Exception as error:
                outcome = Outcome("approve", False, 0, repr(error)[:300])
            with lock:
                outcomes.append(outcome)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(p,)) for p in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    good = [o.ms for o in outcomes if o.ok]
    return {
        "people": len(approvers),
        "decisions_per_second": round(len(good) / elapsed, 2),
        "p50_ms": round(percentile(good, 0.5), 1),
        "p99_ms": round(percentile(good, 0.99), 1),
        "errors": len(outcomes) - len(good),
        "failure_sample": [o.detail for o in outcomes if not o.ok][:3],
    }


def bulk_with_singles(
    bulk_person: Person,
    singles: list[Person],
    targets: Targets,
    size: int,
    worker: subprocess.Popen[bytes],
) -> dict[str, Any]:
    """One bulk approval of ``size`` claims (tier 1, through the list's bulk form, confirmed)
    while ``singles`` approve one claim after another; their latency while it runs. Fails
    at once if the job ``worker`` stops, and after 15 minutes without the job ending."""
    with targets.lock:
        chosen, targets.tier_1[:] = targets.tier_1[-size:], targets.tier_1[:-size]
    with psycopg.connect(database_url()) as conn:
        versions = dict(
            conn.execute("SELECT id, version FROM claim WHERE id = ANY(%s)", (chosen,)).fetchall()
        )
    client = bulk_person.client
    assert client is not None
    list_page = client.get("/claims?status=AWAITING_COMMISSIONER_REVIEW")
    form = form_posting_to(list_page.text, "/claims/bulk-approval")
    if form is None:
        return {"error": "no bulk approval form on the list page"}
    fields = [(k, v) for k, v in form.values() if k != "claim"]
    fields = [*fields, ("action", "TIER_1_APPROVE"), ("confirmed", "1")]
    fields += [("claim", f"{i}:{versions[i]}") for i in chosen]
    done = threading.Event()
    result: dict[str, Any] = {}

    def run_bulk() -> None:
        """Confirm the approval (answered at once: a job's page), then follow the job's
        progress as its page does until the worker has finished it."""
        client.csrf = None
        client.close()
        started = time.perf_counter()
        try:
            reply = client.post(form.action, fields)
            result["status"] = reply.status
            result["answered_ms"] = round((time.perf_counter() - started) * 1000, 1)
            job_path = reply.location.split("://", 1)[-1].partition("/")[2]
            if reply.status != 302 or not job_path.startswith("jobs/"):
                raise RuntimeError(f"not a job: {reply.status} {reply.location}")
            samples = []
            deadline = time.monotonic() + 900
            while True:
                if worker.poll() is not None:
                    raise RuntimeError(f"the job worker stopped ({worker.returncode}): its log")
                if time.monotonic() > deadline:
                    raise RuntimeError("the bulk approval's job did not end in 15 minutes")
                answer = client.get(f"/{job_path}/progress")
                if answer.status != 200:
                    # Said in the figures (bulk_status): the page's answer, not a JSON error.
                    raise RuntimeError(
                        f"the job's progress answered {answer.status} {answer.location}: "
                        f"{answer.text[:120]!r}"
                    )
                progress = json.loads(answer.text)
                samples.append(progress["done"])
                if progress["ended"]:
                    result["summary"] = progress["summary"]
                    result["job_status"] = progress["status"]
                    break
                time.sleep(1)
            result["progress_samples"] = len(samples)
            result["progress_seen"] = sorted(set(samples))[:10]
        except Exception as error:
            result["status"] = repr(error)[:200]
        finally:
            result["seconds"] = round(time.perf_counter() - started, 2)
            done.set()

    outcomes: list[Outcome] = []

    def single(person: Person) -> None:
        assert person.client is not None
        while not done.is_set():
            claim_id = targets.take(targets.tier_1)
            if claim_id is None:
                return
            try:
                outcomes.append(approve(person.client, claim_id))
            except Exception as error:
                outcomes.append(Outcome("approve", False, 0, repr(error)[:300]))

    with psycopg.connect(database_url()) as conn:
        before = conn.execute(
            WAITING_PAYMENT,
            (chosen,),
        ).fetchone()
    bulk = threading.Thread(target=run_bulk, daemon=True)
    threads = [threading.Thread(target=single, args=(p,)) for p in singles]
    bulk.start()
    time.sleep(0.2)
    for thread in threads:
        thread.start()
    bulk.join()
    for thread in threads:
        thread.join()
    with psycopg.connect(database_url()) as conn:
        after = conn.execute(
            WAITING_PAYMENT,
            (chosen,),
        ).fetchone()
    good = [o.ms for o in outcomes if o.ok]
    return {
        "bulk_claims": size,
        "bulk_status": result.get("status"),
        # The confirmation answers at once (the job's page); the worker approves.
        "bulk_answered_ms": result.get("answered_ms"),
        "bulk_seconds": result.get("seconds"),
        "bulk_summary": result.get("summary"),
        "bulk_job_status": result.get("job_status"),
        "bulk_progress_seen": result.get("progress_seen"),
        "bulk_approved": (after[0] if after else 0) - (before[0] if before else 0),
        "single_people": len(singles),
        "single_approvals": len(good),
        "single_p50_ms": round(percentile(good, 0.5), 1),
        "single_p99_ms": round(percentile(good, 0.99), 1),
        "single_errors": len(outcomes) - len(good),
        "failure_sample": [o.detail for o in outcomes if not o.ok][:3],
    }


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database if loaded")
    parser.add_argument("--practices", type=int, default=150)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=120, help="people browsing in the mix")
    parser.add_argument("--writes-per-second", type=float, default=5.0)
    parser.add_argument(
        "--pages",
        default=",".join(ALL_PAGES),
        help=f"page kinds the mix opens (of {', '.join(ALL_PAGES)})",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=30, help="each measurement's length")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database", default=SETTINGS["database"], help="dropped and made")
    parser.add_argument("--out", type=Path, help="the results file (default bench/results/)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["ceiling", "pages", "mix", "decisions", "bulk"],
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    SETTINGS["database"] = args.database
    parts = set(args.only or ["ceiling", "pages", "mix", "decisions", "bulk"])
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = set(pages) - set(ALL_PAGES)
    if unknown:
        parser.error(f"unknown page kinds: {', '.join(sorted(unknown))}")
    rng = random.Random(args.seed)

    evidence_dir = tempfile.mkdtemp(prefix="claims-load-evidence-")
    work = Path(tempfile.mkdtemp(prefix="claims-load-"))
    app = prepare_database(args, evidence_dir)
    people = read_people(app)
    catalogue = read_catalogue()
    targets = read_targets()
    port = claims_http.free_port()
    log = work / "access.log"
    server = start_gunicorn(args, port, evidence_dir, log)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "server": f"gunicorn -w {args.workers} -k gthread --threads {args.threads}",
        "connections": args.connections,
        "seconds": args.seconds,
        "page_cache": importlib.util.find_spec("claims_portal.core.page_cache") is not None,
    }
    with psycopg.connect(database_url()) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM claim), (SELECT count(*) FROM user_account),"
            " (SELECT count(*) FROM organisation WHERE kind = 'GP_PRACTICE'),"
            " (SELECT count(*) FROM scheme)"
        ).fetchone()
    assert counts is not None
    results["data"] = dict(zip(("claims", "people", "practices", "schemes"), counts, strict=True))
    try:
        by_role: dict[str, list[Person]] = defaultdict(list)
        for person in people:
            by_role[person.role].append(person)
        icb_tier_1 = [p for p in by_role["APPROVER_TIER_1"] if p.sub_location_id is None]
        icb_tier_2 = [p for p in by_role["APPROVER_TIER_2"] if p.sub_location_id is None]
        one_step_staff = [
            p for p in by_role["PROVIDER_USER_SINGLE"] if targets.drafts.get(p.practice_id or 0)
        ]
        # Writers (mix), approvers (decisions and bulk) and browsers are different people.
        writers = {
            "tier_1": icb_tier_1[:3],
            "tier_2": icb_tier_2[:2],
            "practice": one_step_staff[:8],
        }
        approvers = icb_tier_1[3:20]
        reserved = {p.email for group in writers.values() for p in group} | {
            p.email for p in approvers
        }
        browsers_pool = [p for p in people if p.email not in reserved]
        rng.shuffle(browsers_pool)
        browsers = browsers_pool[: args.people]
        print(
            f"signing in {len(browsers)} browsing people, "
            f"{sum(len(v) for v in writers.values())} writers, {len(approvers)} approvers"
        )
        started = time.perf_counter()
        sign_in_all(port, [*browsers, *(p for g in writers.values() for p in g), *approvers])
        results["sign_in_seconds"] = round(time.perf_counter() - started, 1)
        results["people_browsing"] = len(browsers)
        results["people_by_role"] = {
            role: sum(p.role == role for p in browsers) for role in sorted(by_role)
        }

        if "ceiling" in parts:
            ceiling_file = single_path_file(work / "ceiling.txt", "", ["/bench/ceiling"])
            results["ceiling"] = run_wrk(base, ceiling_file, args)
            print(f"ceiling {results['ceiling']['rps']:.0f}/s")

        if "pages" in parts:
            commissioner = approvers[-1]  # an ICB tier 1 approver: all 100,000 claims
            assert commissioner.client is not None
            assert commissioner.client.cookie
            cookie = commissioner.client.cookie
            scheme = catalogue.schemes[0]
            alone = {
                "list": ["/claims"],
                "list-filtered": [f"/claims?status=AWAITING_PAYMENT_APPROVAL&scheme={scheme}"],
                "claim": [f"/claims/{i}" for i in catalogue.commissioner_claims[:500]],
                "home": ["/"],
                # The floor for any signed-in page: the layout (header with its counts,
                # navigation, footer) around static text, the person and their session read.
                "signed-in-floor": ["/accessibility"],
            }
            results["pages"] = {}
            for kind, paths in alone.items():
                file = single_path_file(work / f"alone-{kind}.txt", cookie, paths)
                results["pages"][kind] = run_wrk(base, file, args)
                print(f"{kind} alone {results['pages'][kind]['rps']:.0f}/s")

        if "mix" in parts:
            mix_file = work / "mix.txt"
            lines = write_paths(mix_file, browsers, pages, catalogue, rng, per_person=200)
            results["mix_lines"] = lines
            writer = Writers(writers, targets, args.writes_per_second)
            warming = threading.Thread(target=writer.run, args=(args.warmup,))
            warming.start()  # the warm-up has writes going on too
            warm_up(base, mix_file, args)
            warming.join()
            writer.outcomes.clear()
            memory_start = memory(server.pid)
            offset = log.stat().st_size
            writing = threading.Thread(target=writer.run, args=(args.seconds,))
            writing.start()
            measured = measure(base, mix_file, args)
            writing.join()
            end = log.stat().st_size
            memory_end = memory(server.pid)
            kinds = log_figures(log, offset, end, args.seconds)
            kinds.pop("other", None)
            results["mix"] = {
                **measured,
                "pages": pages,
                "people": len(browsers),
                "of_ceiling": round(measured["rps"] / results["ceiling"]["rps"], 3)
                if "ceiling" in results
                else None,
                "per_kind": kinds,
                "writes": write_summary(writer.outcomes, args.seconds),
            }
            results["memory"] = {"start_mib": memory_start, "end_mib": memory_end}
            print(f"mix {measured['rps']:.0f}/s")

        if "decisions" in parts:
            results["decisions"] = {}
            for n in (1, 4, 16):
                results["decisions"][str(n)] = decisions(approvers[:n], targets, args.seconds / 2)
                print(
                    f"decisions with {n}: {results['decisions'][str(n)]['decisions_per_second']}/s"
                )

        if "bulk" in parts:
            worker = start_worker(evidence_dir, work / "worker.log")
            try:
                results["bulk"] = bulk_with_singles(
                    approvers[16], approvers[:4], targets, 500, worker
                )
            except Exception as error:  # the figures so far are still written
                traceback.print_exc()
                results["bulk"] = {"error": repr(error)}
            finally:
                claims_http.stop(worker)
            print(f"bulk: {results['bulk']}")
    finally:
        claims_http.stop(server)
        shutil.rmtree(evidence_dir, ignore_errors=True)
        results["machine"]["load_average_at_end"] = os.getloadavg()
    report(results)
    out = args.out or ROOT / "bench" / "results" / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    shutil.rmtree(work, ignore_errors=True)
    print(f"\nwritten to {out}")


def report(results: dict[str, Any]) -> None:
    ceiling = results.get("ceiling", {}).get("rps")
    print(f"\n{results['server']}, {results['connections']} connections, {results['seconds']} s")
    print(f"{'measure':<36} {'req/s':>8} {'of ceil':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")

    def row(label: str, r: dict[str, Any]) -> None:
        share = f"{r['rps'] / ceiling:.0%}" if ceiling else ""
        print(
            f"{label:<36} {r['rps']:>8.0f} {share:>8} {r['p50_ms'] or 0:>8.1f} "
            f"{r['p99_ms'] or 0:>8.1f} {r['errors']:>7}"
        )

    if "ceiling" in results:
        row("ceiling (1 query, 50 rows)", results["ceiling"])
    for kind, r in results.get("pages", {}).items():
        row(f"alone: {kind}", r)
    if "mix" in results:
        mix = results["mix"]
        row(f"mix ({mix['people']} people)", mix)
        for kind, r in mix["per_kind"].items():
            row(f"  mix: {kind} (server time)", r)
        w = mix["writes"]
        print(
            f"  writes meanwhile: {w['writes_per_second']}/s done, {w['failed']} failed "
            + ", ".join(
                f"{k} p99 {v['p99_ms']} ms"
                for k, v in w.items()
                if isinstance(v, dict) and "p99_ms" in v
            )
        )
    if "memory" in results:
        m = results["memory"]
        print(f"worker memory (MiB) at the mix's start {m['start_mib']}, at its end {m['end_mib']}")
    for n, d in results.get("decisions", {}).items():
        print(
            f"decisions, {n:>2} approvers: {d['decisions_per_second']}/s, "
            f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms, {d['errors']} errors"
        )
    if "bulk" in results:
        b = results["bulk"]
        print(
            f"bulk approval of {b.get('bulk_claims')}: answered in {b.get('bulk_answered_ms')} ms, "
            f"done by the worker in {b.get('bulk_seconds')} s "
            f"({b.get('bulk_approved')} approved: {b.get('bulk_summary')}); "
            "single approvals meanwhile: "
            f"{b.get('single_approvals')}, p99 {b.get('single_p99_ms')} ms, "
            f"{b.get('single_errors')} errors"
        )


if __name__ == "__main__":
    main()
