"""How email leaves: SMTP (smtplib) or, in development, an outbox folder and the terminal."""

from __future__ import annotations

import email.message
import email.utils
import logging
import smtplib
import ssl
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class MailBackend(Protocol):
    def open(self) -> None: ...
    def send(self, message: email.message.EmailMessage) -> None: ...
    def close(self) -> None: ...


class SmtpBackend:
    """One SMTP connection per delivery run (settings ``MAIL_*``)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config.get("MAIL_TIMEOUT_SECONDS", 10))
        self._smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp

    def send(self, message: email.message.EmailMessage) -> None:
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


class OutboxBackend:
    """Development: each message is written as an .eml file and echoed to the terminal."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        folder = config.get("MAIL_OUTBOX_DIR")
        if not folder:
            raise RuntimeError("MAIL_BACKEND=outbox needs MAIL_OUTBOX_DIR")
        self.folder = Path(folder)

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: email.message.EmailMessage) -> None:
        stamp = email.utils.parsedate_to_datetime(str(message["Date"])).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{message['X-Claims-Portal-Message']}.eml"
        (self.folder / name).write_bytes(bytes(message))
        body = message.get_content() if not message.is_multipart() else ""
        sys.stderr.write(
            f"\n--- email to {message['To']} ({self.folder / name})\n"
            f"Subject: {message['Subject']}\n\n{body}\n---\n"
        )
        # The terminal shows the message itself; the log names the outbox row, not the person.
        log.info("Email %s written to %s", message["X-Claims-Portal-Message"], self.folder / name)

    def close(self) -> None:
        pass


def make_backend(config: Mapping[str, Any]) -> MailBackend:
    name = config.get("MAIL_BACKEND", "smtp")
    if name == "smtp":
        return SmtpBackend(config)
    if name == "outbox":
        return OutboxBackend(config)
    raise RuntimeError(f"MAIL_BACKEND must be smtp or outbox, not {name!r}")
