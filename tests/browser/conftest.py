"""Browser tests: the app served from a thread, driven by Debian's Chromium through Playwright.

The live server uses its own database (created afresh, migrated, demo data loaded) and real
commits, since the browser's requests come from another thread than the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from claims_portal.demo import load_demo_data
from claims_portal.extensions import db
from tests.browser.helpers import _LIVE
from tests.helpers import migrated_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_app(smtp_server):
    # Its email goes to the session's SMTP server (tests/smtp_fixtures.py): read with `mailbox`.
    with migrated_app("_browser", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port) as app:
        _LIVE["app"] = app
        with app.app_context():
            load_demo_data(db.session)
            db.session.commit()
            db.session.remove()
        yield app


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    # Emailed links point at the live server, which answers only to its own host.
    live_app.config["PUBLIC_BASE_URL"] = server.url
    live_app.config["TRUSTED_HOSTS"] = ["127.0.0.1"]
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install it with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
