"""The audit trail's admin list names national objects (services, indicators, reference
values, extracts, submissions, ODS imports), not their ids."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from claims_portal.admin.audit_objects import KINDS, object_name, remember_names
from claims_portal.audit.models import AuditEvent
from claims_portal.demo import load_demo_data
from claims_portal.national import models as national_models
from claims_portal.organisations import models as organisation_models

ROOT = Path(__file__).parents[2] / "claims_portal"


def test_every_object_type_the_national_code_audits_has_a_name():
    written = set()
    for folder in ("national", "organisations"):
        for path in (ROOT / folder).rglob("*.py"):
            written |= set(re.findall(r'object_type="([a-z_]+)"', path.read_text()))
    # The catalogue's events are named by the rows' tables (``row.__tablename__``).
    tables = {
        getattr(model, "__tablename__", None)
        for module in (national_models, organisation_models)
        for model in vars(module).values()
    }
    catalogue = {"quality_service", "achievement_date", "indicator_group", "quality_indicator",
                 "service_reference", "national_prevalence"}  # fmt: skip
    assert catalogue <= tables
    assert written | catalogue <= set(KINDS)


def test_the_demos_national_events_name_their_objects(app, db_session, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))
    load_demo_data(db_session)
    db_session.commit()
    national = {"quality_service", "quality_indicator", "national_offer", "data_submission"}
    events = list(
        db_session.scalars(select(AuditEvent).where(AuditEvent.object_type.in_(national)))
    )
    assert {e.object_type for e in events} >= {"quality_service", "national_offer"}
    with app.test_request_context():
        remember_names(events)
        names = {e.object_type: object_name(e) for e in events}
    for object_type, name in names.items():
        label = KINDS[object_type][0]
        assert name.startswith(label + " ")
        assert not re.fullmatch(re.escape(label) + r" \d+", name), name
    assert names["quality_service"].startswith("National service ")
