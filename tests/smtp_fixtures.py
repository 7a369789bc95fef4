"""A real SMTP server on 127.0.0.1 (aiosmtpd) that tests read delivered mail from.

``smtp_server`` runs for the whole session on an ephemeral port. Every test whose app is
the session's ``app`` sends its mail there (autouse fixture); ``mailbox`` gives a test the
messages that arrived, cleared at its start.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """The aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def wait_for(
        self,
        address: str,
        subject_contains: str = "",
        timeout: float = 10.0,
        where: Callable[[EmailMessage], bool] | None = None,
    ) -> EmailMessage:
        """The first message to ``address`` whose subject contains the text (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.to(address):
                if subject_contains in str(message["Subject"]) and (
                    where is None or where(message)
                ):
                    return message
            if time.monotonic() > deadline:
                seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages]
                raise AssertionError(f"no email to {address} about {subject_contains!r}: {seen}")
            time.sleep(0.05)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Controller]:
    # aiosmtpd logs every exchange at INFO, addresses and bodies included: the portal's
    # logging (INFO on standard output) would print them with the tests' output.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: Controller) -> Mailbox:
    handler: Mailbox = smtp_server.handler
    handler.clear()
    return handler


@pytest.fixture(autouse=True)
def _mail_goes_to_the_test_server(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    server: Controller = request.getfixturevalue("smtp_server")
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", server.port
    yield
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
