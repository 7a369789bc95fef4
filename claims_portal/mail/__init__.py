"""Email: an outbox table written in the same transaction as the decision, and a sender.

Services call :func:`claims_portal.mail.services.enqueue`; the message is delivered after
the commit by the job ``mail.deliver`` (``claims_portal.jobs``: a worker, or the web process
in development) and, if that fails, by the outbox sweep or ``claims-portal mail
send-queued``. See docs/operations.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from claims_portal.mail.cli import mail_group

    app.cli.add_command(mail_group)
