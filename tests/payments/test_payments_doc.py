"""docs/payments.md's examples are files our readers accept, with the figures it states."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from claims_portal.payments.files import read_payment_file
from claims_portal.payments.responses import (
    Outcome,
    acknowledgement_problems,
    read_acknowledgement,
    read_remittance,
)

DOC = Path(__file__).parents[2] / "docs" / "payments.md"


def examples() -> list[bytes]:
    blocks = re.findall(r"```csv\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    return [block.replace("\n", "\r\n").encode("utf-8") for block in blocks]


def test_the_examples_read() -> None:
    payment_file, acknowledgement, remittance = examples()
    read = read_payment_file(payment_file)
    assert len(read.rows) == 3
    assert [row.amount for row in read.rows] == [
        Decimal("1250.00"),
        Decimal("312.45"),
        Decimal("-180.00"),
    ]
    assert read.trailer.total == Decimal("1382.45")
    assert read.trailer.sha256 in DOC.read_text(encoding="utf-8")

    ack = read_acknowledgement(acknowledgement)
    assert ack.outcome is Outcome.ACCEPTED
    references = [row.payment_reference for row in read.rows]
    assert acknowledgement_problems(ack, read.trailer.sha256, references) == []

    paid = read_remittance(remittance)
    assert {row.payment_reference for row in paid} <= set(references)
