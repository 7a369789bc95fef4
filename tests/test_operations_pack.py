"""The operations pack (docs/operations.md): the image, gunicorn's settings and the process
definitions. No container engine runs here, so the Dockerfile is read, not built: it must
install with the Makefile's own commands, as a non-root user, with libmagic. The web process
is started from the Procfile's line against PostgreSQL and Redis, as production runs it."""

from __future__ import annotations

import ast
import configparser
import gc
import json
import os
import re
import runpy
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from claims_portal.access.sealing import new_key
from claims_portal.config import PROJECT_ROOT
from tests.helpers import migrated_app
from tests.jobs.helpers import forget_keys, redis_problem

PROCESSES = ("release", "web", "worker", "scheduler")


def procfile() -> dict[str, str]:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    kinds = dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {kind.strip(): command.strip() for kind, command in kinds.items()}


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Each stage's instructions (continuation lines joined), by the stage's name."""
    text = re.sub(r"\\\n\s*", " ", (PROJECT_ROOT / "Dockerfile").read_text())
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.strip().partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            current = stages.setdefault(rest.split()[-1], [])
        current.append((instruction, rest.strip()))
    return stages


def makefile_recipe(target_pattern: str) -> list[str]:
    """The commands of the Makefile rule whose target matches ``target_pattern``, with the
    Makefile's variables as the Dockerfile spells them ($(BIN) is .venv/bin)."""
    lines = (PROJECT_ROOT / "Makefile").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(target_pattern, line):
            commands = []
            for recipe in lines[index + 1 :]:
                if not recipe.startswith("\t"):
                    break
                commands.append(recipe.strip().replace("$(BIN)", ".venv/bin").replace("$@", ""))
            return [c for c in commands if not c.startswith("touch")]
    raise AssertionError(f"no Makefile rule matches {target_pattern!r}")


def runs(instructions: list[tuple[str, str]]) -> str:
    return " && ".join(rest for instruction, rest in instructions if instruction == "RUN")


def test_the_image_installs_as_make_install_does() -> None:
    stages = dockerfile_stages()
    every_run = " && ".join(runs(instructions) for instructions in stages.values())
    pip_install = makefile_recipe(r"^\$\(VENV\)/\.installed:")
    npm_ci = makefile_recipe(r"^node_modules/\.package-lock\.json:")
    venv = makefile_recipe(r"^\$\(BIN\)/python:")
    assert pip_install == [".venv/bin/pip install --quiet -e ."]
    assert npm_ci == ["npm ci --no-audit --no-fund --loglevel=error"]
    for command in [*venv, *pip_install, *npm_ci]:
        command = command.replace("$(PYTHON) -m venv $(VENV)", "python -m venv .venv")
        assert command in every_run, f"the Dockerfile does not run the Makefile's {command!r}"


def test_the_image_runs_gunicorn_as_a_non_root_user_with_libmagic() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "a multi-stage build"
    runtime = list(stages.values())[-1]
    assert "libmagic1" in runs(runtime)
    assert "npm" not in runs(runtime)
    assert "pip install" not in runs(runtime)
    users = [rest for instruction, rest in runtime if instruction == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    copied = [rest for instruction, rest in runtime if instruction == "COPY"]
    assert any("/app/node_modules" in c for c in copied), "the npm assets are in the image"
    assert any(c.startswith("--from=build") for c in copied), "the venv is in the image"
    (cmd,) = [rest for instruction, rest in runtime if instruction == "CMD"]
    assert shlex.join(json.loads(cmd)) == procfile()["web"]
    assert not any(instruction == "ENTRYPOINT" for instruction, _ in runtime)


def test_migrations_are_the_release_step_never_the_web_start() -> None:
    processes = procfile()
    assert tuple(processes) == PROCESSES
    release = (PROJECT_ROOT / "deploy" / "release.sh").read_text()
    assert "claims-portal db upgrade" in release
    assert processes["release"] == "sh deploy/release.sh"
    assert "upgrade" not in processes["web"]
    # gunicorn.conf.py's hooks (metrics' on_starting and child_exit) never migrate.
    tree = ast.parse((PROJECT_ROOT / "gunicorn.conf.py").read_text())
    del tree.body[0]  # the docstring, which says where migrations run
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.startswith(("flask_migrate", "alembic"))}
    assert "claims_portal.cli" not in imported
    words = {
        node.id if isinstance(node, ast.Name) else getattr(node, "attr", None) or str(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name | ast.Attribute | ast.Constant)
    }
    assert not [word for word in words if "upgrade" in word or "migrat" in word]


def systemd_unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read(PROJECT_ROOT / "deploy" / "systemd" / f"claims-portal-{name}.service")
    return unit


@pytest.mark.parametrize("kind", ["web", "worker", "scheduler"])
def test_systemd_units_and_compose_run_the_procfile_commands(kind: str) -> None:
    service = systemd_unit(kind)["Service"]
    assert service["User"] == "claims-portal"
    assert service["EnvironmentFile"] == "/etc/claims-portal/env"
    assert service["Restart"] == "on-failure"
    program, *arguments = shlex.split(service["ExecStart"])
    assert program.startswith(service["WorkingDirectory"] + "/.venv/bin/")
    assert shlex.join([Path(program).name, *arguments]) == procfile()[kind]
    compose = yaml.safe_load((PROJECT_ROOT / "deploy" / "compose.yaml").read_text())
    assert shlex.join(compose["services"][kind]["command"]) == procfile()[kind]
    depends = compose["services"][kind]["depends_on"]
    assert depends["release"] == {"condition": "service_completed_successfully"}


# --- The web process, started from the Procfile ---------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def production_env(released: Any, port: int = 0, **settings: str) -> dict[str, str]:
    """A production configuration as bench/claims_http.server_env gives one, on the
    ``released`` app's database and this run's own queue and Redis keys."""
    prefix = f"claims-portal-ops-test-{os.getpid()}:"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLAIMS_PORTAL", "DATABASE_URL", "SECRET_KEY", "MFA_", "JOBS_"))
    }
    env.update(
        CLAIMS_PORTAL_ENV="production",
        SECRET_KEY="operations-pack-test-key-0123456789abcdef",
        MFA_SECRET_KEYS=new_key(),
        PUBLIC_BASE_URL="http://127.0.0.1",
        DATABASE_URL=released.config["SQLALCHEMY_DATABASE_URI"],
        MIGRATION_DATABASE_URL=released.config["MIGRATION_DATABASE_URL"],
        REDIS_URL="redis://127.0.0.1:6379/0",
        JOBS_QUEUE=f"{prefix}jobs",
        JOBS_KEY_PREFIX=prefix,
        MAIL_SEND_IMMEDIATELY="false",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        PATH=f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        **settings,
    )
    return env


def get(port: int, path: str) -> tuple[int, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def released() -> Iterator[Any]:
    """A database of its own, migrated as the release step does, whose rows the processes
    really commit; the processes' Redis keys and queue are this run's own."""
    if problem := redis_problem():
        pytest.fail(problem, pytrace=False)
    with migrated_app("_ops") as application:
        yield application
    forget_keys(f"claims-portal-ops-test-{os.getpid()}:")


def start(kind: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """The Procfile's ``kind`` line (with ``extra`` arguments after it), logging to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - the Procfile's own command line
            [*shlex.split(procfile()[kind]), *extra],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM (a graceful stop) to the process we started, by its pid."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
        raise


def test_the_web_process_starts_from_the_procfile_and_answers(
    released: Any, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "web.log"
    server = start("web", production_env(released, port), log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = get(port, "/healthz")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer /healthz:\n{log.read_text()}")
                time.sleep(0.3)
        assert answer == (200, {"status": "ok"})
        assert get(port, "/readyz") == (200, {"database": "ok", "status": "ok"})
    finally:
        code = stop(server)  # graceful: the master stops its workers
    assert code == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("Booting worker") for m in messages), messages
    # Only the portal's access lines (route, status, duration), none of gunicorn's own.
    access = [line for line in lines if line["logger"] == "claims_portal.requests"]
    assert {line["route"] for line in access} == {"/healthz", "/readyz"}
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]


def test_a_web_worker_puts_what_it_loaded_out_of_the_collectors_sight() -> None:
    """gunicorn.conf.py's post_worker_init freezes the loaded app (gc.freeze), so full
    collections in a busy worker do not walk it again and again."""
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("kind", ["worker", "scheduler"])
def test_the_worker_and_scheduler_lines_are_the_portals_own_commands(kind: str) -> None:
    from click.testing import CliRunner

    from claims_portal.cli import main

    program, *arguments = shlex.split(procfile()[kind])
    assert program == "claims-portal"
    result = CliRunner().invoke(main, [*arguments, "--help"], env={"CLAIMS_PORTAL_ENV": "test"})
    assert result.exit_code == 0, result.output
    assert "Celery" in result.output


def test_the_worker_and_scheduler_start_from_the_procfile_and_run_the_schedule(
    released: Any, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from claims_portal.extensions import db
    from claims_portal.jobs.models import JobOutcome, JobRun

    env = production_env(released, JOBS_SCHEDULE="mail.sweep-outbox=every 2 seconds")
    worker = start("worker", env, tmp_path / "worker.log", "--concurrency=1")
    # The scheduler's state file in the test's folder, not the checkout's instance/.
    scheduler = start(
        "scheduler", env, tmp_path / "scheduler.log", f"--schedule={tmp_path / 'beat'}"
    )
    try:
        deadline = time.monotonic() + 60
        with released.app_context():
            while True:
                kinds = set(
                    db.session.scalars(
                        select(JobRun.kind).where(JobRun.outcome == JobOutcome.SUCCEEDED)
                    )
                )
                db.session.rollback()
                if kinds:
                    break
                if time.monotonic() > deadline or None not in (worker.poll(), scheduler.poll()):
                    pytest.fail(
                        "no scheduled run succeeded:\n"
                        + (tmp_path / "worker.log").read_text()
                        + (tmp_path / "scheduler.log").read_text()
                    )
                time.sleep(0.5)
    finally:
        codes = [stop(scheduler), stop(worker)]
    assert kinds == {"mail.sweep-outbox"}
    assert codes == [0, 0]
    # Their output is log lines, as JSON: no start-up banner (Celery's --quiet), warnings
    # (Celery's about running as root) logged; only Celery's own last word at a stop is not.
    for log in ("worker.log", "scheduler.log"):
        lines = [
            line
            for line in (tmp_path / log).read_text().splitlines()
            if line.strip() and "Warm shutdown" not in line
        ]
        assert lines, log
        assert all(isinstance(json.loads(line), dict) for line in lines), log
