"""The stand-in payments agency (payments/stand_in_agency.py), run as a real process
(`claims-portal stand-in-agency`) against a drop folder and against S3 on moto's server."""

# The fixtures are imported (tests/payments has no conftest of its own), so their names
# are parameters here too:
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claims_portal.payments.files import payment_file_chunks, read_payment_file
from claims_portal.payments.responses import (
    Outcome,
    acknowledgement_problems,
    read_acknowledgement,
    read_remittance,
)
from claims_portal.payments.stand_in_agency import agency_reference
from claims_portal.payments.transport import AreaTransport, DropFolder
from tests.claims.evidence.helpers import (  # noqa: F401 - moto's server, shared with evidence
    BUCKET,
    REGION,
    aws_credentials,
    moto_endpoint,
    s3_client,
)
from tests.payments.transport_helpers import a_file, a_row, kind, transport  # noqa: F401

COMMAND = str(Path(sys.executable).with_name("claims-portal"))
T0 = "2026-12-01T15:00:00+00:00"


@pytest.fixture
def where(transport: AreaTransport, tmp_path: Path, request: pytest.FixtureRequest) -> list[str]:
    """The stand-in's options for the test's transport."""
    if transport.name == "folder":
        return ["--folder", str(tmp_path)]
    return [
        "--s3-bucket",
        BUCKET,
        "--s3-prefix",
        "payments/",
        "--s3-region",
        REGION,
        "--s3-endpoint-url",
        request.getfixturevalue("moto_endpoint"),
    ]


def stand_in(where: list[str], *options: str, env: dict[str, str] | None = None) -> list[Any]:
    """One pass of the stand-in, in a process of its own; its JSON lines."""
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        [COMMAND, "stand-in-agency", "--once", *where, *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def acknowledgement_of(transport: AreaTransport, summary: dict[str, Any]) -> Any:
    return read_acknowledgement(transport.read(summary["acknowledgement"]))


def sha256_of(data: bytes) -> str:
    return read_payment_file(data).trailer.sha256


def test_accept_all(transport: AreaTransport, where: list[str]) -> None:
    first, second = a_file(3), a_file(1)
    transport.send("pay-QHM-1.csv", [first])
    transport.send("pay-QHM-2.csv", [second])
    summaries = stand_in(where)
    assert transport.sent() == []  # taken
    assert {s["file"]: (s["outcome"], s["rows"], s["accepted"]) for s in summaries} == {
        "pay-QHM-1.csv": ("accepted", 3, 3),
        "pay-QHM-2.csv": ("accepted", 1, 1),
    }
    assert sorted(transport.responses()) == sorted(
        [f"ack-{sha256_of(first)}-1.csv", f"ack-{sha256_of(second)}-1.csv"]
    )
    in_order = sorted(summaries, key=lambda s: s["file"])
    for summary, data in zip(in_order, (first, second), strict=True):
        ack = acknowledgement_of(transport, summary)
        assert ack.outcome is Outcome.ACCEPTED
        assert {row.outcome for row in ack.rows} == {Outcome.ACCEPTED}
        references = [row.payment_reference for row in read_payment_file(data).rows]
        assert acknowledgement_problems(ack, sha256_of(data), references) == []
    assert len(transport.names("agency/answered")) == 2
    assert stand_in(where) == []  # nothing new: nothing answered twice


def test_reject_some_rows(transport: AreaTransport, where: list[str]) -> None:
    transport.send("pay-1.csv", [a_file(5)])
    [summary] = stand_in(where, "--reject", "PAY-000001", "--reject-every", "2")
    assert (summary["outcome"], summary["accepted"], summary["rejected"]) == ("accepted", 2, 3)
    ack = acknowledgement_of(transport, summary)
    assert ack.outcome is Outcome.ACCEPTED
    assert [(row.payment_reference, row.outcome, row.reason) for row in ack.rows] == [
        ("PAY-000001", Outcome.REJECTED, "practice not set up for this paycode"),
        ("PAY-000002", Outcome.REJECTED, "practice not set up for this paycode"),
        ("PAY-000003", Outcome.ACCEPTED, ""),
        ("PAY-000004", Outcome.REJECTED, "practice not set up for this paycode"),
        ("PAY-000005", Outcome.ACCEPTED, ""),
    ]


def test_reject_the_file(transport: AreaTransport, where: list[str]) -> None:
    transport.send("pay-1.csv", [a_file(2)])
    [summary] = stand_in(where, "--mode", "reject-file", "--reason", "account closed")
    ack = acknowledgement_of(transport, summary)
    assert (ack.outcome, ack.reason, ack.rows) == (Outcome.REJECTED, "account closed", ())
    assert ack.file_sha256 == sha256_of(a_file(2))


def test_a_file_that_does_not_read_is_rejected_with_the_first_problem(
    transport: AreaTransport, where: list[str]
) -> None:
    good = a_file(2)
    bad = good.replace(b",2.50,", b",9.50,")  # the trailer's total no longer adds up
    transport.send("pay-bad.csv", [bad])
    [summary] = stand_in(where)
    ack = acknowledgement_of(transport, summary)
    assert ack.outcome is Outcome.REJECTED
    assert ack.reason == "line 4, total: says 4.00; the rows add up to 11.00"
    assert ack.file_sha256 == sha256_of(good)  # the SHA-256 its trailer claims
    transport.send("pay-junk.csv", [b"not a payment file\n"])
    [summary] = stand_in(where)
    ack = acknowledgement_of(transport, summary)
    assert ack.outcome is Outcome.REJECTED
    assert ack.reason.startswith("line 1")


def test_silent_takes_the_file_and_never_answers(
    transport: AreaTransport, where: list[str]
) -> None:
    transport.send("pay-1.csv", [a_file()])
    assert stand_in(where, "--mode", "silent") == [{"file": "pay-1.csv", "outcome": "silent"}]
    assert transport.sent() == []
    assert transport.responses() == []
    assert stand_in(where) == []  # an answering pass later does not answer it either
    assert transport.responses() == []
    assert len(transport.names("agency/ignored")) == 1


def test_late_answers_only_after_the_delay(transport: AreaTransport, where: list[str]) -> None:
    transport.send("pay-1.csv", [a_file()])
    late = ["--mode", "late", "--late-seconds", "60"]
    [first] = stand_in(where, *late, "--now", T0)
    assert first["outcome"] == "waiting"
    assert transport.sent() == []
    assert transport.responses() == []
    [second] = stand_in(where, *late, "--now", "2026-12-01T15:00:59+00:00")
    assert second["outcome"] == "waiting"
    assert transport.responses() == []
    [third] = stand_in(where, *late, "--now", "2026-12-01T15:01:00+00:00")
    assert third["outcome"] == "accepted"
    assert transport.responses() == [f"ack-{sha256_of(a_file())}-1.csv"]
    assert stand_in(where, *late, "--now", "2026-12-01T16:00:00+00:00") == []


def test_a_resend_is_answered_again_and_numbered(
    transport: AreaTransport, where: list[str]
) -> None:
    sha256 = sha256_of(a_file())
    transport.send("pay-1.csv", [a_file()])
    stand_in(where, "--mode", "silent")
    transport.send("pay-1.csv", [a_file()])  # no answer came: sent again, same name and bytes
    [answer] = stand_in(where)
    assert answer["acknowledgement"] == f"ack-{sha256}-1.csv"
    transport.done(answer["acknowledgement"])
    transport.send("pay-1.csv", [a_file()])  # and again
    [again] = stand_in(where)
    assert again["acknowledgement"] == f"ack-{sha256}-2.csv"
    assert transport.responses() == [f"ack-{sha256}-2.csv"]


def test_the_remittance_pays_the_accepted_rows_only(
    transport: AreaTransport, where: list[str]
) -> None:
    rows = [a_row("PAY-000001", "1250.00"), a_row("PAY-000002", "312.45")]
    rows.append(a_row("REC-000007", "-180.00"))
    paid_file = b"".join(payment_file_chunks(rows))
    transport.send("pay-1.csv", [paid_file])
    options = ["--reject", "PAY-000002", "--remit", "--paid-date", "2026-09-18"]
    [summary] = stand_in(where, *options)
    sha256 = sha256_of(paid_file)
    assert summary["remittance"] == f"remittance-{sha256}.csv"
    assert transport.responses() == [f"ack-{sha256}-1.csv", f"remittance-{sha256}.csv"]
    paid = read_remittance(transport.read(summary["remittance"]))
    assert [(p.payment_reference, str(p.paid_date), p.amount) for p in paid] == [
        ("PAY-000001", "2026-09-18", Decimal("1250.00")),
        ("REC-000007", "2026-09-18", Decimal("-180.00")),
    ]
    for row in paid:
        assert re.fullmatch(r"PCSE-[0-9]{6}", row.agency_reference)
        assert row.agency_reference == agency_reference(row.payment_reference)
    transport.send("pay-2.csv", [a_file()])
    [rejected] = stand_in(where, "--mode", "reject-file", "--remit")
    assert rejected["remittance"] is None  # a rejected file is not paid


# --- The command's other ways ---------------------------------------------------------------


def test_the_portals_own_settings_are_used_without_folder_or_bucket(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path / "share")
    folder.send("pay-1.csv", [a_file()])
    env = dict(os.environ, CLAIMS_PORTAL_ENV="test", PAYMENTS_FOLDER=str(tmp_path / "share"))
    env.pop("PAYMENTS_TRANSPORT", None)
    [summary] = stand_in([], env=env)
    assert summary["outcome"] == "accepted"
    assert folder.responses() == [summary["acknowledgement"]]


def test_it_runs_until_told_to_stop(tmp_path: Path) -> None:
    folder = DropFolder(tmp_path)
    agency = subprocess.Popen(  # noqa: S603 - our own command, no shell
        [COMMAND, "stand-in-agency", "--folder", str(tmp_path), "--every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        folder.send("pay-1.csv", [a_file()])
        deadline = time.monotonic() + 30
        while not folder.responses() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert folder.responses() == [f"ack-{sha256_of(a_file())}-1.csv"]
        agency.send_signal(signal.SIGTERM)
        out, err = agency.communicate(timeout=30)
    finally:
        if agency.poll() is None:
            agency.kill()
            agency.communicate()
    assert agency.returncode == 0, err
    assert json.loads(out.splitlines()[0])["file"] == "pay-1.csv"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--mode", "reject-file", "--reject", "PAY-1"], "go with --mode reject-rows"),
        (["--mode", "reject-rows"], "needs --reject REF or --reject-every N"),
        (["--folder", "x", "--s3-bucket", "b"], "not both"),
    ],
)
def test_options_that_do_not_fit_are_refused(options: list[str], message: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        [COMMAND, "stand-in-agency", "--once", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
