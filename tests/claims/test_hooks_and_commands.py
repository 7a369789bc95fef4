"""What claims give back to the scheme pages (claimed periods, tariffs used), and the
orphan sweep command."""

from __future__ import annotations

import datetime as dt
import os

from claims_portal.claims.evidence import new_evidence_key, store_from_config
from claims_portal.claims.models import ClaimAction
from claims_portal.db import utcnow
from claims_portal.schemes.services import offers as offer_services
from claims_portal.schemes.services import tariff_used_by_submitted_claim
from tests.claims.helpers import act, attach_pdf, start, submit


def test_a_submitted_claim_marks_its_period_claimed(db_session, scene):
    claim = start(db_session, scene)
    claimed = offer_services.claimed_period_starts(db_session, scene.scheme, scene.practice)
    assert claimed == set()  # a draft is not a claim yet
    submit(db_session, scene, claim)
    claimed = offer_services.claimed_period_starts(db_session, scene.scheme, scene.practice)
    assert claimed == {scene.window.period_start}
    act(db_session, claim, ClaimAction.PROVIDER_RETURN, scene.approver, reason="Redo")
    act(db_session, claim, ClaimAction.WITHDRAW, scene.user)
    assert offer_services.claimed_period_starts(db_session, scene.scheme, scene.practice) == set()


def test_the_tariff_of_a_submitted_claim_is_known_to_be_used(db_session, scene):
    tariff = scene.components[0].tariffs[0]
    assert not tariff_used_by_submitted_claim(tariff)
    claim = start(db_session, scene)
    submit(db_session, scene, claim)
    assert tariff_used_by_submitted_claim(tariff)


def test_the_sweep_deletes_old_objects_without_a_row_and_keeps_the_rest(
    app, db_session, scene, evidence_dir
):
    store = store_from_config(app.config)
    claim = start(db_session, scene)
    kept = attach_pdf(app, db_session, scene.user, claim)
    orphan = store.put(new_evidence_key(store.key_prefix, utcnow()), b"left behind", "x/y")
    recent = store.put(new_evidence_key(store.key_prefix, utcnow()), b"in progress", "x/y")
    old = (utcnow() - dt.timedelta(days=2)).timestamp()
    for key in (orphan.key, kept.key):
        os.utime(evidence_dir / key, (old, old))
    db_session.commit()

    result = app.test_cli_runner().invoke(args=["claims", "sweep-evidence"])
    assert result.exit_code == 0, result.output
    assert "1 orphan(s) deleted, 1 kept, 1 too recent" in result.output
    assert store.exists(kept.key)
    assert store.exists(recent.key)
    assert not store.exists(orphan.key)
