"""Loading achievement extracts as a job: a good file of each layout loads; a bad row is
reported by row and column and nothing is loaded; the valid rows loaded on request; the
checks across rows; the last submission wins; a failed job leaves the data as they were;
only the national commissioner uploads."""

from __future__ import annotations

import importlib.util
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.jobs.models import Job, JobStatus
from claims_portal.national.models import (
    AchievementLoad,
    AchievementValue,
    DataLayout,
    DataSubmission,
    LoadProblem,
    LoadStatus,
    NationalPrevalence,
    ServiceReference,
    SubmissionSource,
)
from claims_portal.national.services import extracts
from tests.admin.helpers import post
from tests.claims.helpers import signed_in
from tests.factories.access import user_with_role
from tests.factories.national import (
    AchievementDateFactory,
    IndicatorGroupFactory,
    QualityIndicatorFactory,
    QualityServiceFactory,
)
from tests.factories.organisations import IcbFactory, NationalCommissionerFactory, PracticeFactory

HEADER = (
    "QUALITY_SERVICE,NAME,ORG_CODE,ACH_DATE,IND_CODE,FIELD_NAME,VALUE,DEFAULT_VALUES_USED,"
    "SUBMIT_USER_ID,SUBMIT_DATE,SUBMIT_TIME,LAST_SUBMISSION\n"
)
CALCULATION = importlib.util.find_spec("claims_portal.national.services.calculate") is not None


@pytest.fixture
def scene(db_session, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_STORE", "local")
    monkeypatch.setitem(app.config, "EVIDENCE_LOCAL_DIR", str(tmp_path / "evidence"))
    service = QualityServiceFactory(code="QOFX", financial_year=2025)
    AchievementDateFactory(service=service)
    db_session.add(
        ServiceReference(
            service_id=service.id,
            pounds_per_point=Decimal("225.49"),
            national_average_list_size=9964,
            source="test",
        )
    )
    db_session.add(NationalPrevalence(service_id=service.id, register="AF",
                                      prevalence=Decimal("0.0215")))  # fmt: skip
    group = IndicatorGroupFactory(service=service, code="AF")
    QualityIndicatorFactory(group=group, code="AF001", prevalence_register="AF")
    QualityIndicatorFactory(group=group, code="AF006", prevalence_register="AF")
    QualityIndicatorFactory(group=group, code="AF007", prevalence_register="AF")
    national = NationalCommissionerFactory()
    practices = [PracticeFactory(ods_code=code) for code in ("X81001", "X81002")]
    loader = user_with_role(Role.COMMISSIONING_MANAGEMENT, national)
    db_session.commit()
    return type("Scene", (), {"service": service, "national": national,
                              "practices": practices, "loader": loader})  # fmt: skip


def row(org: str, ind: str, field: str, value: object, day: str = "20260331") -> str:
    return f"QOFX,QOF test,{org},{day},{ind},{field},{value},N,AUTOMATED,20260401,0100,Y\n"


def good_rows(org: str = "X81001", numerator: int = 40) -> str:
    return (
        row(org, "AF001", "Register", 60)
        + row(org, "AF001", "List size", 9000)
        + row(org, "AF006", "Numerator", numerator)
        + row(org, "AF006", "Denominator", 50)
        + row(org, "AF006", "PCA_DISSENT", 2)
        + row(org, "AF006", "PCA_UNSUITABLE", 1)
        + row(org, "AF007", "Numerator", 20)
        + row(org, "AF007", "Denominator", 30)
    )


def upload(app, scene, body: str, **form: str):
    browser = signed_in(app, scene.loader)
    response = post(
        browser,
        "/national/extracts/upload",
        {**form, "extract": (io.BytesIO(body.encode()), "extract.csv")},
        content_type="multipart/form-data",
    )
    return browser, response


def latest_load(db_session) -> AchievementLoad:
    db_session.expire_all()
    return db_session.scalar(select(AchievementLoad).order_by(AchievementLoad.id.desc()))


def current(db_session, provider_id: int) -> dict[tuple[str, str], int]:
    values = db_session.scalars(
        select(AchievementValue).where(
            AchievementValue.provider_id == provider_id, AchievementValue.last_submission
        )
    )
    return {(v.code, v.field): v.value for v in values}


def test_a_good_cqrs_export_loads_as_a_job(app, db_session, scene):
    browser, response = upload(app, scene, HEADER + good_rows() + good_rows("X81002"))
    assert response.status_code == 303
    load = latest_load(db_session)
    assert response.headers["Location"].endswith(f"/jobs/{load.job_id}")
    assert load.status is LoadStatus.LOADED
    assert load.layout is DataLayout.CQRS_EXPORT
    assert (load.rows_total, load.rows_valid, load.rows_loaded, load.problem_count) == (
        16,
        16,
        16,
        0,
    )
    assert load.service_id == scene.service.id
    submissions = db_session.scalars(
        select(DataSubmission).where(DataSubmission.load_id == load.id)
    ).all()
    assert sorted(s.provider_id for s in submissions) == sorted(p.id for p in scene.practices)
    assert {s.source for s in submissions} == {SubmissionSource.EXTRACT}
    assert current(db_session, scene.practices[0].id) == {
        ("AF", "REGISTER"): 60, ("LIST_SIZE", "LIST_SIZE"): 9000,
        ("AF006", "NUMERATOR"): 40, ("AF006", "DENOMINATOR"): 50, ("AF006", "PCAS"): 3,
        ("AF007", "NUMERATOR"): 20, ("AF007", "DENOMINATOR"): 30,
    }  # fmt: skip
    job = db_session.get(Job, load.job_id)
    assert job.status is JobStatus.SUCCEEDED
    assert job.summary.startswith("16 rows loaded")
    assert browser.get(f"/jobs/{job.id}").status_code == 200
    page = browser.get(f"/national/extracts/{load.id}").get_data(as_text=True)
    assert "Loaded" in page
    assert "extract.csv" in browser.get("/national/extracts").get_data(as_text=True)


@pytest.mark.skipif(not CALCULATION, reason="calculate.recalculate has not landed")
def test_a_load_recalculates_its_providers(app, db_session, scene):
    from claims_portal.national.models import CalculatedAchievement

    upload(app, scene, HEADER + good_rows() + good_rows("X81002"))
    load = latest_load(db_session)
    assert "2 providers' achievement calculated" in db_session.get(Job, load.job_id).summary
    calculated = db_session.scalars(select(CalculatedAchievement)).all()
    assert sorted(c.provider_id for c in calculated) == sorted(p.id for p in scene.practices)


def test_a_good_open_data_file_loads_with_the_service_and_date_chosen(app, db_session, scene):
    body = (
        "REGION_ODS_CODE,PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\n"
        "Y56,X81002,AF001,REGISTER,70\nY56,X81002,AF006,NUMERATOR,10\n"
        "Y56,X81002,AF006,DENOMINATOR,12\nY56,X81002,AF006,PCAS,1\n"
        "Y56,X81002,AF006,ACHIEVED_POINTS,7.25\n"
    )
    _, response = upload(
        app, scene, body, service=str(scene.service.id), achievement_date="2026-03-31"
    )
    assert response.status_code == 303
    load = latest_load(db_session)
    assert load.status is LoadStatus.LOADED
    assert load.layout is DataLayout.QOF_OPEN_DATA
    assert current(db_session, scene.practices[1].id) == {
        ("AF", "REGISTER"): 70, ("AF006", "NUMERATOR"): 10, ("AF006", "DENOMINATOR"): 12,
        ("AF006", "PCAS"): 1,
    }  # fmt: skip


def test_open_data_with_a_date_not_of_the_service_is_refused_on_the_form(app, db_session, scene):
    _, response = upload(app, scene, "PRACTICE_CODE,INDICATOR_CODE,MEASURE,VALUE\n",
                         service=str(scene.service.id), achievement_date="2026-02-28")  # fmt: skip
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "nhsuk-error-summary" in text
    assert "Choose one of the achievement dates" in text
    assert latest_load(db_session) is None


def test_one_bad_row_is_reported_by_row_and_column_and_nothing_is_loaded(app, db_session, scene):
    body = (
        HEADER + good_rows() + row("X81002", "AF006", "Numerator", "4.5") + good_rows("X81002")[:0]
    )
    browser, _ = upload(app, scene, body)
    load = latest_load(db_session)
    assert load.status is LoadStatus.HAS_PROBLEMS
    problems = db_session.scalars(select(LoadProblem).where(LoadProblem.load_id == load.id)).all()
    assert [(p.row_number, p.column) for p in problems] == [(10, "VALUE")]
    assert "not a whole number" in problems[0].message
    assert db_session.scalar(select(DataSubmission)) is None
    assert db_session.scalar(select(AchievementValue)) is None
    job = db_session.get(Job, load.job_id)
    assert job.summary.startswith("Nothing was loaded: 1 problem")
    page = browser.get(f"/national/extracts/{load.id}").get_data(as_text=True)
    assert "Has problems" in page
    assert "VALUE 4.5 is not a whole number" in page
    assert "Load only the valid rows" in page


def test_load_only_the_valid_rows_after_a_confirmation(app, db_session, scene):
    body = (
        HEADER + good_rows() + row("X81002", "AF006", "Numerator", "x")
        + row("X81002", "AF006", "Denominator", 50) + row("X81002", "AF007", "Numerator", 5)
        + row("X81002", "AF007", "Denominator", 6)
    )  # fmt: skip
    browser, _ = upload(app, scene, body)
    load = latest_load(db_session)
    assert load.rows_valid == 10  # X81002's AF006 left out whole (its denominator too)
    confirm = browser.get(f"/national/extracts/{load.id}/load-valid-rows")
    assert "10 of 12 rows will be loaded" in confirm.get_data(as_text=True)
    assert latest_load(db_session).status is LoadStatus.HAS_PROBLEMS  # asking loads nothing
    response = post(browser, f"/national/extracts/{load.id}/load-valid-rows", {"confirmed": "1"})
    assert response.status_code == 303
    load = latest_load(db_session)
    assert load.status is LoadStatus.PARTLY_LOADED
    assert load.rows_loaded == 10
    assert current(db_session, scene.practices[1].id) == {
        ("AF007", "NUMERATOR"): 5, ("AF007", "DENOMINATOR"): 6,
    }  # fmt: skip
    assert len(current(db_session, scene.practices[0].id)) == 7
    again = post(browser, f"/national/extracts/{load.id}/load-valid-rows", {"confirmed": "1"})
    assert again.status_code == 409


def test_a_load_with_problems_can_be_left_unloaded(app, db_session, scene):
    browser, _ = upload(app, scene, HEADER + row("Z99999", "AF006", "Numerator", 1))
    load = latest_load(db_session)
    assert post(browser, f"/national/extracts/{load.id}/decline").status_code == 303
    assert latest_load(db_session).status is LoadStatus.NOT_LOADED


@pytest.mark.parametrize(
    ("lines", "expected", "words"),
    [
        ([row("X81001", "AF006", "Numerator", 4), row("X81001", "AF006", "Numerator", 4),
          row("X81001", "AF006", "Denominator", 9)],
         [(3, "FIELD_NAME")], "A duplicate of row 2"),
        ([row("X81001", "AF006", "Numerator", 11), row("X81001", "AF006", "Denominator", 10)],
         [(2, "VALUE")], "numerator 11 of AF006 is above its denominator 10 (row 3)"),
        ([row("X81001", "AF006", "Denominator", 10), row("X81001", "AF006", "PCA_A", 6),
          row("X81001", "AF006", "EXC_B", 5)],
         [(3, "VALUE")], "PCAs and exclusions of AF006 (11) are above its denominator 10"),
        ([row("X81001", "AF001", "Register", 60), row("X81001", "AF006", "AF", 61)],
         [(3, "VALUE")], "The register AF is 61 here but 60 in row 2"),
    ],
)  # fmt: skip
def test_each_check_across_rows(app, db_session, scene, lines, expected, words):
    upload(app, scene, HEADER + "".join(lines))
    load = latest_load(db_session)
    assert load.status is LoadStatus.HAS_PROBLEMS
    problems = db_session.scalars(select(LoadProblem).where(LoadProblem.load_id == load.id)).all()
    assert [(p.row_number, p.column) for p in problems] == expected
    assert words in problems[0].message
    assert load.rows_valid == 0  # the indicator's rows are left out together


def test_a_file_in_neither_layout_is_reported_at_row_0(app, db_session, scene):
    browser, _ = upload(app, scene, "NAME,SCORE\nA,1\n")
    load = latest_load(db_session)
    problems = db_session.scalars(select(LoadProblem).where(LoadProblem.load_id == load.id)).all()
    assert [(p.row_number, p.column) for p in problems] == [(0, None)]
    assert load.layout is None
    page = browser.get(f"/national/extracts/{load.id}").get_data(as_text=True)
    assert "The file" in page
    assert "Load only the valid rows" not in page


def test_the_last_submission_wins_and_the_earlier_one_is_kept(app, db_session, scene):
    upload(app, scene, HEADER + good_rows(numerator=40))
    first = latest_load(db_session)
    upload(app, scene, HEADER + row("X81001", "AF006", "Numerator", 45)
           + row("X81001", "AF006", "Denominator", 50))  # fmt: skip
    second = latest_load(db_session)
    assert second.status is LoadStatus.LOADED
    now = current(db_session, scene.practices[0].id)
    assert now[("AF006", "NUMERATOR")] == 45
    assert now[("AF007", "NUMERATOR")] == 20  # only in the first: still counts
    earlier = db_session.scalars(
        select(AchievementValue).join(DataSubmission).where(
            DataSubmission.load_id == first.id, AchievementValue.code == "AF006",
            AchievementValue.field == "NUMERATOR",
        )
    ).one()  # fmt: skip
    assert (earlier.value, earlier.last_submission) == (40, False)


def test_a_failed_job_leaves_the_data_as_they_were(app, db_session, scene, monkeypatch):
    upload(app, scene, HEADER + good_rows(numerator=40))
    before = current(db_session, scene.practices[0].id)

    def broken(session, by_date):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(extracts, "recalculate_loaded", broken)
    upload(app, scene, HEADER + good_rows(numerator=45))  # the worker logs the error
    load = latest_load(db_session)
    assert load.status is LoadStatus.FAILED
    assert db_session.get(Job, load.job_id).status is JobStatus.FAILED
    assert (
        db_session.scalar(select(DataSubmission).where(DataSubmission.load_id == load.id)) is None
    )
    assert current(db_session, scene.practices[0].id) == before


def test_someone_not_at_the_national_commissioner_cannot_upload(app, db_session, scene):
    icb = IcbFactory()
    administrator = user_with_role(Role.ADMINISTRATOR, icb)
    db_session.commit()
    browser = signed_in(app, administrator)
    assert browser.get("/national/extracts/upload").status_code == 403
    response = post(
        browser,
        "/national/extracts/upload",
        {"extract": (io.BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert browser.get("/national/extracts").status_code == 403
    with pytest.raises(extracts.ExtractNotAllowed):
        extracts.start_load(
            db_session, None, administrator, icb, stream=io.BytesIO(b"x"), filename="x.csv",
            choices=extracts.Choices(None, None), now=None,
        )  # fmt: skip


def test_an_empty_upload_is_refused_with_the_error_summary(app, db_session, scene):
    _, response = upload(app, scene, "")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "nhsuk-error-summary" in text
    assert "The selected file is empty" in text


def test_a_file_above_the_size_limit_is_refused(app, db_session, scene, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 300 * 1024)  # 44 KB for the file
    browser, response = upload(app, scene, HEADER + good_rows() * 400)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "nhsuk-error-summary" in text
    assert "The file must be 44 KB or smaller" in text
    assert latest_load(db_session) is None
    assert "at most 44 KB" in browser.get("/national/extracts/upload").get_data(as_text=True)


def test_a_file_on_the_server_loads_from_the_command_line_as_the_person(
    app, db_session, scene, tmp_path
):
    """An England-scale export is larger than a browser upload may be: the command keeps it
    and runs the same job, in the person's name."""
    path = tmp_path / "INDICATOR_VALUES.csv"
    path.write_text(HEADER + good_rows() + good_rows("X81002"))
    result = app.test_cli_runner().invoke(
        args=["national", "load-extract", str(path), "--as", scene.loader.email.upper()]
    )
    assert result.exit_code == 0, result.output
    load = latest_load(db_session)
    assert f"load {load.id} is being checked by job {load.job_id}" in result.output
    assert "16 rows loaded" in result.output  # no worker in the tests: the command ran it
    assert (load.filename, load.uploaded_by_id, load.organisation_id) == (
        "INDICATOR_VALUES.csv", scene.loader.id, scene.national.id,
    )  # fmt: skip
    assert load.status is LoadStatus.LOADED
    assert load.rows_loaded == 16
    assert db_session.get(Job, load.job_id).owner_id == scene.loader.id


def test_the_command_refuses_someone_who_does_not_load_extracts(app, db_session, scene, tmp_path):
    practice_manager = user_with_role(Role.SERVICE_MANAGEMENT, scene.practices[0])
    db_session.commit()
    path = tmp_path / "extract.csv"
    path.write_text(HEADER + good_rows())
    for email in (practice_manager.email, "nobody@example.nhs.net"):
        result = app.test_cli_runner().invoke(
            args=["national", "load-extract", str(path), "--as", email]
        )
        assert result.exit_code == 1
        assert "does not load achievement extracts at a national commissioner" in result.output
    assert latest_load(db_session) is None


def test_the_command_refuses_an_empty_file_and_keeps_nothing(app, db_session, scene, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    result = app.test_cli_runner().invoke(
        args=["national", "load-extract", str(path), "--as", scene.loader.email]
    )
    assert result.exit_code == 1
    assert "The selected file is empty" in result.output
    assert latest_load(db_session) is None
