"""Public sources named in docstrings and explanations (one place, so wording stays uniform)."""

from __future__ import annotations

__all__ = [
    "IIF_SOURCE",
    "LOCAL_SCHEME_SOURCE",
    "QOF_ASPIRATION_SOURCE",
    "QOF_SOURCE",
    "ROUNDING_SOURCE",
    "VI_SOURCE",
]

QOF_SOURCE = (
    "GMS Statement of Financial Entitlements (QOF achievement payments), as explained in "
    "NHS England's QOF guidance for the year"
)
QOF_ASPIRATION_SOURCE = (
    "GMS Statement of Financial Entitlements (QOF aspiration payments): 70% of the previous "
    "year's achievement payment up to 2023/24, 80% from 2024/25 (GP contract 2024/25)"
)
IIF_SOURCE = "Network Contract DES specification, Investment and Impact Fund guidance (NHS England)"
VI_SOURCE = (
    "GMS Statement of Financial Entitlements, vaccination and immunisation item-of-service "
    "fees (GP contract 2024/25 and 2025/26 letters, NHS England)"
)
LOCAL_SCHEME_SOURCE = "the commissioner's local scheme specification (tariffs and caps)"
ROUNDING_SOURCE = (
    "claims-portal rounding rule: exact value rounded once, half up, to the penny "
    "(docs/calculation.md)"
)
