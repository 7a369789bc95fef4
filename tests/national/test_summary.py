"""The Achievement Summary (national/services/summary.py, summary_files.py and
views/summary.py): the figures stored by the recalculation shown by domain and group with
each step, the downloads holding the same figures, the missing-data view, a commissioner's
list of its providers, and who may see which provider."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from claims_portal.access.roles import Role
from claims_portal.extensions import db
from claims_portal.national.models import QualityService, ServiceReference
from claims_portal.national.services import calculate
from claims_portal.national.services import summary as summaries
from claims_portal.national.services.summary_files import (
    summary_csv,
    summary_html,
    summary_pdf,
    summary_xlsx,
)
from claims_portal.organisations.models import Organisation
from tests.factories.access import user_with_role
from tests.factories.organisations import (
    IcbFactory,
    NationalCommissionerFactory,
    PracticeFactory,
    SubLocationFactory,
)
from tests.helpers import sign_in
from tests.national.calc_helpers import (
    counts,
    group,
    indicator,
    list_size,
    make_service,
    register,
    submit,
    year_end,
)


@dataclass
class Scene:
    service: QualityService
    icb: Organisation
    practice: Organisation
    neighbour: Organisation
    other_icb: Organisation
    stranger: Organisation

    @property
    def day(self) -> str:
        return year_end(self.service).isoformat()

    def url(self, provider: Organisation, tail: str = "") -> str:
        return f"/national/achievement/{self.service.id}/{self.day}/{provider.id}{tail}"


@pytest.fixture
def scene(db_session) -> Scene:
    """Ardens' dementia example (2020/21) and Pulse's quality improvement tick-box in one
    service: a practice with DEM004 40 of 53 (2 PCAs, 1 exclusion), register 53 of 10,000,
    and QI001 answered Yes; a neighbour in the same ICB; a practice of another ICB."""
    service = make_service(2020, "194.83", 8_799, {"DEM": "0.0078"}, code="QOF", name="QOF")
    dementia = group(service, "DEM", domain="CL", domain_description="Clinical")
    indicator(dementia, "DEM004", 44, register="DEM", description="Dementia care review")
    quality = group(service, "QI", domain="QI", domain_description="Quality improvement")
    indicator(quality, "QI001", 74, thresholds=None, manual=True, description="QI activity")
    icb = IcbFactory()
    practice = PracticeFactory(parent=SubLocationFactory(parent=icb))
    neighbour = PracticeFactory(parent=icb)
    other_icb = IcbFactory()
    stranger = PracticeFactory(parent=other_icb)
    figures = list_size(10_000) | register("DEM", 53)
    submit(service, practice, figures | counts("DEM004", 40, 53, 2, 1) | {("QI001", "ANSWER"): 1})
    submit(service, neighbour, figures | counts("DEM004", 53, 53))
    submit(service, stranger, figures | counts("DEM004", 53, 53))
    calculate.recalculate(db.session, service_id=service.id, achievement_date=year_end(service))
    return Scene(service, icb, practice, neighbour, other_icb, stranger)


# 35.2 DEM points: £5,295.98 (docs/calculation.md); 74 QI points x 194.83 x 10,000 / 8,799.
DEM = Decimal("5295.98")
QI = Decimal("16385.29")
TOTAL = DEM + QI


def test_qi_figure_is_the_published_rule():
    # 74 x 194.83 x 10,000 / 8,799 = 16,385.2898... -> 16,385.29
    exact = Fraction(74) * Fraction("194.83") * 10_000 / 8_799
    assert Fraction("16385.285") < exact < Fraction("16385.295")


def test_the_summary_holds_the_stored_figures_by_domain_and_group_with_each_step(scene):
    summary = summaries.summary_for(
        db.session, scene.service, scene.practice, year_end(scene.service)
    )
    assert summary is not None
    assert summary.total == TOTAL
    assert summary.points == Decimal("109.2")
    assert not summary.out_of_date
    assert [(d.code, d.points, d.payment) for d in summary.domains] == [
        ("CL", Decimal("35.2"), DEM),
        ("QI", Decimal(74), QI),
    ]
    dem = summary.groups[0].lines[0]
    assert (dem.code, dem.cohort, dem.achievement, dem.payment) == (
        "DEM004",
        50,
        Decimal("0.8"),
        DEM,
    )
    assert dem.prevalence_factor == Decimal("0.6794871794871794871794871795")
    rules = [step["rule"] for step in dem.steps]
    assert rules == [
        "Cohort",
        "Achievement",
        "Points",
        "Contractor population index",
        "Prevalence factor",
        "Payment",
    ]
    assert dem.steps[-1]["result"] == "5295.98"
    qi = summary.groups[1].lines[0]
    assert (qi.tick_box, qi.answer, qi.payment) == (True, True, QI)
    assert qi.steps[0]["rule"] == "Tick-box indicator"
    assert [(p.register, p.size) for p in summary.prevalences] == [("DEM", 53)]
    assert summary.total_steps[0]["result"] == str(TOTAL)


def test_a_changed_reference_value_marks_the_summary_out_of_date(scene):
    reference = db.session.scalar(
        select(ServiceReference).where(ServiceReference.service_id == scene.service.id)
    )
    reference.pounds_per_point = Decimal("200.00")
    db.session.commit()
    summary = summaries.summary_for(
        db.session, scene.service, scene.practice, year_end(scene.service)
    )
    assert summary.out_of_date
    assert summary.total == TOTAL  # the figures calculated then
    assert summary.groups[0].lines[0].steps is None


def test_the_downloads_hold_the_same_figures(scene):
    summary = summaries.summary_for(
        db.session, scene.service, scene.practice, year_end(scene.service)
    )
    rows = list(csv.reader(io.StringIO(summary_csv(summary).decode())))
    assert rows[0][2] == "Indicator"
    by_code = {row[2]: row for row in rows[1:]}
    assert by_code["DEM004"][13] == "5295.98"
    assert by_code["DEM004"][9] == "0.8"
    assert by_code["QI001"][8] == "Yes"
    assert rows[-1][0] == "Total"
    assert rows[-1][-1] == str(TOTAL)

    book = load_workbook(io.BytesIO(summary_xlsx(summary)))
    sheet = book["Summary"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    facts = {row[0]: row[1] for row in values[1:10]}
    assert Decimal(str(facts["Total"])) == TOTAL
    assert facts["List size"] == 10_000
    indicator_rows = {row[2]: row for row in values if row[2] in ("DEM004", "QI001")}
    assert Decimal(str(indicator_rows["DEM004"][13])) == DEM
    assert Decimal(str(indicator_rows["QI001"][13])) == QI
    assert values[-1][0] == "Total"
    assert Decimal(str(values[-1][13])) == TOTAL
    domains = [[cell.value for cell in row] for row in book["Domains"].iter_rows()]
    assert [row[0] for row in domains] == ["Domain", "Clinical", "Quality improvement"]

    html = summary_html(summary)
    assert "£21,681.27" in html
    assert "£5,295.98" in html
    assert "£16,385.29" in html
    pdf = summary_pdf(summary)
    assert pdf.startswith(b"%PDF")


def test_text_cells_cannot_be_formulas(scene):
    scene.practice.name = "=HYPERLINK(1)"
    db.session.commit()
    summary = summaries.summary_for(
        db.session, scene.service, scene.practice, year_end(scene.service)
    )
    sheet = load_workbook(io.BytesIO(summary_xlsx(summary)))["Summary"]
    assert sheet["B2"].value.startswith("'=")
    assert "&lt;" not in summary_html(summary)  # plain text, escaped if it were markup


def test_the_missing_data_view_counts_each_group(db_session):
    service = make_service(2024, "220.62", 9_964, {"HYP": "0.15"})
    hyp = group(service, "HYP", description="Hypertension")
    indicator(hyp, "HYP001", 10, register="HYP")
    indicator(hyp, "HYP002", 10)
    qi = group(service, "QI", description="Quality improvement")
    indicator(qi, "QI001", 5, thresholds=None)
    practice = PracticeFactory()
    submit(service, practice, {("HYP002", "NUMERATOR"): 5} | {("QI001", "ANSWER"): 0})
    missing = summaries.missing_data(db.session, service, practice, year_end(service))
    assert missing.list_size_missing
    assert not missing.complete
    by_code = {g.code: g for g in missing.groups}
    assert (by_code["HYP"].submitted, by_code["HYP"].indicators) == (0, 2)
    assert {m.code: m.missing for m in by_code["HYP"].missing} == {
        "HYP001": ("numerator", "denominator", "register HYP"),
        "HYP002": ("denominator",),
    }
    assert (by_code["QI"].submitted, by_code["QI"].indicators, by_code["QI"].complete) == (
        1,
        1,
        True,
    )
    submit(
        service,
        practice,
        list_size(9_964) | register("HYP", 10) | counts("HYP001", 1, 2) | counts("HYP002", 1, 2),
    )
    assert summaries.missing_data(db.session, service, practice, year_end(service)).complete


# --- Pages and who sees them ------------------------------------------------------------------


def test_the_practice_sees_its_summary_and_downloads(client, scene):
    viewer = user_with_role(Role.VIEW, scene.practice)
    sign_in(client, viewer.email)
    index = client.get("/national/achievement")
    assert index.status_code == 200
    assert scene.url(scene.practice).encode() in index.data
    page = client.get(scene.url(scene.practice))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "£21,681.27" in text
    assert "How DEM004 was worked out" in text
    assert "Prevalence factor" in text
    for kind, start in (("csv", b"Domain,"), ("xlsx", b"PK"), ("pdf", b"%PDF")):
        download = client.get(scene.url(scene.practice, f".{kind}"))
        assert download.status_code == 200, kind
        assert download.data.startswith(start)
        assert "attachment" in download.headers["Content-Disposition"]
    assert client.get(scene.url(scene.practice, ".txt")).status_code == 404
    missing = client.get(scene.url(scene.practice, "/missing"))
    assert missing.status_code == 200
    assert b"1 of 1" in missing.data
    # A practice is sent from the providers list to its own summary.
    listing = client.get(f"/national/achievement/{scene.service.id}/{scene.day}")
    assert listing.status_code == 302
    assert listing.headers["Location"].endswith(scene.url(scene.practice))


def test_a_practice_cannot_see_its_neighbour(client, scene):
    sign_in(client, user_with_role(Role.VIEW, scene.practice).email)
    assert client.get(scene.url(scene.neighbour)).status_code == 404
    assert client.get(scene.url(scene.neighbour, ".csv")).status_code == 404


def test_the_icb_sees_its_providers_and_not_another_icbs(client, scene):
    sign_in(client, user_with_role(Role.COMMISSIONING_MANAGEMENT, scene.icb).email)
    listing = client.get(f"/national/achievement/{scene.service.id}/{scene.day}")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert scene.practice.ods_code in text
    assert scene.neighbour.ods_code in text
    assert scene.stranger.ods_code not in text
    assert "2 providers, £28,301.25 in all." in text  # 21,681.27 + 6,619.98
    assert client.get(scene.url(scene.practice)).status_code == 200
    assert client.get(scene.url(scene.stranger)).status_code == 404
    assert client.get(scene.url(scene.stranger, ".pdf")).status_code == 404
    assert client.get(scene.url(scene.stranger, "/missing")).status_code == 404


def test_the_national_commissioner_sees_every_provider(client, scene):
    national = NationalCommissionerFactory()
    sign_in(client, user_with_role(Role.VIEW, national).email)
    listing = client.get(f"/national/achievement/{scene.service.id}/{scene.day}")
    assert "3 providers" in listing.get_data(as_text=True)
    assert client.get(scene.url(scene.stranger)).status_code == 200


def test_without_a_national_role_nothing_is_shown(client, scene):
    sign_in(client, user_with_role(Role.ADMINISTRATOR, scene.icb).email)
    assert client.get("/national/achievement").status_code == 403
    assert client.get(scene.url(scene.practice)).status_code == 403


def test_nothing_calculated_or_a_bad_date_is_not_found(client, scene):
    sign_in(client, user_with_role(Role.VIEW, scene.practice).email)
    assert (
        client.get(
            f"/national/achievement/{scene.service.id}/2021-02-28/{scene.practice.id}"
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/national/achievement/{scene.service.id}/not-a-date/{scene.practice.id}"
        ).status_code
        == 404
    )
    assert (
        client.get(f"/national/achievement/999999/{scene.day}/{scene.practice.id}").status_code
        == 404
    )
