"""Helpers for the claims tests: a scene per test, and short ways to take each step.

The fixtures here are used by the message centre's tests too (tests/messages/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from claims_portal.claims import services
from claims_portal.claims.evidence import inspect_evidence, new_evidence_key, store_from_config
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.claims.services import ClaimEntries
from claims_portal.db import utcnow
from claims_portal.service_settings import claims_settings
from tests.claims.evidence import samples
from tests.factories.claims import ClaimScene, claim_scene
from tests.helpers import sign_in


@pytest.fixture
def evidence_dir(app, tmp_path, monkeypatch):
    """The local evidence store of the test app, in a folder of this test's own."""
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(folder))
    return folder


@pytest.fixture
def client(app, db_session, evidence_dir):
    """The test client, with evidence stored under the test's own folder."""
    return app.test_client()


def signed_in(app: Any, user: Any) -> Any:
    """A new test client (a browser of its own) signed in as ``user``."""
    browser = app.test_client()
    response = sign_in(browser, user.email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return browser


def stored_files(folder: Any) -> list[Any]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def scene(db_session) -> ClaimScene:
    """A two-step practice, a two-component scheme (£25.00 and £12.50) open today."""
    return claim_scene()


@pytest.fixture
def one_step(db_session) -> ClaimScene:
    return claim_scene(two_step=False)


def start(session: Any, scene: ClaimScene, actor: Any = None, **kwargs: Any) -> Claim:
    return services.start_claim(
        session,
        scene.practice,
        scene.scheme,
        scene.window,
        actor or scene.user,
        scene.today,
        **kwargs,
    )


def attach_pdf(app: Any, session: Any, actor: Any, claim: Claim, name: str = "scan.pdf") -> Any:
    """A sample PDF checked, stored and attached to ``claim`` as ``actor``; the stored
    object."""
    store = store_from_config(app.config)
    evidence = inspect_evidence(samples.pdf(), name)
    stored = store.put(
        new_evidence_key(store.key_prefix, utcnow()), evidence.data, evidence.content_type
    )
    services.attach_evidence(
        session,
        claim.id,
        stored=stored,
        evidence=evidence,
        actor=actor,
        expected_version=claim.version,
    )
    return stored


def entries(claim: Claim, *units: int | None, answers: dict[int, str | None] | None = None):
    """Entries giving each line of ``claim`` its units, in order."""
    result = ClaimEntries()
    for line, value in zip(claim.lines, units, strict=False):
        result.units[line.id] = value
    result.answers.update(answers or {})
    return result


def submit(
    session: Any,
    scene: ClaimScene,
    claim: Claim,
    *units: int,
    actor: Any = None,
    answers: dict[int, str | None] | None = None,
):
    return services.transition(
        session,
        claim.id,
        ClaimAction.SUBMIT,
        actor or scene.user,
        expected_version=claim.version,
        entries=entries(claim, *(units or (10, 4)), answers=answers),
        today=scene.today,
    )


def act(session: Any, claim: Claim, action: ClaimAction, actor: Any, reason: str | None = None):
    return services.transition(
        session,
        claim.id,
        action,
        actor,
        expected_version=claim.version,
        reason=reason,
        settings=claims_settings(),
    )


def submitted(session: Any, scene: ClaimScene, *units: int) -> Claim:
    """A claim started and submitted by the scene's user."""
    claim = start(session, scene)
    submit(session, scene, claim, *units)
    return claim


def at_tier_1(session: Any, scene: ClaimScene, *units: int) -> Claim:
    claim = submitted(session, scene, *units)
    if scene.approver is not None:
        act(session, claim, ClaimAction.PROVIDER_APPROVE, scene.approver)
    return claim


def check_and_submit(client: Any, claim_id: int, *, declaration: bool = True) -> Any:
    """From a saved claim page: *Check your answers*, then *Submit claim* (the declaration
    ticked unless told otherwise); the response to the submission."""
    import re

    from tests.helpers import csrf_token

    page = client.get(f"/claims/{claim_id}/check-your-answers")
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True))
    assert version is not None
    data = {"csrf_token": csrf_token(page), "version": version.group(1)}
    if declaration:
        data["declaration"] = "y"
    return client.post(f"/claims/{claim_id}/submit", data=data)
