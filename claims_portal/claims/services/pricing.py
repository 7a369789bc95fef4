"""A claim's value, from the calculation core: tariffs in force for the period, caps, and
what the provider has already claimed.

*Already claimed* (``PriorClaims``) sums the provider's **other** claims for the same
component that count - submitted and not sent back (awaiting approval at any step, approved
or paid; not drafts, declined, returned or withdrawn claims) - using what each was paid at
its submission: units paid after caps and line value. "This period" is claims for the same
claim period; "this financial year" is every claim of the component (a scheme lies in one
financial year).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from claims_portal.calculation import (
    CalculationError,
    ClaimLineResult,
    LocalClaim,
    LocalClaimResult,
    Period,
    PriorClaims,
    calculate_local_claim,
)
from claims_portal.calculation import (
    ClaimLine as CalcLine,
)
from claims_portal.claims.models import COUNTED_STATUSES, Claim, ClaimLine
from claims_portal.claims.services._common import Problem
from claims_portal.db import DbSession
from claims_portal.schemes.services import component_terms, tariff_for_period

#: Money columns are ``Numeric(12, 2)``: every amount stored is below ten billion pounds.
MONEY_LIMIT = Decimal("10000000000")


@dataclass(frozen=True)
class PricedLine:
    line: ClaimLine
    result: ClaimLineResult
    prior: PriorClaims


@dataclass(frozen=True)
class PricedClaim:
    """The calculation's answer for a claim as it stands (lines without units left out)."""

    result: LocalClaimResult
    lines: tuple[PricedLine, ...]

    @property
    def total(self) -> Decimal:
        return self.result.total

    def for_line(self, line: ClaimLine) -> PricedLine | None:
        return next((p for p in self.lines if p.line is line), None)


def prior_claims(session: DbSession, claim: Claim, line: ClaimLine) -> PriorClaims:
    """What the provider already claimed for the line's component (see the module doc)."""
    base = (
        select(
            func.coalesce(func.sum(ClaimLine.payable_units), 0),
            func.coalesce(func.sum(ClaimLine.value), 0),
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            Claim.provider_id == claim.provider_id,
            Claim.id != claim.id,
            Claim.status.in_(COUNTED_STATUSES),
            ClaimLine.component_id == line.component_id,
        )
    )
    year_units, year_value = session.execute(base).one()
    period_units, period_value = session.execute(
        base.where(Claim.period_start == claim.period_start)
    ).one()
    return PriorClaims(
        units_in_period=int(period_units or 0),
        value_in_period=_pounds(period_value),
        units_in_year=int(year_units or 0),
        value_in_year=_pounds(year_value),
    )


def _pounds(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def price_claim(session: DbSession, claim: Claim) -> PricedClaim:
    """Price the claim with the calculation core.

    Lines without units are left out. Raises :class:`~.ClaimInvalid` (via
    :func:`pricing_problems`' messages) only through callers; here a calculation error
    propagates as :class:`claims_portal.calculation.CalculationError`.
    """
    period = Period(claim.period_start, claim.period_end)
    participation_only = claim.scheme.participation_only
    counted = [] if participation_only else [ln for ln in claim.lines if ln.units is not None]
    priors = [prior_claims(session, claim, line) for line in counted]
    calc_lines = tuple(
        CalcLine(component=component_terms(line.component), units=line.units or 0, prior=prior)
        for line, prior in zip(counted, priors, strict=True)
    )
    result = calculate_local_claim(
        LocalClaim(period=period, lines=calc_lines, participation_only=participation_only)
    )
    return PricedClaim(
        result,
        tuple(
            PricedLine(line, line_result, prior)
            for line, line_result, prior in zip(counted, result.lines, priors, strict=True)
        ),
    )


def try_price_claim(session: DbSession, claim: Claim) -> tuple[PricedClaim | None, list[Problem]]:
    """:func:`price_claim`, with a calculation error turned into problems for the page."""
    missing = [
        line
        for line in claim.lines
        if line.units is not None and tariff_for_period(line.component, claim.period_start) is None
    ]
    if missing and not claim.scheme.participation_only:
        return None, [
            Problem(
                f"{line.component.name} has no tariff for {claim.period_label}: ask "
                f"{claim.scheme.commissioner.name} to set one",
                f"units-{line.id}",
            )
            for line in missing
        ]
    try:
        priced = price_claim(session, claim)
    except CalculationError as error:
        return None, [Problem(f"The value cannot be calculated: {error}")]
    amounts = [priced.total] + [
        amount
        for item in priced.lines
        for amount in (item.result.gross_value, item.result.value, item.result.capped_amount)
        if amount is not None
    ]
    if max(amounts, default=Decimal(0)) >= MONEY_LIMIT:
        # Numeric(12, 2) holds less: storing it would fail in the database at submission.
        return None, [
            Problem(
                f"The value of this claim would be £{MONEY_LIMIT:,} or more: check the units "
                "entered"
            )
        ]
    return priced, []


def over_claim_limit(claim: Claim) -> list[Problem]:
    """Lines with more units than one claim may hold (``max_units_per_claim``). Submission
    refuses them, so the claim page says so in the same words rather than showing them
    priced down to the limit."""
    return [
        Problem(
            f"{line.component.name}: at most {limit:,} can be claimed in one claim "
            f"(you entered {line.units:,})",
            f"units-{line.id}",
        )
        for line in claim.lines
        if (limit := line.component.max_units_per_claim) is not None
        and line.units is not None
        and line.units > limit
    ]


def price_as_it_stands(
    session: DbSession, claim: Claim
) -> tuple[PricedClaim | None, list[Problem]]:
    """The value a claim being filled in would be submitted at: :func:`try_price_claim`,
    or nothing (and :func:`over_claim_limit`'s problems) while a line is over the per-claim
    limit, which submission refuses."""
    problems = [] if claim.scheme.participation_only else over_claim_limit(claim)
    if problems:
        return None, problems
    return try_price_claim(session, claim)


def store_prices(claim: Claim, priced: PricedClaim) -> None:
    """Keep what the calculation returned on the claim and its lines (at submission)."""
    for line in claim.lines:
        item = priced.for_line(line)
        if item is None:
            _clear(line)
            continue
        result = item.result
        line.tariff = tariff_for_period(line.component, claim.period_start)
        line.unit_value = result.tariff.amount
        line.gross_value = result.gross_value
        line.payable_units = result.payable_units
        line.value = result.value
        line.capped_amount = result.capped_amount
        line.cap_note = result.cap_reason
    claim.value = priced.total


def clear_prices(claim: Claim) -> None:
    """Forget the stored figures of a claim being edited again (a new round re-prices)."""
    for line in claim.lines:
        _clear(line)


def _clear(line: ClaimLine) -> None:
    line.tariff = None
    line.unit_value = line.gross_value = line.value = line.capped_amount = None
    line.payable_units = None
    line.cap_note = None


def submitted_details(claim: Claim, priced: PricedClaim) -> dict[str, object]:
    """What a submission stored, as plain data for the history (``ClaimEvent.details``)."""
    return {
        "total": str(priced.total),
        "explanation": explanation_of(priced),
        "lines": [
            {
                "component": item.line.component.code,
                "name": item.line.component.name,
                "units": item.result.requested_units,
                "unit_value": str(item.result.tariff.amount),
                "tariff_from": item.result.tariff.effective_from.isoformat(),
                "payable_units": item.result.payable_units,
                "value": str(item.result.value),
                "cap_note": item.result.cap_reason,
            }
            for item in priced.lines
        ],
    }


def explanation_of(priced: PricedClaim) -> dict[str, object]:
    """The calculation's explanation as plain data: the total, then each line's steps."""
    return {
        "total": priced.result.explanation.as_dict(),
        "lines": [item.result.explanation.as_dict() for item in priced.lines],
    }
