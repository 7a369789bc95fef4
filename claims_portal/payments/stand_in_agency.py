"""A stand-in for the payments agency, for the tests and for trying the portal by hand.

It works the transport from the agency's side (``claims-portal stand-in-agency``,
docs/payments.md, "Transport and the stand-in agency"): each pass takes every payment file
in ``outgoing/`` into its own area, and answers the files it holds by its mode with an
acknowledgement in ``incoming/`` (and, with ``remit``, a remittance paying the accepted
rows). Its areas, beside the portal's:

- ``agency/received/<moment>--<name>``: files taken and not yet answered (the moment it took
  them, ``20261201T150000123456Z``, is in the name, so ``late`` can wait and a resend of the
  same name is a new file);
- ``agency/answered/<moment>--<name>``: files answered;
- ``agency/ignored/<moment>--<name>``: files taken while ``silent`` (never answered);
- ``agency/sent/<name>``: a copy of every acknowledgement and remittance it wrote.

A file that does not read (``files.read_payment_file``) is rejected with the reader's first
problem as the reason, named by the SHA-256 its trailer claims (of the whole file when the
trailer has none).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import click

from claims_portal import clock
from claims_portal.payments.files import FileInvalid, PaymentFile, read_payment_file
from claims_portal.payments.responses import (
    Acknowledgement,
    Outcome,
    PaidRow,
    RowOutcome,
    write_acknowledgement,
    write_remittance,
)
from claims_portal.payments.transport import (
    INCOMING,
    OUTGOING,
    AreaTransport,
    DropFolder,
    S3Transport,
    TransportError,
    transport_for,
)

__all__ = [
    "ANSWERED",
    "IGNORED",
    "RECEIVED",
    "SENT",
    "AgencyRules",
    "Mode",
    "agency_pass",
    "agency_reference",
    "stand_in_agency_command",
]

RECEIVED = "agency/received"
ANSWERED = "agency/answered"
IGNORED = "agency/ignored"
SENT = "agency/sent"

ROW_REASON = "practice not set up for this paycode"
FILE_REASON = "payment file not expected from this account"

_STAMP = "%Y%m%dT%H%M%S%fZ"
_SEPARATOR = "--"
_SHA256 = re.compile(rb"TRAILER,[^\r\n]*,([0-9a-f]{64})\r?\n?\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Mode(StrEnum):
    ACCEPT = "accept"
    REJECT_ROWS = "reject-rows"
    REJECT_FILE = "reject-file"
    SILENT = "silent"
    LATE = "late"


@dataclass(frozen=True)
class AgencyRules:
    """How the stand-in answers (the command's options)."""

    mode: Mode = Mode.ACCEPT
    #: ``reject-rows``: payment references to reject, and/or every Nth row (1-based).
    reject: frozenset[str] = field(default_factory=frozenset)
    reject_every: int = 0
    row_reason: str = ROW_REASON
    file_reason: str = FILE_REASON
    #: ``late``: a file is answered once held at least this long.
    late_seconds: float = 3600.0
    #: Also pay the accepted rows, on ``paid_date`` (today in England when None).
    remit: bool = False
    paid_date: dt.date | None = None

    def rejects(self, position: int, reference: str) -> bool:
        if self.mode is not Mode.REJECT_ROWS:
            return False
        every = self.reject_every > 0 and position % self.reject_every == 0
        return every or reference in self.reject


def agency_reference(payment_reference: str) -> str:
    """The agency's reference for a paid row: ``PCSE-`` and six digits, always the same for
    the same payment reference."""
    digest = hashlib.sha256(payment_reference.encode("utf-8")).digest()
    return f"PCSE-{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def agency_pass(
    transport: AreaTransport, rules: AgencyRules, now: dt.datetime
) -> list[dict[str, Any]]:
    """One pass: take every file in ``outgoing/``, then answer the files held (by
    ``rules``). Returns one summary per file taken or held (``outcome``: ``accepted``,
    ``rejected``, ``silent`` (taken, never to be answered) or ``waiting`` (``late``))."""
    summaries: list[dict[str, Any]] = []
    stamp = now.astimezone(dt.UTC).strftime(_STAMP)
    to_area = IGNORED if rules.mode is Mode.SILENT else RECEIVED
    for name in transport.names(OUTGOING):
        held = f"{stamp}{_SEPARATOR}{name}"
        if transport.move(OUTGOING, name, to_area, held) and rules.mode is Mode.SILENT:
            summaries.append({"file": name, "outcome": "silent"})
    if rules.mode is Mode.SILENT:
        return summaries
    for held in sorted(transport.names(RECEIVED)):
        received_at, _, name = held.partition(_SEPARATOR)
        waited = (now - _moment(received_at)).total_seconds()
        if rules.mode is Mode.LATE and waited < rules.late_seconds:
            summaries.append({"file": name, "outcome": "waiting", "held_seconds": waited})
            continue
        summaries.append(_answer(transport, rules, held, name, now))
    return summaries


def _moment(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, _STAMP).replace(tzinfo=dt.UTC)


def _answer(
    transport: AreaTransport,
    rules: AgencyRules,
    held: str,
    name: str,
    now: dt.datetime,
) -> dict[str, Any]:
    data = transport.get(RECEIVED, held)
    payment_file: PaymentFile | None = None
    try:
        payment_file = read_payment_file(data)
    except FileInvalid as exc:
        reason = str(exc.problems[0]) if exc.problems else "the file cannot be read"
        acknowledgement = Acknowledgement(
            _claimed_sha256(data), Outcome.REJECTED, _plain(reason), ()
        )
    else:
        acknowledgement = _acknowledge(payment_file, rules)
    sha256 = acknowledgement.file_sha256
    number = 1 + sum(1 for sent in transport.names(SENT) if sent.startswith(f"ack-{sha256}-"))
    ack_name = f"ack-{sha256}-{number}.csv"
    _send_response(transport, ack_name, _bytes_of(write_acknowledgement, acknowledgement))
    accepted = [row for row in acknowledgement.rows if row.outcome is Outcome.ACCEPTED]
    summary: dict[str, Any] = {
        "file": name,
        "sha256": sha256,
        "outcome": str(acknowledgement.outcome),
        "reason": acknowledgement.reason,
        "rows": len(acknowledgement.rows),
        "accepted": len(accepted),
        "rejected": len(acknowledgement.rows) - len(accepted),
        "acknowledgement": ack_name,
        "remittance": None,
    }
    if rules.remit and payment_file is not None and accepted:
        summary["remittance"] = _remit(transport, rules, payment_file, accepted, now)
    transport.move(RECEIVED, held, ANSWERED)
    return summary


def _acknowledge(payment_file: PaymentFile, rules: AgencyRules) -> Acknowledgement:
    sha256 = payment_file.trailer.sha256
    if rules.mode is Mode.REJECT_FILE:
        return Acknowledgement(sha256, Outcome.REJECTED, rules.file_reason, ())
    rows = tuple(
        RowOutcome(row.payment_reference, Outcome.REJECTED, rules.row_reason)
        if rules.rejects(position, row.payment_reference)
        else RowOutcome(row.payment_reference, Outcome.ACCEPTED, "")
        for position, row in enumerate(payment_file.rows, start=1)
    )
    return Acknowledgement(sha256, Outcome.ACCEPTED, "", rows)


def _remit(
    transport: AreaTransport,
    rules: AgencyRules,
    payment_file: PaymentFile,
    accepted: list[RowOutcome],
    now: dt.datetime,
) -> str:
    paid_date = rules.paid_date or now.astimezone(clock.ENGLAND).date()
    wanted = {row.payment_reference for row in accepted}
    paid = [
        PaidRow(
            row.payment_reference, paid_date, agency_reference(row.payment_reference), row.amount
        )
        for row in payment_file.rows
        if row.payment_reference in wanted
    ]
    name = f"remittance-{payment_file.trailer.sha256}.csv"
    _send_response(transport, name, _bytes_of(write_remittance, paid))
    return name


def _send_response(transport: AreaTransport, name: str, data: bytes) -> None:
    transport.put(SENT, name, [data])  # the agency's own copy first: it numbers the next
    transport.put(INCOMING, name, [data])


def _bytes_of(writer: Callable[[Any, io.BytesIO], None], value: Any) -> bytes:
    out = io.BytesIO()
    writer(value, out)
    return out.getvalue()


def _claimed_sha256(data: bytes) -> str:
    """The SHA-256 the file's trailer claims, which the portal knows it by; the whole
    file's when there is no such trailer."""
    match = _SHA256.search(data[-300:])
    return match[1].decode() if match else hashlib.sha256(data).hexdigest()


def _plain(reason: str) -> str:
    """A reason fit for an acknowledgement's cell: one line, at most 500 characters."""
    return _CONTROL.sub(" ", reason)[:500]


# --- The command ---------------------------------------------------------------------------


def _parse_now(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("must be a moment such as 2026-12-01T15:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _rules(options: dict[str, Any]) -> AgencyRules:
    mode = Mode(options["mode"])
    rejecting = bool(options["reject"] or options["reject_every"])
    if rejecting and mode is Mode.ACCEPT:
        mode = Mode.REJECT_ROWS
    if rejecting and mode is not Mode.REJECT_ROWS:
        raise click.UsageError("--reject and --reject-every go with --mode reject-rows")
    if mode is Mode.REJECT_ROWS and not rejecting:
        raise click.UsageError("--mode reject-rows needs --reject REF or --reject-every N")
    reason = options["reason"]
    paid_date = options["paid_date"]
    return AgencyRules(
        mode=mode,
        reject=frozenset(options["reject"]),
        reject_every=options["reject_every"] or 0,
        row_reason=reason or ROW_REASON,
        file_reason=reason or FILE_REASON,
        late_seconds=options["late_seconds"],
        remit=options["remit"],
        paid_date=paid_date.date() if paid_date else None,
    )


def _transport(options: dict[str, Any]) -> AreaTransport:
    if options["folder"] and options["s3_bucket"]:
        raise click.UsageError("give --folder or --s3-bucket, not both")
    if options["folder"]:
        return DropFolder(options["folder"])
    if options["s3_bucket"]:
        return S3Transport(
            options["s3_bucket"],
            options["s3_prefix"],
            region=options["s3_region"],
            endpoint_url=options["s3_endpoint_url"],
        )
    from flask.cli import ScriptInfo

    # The portal's own settings (PAYMENTS_TRANSPORT and the rest): only now is the app built.
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    return transport_for(app.config)


def _passes(every: float, once: bool) -> Iterator[None]:
    """Yield once per pass: once, or every ``every`` seconds until SIGTERM or SIGINT."""
    stop = threading.Event()
    if not once:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
    while True:
        yield
        if once or stop.wait(every):
            return


@click.command("stand-in-agency")
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in Mode]),
    default=Mode.ACCEPT.value,
    show_default=True,
    help="How to answer each payment file.",
)
@click.option("--reject", multiple=True, metavar="REF", help="Reject this row (repeatable).")
@click.option("--reject-every", type=click.IntRange(min=1), help="Reject every Nth row.")
@click.option("--reason", help="The reason given for rejections.")
@click.option(
    "--late-seconds",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="late: answer a file once held this long.",
)
@click.option("--remit", is_flag=True, help="Also pay the accepted rows (a remittance).")
@click.option("--paid-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Default: today.")
@click.option("--now", "now_text", metavar="MOMENT", help="The stand-in's clock (ISO 8601).")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--every", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
@click.option("--folder", type=click.Path(file_okay=False), help="A drop folder's root.")
@click.option("--s3-bucket", help="An S3 bucket instead of the portal's settings.")
@click.option("--s3-prefix", default="payments/", show_default=True)
@click.option("--s3-endpoint-url")
@click.option("--s3-region")
def stand_in_agency_command(**options: Any) -> None:
    """Play the payments agency: take the portal's payment files and answer them, printing
    one JSON line per file. The portal's settings, unless --folder or --s3-bucket is given."""
    rules = _rules(options)
    fixed_now = _parse_now(options["now_text"])
    try:
        transport = _transport(options)
    except TransportError as exc:
        raise click.ClickException(str(exc)) from None
    for _ in _passes(options["every"], options["once"]):
        try:
            summaries = agency_pass(transport, rules, fixed_now or clock.now())
        except TransportError as exc:
            if options["once"]:
                raise click.ClickException(str(exc)) from None
            click.echo(json.dumps({"error": str(exc)}), err=True)
            continue
        for summary in summaries:
            click.echo(json.dumps(summary))
        sys.stdout.flush()
