"""The value of a claim as a practice reads it: what the per-claim limit will do said on save
in submission's words, and the calculation in plain words (pounds with thousands separators,
long dates), its rules and sources behind a details."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from claims_portal.calculation import (
    Cap,
    CapMeasure,
    CapScope,
    ComponentTerms,
    LocalClaim,
    Period,
    PriorClaims,
    Rate,
    RateSchedule,
    calculate_local_claim,
)
from claims_portal.calculation import ClaimLine as CalcLine
from claims_portal.claims.models import Claim, ClaimStatus
from claims_portal.claims.services import explaining
from tests.claims.helpers import check_and_submit, signed_in, start
from tests.factories.claims import claim_scene
from tests.helpers import csrf_token

NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def plain(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def _explained(*lines: CalcLine) -> explaining.ValueAccount:
    result = calculate_local_claim(LocalClaim(period=NOVEMBER, lines=lines))
    data = {
        "total": result.explanation.as_dict(),
        "lines": [line.explanation.as_dict() for line in result.lines],
    }
    return explaining.present(data, {"HC1": "NHS Health Check", "FT": "Foot check"})


def _terms(code: str, *rates: tuple[dt.date, str], caps: tuple[Cap, ...] = ()) -> ComponentTerms:
    schedule = RateSchedule(tuple(Rate(Decimal(amount), day) for day, amount in rates))
    return ComponentTerms(code=code, unit_label="check", tariffs=schedule, caps=caps)


# --- The words --------------------------------------------------------------------------


def test_a_line_reads_in_pounds_with_separators_and_long_dates():
    terms = _terms("HC1", (dt.date(2026, 4, 1), "1234.50"))
    account = _explained(CalcLine(component=terms, units=2))
    (line,) = account.lines
    assert line.heading == "NHS Health Check (HC1)"
    assert line.sentences == (
        "The tariff is £1,234.50 a unit: the rate in force on 1 November 2026, the first day "
        "of the claim period (in force from 1 April 2026).",
        "2 units at £1,234.50 each come to £2,469.00.",
    )
    assert account.total == "The claim's value is £2,469.00."
    everything = " ".join(line.sentences) + account.total
    assert "2026-" not in everything
    assert "x tariff" not in everything  # no formulas in the words


def test_a_tariff_changing_during_the_period_is_said_in_words():
    terms = _terms("HC1", (dt.date(2026, 4, 1), "12.50"), (dt.date(2026, 11, 15), "14.00"))
    (line,) = _explained(CalcLine(component=terms, units=10)).lines
    assert (
        "A new tariff of £14.00 starts on 15 November 2026, during this period: it is used "
        "from the next claim period."
    ) in line.sentences


def test_caps_are_explained_in_plain_words_in_order():
    terms = _terms(
        "HC1",
        (dt.date(2026, 4, 1), "25.00"),
        caps=(
            Cap(CapScope.PERIOD, CapMeasure.UNITS, Decimal(120)),
            Cap(CapScope.FINANCIAL_YEAR, CapMeasure.MONEY, Decimal("6000.00")),
        ),
    )
    prior = PriorClaims(units_in_period=20, units_in_year=20, value_in_year=Decimal("4000.00"))
    account = _explained(CalcLine(component=terms, units=150, prior=prior))
    (line,) = account.lines
    assert line.caps == (
        "At most 120 units can be paid for a claim period. 20 units were already claimed this "
        "period, so 100 units are left: 100 units of the 150 units claimed are paid.",
        "At most £6,000.00 can be paid in a financial year. £4,000.00 was already claimed this "
        "financial year, so £2,000.00 is left: £2,000.00 of the £2,500.00 is paid.",
    )
    assert line.sentences[-1] == "Paid for this line: £2,000.00."
    assert account.caps_of("HC1") == line.caps
    assert account.caps_of("OTHER") == ()


def test_a_cap_used_up_pays_nothing_more():
    terms = _terms(
        "FT",
        (dt.date(2026, 4, 1), "9.50"),
        caps=(Cap(CapScope.PERIOD, CapMeasure.MONEY, Decimal("600.00")),),
    )
    prior = PriorClaims(value_in_period=Decimal("600.00"))
    (line,) = _explained(CalcLine(component=terms, units=4, prior=prior)).lines
    assert line.caps == (
        "At most £600.00 can be paid for a claim period. £600.00 was already claimed this "
        "period, so £0.00 is left: nothing more is paid.",
    )


def test_the_rules_and_sources_stay_for_the_details_formatted_the_same_way():
    terms = _terms("HC1", (dt.date(2026, 4, 1), "1234.50"))
    account = _explained(CalcLine(component=terms, units=1200))
    tariff, gross = account.lines[0].workings
    assert tariff.rule == "Tariff in force"
    assert tariff.inputs == (
        ("period start", "1 November 2026"),
        ("tariff effective from", "1 April 2026"),
    )
    assert tariff.source.startswith("the commissioner's local scheme specification")
    assert gross.formula == "units \u00d7 tariff, rounded half up to the penny"
    assert gross.inputs == (("units", "1,200"), ("tariff", "£1,234.50"))
    assert gross.result == "£1,481,400.00"
    assert account.workings[0].rule == "Claim total"
    assert "rounding rule" in account.workings[0].source


def test_an_unknown_or_empty_explanation_is_shown_without_failing():
    odd = {
        "total": {"subject": "x", "steps": [{"rule": "Claim total", "result": "10.00"}]},
        "lines": [
            {
                "subject": "ZZ: 1 thing -> £10.00",
                "steps": [{"rule": "Something new", "formula": "?", "inputs": [], "result": "1"}],
            }
        ],
    }
    account = explaining.present(odd, {})
    assert account.lines[0].heading == "ZZ: 1 thing -> £10.00"
    assert account.lines[0].sentences == ()
    assert account.lines[0].workings[0].rule == "Something new"
    assert account.total == "The claim's value is £10.00."
    assert explaining.present({}, {}).lines == ()
    assert explaining.figure("not set") == "not set"
    assert explaining.in_words("£1234567.5 from 2026-04-01") == "£1,234,567.50 from 1 April 2026"


# --- The pages --------------------------------------------------------------------------


def _edit(client, claim, **units):
    page = client.get(f"/claims/{claim.id}/edit")
    version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True)).group(1)
    data = {"csrf_token": csrf_token(page), "version": version, "answers-present": "1"}
    data.update(units)
    return client.post(f"/claims/{claim.id}/edit", data=data)


def test_a_draft_over_the_per_claim_limit_says_what_submission_will_do(app, db_session):
    scene = claim_scene(two_step=False, max_units_per_claim=150)
    claim = start(db_session, scene)
    db_session.commit()
    first, second = (f"units-{line.id}" for line in claim.lines)
    client = signed_in(app, scene.user)
    refusal = "Health check part 1: at most 150 can be claimed in one claim (you entered 160)"

    saved = _edit(client, claim, **{first: "160", second: "2", "action": "save"})
    assert saved.status_code == 302  # a draft may be saved as it is
    page = plain(text(client.get(saved.headers["Location"])))
    assert refusal in page  # the words submission will use, on save
    assert "paid 150 units of the 160" not in page
    assert "of the 160 units claimed are paid" not in page
    assert "Not calculated" in page  # no value it could never be submitted at

    checked = _edit(client, claim, **{first: "160", second: "2", "action": "check"})
    assert checked.status_code == 400
    assert refusal in plain(text(checked))  # submission refuses in the same words
    db_session.expire_all()
    assert db_session.get(Claim, claim.id).status is ClaimStatus.DRAFT


def test_the_hint_names_the_unit(app, db_session):
    scene = claim_scene(two_step=False)
    claim = start(db_session, scene)
    db_session.commit()
    body = text(signed_in(app, scene.user).get(f"/claims/{claim.id}/edit"))
    label = scene.components[0].unit_label
    assert f"Enter the number of units (one unit is one {label})." in body
    assert f"Number of {label}." not in body


def test_the_claim_page_explains_the_submitted_value_in_words(app, db_session):
    scene = claim_scene(two_step=False, tariffs=("1250.00", "12.50"))
    claim = start(db_session, scene)
    db_session.commit()
    first, second = (f"units-{line.id}" for line in claim.lines)
    client = signed_in(app, scene.user)
    assert _edit(client, claim, **{first: "2", second: "0", "action": "check"}).status_code == 302
    assert check_and_submit(client, claim.id).status_code == 302
    body = text(client.get(f"/claims/{claim.id}"))
    words = plain(body)
    assert "How this value was worked out" in words
    start_day = claim.period_start
    assert (
        f"The tariff is £1,250.00 a unit: the rate in force on {start_day.day} "
        f"{start_day:%B %Y}, the first day of the claim period"
    ) in words
    assert "2 units at £1,250.00 each come to £2,500.00." in words
    assert f"{start_day.isoformat()}" not in words
    assert "The rules used and their sources" in words  # the technical part, behind details
    details = body.split("The rules used and their sources", 1)[1]
    assert "Source: the commissioner" in details
    assert "units \u00d7 tariff" in details
