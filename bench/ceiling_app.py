"""The portal as gunicorn serves it in the claims benchmark, plus one bench-only route.

``/bench/ceiling`` is the framework's ceiling on this machine: one query for 50 claim rows
and a minimal Jinja template, through the same app, middleware (request id, security
headers, CSP nonce) and gunicorn workers as the real pages, without signing in. It exists
only here, never in the product.

    gunicorn 'bench.ceiling_app:app'
"""

from __future__ import annotations

from flask import Response
from sqlalchemy import text

from claims_portal import create_app
from claims_portal.extensions import db

app = create_app()

_TEMPLATE = app.jinja_env.from_string(
    """<!DOCTYPE html><html lang="en"><head><title>Ceiling</title></head><body><table>
{% for id, status, value in rows %}
<tr><td>{{ id }}</td><td>{{ status }}</td><td>{{ value }}</td></tr>
{% endfor %}</table></body></html>"""
)


@app.get("/bench/ceiling")
def ceiling() -> Response:
    rows = db.session.execute(
        text("SELECT id, status, value FROM claim ORDER BY id DESC LIMIT 50")
    ).all()
    return Response(_TEMPLATE.render(rows=rows), mimetype="text/html")
