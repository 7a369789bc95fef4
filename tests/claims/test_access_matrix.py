"""Another organisation's people probing claim and evidence URLs get 403 or 404, never data,
and the claim does not change."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from claims_portal.access.roles import Role
from claims_portal.claims import services
from claims_portal.claims.evidence import new_evidence_key
from claims_portal.claims.models import Claim, ClaimAction
from claims_portal.db import utcnow
from claims_portal.extensions import db
from tests.claims.evidence import samples
from tests.claims.helpers import signed_in, start, submit
from tests.factories.access import user_with_role
from tests.factories.claims import claim_scene
from tests.factories.organisations import PracticeFactory
from tests.helpers import csrf_token

SECRET = b"%PDF-1.4 secret evidence"


@pytest.fixture
def target(app, db_session, evidence_dir):
    """Two claims of one practice: one sent to the commissioner with a file, one draft."""
    scene = claim_scene(two_step=False)
    claim = start(db_session, scene)
    store = services_store(app)
    evidence = _inspected()
    key = new_evidence_key(store.key_prefix, utcnow())
    stored = store.put(key, evidence.data, evidence.content_type)
    services.attach_evidence(
        db_session,
        claim.id,
        stored=stored,
        evidence=evidence,
        actor=scene.user,
        expected_version=claim.version,
    )
    submit(db_session, scene, claim)
    draft_scene = claim_scene(two_step=False, icb=scene.icb)
    draft = start(db_session, draft_scene)
    db_session.commit()
    return {
        "scene": scene,
        "claim": claim.id,
        "evidence": claim.evidence[0].id,
        "draft": draft.id,
        "reference": claim.reference,
        "scheme": scene.scheme.name,
    }


def services_store(app):
    from claims_portal.claims.evidence import store_from_config

    return store_from_config(app.config)


def _inspected():
    from claims_portal.claims.evidence import inspect_evidence

    return inspect_evidence(samples.pdf(), "scan.pdf")


def _outsiders(scene):
    """People who must not reach the claim: other practice (same ICB), another ICB's
    practice and commissioner roles, and a national role."""
    same_icb_practice = PracticeFactory(parent=scene.practice.parent)
    other = claim_scene(two_step=True)
    return {
        "user of another practice in the same ICB": user_with_role(
            Role.PROVIDER_USER_SINGLE, same_icb_practice
        ),
        "approver of another practice": other.approver,
        "user of a practice in another ICB": other.user,
        "tier 1 of another ICB": other.tier_1,
        "tier 2 of another ICB": other.tier_2,
        "finance of another ICB": other.finance,
        "administrator of another ICB": user_with_role(Role.ADMINISTRATOR, other.icb),
    }


REQUESTS = [
    ("GET", "/claims/{claim}", None),
    ("GET", "/claims/{claim}/edit", None),
    ("POST", "/claims/{claim}/edit", {"action": "save"}),
    ("POST", "/claims/{claim}/edit", {"action": "check"}),
    ("GET", "/claims/{claim}/check-your-answers", None),
    ("POST", "/claims/{draft}/submit", {"declaration": "y"}),
    ("GET", "/claims/{claim}/submitted", None),
    ("GET", "/claims/{claim}/evidence/{evidence}/remove", None),
    ("POST", "/claims/{claim}/evidence/{evidence}/remove", {}),
    ("POST", "/claims/{claim}/edit", {"action": "upload", "file": True}),
    ("POST", "/claims/{claim}/edit", {"remove": "{evidence}"}),
    ("GET", "/claims/{claim}/evidence/{evidence}", None),
    ("GET", "/claims/{claim}/decline", None),
    ("GET", "/claims/{claim}/return", None),
    ("GET", "/claims/{claim}/withdraw", None),
    ("GET", "/claims/{draft}", None),
    ("GET", "/claims/{draft}/edit", None),
    ("POST", "/claims/{draft}/edit", {"action": "save"}),
    *[
        ("POST", "/claims/{claim}/approve", {"action": action.name})
        for action in (
            ClaimAction.PROVIDER_APPROVE,
            ClaimAction.TIER_1_APPROVE,
            ClaimAction.TIER_2_APPROVE,
            ClaimAction.FINANCE_APPROVE,
        )
    ],
    *[
        ("POST", "/claims/{claim}/decline", {"action": action.name, "reason": "probe"})
        for action in (
            ClaimAction.TIER_1_DECLINE,
            ClaimAction.TIER_2_DECLINE,
            ClaimAction.FINANCE_DECLINE,
        )
    ],
    ("POST", "/claims/{claim}/return", {"action": "PROVIDER_RETURN", "reason": "probe"}),
    ("POST", "/claims/{draft}/withdraw", {"action": "WITHDRAW"}),
]


def test_other_organisations_get_403_or_404_and_never_the_data(app, db_session, target):
    scene = target["scene"]
    versions = {key: db_session.get(Claim, target[key]).version for key in ("claim", "draft")}
    outsiders = _outsiders(scene)
    db_session.commit()
    checked = 0
    for who, person in outsiders.items():
        browser = signed_in(app, person)
        token = csrf_token(browser.get("/"))
        for method, pattern, fields in REQUESTS:
            url = pattern.format(**target)
            if method == "GET":
                with browser.get(url) as response:
                    body = response.get_data()
            else:
                form = {"csrf_token": token, "version": str(versions["claim"])}
                for key, value in (fields or {}).items():
                    if key != "file":
                        form[key] = value.format(**target)
                if fields and fields.get("file"):
                    form["evidence-file"] = FileStorage(io.BytesIO(SECRET), filename="x.pdf")
                boundary, data = encode_multipart(form)
                with browser.post(
                    url, data=data, content_type=f"multipart/form-data; boundary={boundary}"
                ) as response:
                    body = response.get_data()
            assert response.status_code in (403, 404), f"{who}: {method} {url}"
            assert target["reference"].encode() not in body, f"{who}: {method} {url}"
            assert target["scheme"].encode() not in body, f"{who}: {method} {url}"
            assert b"%PDF" not in body, f"{who}: {method} {url}"
            checked += 1
    db.session.remove()
    db_session.expire_all()
    for key, version in versions.items():
        assert db_session.get(Claim, target[key]).version == version
    assert checked == len(outsiders) * len(REQUESTS)


def test_the_own_icb_sees_a_claim_only_once_sent_to_it(app, db_session, target):
    tom = signed_in(app, target["scene"].tier_1)
    assert tom.get(f"/claims/{target['claim']}").status_code == 200
    with tom.get(f"/claims/{target['claim']}/evidence/{target['evidence']}") as response:
        assert response.status_code == 200
    assert tom.get(f"/claims/{target['draft']}").status_code == 404
    # Commissioners never edit a claim.
    assert tom.get(f"/claims/{target['claim']}/edit").status_code == 403


def test_an_unknown_evidence_id_is_not_found(app, db_session, target):
    browser = signed_in(app, target["scene"].user)
    assert browser.get(f"/claims/{target['claim']}/evidence/999999").status_code == 404
