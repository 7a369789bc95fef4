"""Run the date-sensitive suites as of the moments that break date code (``make test``).

Each moment is the next one of its kind after the real now, in England local time: just
after midnight on the 1st of a month, just before midnight on a month's last day, the
financial year's turn (31 March 23:30 and 1 April 00:30), a leap day, and 01:30 on both
clock-change Sundays (a time that does not exist in spring and happens twice in autumn).
Runs go two at a time (each has its own database); the exit code is non-zero if any fails,
and then the last notable lines of PostgreSQL's log follow the runs' own (a connection the
server ended says so there).

``--with-main-suite`` runs the whole suite at the real now (all but the calculation core's,
``make test``) as one more of the runs, first, with its output shown as it goes: the two
cores stay busy until the last run ends, instead of one idling while the last moment runs
alone and the whole suite waiting for all seven (on the slow machine of 2 December: about
85 minutes estimated one after the other from a stopped run, 67 minutes measured this way).

    python scripts/awkward_moments.py [--list] [--with-main-suite] [pytest arguments ...]
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")

#: The suites whose rules depend on the date: claim windows, periods, tariffs in force,
#: financial years, sessions, tokens and lockouts, demo data, lists filtered by month;
#: national services' years, achievement dates, offer dates and amendment windows; payment
#: runs on working days, cut-offs and statements by month.
SUITES = [
    "tests/schemes",
    "tests/claims",
    "tests/messages",
    "tests/national",
    "tests/payments",
    "tests/test_demo.py",
    "tests/access/test_sign_in.py",
    "tests/access/test_lockout_and_reset.py",
    "tests/access/test_memberships.py",
    "tests/access/test_mfa.py",
]


def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def _next(now: dt.datetime, candidates: list[dt.datetime]) -> dt.datetime:
    return min(c for c in candidates if c > now)


def moments(now: dt.datetime) -> dict[str, str]:
    """Label -> ``YYYY-MM-DDTHH:MM`` (England) for each awkward moment after ``now``."""
    years = range(now.year, now.year + 9)
    first_of_months = [
        dt.datetime(y, m, 1, 0, 5, tzinfo=ENGLAND) for y in years for m in range(1, 13)
    ]
    month_ends = [
        dt.datetime(y, m, calendar.monthrange(y, m)[1], 23, 55, tzinfo=ENGLAND)
        for y in years
        for m in range(1, 13)
    ]
    chosen = {
        "just after midnight on the 1st": _next(now, first_of_months),
        "just before midnight on a month's last day": _next(now, month_ends),
        "31 March 23:30": _next(
            now, [dt.datetime(y, 3, 31, 23, 30, tzinfo=ENGLAND) for y in years]
        ),
        "1 April 00:30": _next(now, [dt.datetime(y, 4, 1, 0, 30, tzinfo=ENGLAND) for y in years]),
        "29 February": _next(
            now, [dt.datetime(y, 2, 29, 9, 0, tzinfo=ENGLAND) for y in years if calendar.isleap(y)]
        ),
        "01:30 on the spring clock change": _next(
            now,
            [
                dt.datetime.combine(_last_sunday(y, 3), dt.time(1, 30), tzinfo=ENGLAND)
                for y in years
            ],
        ),
        "01:30 on the autumn clock change": _next(
            now,
            [
                dt.datetime.combine(_last_sunday(y, 10), dt.time(1, 30), tzinfo=ENGLAND)
                for y in years
            ],
        ),
    }
    return {label: moment.strftime("%Y-%m-%dT%H:%M") for label, moment in chosen.items()}


def _run(moment: str, extra: list[str]) -> tuple[str, int, float, str]:
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", *SUITES, "-q", "-p", "no:cacheprovider"]
    command += [f"--today={moment}", *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return moment, result.returncode, time.monotonic() - started, "\n".join(lines[-25:])


def _run_main_suite(environment: dict[str, str]) -> tuple[int, float]:
    """The whole suite at the real now, in the environment ``make`` gave (its output shown
    as it goes: the moments' own lines are printed after it ends)."""
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", "--ignore=tests/calculation"]
    result = subprocess.run(command, env=environment, check=False)  # noqa: S603
    return result.returncode, time.monotonic() - started


def main(argv: list[str]) -> int:
    now = dt.datetime.now(ENGLAND)
    chosen = moments(now)
    if "--list" in argv:
        for label, moment in chosen.items():
            print(f"{moment}  {label}")
        return 0
    with_main = "--with-main-suite" in argv
    argv = [arg for arg in argv if arg != "--with-main-suite"]
    environment = dict(os.environ)  # the whole suite's: its warnings come from pyproject.toml
    os.environ.setdefault("PYTHONWARNINGS", "error")
    failed = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        # The longest run first, so that the moments fill the other core meanwhile.
        main_suite = pool.submit(_run_main_suite, environment) if with_main else None
        runs = [pool.submit(_run, moment, argv) for moment in chosen.values()]
        if main_suite is not None:
            code, seconds = main_suite.result()
            outcome = "passed" if code == 0 else f"FAILED (exit {code})"
            print(f"the whole suite at the real now: {outcome} in {seconds:.0f} s", flush=True)
            if code != 0:
                failed += 1
        for label, run in zip(chosen, runs, strict=True):
            moment, code, seconds, tail = run.result()
            outcome = "passed" if code == 0 else f"FAILED (exit {code})"
            print(f"--today={moment} ({label}): {outcome} in {seconds:.0f} s", flush=True)
            if code != 0:
                failed += 1
                print(tail)
    runs_made = len(chosen) + (1 if with_main else 0)
    print(f"runs: {runs_made - failed} passed, {failed} failed")
    if failed:
        _print_server_log()
    return 1 if failed else 0


#: PostgreSQL's log as Debian's packages keep it, and the lines in it that tell of a
#: connection ended on the server's side (a restart, a terminated backend, no slots left).
SERVER_LOGS = "/var/log/postgresql"
_NOTABLE = re.compile(r"FATAL|PANIC|terminat|server process|too many|out of memory|No space")


def _print_server_log(lines: int = 20) -> None:
    """After a failure: the server log's notable lines, last first, so that a run's lost
    connection says whether the server ended it (the runs' own output is only the tests')."""
    found: list[str] = []
    for log in sorted(Path(SERVER_LOGS).glob("postgresql-*.log")):
        with contextlib.suppress(OSError):
            found += [line for line in log.read_text(errors="replace").splitlines()
                      if _NOTABLE.search(line)]  # fmt: skip
    if found:
        print(f"PostgreSQL's log ({SERVER_LOGS}), its last notable lines:")
        print("\n".join(found[-lines:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
