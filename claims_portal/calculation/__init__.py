"""The calculation core shared by local claims and national services.

Pure Python (standard library only: no Flask, SQLAlchemy or clock - dates are passed in).
Frozen dataclasses in, results out; money is ``Decimal``, rounded by one rule (``money.py``:
the exact value, rounded once, half up, to the penny; totals are sums of rounded lines).
Every result has an ``explanation`` (built on demand) naming each rule, its public source,
its inputs and intermediate figures. Rules and worked examples: ``docs/calculation.md``.

Public API
----------
Money and errors
    ``Money``, ``round_money``, ``round_ratio`` - the one rounding rule.
    ``CalculationError`` and its subclasses (``errors.py``) - specific, documented errors.
Explanations
    ``Explanation``, ``Step`` - why a result is what it is (``render()``, ``as_dict()``).
Reference data
    ``FinancialYear``, ``Period``, ``YearlyReference``, ``ReferenceData``,
    ``qof_reference_defaults``, ``iif_reference_defaults`` - yearly figures as data.
Rates
    ``Rate``, ``RateSchedule`` - tariffs and fees with effective dates.
Local claims
    ``ComponentTerms``, ``Cap``, ``CapScope``, ``CapMeasure``, ``PriorClaims``,
    ``ClaimLine``, ``LocalClaim`` -> ``calculate_local_claim`` -> ``LocalClaimResult``
    (``ClaimLineResult``, ``CapApplication``); ``price_claim_line`` prices one line.
Item of service
    ``ItemOfService``, ``ItemCount``, ``ItemOfServiceClaim`` ->
    ``calculate_items_of_service`` -> ``ItemOfServiceResult`` (``ItemLineResult``);
    ``VI_STANDARD_FEES``, ``VI_ROUTINE_CHILDHOOD_FEES``.
QOF-style indicators
    ``Indicator``, ``IndicatorSet``, ``Achievement``, ``TickBoxAnswer``,
    ``AchievementSubmission`` -> ``calculate_achievement`` / ``calculate_achievements``
    -> ``AchievementResult`` (``IndicatorResult``); single rules ``achievement_rate``,
    ``points_for``, ``contractor_population_index``, ``prevalence_factor``,
    ``indicator_payment``.
Aspiration
    ``calculate_aspiration`` -> ``AspirationResult``; ``reconcile_year_end`` ->
    ``ReconciliationResult``.
Networks (PCN)
    ``NetworkMembership``, ``aggregate_network`` -> ``NetworkAggregate``,
    ``calculate_network_achievement`` -> ``NetworkAchievementResult``.
"""

from __future__ import annotations

from .aspiration import (
    AspirationResult,
    ReconciliationResult,
    calculate_aspiration,
    reconcile_year_end,
)
from .errors import (
    AdjustmentsExceedDenominatorError,
    CalculationError,
    DuplicateEntryError,
    FloatNotAllowedError,
    IncompleteNetworkDataError,
    IndicatorKindError,
    InvalidDateRangeError,
    InvalidFinancialYearError,
    InvalidValueError,
    MissingReferenceValueError,
    NegativeValueError,
    NoTariffInForceError,
    NumeratorExceedsDenominatorError,
    ParticipationOnlyError,
    ThresholdOrderError,
    UnknownFinancialYearError,
    UnknownIndicatorError,
)
from .explanation import Explanation, Step
from .indicators import (
    Achievement,
    AchievementSubmission,
    Indicator,
    IndicatorSet,
    TickBoxAnswer,
)
from .item_of_service import (
    VI_ROUTINE_CHILDHOOD_FEES,
    VI_STANDARD_FEES,
    ItemCount,
    ItemLineResult,
    ItemOfService,
    ItemOfServiceClaim,
    ItemOfServiceResult,
    calculate_items_of_service,
)
from .local import (
    Cap,
    CapApplication,
    CapMeasure,
    CapScope,
    ClaimLine,
    ClaimLineResult,
    ComponentTerms,
    LocalClaim,
    LocalClaimResult,
    PriorClaims,
    calculate_local_claim,
    price_claim_line,
)
from .money import Money, round_money, round_ratio
from .network import (
    NetworkAchievementResult,
    NetworkAggregate,
    NetworkMembership,
    aggregate_network,
    calculate_network_achievement,
)
from .qof import (
    AchievementResult,
    IndicatorResult,
    achievement_rate,
    calculate_achievement,
    calculate_achievements,
    contractor_population_index,
    indicator_payment,
    points_for,
    prevalence_factor,
)
from .rates import Rate, RateSchedule
from .reference import (
    FinancialYear,
    Period,
    ReferenceData,
    YearlyReference,
    iif_reference_defaults,
    qof_reference_defaults,
)

__all__ = [
    "VI_ROUTINE_CHILDHOOD_FEES",
    "VI_STANDARD_FEES",
    "Achievement",
    "AchievementResult",
    "AchievementSubmission",
    "AdjustmentsExceedDenominatorError",
    "AspirationResult",
    "CalculationError",
    "Cap",
    "CapApplication",
    "CapMeasure",
    "CapScope",
    "ClaimLine",
    "ClaimLineResult",
    "ComponentTerms",
    "DuplicateEntryError",
    "Explanation",
    "FinancialYear",
    "FloatNotAllowedError",
    "IncompleteNetworkDataError",
    "Indicator",
    "IndicatorKindError",
    "IndicatorResult",
    "IndicatorSet",
    "InvalidDateRangeError",
    "InvalidFinancialYearError",
    "InvalidValueError",
    "ItemCount",
    "ItemLineResult",
    "ItemOfService",
    "ItemOfServiceClaim",
    "ItemOfServiceResult",
    "LocalClaim",
    "LocalClaimResult",
    "MissingReferenceValueError",
    "Money",
    "NegativeValueError",
    "NetworkAchievementResult",
    "NetworkAggregate",
    "NetworkMembership",
    "NoTariffInForceError",
    "NumeratorExceedsDenominatorError",
    "ParticipationOnlyError",
    "Period",
    "PriorClaims",
    "Rate",
    "RateSchedule",
    "ReconciliationResult",
    "ReferenceData",
    "Step",
    "ThresholdOrderError",
    "TickBoxAnswer",
    "UnknownFinancialYearError",
    "UnknownIndicatorError",
    "YearlyReference",
    "achievement_rate",
    "aggregate_network",
    "calculate_achievement",
    "calculate_achievements",
    "calculate_aspiration",
    "calculate_items_of_service",
    "calculate_local_claim",
    "calculate_network_achievement",
    "contractor_population_index",
    "iif_reference_defaults",
    "indicator_payment",
    "points_for",
    "prevalence_factor",
    "price_claim_line",
    "qof_reference_defaults",
    "reconcile_year_end",
    "round_money",
    "round_ratio",
]
