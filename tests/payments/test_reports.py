"""The commissioners' payments report (files and their rows), the accruals report and national
totals: exact figures, each ICB's own files only, sub-locations' own rows, downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass
from decimal import Decimal

import pytest

from claims_portal.access.roles import Role
from claims_portal.claims.models import ClaimStatus
from claims_portal.clock import ENGLAND, today
from claims_portal.db import utcnow
from claims_portal.organisations.models import Organisation
from claims_portal.payments.models import (
    Payment,
    PaymentFile,
    PaymentFileStatus,
    PaymentRecovery,
    PaymentResponse,
    PaymentRun,
    PaymentRunKind,
    PaymentStatus,
)
from claims_portal.schemes.models import ClaimWindow, Scheme, SchemeStatus
from tests.admin.helpers import Tenant, make_tenant, xlsx_text
from tests.factories.access import user_with_role
from tests.factories.claims import ClaimFactory
from tests.factories.organisations import (
    NationalCommissionerFactory,
    PracticeFactory,
    SubLocationFactory,
)
from tests.factories.schemes import ClaimWindowFactory, SchemeFactory
from tests.helpers import sign_in

_serial = itertools.count(1)


@dataclass
class Icb:
    tenant: Tenant
    scheme: Scheme
    window: ClaimWindow
    #: A second sub-location of the ICB and a practice under it.
    other_sub_location: Organisation
    other_practice: Organisation


def make_icb(db_session) -> Icb:
    tenant = make_tenant()
    other_sub_location = SubLocationFactory(parent=tenant.icb)
    other_practice = PracticeFactory(parent=other_sub_location)
    scheme = SchemeFactory(
        commissioner=tenant.icb, status=SchemeStatus.PUBLISHED, paycode="LES-HC01"
    )
    window = ClaimWindowFactory(scheme=scheme)
    return Icb(tenant, scheme, window, other_sub_location, other_practice)


@pytest.fixture
def ours(db_session) -> Icb:
    return make_icb(db_session)


@pytest.fixture
def theirs(db_session) -> Icb:
    return make_icb(db_session)


def claim(icb: Icb, *, practice=None, status=ClaimStatus.PAID, value="100.00", **kwargs):
    return ClaimFactory(
        provider=practice or icb.tenant.practice,
        scheme=icb.scheme,
        window=icb.window,
        scope=f"test-{next(_serial)}",  # one claim per practice, scheme and period otherwise
        status=status,
        value=Decimal(value),
        submitted_at=utcnow(),
        reached_commissioner_at=utcnow(),
        **kwargs,
    )


def run(day: dt.date | None = None) -> PaymentRun:
    return _add(
        PaymentRun(
            slot=f"test:{next(_serial)}", kind=PaymentRunKind.SCHEDULED, run_date=day or today()
        )
    )


def payment_file(
    db_session, icb: Icb, *, day=None, status=PaymentFileStatus.ACCEPTED, sends=1, rows=0
) -> PaymentFile:
    number = next(_serial)
    found = PaymentFile(
        run_id=run(day).id,
        icb_id=icb.tenant.icb.id,
        agency_account="PCSE-TEST",
        name=f"{icb.tenant.icb.ods_code}-{number:06d}.csv",
        sha256=f"{number:064x}",
        row_count=rows,
        total=Decimal("0.00"),
        status=status,
        sends=sends,
    )
    return _add(found)


def pay(
    payment_file_: PaymentFile | None,
    claim_,
    amount: str,
    *,
    status=PaymentStatus.PAID,
    paid_date: dt.date | None = None,
    recovery=None,
    recorded_by=None,
) -> Payment:
    number = next(_serial)
    if status is PaymentStatus.PAID and paid_date is None:
        paid_date = today()
    row = _add(
        Payment(
            reference=f"{'REC' if recovery else 'PAY'}-T-{number:06d}",
            claim_id=claim_.id,
            recovery_id=recovery.id if recovery else None,
            file_id=payment_file_.id if payment_file_ else None,
            recorded_by_id=recorded_by.id if recorded_by else None,
            provider_id=claim_.provider_id,
            icb_id=claim_.icb_id,
            scheme_id=claim_.scheme_id,
            paycode="LES-HC01",
            amount=Decimal(amount),
            payment_month="2026-11",
            financial_year="2026/27",
            approved_date=today(),
            status=status,
            paid_date=paid_date,
            agency_reference=f"PCSE-{number:06d}" if paid_date else None,
        )
    )
    if payment_file_ is not None:
        payment_file_.row_count += 1
        payment_file_.total += Decimal(amount)
        _add(payment_file_)
    return row


def _add(row):
    from claims_portal.extensions import db

    db.session.add(row)
    db.session.commit()
    return row


def text_of(response) -> str:
    return response.get_data(as_text=True)


def fetch(client, url: str):
    """A response read whole and closed (a download's temporary file closes with it)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


# --- The payments report -------------------------------------------------------------------


def test_files_are_listed_newest_first_with_their_state_and_paged(client, ours):
    first = payment_file(None, ours, day=today() - dt.timedelta(days=40))
    pay(first, claim(ours), "100.00")
    pay(first, claim(ours), "25.50")
    waiting = payment_file(None, ours, status=PaymentFileStatus.SENT, sends=3)
    failed = payment_file(
        None, ours, day=today() - dt.timedelta(days=1), status=PaymentFileStatus.FAILED, sends=4
    )
    sign_in(client, ours.tenant.finance.email)
    page = text_of(client.get("/payments/files"))
    assert page.index(waiting.name) < page.index(failed.name) < page.index(first.name)
    assert "Waiting for acknowledgement, resent 2 times" in page
    assert "Failed: no acknowledgement, resent 3 times" in page
    failed_page = text_of(client.get(f"/payments/files/{failed.id}"))
    assert f'href="/payments/files/{failed.id}/withdraw"' in failed_page
    assert "/withdraw" not in text_of(client.get(f"/payments/files/{waiting.id}"))
    assert "£125.50" in page
    assert "Start a payment run" in page  # finance's (once the route is there)
    assert 'href="/payments/run"' in page
    for _ in range(25):  # newer (same day, written later): page 1
        payment_file(None, ours)
    page_1 = text_of(client.get("/payments/files"))
    assert "Showing 1 to 25 of 28 files" in page_1
    assert first.name not in page_1
    page_2 = text_of(client.get("/payments/files?page=2"))
    assert "Showing 26 to 28 of 28 files" in page_2
    assert first.name in page_2
    assert "Showing 26 to 28" in text_of(client.get("/payments/files?page=99"))


def test_files_are_filtered_by_status_and_month(client, ours):
    old_day = today().replace(day=1) - dt.timedelta(days=70)
    old = payment_file(None, ours, day=old_day)
    rejected = payment_file(None, ours, status=PaymentFileStatus.REJECTED)
    sign_in(client, ours.tenant.admin.email)
    assert "Start a payment run" not in text_of(client.get("/payments/files"))
    page = text_of(client.get("/payments/files?status=REJECTED"))
    assert rejected.name in page
    assert old.name not in page
    page = text_of(client.get(f"/payments/files?month={old_day:%Y-%m}"))
    assert old.name in page
    assert rejected.name not in page
    page = text_of(client.get("/payments/files?status=NOPE&month=2026-13"))
    assert "There is a problem" in page
    assert old.name in page
    assert rejected.name in page


def test_a_file_shows_its_rows_and_the_agencys_responses(client, ours):
    found = payment_file(None, ours, status=PaymentFileStatus.PARTLY_REJECTED)
    paid_claim = claim(ours)
    pay(found, paid_claim, "120.00", paid_date=dt.date(2026, 11, 20))
    rejected_claim = claim(ours, status=ClaimStatus.APPROVED_FOR_PAYMENT)
    rejected = pay(found, rejected_claim, "30.00", status=PaymentStatus.REJECTED)
    rejected.reason = "Practice not set up for this paycode"
    _add(rejected)
    _add(
        PaymentResponse(
            name="ACK-1.csv",
            sha256="a" * 64,
            kind="acknowledgement",
            file_id=found.id,
            outcome="1 row accepted, 1 rejected",
        )
    )
    sign_in(client, ours.tenant.tier_2.email)
    response = client.get(f"/payments/files/{found.id}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Partly rejected" in page
    assert f'href="/claims/{paid_claim.id}"' in page
    assert f"CLM-{paid_claim.id:06d}" in page
    assert "Practice not set up for this paycode" in page
    assert "20 November 2026" in page
    assert "1 row accepted, 1 rejected" in page
    assert "£150.00" in page
    assert ours.scheme.name in page


def test_another_icbs_files_are_never_shown(client, ours, theirs):
    mine = payment_file(None, ours)
    pay(mine, claim(ours), "10.00")
    their_file = payment_file(None, theirs)
    their_payment = pay(their_file, claim(theirs), "99.00")
    sign_in(client, ours.tenant.finance.email)
    assert client.get(f"/payments/files/{their_file.id}").status_code == 404
    assert fetch(client, f"/payments/files/{their_file.id}?format=csv").status_code == 404
    listed = text_of(client.get("/payments/files"))
    downloaded = text_of(fetch(client, "/payments/files?format=csv"))
    for shown in (listed, downloaded):
        assert mine.name in shown
        assert their_file.name not in shown
    rows = text_of(fetch(client, f"/payments/files/{mine.id}?format=csv"))
    assert their_payment.reference not in rows


def test_a_sub_locations_staff_see_only_their_rows(client, ours):
    found = payment_file(None, ours)
    mine = pay(found, claim(ours), "40.00")
    other = pay(found, claim(ours, practice=ours.other_practice), "60.00")
    only_other = payment_file(None, ours)
    pay(only_other, claim(ours, practice=ours.other_practice), "5.00")
    _add(PaymentResponse(name="ACK.csv", sha256="b" * 64, kind="acknowledgement",
                         file_id=found.id, outcome="2 rows accepted"))  # fmt: skip
    finance = user_with_role(Role.FINANCE, ours.tenant.sub_location)
    sign_in(client, finance.email)
    listed = text_of(client.get("/payments/files"))
    assert found.name in listed
    assert only_other.name not in listed
    assert "£40.00" in listed
    assert "£100.00" not in listed
    page = text_of(client.get(f"/payments/files/{found.id}"))
    assert mine.reference in page
    assert other.reference not in page
    assert "2 rows accepted" not in page  # a response is about the whole file
    assert client.get(f"/payments/files/{only_other.id}").status_code == 404


@pytest.mark.parametrize(
    "url", ["/payments/files", "/payments/files/1", "/payments/accruals", "/payments/national"]
)
def test_practice_users_may_not_see_the_reports(client, ours, url):
    sign_in(client, ours.tenant.provider.email)
    assert client.get(url).status_code == 403


def test_the_files_download_as_csv_by_the_payment_files_rules(client, ours):
    found = payment_file(None, ours)
    practice = ours.tenant.practice
    practice.name = "=HYPERLINK(1) Surgery"
    _add(practice)
    pay(found, claim(ours), "1234.5")
    pay(found, claim(ours), "0.10")
    sign_in(client, ours.tenant.finance.email)
    response = fetch(client, f"/payments/files/{found.id}?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    raw = response.get_data()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\r\n") == raw.count(b"\n") == 3
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert header[:4] == ["Payment reference", "Practice", "ODS code", "Claim reference"]
    assert [row[1] for row in rows] == ["'=HYPERLINK(1) Surgery"] * 2
    assert [row[7] for row in rows] == ["1234.50", "0.10"]
    assert rows[0][10] == today().isoformat()
    listed = list(csv.reader(io.StringIO(text_of(fetch(client, "/payments/files?format=csv")))))
    assert listed[1][:5] == [found.name, today().isoformat(), "2", "1234.60", "Accepted"]


def test_the_files_download_as_xlsx_with_amounts_as_numbers(client, ours):
    from openpyxl import load_workbook

    found = payment_file(None, ours)
    practice = ours.tenant.practice
    practice.name = "+44 Surgery"
    _add(practice)
    pay(found, claim(ours), "99.99")
    sign_in(client, ours.tenant.finance.email)
    response = fetch(client, f"/payments/files/{found.id}?format=xlsx")
    assert "'+44 Surgery" in xlsx_text(response)
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    row = [cell.value for cell in next(sheet.iter_rows(min_row=2))]
    assert row[7] == pytest.approx(99.99)
    assert isinstance(row[7], float)
    assert row[10].date() == today()
    assert fetch(client, f"/payments/files/{found.id}?format=pdf").status_code == 404


# --- Accruals ------------------------------------------------------------------------------


def _moment(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ENGLAND).astimezone(dt.UTC)


def test_accruals_count_claims_approved_by_the_day_and_not_paid_by_it(client, ours, theirs):
    as_at = today() - dt.timedelta(days=10)
    late_that_day = _moment(as_at, 23, 30)
    next_day = _moment(as_at + dt.timedelta(days=1), 0, 10)
    earlier = _moment(as_at - dt.timedelta(days=40), 12)
    s = ClaimStatus
    counted = [
        claim(ours, status=s.APPROVED_FOR_PAYMENT, value="10.01", approved_at=late_that_day),
        claim(ours, status=s.SENT_FOR_PAYMENT, value="20.02", approved_at=earlier),
        claim(ours, status=s.PAYMENT_ON_HOLD, value="0.03", approved_at=earlier),
        # Paid since: still owed at the end of that day.
        claim(ours, status=s.PAID, value="300.00", approved_at=earlier, paid_at=next_day),
    ]
    # Approved after the day; paid by the end of it; another ICB's.
    claim(ours, status=s.APPROVED_FOR_PAYMENT, value="1.00", approved_at=next_day)
    claim(ours, status=s.PAID, value="2.00", approved_at=earlier, paid_at=late_that_day)
    claim(theirs, status=s.APPROVED_FOR_PAYMENT, value="4.00", approved_at=earlier)
    claim(ours, status=s.AWAITING_PAYMENT_APPROVAL, value="8.00")
    sign_in(client, ours.tenant.finance.email)
    page = text_of(client.get(f"/payments/accruals?as-at={as_at.isoformat()}"))
    assert "£330.06" in page
    assert "LES-HC01" in page
    lines = list(
        csv.reader(
            io.StringIO(text_of(fetch(client, f"/payments/accruals?as-at={as_at}&format=csv")))
        )
    )
    assert lines[0] == ["Scheme code", "Scheme", "Paycode", "Month approved", "Claims", "Total"]
    by_month = {line[3]: (line[4], line[5]) for line in lines[1:-1]}
    assert by_month == {
        f"{as_at - dt.timedelta(days=40):%Y-%m}": ("3", "320.05"),
        f"{as_at:%Y-%m}": ("1", "10.01"),
    }
    assert lines[-1] == ["Total", "", "", "", str(len(counted)), "330.06"]
    # As at today: exactly the claims approved and not paid now.
    today_lines = list(
        csv.reader(io.StringIO(text_of(fetch(client, "/payments/accruals?format=csv"))))
    )
    assert today_lines[-1] == ["Total", "", "", "", "4", "31.06"]


def test_accruals_refuse_a_day_in_the_future_and_download_as_xlsx(client, ours):
    claim(
        ours,
        status=ClaimStatus.APPROVED_FOR_PAYMENT,
        value="12.34",
        approved_at=_moment(today(), 0, 1),
    )
    sign_in(client, ours.tenant.admin.email)
    tomorrow = today() + dt.timedelta(days=1)
    page = text_of(client.get(f"/payments/accruals?as-at={tomorrow}"))
    assert "The date must be today or in the past" in page
    assert "£12.34" in page  # shown as at today
    text = xlsx_text(fetch(client, "/payments/accruals?format=xlsx"))
    assert f"{ours.scheme.code}\t{ours.scheme.name}\tLES-HC01\t{today():%Y-%m}\t1\t12.34" in text


def test_a_sub_locations_accruals_are_its_claims(client, ours):
    approved = _moment(today(), 0, 1)
    claim(ours, status=ClaimStatus.APPROVED_FOR_PAYMENT, value="7.00", approved_at=approved)
    claim(
        ours,
        practice=ours.other_practice,
        status=ClaimStatus.APPROVED_FOR_PAYMENT,
        value="70.00",
        approved_at=approved,
    )
    sign_in(client, user_with_role(Role.APPROVER_TIER_2, ours.other_sub_location).email)
    lines = list(csv.reader(io.StringIO(text_of(fetch(client, "/payments/accruals?format=csv")))))
    assert lines[-1] == ["Total", "", "", "", "1", "70.00"]


# --- National totals -----------------------------------------------------------------------


def test_national_totals_by_icb_and_month_for_national_users_only(client, app, ours, theirs):
    from claims_portal.payments.services.reports import financial_year_of, financial_year_range

    year = financial_year_of(today())
    start, _ = financial_year_range(year)
    april, may = start + dt.timedelta(days=3), start + dt.timedelta(days=33)
    ours_file = payment_file(None, ours)
    paid_claim = claim(ours)
    pay(ours_file, paid_claim, "100.00", paid_date=april)
    pay(ours_file, claim(ours), "50.25", paid_date=may)
    recovery = _add(
        PaymentRecovery(
            claim_id=paid_claim.id,
            amount=Decimal("20.10"),
            reason="Overclaimed",
            raised_by_id=ours.tenant.finance.id,
        )
    )
    pay(ours_file, paid_claim, "-20.10", paid_date=may, recovery=recovery)
    pay(None, claim(ours), "9.00", paid_date=may, recorded_by=ours.tenant.finance)
    pay(ours_file, claim(ours), "5000.00", status=PaymentStatus.ACCEPTED)  # not paid yet
    pay(ours_file, claim(ours), "7000.00", paid_date=start - dt.timedelta(days=1))  # last year
    pay(payment_file(None, theirs), claim(theirs), "1.11", paid_date=april)

    finance = app.test_client()
    sign_in(finance, ours.tenant.finance.email)
    assert finance.get("/payments/national").status_code == 403

    national = user_with_role(Role.VIEW, NationalCommissionerFactory())
    sign_in(client, national.email)
    response = client.get(f"/payments/national?year={year}")
    assert response.status_code == 200
    assert "£5,000.00" not in text_of(response)
    lines = list(
        csv.reader(
            io.StringIO(text_of(fetch(client, f"/payments/national?year={year}&format=csv")))
        )
    )
    assert lines[0] == ["ICB", "ICB code", "Month paid", "Payments", "Paid", "Recovered", "Net"]
    rows = {(line[1], line[2]): line[3:] for line in lines[1:-1]}
    code, their_code = ours.tenant.icb.ods_code, theirs.tenant.icb.ods_code
    assert rows[(code, f"{april:%Y-%m}")] == ["1", "100.00", "0.00", "100.00"]
    assert rows[(code, f"{may:%Y-%m}")] == ["3", "59.25", "20.10", "39.15"]
    assert rows[(their_code, f"{april:%Y-%m}")] == ["1", "1.11", "0.00", "1.11"]
    assert lines[-1] == ["Total", "", "", "5", "160.36", "20.10", "140.26"]
    assert "Choose a financial year" in text_of(client.get("/payments/national?year=2026/28"))


def test_national_roles_held_in_an_icb_see_no_national_totals(client, ours):
    sign_in(client, user_with_role(Role.COMMISSIONING_MANAGEMENT, ours.tenant.icb).email)
    assert client.get("/payments/national").status_code == 403


def test_the_pages_cost_the_same_queries_however_many_rows(client, ours):
    from tests.helpers import counted_queries

    found = payment_file(None, ours)
    pay(found, claim(ours), "1.00")
    payment_file(None, ours)
    sign_in(client, ours.tenant.finance.email)
    client.get("/payments/files")  # warm: first-request work is not the page's
    with counted_queries() as few_files:
        assert client.get("/payments/files").status_code == 200
    with counted_queries() as few_rows:
        assert client.get(f"/payments/files/{found.id}").status_code == 200
    for _ in range(10):
        payment_file(None, ours)
        pay(found, claim(ours), "2.00")
    with counted_queries() as many_files:
        assert client.get("/payments/files").status_code == 200
    with counted_queries() as many_rows:
        assert client.get(f"/payments/files/{found.id}").status_code == 200
    assert len(few_files) == len(many_files), "\n".join(many_files)
    assert len(few_rows) == len(many_rows), "\n".join(many_rows)
