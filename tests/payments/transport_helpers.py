"""Shared by the transport and stand-in agency tests: payment files, and a transport of
either kind (a drop folder in tmp_path, or S3 on moto's real server over HTTP)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from claims_portal.payments.files import PaymentRow, payment_file_chunks
from claims_portal.payments.transport import AreaTransport, transport_for
from tests.claims.evidence.helpers import BUCKET, REGION

KINDS = ("folder", "s3")


def a_row(reference: str = "PAY-000001", amount: str = "100.00", **changes: object) -> PaymentRow:
    row = PaymentRow(
        payment_reference=reference,
        practice_ods_code="A81001",
        practice_name="The Health Centre",
        icb_code="QHM",
        paycode="LES-SMK",
        scheme_code="NENC-SMK-2026",
        claim_reference="CL-000123",
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 6, 30),
        amount=Decimal(amount),
        financial_year="2026/27",
        payment_month="2026-09",
        approved_date=dt.date(2026, 8, 20),
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


def a_file(count: int = 3) -> bytes:
    rows = [a_row(f"PAY-{n:06d}", f"{n}.50") for n in range(1, count + 1)]
    return b"".join(payment_file_chunks(rows))


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def transport(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> AreaTransport:
    if kind == "folder":
        return transport_for({"PAYMENTS_TRANSPORT": "folder", "PAYMENTS_FOLDER": str(tmp_path)})
    endpoint = request.getfixturevalue("moto_endpoint")
    request.getfixturevalue("s3_client")  # an empty moto with the bucket
    return transport_for(
        {
            "PAYMENTS_TRANSPORT": "s3",
            "PAYMENTS_S3_BUCKET": BUCKET,
            "PAYMENTS_S3_PREFIX": "payments/",
            "PAYMENTS_S3_REGION": REGION,
            "PAYMENTS_S3_ENDPOINT_URL": endpoint,
        }
    )
