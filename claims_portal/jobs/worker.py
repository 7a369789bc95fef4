"""What ``celery -A claims_portal.jobs.worker worker`` (or ``beat``) loads: the portal's
Flask app, configured from the environment, and its Celery app (``app``).
``claims-portal worker`` and ``claims-portal scheduler`` do the same."""

from __future__ import annotations

from claims_portal import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
