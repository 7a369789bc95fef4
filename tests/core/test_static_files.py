"""Static files: fingerprinted addresses in pages, a year's immutable caching at them, and
CSS and JavaScript compressed (claims_portal/static_files.py)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from claims_portal.access.roles import Role
from claims_portal.static_files import IMMUTABLE, REVALIDATE_HOURLY
from tests.factories.access import user_with_role
from tests.factories.organisations import IcbFactory, PracticeFactory
from tests.helpers import counted_queries, sign_in

NHS_CSS = "nhsuk-frontend.min.css"


def stylesheet_addresses(page: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)


def test_pages_name_their_assets_by_fingerprint(client):
    page = client.get("/sign-in").get_data(as_text=True)
    nhs, portal = stylesheet_addresses(page)
    assert re.fullmatch(rf"/assets/{re.escape(NHS_CSS)}\?v=[0-9a-f]{{16}}", nhs)
    assert re.fullmatch(r"/static/portal\.css\?v=[0-9a-f]{16}", portal)
    assert re.search(r'src="/assets/nhsuk-frontend\.min\.js\?v=[0-9a-f]{16}"', page)
    # The fingerprint is the content's: another file, another address.
    assert nhs.split("v=")[1] != portal.split("v=")[1]


def test_a_fingerprinted_address_is_cached_for_a_year_and_others_for_an_hour(client):
    nhs, _portal = stylesheet_addresses(client.get("/sign-in").get_data(as_text=True))
    with client.get(nhs) as current:
        assert current.status_code == 200
        assert current.headers["Cache-Control"] == IMMUTABLE
        assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # No fingerprint, or an old page's: the current bytes, never kept as that version.
    for stale in (f"/assets/{NHS_CSS}", f"/assets/{NHS_CSS}?v=0123456789abcdef"):
        with client.get(stale) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == REVALIDATE_HOURLY


def test_css_goes_compressed_when_the_browser_accepts_it(client):
    with client.get(f"/assets/{NHS_CSS}", headers={"Accept-Encoding": "identity"}) as plain:
        original = plain.get_data()
        assert "Content-Encoding" not in plain.headers
        assert plain.headers["Vary"] == "Accept-Encoding"
    assert len(original) > 250_000
    with client.get(f"/assets/{NHS_CSS}", headers={"Accept-Encoding": "gzip"}) as gzipped:
        assert gzipped.headers["Content-Encoding"] == "gzip"
        assert gzipped.headers["Vary"] == "Accept-Encoding"
        assert gzipped.mimetype == "text/css"
        body = gzipped.get_data()
    assert int(gzipped.headers["Content-Length"]) == len(body) < 35_000
    assert gzip.decompress(body) == original
    with client.get(f"/assets/{NHS_CSS}", headers={"Accept-Encoding": "gzip, deflate, br"}) as br:
        assert br.headers["Content-Encoding"] == "br"
        assert brotli.decompress(br.get_data()) == original
        assert len(br.get_data()) < len(body)
    # Each encoding has its own validator, and a revalidation answers 304 for it.
    assert br.headers["ETag"] != gzipped.headers["ETag"]
    again = client.get(
        f"/assets/{NHS_CSS}",
        headers={"Accept-Encoding": "gzip", "If-None-Match": gzipped.headers["ETag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/portal.js", "/assets/nhsuk-frontend.min.js"])
def test_scripts_are_compressed_and_the_security_headers_still_hold(client, path):
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_pages_keep_their_csp_and_no_store(client):
    response = client.get("/sign-in")
    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy
    # Every stylesheet and script the page loads is the portal's own ('self').
    page = response.get_data(as_text=True)
    for address in [*stylesheet_addresses(page), *re.findall(r'<script[^>]* src="([^"]+)"', page)]:
        assert address.startswith(("/assets/", "/static/")), address


def test_small_files_and_images_are_not_compressed(client):
    response = client.get("/assets/images/nhsuk-icon-180.png", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_a_signed_in_persons_assets_touch_neither_session_nor_database(client, db_session):
    user = user_with_role(Role.PROVIDER_USER_MULTI, PracticeFactory(parent=IcbFactory()))
    sign_in(client, user.email)
    nhs, portal = stylesheet_addresses(client.get("/account").get_data(as_text=True))
    with counted_queries() as statements:
        responses = [client.get(address) for address in (nhs, portal)]
    assert statements == []
    for response in responses:
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_an_untrusted_host_is_still_refused(client):
    response = client.get(f"/assets/{NHS_CSS}", base_url="http://evil.example")
    assert response.status_code == 400
