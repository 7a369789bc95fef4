"""Item of service (V&I): count x fee for the period."""

from datetime import date
from decimal import Decimal

import pytest

from claims_portal.calculation import (
    VI_ROUTINE_CHILDHOOD_FEES,
    VI_STANDARD_FEES,
    DuplicateEntryError,
    InvalidValueError,
    ItemCount,
    ItemOfService,
    ItemOfServiceClaim,
    NegativeValueError,
    NoTariffInForceError,
    Period,
    calculate_items_of_service,
)

MMR = ItemOfService("MMR", "MMR (routine childhood)", VI_ROUTINE_CHILDHOOD_FEES)
SHINGLES = ItemOfService("SHINGLES", "Shingles", VI_STANDARD_FEES)


def month(year: int, month_number: int) -> Period:
    last_day = 30 if month_number in (4, 6, 9, 11) else 31
    return Period(date(year, month_number, 1), date(year, month_number, last_day))


# Fees: 10.06 per dose in 2024/25; from 2025/26 routine childhood immunisations 12.06, others
# unchanged (domain brief, from NHS England GP contract 2024/25 and 2025/26 letters).
@pytest.mark.parametrize(
    ("item", "period", "count", "fee", "value"),
    [
        pytest.param(MMR, month(2024, 5), 150, "10.06", "1509.00", id="2024-25-childhood"),
        pytest.param(SHINGLES, month(2024, 5), 37, "10.06", "372.22", id="2024-25-other"),
        pytest.param(MMR, month(2025, 4), 40, "12.06", "482.40", id="2025-26-childhood"),
        pytest.param(SHINGLES, month(2025, 4), 40, "10.06", "402.40", id="2025-26-other"),
        pytest.param(MMR, month(2025, 3), 1, "10.06", "10.06", id="last-month-of-2024-25"),
        pytest.param(MMR, month(2024, 6), 0, "10.06", "0.00", id="no-doses"),
    ],
)
def test_item_of_service_value(
    item: ItemOfService, period: Period, count: int, fee: str, value: str
) -> None:
    result = calculate_items_of_service(ItemOfServiceClaim(period, (ItemCount(item, count),)))
    line = result.lines[0]
    assert line.fee.amount == Decimal(fee)
    assert str(line.value) == value
    assert result.total == line.value
    assert f"£{fee}" in line.explanation.subject


def test_total_is_sum_of_lines_with_explanations() -> None:
    claim = ItemOfServiceClaim(month(2025, 4), (ItemCount(MMR, 10), ItemCount(SHINGLES, 10)))
    result = calculate_items_of_service(claim)
    assert result.total == Decimal("120.60") + Decimal("100.60")
    text = result.explanation.render()
    assert "MMR = 120.60" in text
    assert "SHINGLES = 100.60" in text


def test_no_fee_before_2024_25_is_loaded() -> None:
    with pytest.raises(NoTariffInForceError):
        calculate_items_of_service(ItemOfServiceClaim(month(2024, 3), (ItemCount(MMR, 1),)))


@pytest.mark.parametrize(
    ("build", "error"),
    [
        pytest.param(lambda: ItemCount(MMR, -3), NegativeValueError, id="negative-count"),
        pytest.param(
            lambda: ItemOfServiceClaim(month(2024, 5), (ItemCount(MMR, 1), ItemCount(MMR, 2))),
            DuplicateEntryError,
            id="item-twice",
        ),
        pytest.param(
            lambda: ItemOfService("", "x", VI_STANDARD_FEES), InvalidValueError, id="no-code"
        ),
    ],
)
def test_bad_item_input(build: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        build()  # type: ignore[operator]
