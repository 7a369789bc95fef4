"""The shipped quality service files and their loader: the public totals, idempotent
reloads, a newer version updating the service with every change audited, and bad files
refused whole with nothing changed."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from claims_portal.audit.models import AuditEvent
from claims_portal.national.models import (
    AchievementDate,
    DataSubmission,
    IndicatorGroup,
    IndicatorPurpose,
    NationalPrevalence,
    PaymentType,
    ProviderLevel,
    QualityIndicator,
    QualityService,
    ServiceKind,
    ServiceReference,
    SubmissionSource,
    SubmissionStatus,
)
from claims_portal.national.services.catalogue import (
    DATA_DIR,
    CatalogueError,
    load_service_file,
    load_shipped_services,
    read_service_file,
    shipped_files,
)
from tests.factories.organisations import PracticeFactory

QOF_2024 = DATA_DIR / "qof-2024-25.json"
QOF_2025 = DATA_DIR / "qof-2025-26.json"


def _data(path=QOF_2025) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _service(db_session, code="QOF", year=2025) -> QualityService:
    return db_session.scalars(
        select(QualityService).filter_by(code=code, financial_year=year)
    ).one()


def _points(db_session, service) -> Decimal:
    return db_session.scalar(
        select(func.sum(QualityIndicator.points)).where(QualityIndicator.service_id == service.id)
    )


def _actions(db_session) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _counts(db_session) -> tuple[int, ...]:
    models = (
        QualityService,
        IndicatorGroup,
        QualityIndicator,
        AchievementDate,
        ServiceReference,
        NationalPrevalence,
        AuditEvent,
    )
    return tuple(db_session.scalar(select(func.count()).select_from(m)) for m in models)


# --- The shipped files --------------------------------------------------------------------


@pytest.mark.parametrize(("path", "total", "count"), [(QOF_2024, 635, 76), (QOF_2025, 564, 44)])
def test_the_qof_files_hold_the_published_totals(path, total, count):
    content = read_service_file(path)
    assert sum(v["points"] for v in content["indicators"].values()) == total
    assert len(content["indicators"]) == count
    assert content["data_version"] == f"{path.name}@1"


def test_the_shipped_files_load_with_their_figures(db_session):
    results = load_shipped_services(db_session)
    assert {r.outcome for r in results} == {"created"}
    assert len(results) == len(shipped_files()) >= 4
    qof_2024, qof_2025 = _service(db_session, year=2024), _service(db_session)
    assert _points(db_session, qof_2024) == 635
    assert _points(db_session, qof_2025) == 564
    assert qof_2025.data_version == "qof-2025-26.json@1"
    reference = db_session.scalars(select(ServiceReference).filter_by(service_id=qof_2024.id)).one()
    assert reference.pounds_per_point == Decimal("220.62")
    assert reference.national_average_list_size == 9964
    assert reference.aspiration_share == Decimal("0.80")
    later = db_session.scalars(select(ServiceReference).filter_by(service_id=qof_2025.id)).one()
    assert later.pounds_per_point == Decimal("225.49")
    assert "not public" in later.source
    dates = qof_2025.achievement_dates
    assert dates[0].date == dt.date(2025, 4, 30)
    assert [(d.date, d.is_payment_date) for d in dates if d.is_payment_date] == [
        (dt.date(2026, 3, 31), True)
    ]
    af006 = db_session.scalars(
        select(QualityIndicator).filter_by(service_id=qof_2025.id, code="AF006")
    ).one()
    assert (af006.lower_threshold, af006.upper_threshold) == (Decimal("0.40"), Decimal("0.90"))
    assert af006.prevalence_register == "AF"
    assert af006.group.domain_description == "Clinical"
    qi = db_session.scalars(
        select(QualityIndicator).filter_by(service_id=qof_2024.id, code="QI013")
    ).one()
    assert (qi.manual, qi.tick_box, qi.points) == (True, True, 27)
    # The 2025/26 retirements: no register indicator, no QI domain.
    codes = set(db_session.scalars(select(QualityIndicator.code).filter_by(service_id=qof_2025.id)))
    assert not codes & {"AF001", "HYP001", "QI013", "SMOK005"}
    des = _service(db_session, code="NCDES-PART")
    assert des.kind is ServiceKind.ENHANCED_SERVICE
    assert des.provider_level is ProviderLevel.NETWORK
    assert des.automatically_accepted
    vaccination = _service(db_session, code="SHINGLES")
    assert vaccination.payment_type is PaymentType.ITEM_OF_SERVICE
    purposes = {i.code: i.purpose for g in vaccination.groups for i in g.indicators}
    assert purposes["SHI003"] is IndicatorPurpose.MANAGEMENT_INFORMATION
    assert _actions(db_session).count("quality_service.loaded") == len(results)


def test_loading_the_same_version_again_changes_nothing(db_session):
    load_shipped_services(db_session)
    before = _counts(db_session)
    results = load_shipped_services(db_session)
    assert {r.outcome for r in results} == {"unchanged"}
    assert _counts(db_session) == before


def test_an_older_version_is_not_loaded(db_session):
    data = _data()
    data["version"] = 2
    load_service_file(db_session, data, actor=None)
    assert load_service_file(db_session, QOF_2025, actor=None).outcome == "older"
    assert _service(db_session).data_version == "qof-2025-26.json@2"


def test_a_newer_version_updates_the_service_and_audits_each_change(db_session):
    load_service_file(db_session, QOF_2025, actor=None)
    service = _service(db_session)
    db_session.add(
        NationalPrevalence(service_id=service.id, register="AF", prevalence=Decimal("0.0221"))
    )
    data = _data()
    data["version"] = 2
    by_code = {i["code"]: i for i in data["indicators"]}
    by_code["AF006"]["points"] = 10
    by_code["AF008"]["points"] = 14  # the total stays 564
    by_code["AF006"]["upper_threshold"] = "0.92"
    data["indicators"].remove(by_code["CS006"])
    data["indicators"].append({**by_code["CS005"], "code": "CS007", "points": 4})
    data["achievement_dates"] = data["achievement_dates"][-1:]
    data["reference"]["national_average_list_size"] = 10_012
    data["name"] = "Quality and Outcomes Framework (England)"

    result = load_service_file(db_session, data, actor=None)

    assert result.outcome == "updated"
    db_session.expire_all()
    service = _service(db_session)
    assert service.data_version == "qof-2025-26.json@2"
    assert service.name == "Quality and Outcomes Framework (England)"
    assert _points(db_session, service) == 564
    af006 = db_session.scalars(
        select(QualityIndicator).filter_by(service_id=service.id, code="AF006")
    ).one()
    assert (af006.points, af006.upper_threshold) == (10, Decimal("0.92"))
    codes = set(db_session.scalars(select(QualityIndicator.code).filter_by(service_id=service.id)))
    assert "CS006" not in codes
    assert "CS007" in codes
    assert [d.date for d in service.achievement_dates] == [dt.date(2026, 3, 31)]
    # The administrator's prevalence is kept: files never remove prevalences.
    assert db_session.scalars(
        select(NationalPrevalence.register).filter_by(service_id=service.id)
    ).all() == ["AF"]

    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action != "quality_service.loaded")
    ).all()
    actions = [e.action for e in events]
    assert actions.count("quality_indicator.updated") == 2
    assert actions.count("quality_indicator.removed") == 1
    assert actions.count("quality_indicator.added") == 1
    assert actions.count("achievement_date.removed") == 11
    assert actions.count("service_reference.updated") == 1
    updated = next(
        e
        for e in events
        if e.action == "quality_indicator.updated" and e.object_id == str(af006.id)
    )
    assert {k: Decimal(v) for k, v in updated.before.items()} == {
        "points": 12,
        "upper_threshold": Decimal("0.90"),
    }
    assert {k: Decimal(v) for k, v in updated.after.items()} == {
        "points": 10,
        "upper_threshold": Decimal("0.92"),
    }
    (service_event,) = [e for e in events if e.action == "quality_service.updated"]
    assert service_event.after["data_version"] == "qof-2025-26.json@2"
    assert service_event.reason == "loaded from qof-2025-26.json@2"
    assert result.changes == len(events)


def _refused(db_session, data, *expected: str) -> None:
    before = _counts(db_session)
    with pytest.raises(CatalogueError) as refused:
        load_service_file(db_session, data, actor=None)
    for text in expected:
        assert any(text in message for message in refused.value.messages), refused.value.messages
    assert _counts(db_session) == before


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(total_points=565), "the indicators' points add up to 564, not 565"),
        (
            lambda d: d["indicators"][1].update(lower_threshold="0.95"),
            "thresholds out of order: lower 0.95 must be below upper",
        ),
        (lambda d: d["indicators"][1].update(upper_threshold="90"), "is above 1"),
        (
            lambda d: d["indicators"][1].update(lower_threshold=None),
            "give both thresholds or neither",
        ),
        (lambda d: d["indicators"][0].update(group="NOPE"), "unknown group 'NOPE'"),
        (
            lambda d: d["indicators"].append(copy.deepcopy(d["indicators"][0])),
            "duplicate indicator code",
        ),
        (lambda d: d["groups"].append(copy.deepcopy(d["groups"][0])), "duplicate group code"),
        (lambda d: d["achievement_dates"][0].update(date="2025-04-29"), "is not a month end"),
        (lambda d: d.update(kind="QUALITY"), "kind: 'QUALITY' is not one of"),
        (lambda d: d.update(version=0), "version: 0 must be a whole number"),
        (lambda d: d["indicators"][0].update(points=-1), "must be a number, 0 or more"),
        (
            lambda d: d.update(prevalences=[{"register": "AF", "prevalence": "2.1"}]),
            "prevalence is a fraction",
        ),
        (lambda d: d.update(end_date="2025-01-01"), "cannot end before it starts"),
        (lambda d: d.update(pounds_per_point="225.49"), "file: unknown field 'pounds_per_point'"),
        (lambda d: d["indicators"][2].update(point=3), "indicator 3: unknown field 'point'"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_changes(db_session, change, expected):
    load_service_file(db_session, QOF_2024, actor=None)
    data = _data()
    change(data)
    _refused(db_session, data, expected)


def test_every_problem_is_listed_at_once(db_session):
    data = _data()
    data["total_points"] = 1
    data["indicators"][0]["group"] = "NOPE"
    data["achievement_dates"][0]["date"] = "2025-04-29"
    _refused(db_session, data, "add up to", "unknown group", "not a month end")


def test_a_bad_newer_version_leaves_the_loaded_one_untouched(db_session):
    load_service_file(db_session, QOF_2025, actor=None)
    data = _data()
    data["version"] = 2
    data["indicators"][0]["points"] = 99
    _refused(db_session, data, "add up to")
    assert _service(db_session).data_version == "qof-2025-26.json@1"


def test_a_group_with_achievement_data_cannot_be_removed_by_a_file(db_session):
    load_service_file(db_session, QOF_2025, actor=None)
    service = _service(db_session)
    group = next(g for g in service.groups if g.code == "CS")
    db_session.add(
        DataSubmission(
            service_id=service.id,
            provider_id=PracticeFactory().id,
            achievement_date=dt.date(2026, 3, 31),
            source=SubmissionSource.MANUAL,
            status=SubmissionStatus.WORK_IN_PROGRESS,
            group_id=group.id,
        )
    )
    db_session.flush()
    data = _data()
    data["version"] = 2
    data["groups"] = [g for g in data["groups"] if g["code"] != "CS"]
    removed = [i for i in data["indicators"] if i["group"] == "CS"]
    data["indicators"] = [i for i in data["indicators"] if i["group"] != "CS"]
    data["total_points"] -= sum(i["points"] for i in removed)
    _refused(db_session, data, "group CS: achievement data was entered against it")


def test_a_file_that_is_not_json_or_not_a_service_file_is_refused(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not a readable JSON file"):
        read_service_file(broken)
    with pytest.raises(CatalogueError, match="Not a quality service file"):
        read_service_file({"version": 1})


# --- The command and the demo -------------------------------------------------------------


def test_the_command_loads_the_shipped_files_then_changes_nothing(app, db_session):
    from claims_portal.national.cli import load_services_command

    first = app.test_cli_runner().invoke(load_services_command, [])
    assert first.exit_code == 0, first.output
    assert "QOF 2025/26 (qof-2025-26.json@1): created" in first.output
    again = app.test_cli_runner().invoke(load_services_command, [])
    assert again.exit_code == 0, again.output
    assert "QOF 2024/25 (qof-2024-25.json@1): unchanged" in again.output
    assert "created" not in again.output
    assert _actions(db_session).count("quality_service.loaded") == len(shipped_files())


def test_the_command_refuses_a_bad_file_and_loads_nothing(app, db_session, tmp_path):
    from claims_portal.national.cli import load_services_command

    bad = _data()
    bad["total_points"] = 600
    path = tmp_path / "qof-bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = app.test_cli_runner().invoke(load_services_command, [str(QOF_2024), str(path)])
    assert result.exit_code == 1
    assert "Nothing was loaded" in result.output
    assert "add up to 564, not 600" in result.output
    assert db_session.scalar(select(func.count()).select_from(QualityService)) == 0


def test_the_demo_loads_the_shipped_services(db_session):
    from claims_portal.national.demo import load_demo_services

    services = load_demo_services(db_session)
    assert {(s.code, s.financial_year) for s in services} >= {("QOF", 2024), ("QOF", 2025)}
    assert load_demo_services(db_session) == services  # again: the same rows, unchanged


def test_the_history_is_recorded_in_the_national_commissioner(db_session):
    from tests.factories.organisations import NationalCommissionerFactory

    national = NationalCommissionerFactory()
    load_service_file(db_session, QOF_2025, actor=None)
    data = _data()
    data["version"] = 2
    data["reference"]["aspiration_share"] = "0.70"
    load_service_file(db_session, data, actor=None)
    events = db_session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "quality_service.loaded",
        "quality_service.updated",
        "service_reference.updated",
    ]
    assert {e.organisation_id for e in events} == {national.id}
    assert {e.actor_id for e in events} == {None}
