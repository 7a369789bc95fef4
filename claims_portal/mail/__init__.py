"""Email: an outbox table written in the same transaction as the decision, and a sender.

Services call :func:`claims_portal.mail.services.enqueue`; the message is delivered right
after the request's commit (``init_app`` installs the hook) and, if that fails, by
``claims-portal mail send-queued``. See docs/access.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from claims_portal.mail import services
    from claims_portal.mail.cli import mail_group

    services.install_hooks(app)
    app.cli.add_command(mail_group)
