"""QOF-style indicators: achievement, points, CPI, prevalence factor and payment.

Rules (source: GMS Statement of Financial Entitlements, QOF achievement payments, as
explained in NHS England's QOF guidance; the network IIF uses the same shape, see
``network.py``):

- cohort = denominator - personalised care adjustments (PCAs) - exclusions;
  achievement = numerator / cohort. An empty cohort (no patients, or every patient
  adjusted out) earns no points.
- points = 0 at or below the lower threshold, the maximum at or above the upper threshold,
  and ``max x (achievement - lower) / (upper - lower)`` in between.
- contractor population index (CPI) = practice list size / national average list size.
- prevalence = register / list size; prevalence factor (APDF) = practice prevalence /
  national prevalence, for prevalence-weighted indicators only (1 otherwise).
- payment = points x pounds per point x CPI x prevalence factor.
- tick-box indicators: all points for Yes, none for No; an unset answer counts as No.

Exactness: points, CPI and the prevalence factor are kept as exact fractions; only each
indicator's payment is rounded (half up, to the penny, ``money.py``). The organisation's
total is the sum of the rounded indicator payments. ``points``, ``achievement``, ``cpi`` and
``prevalence_factor`` on results are shown to 28 significant digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import NamedTuple

from .errors import (
    IndicatorKindError,
    InvalidValueError,
    NegativeValueError,
    UnknownIndicatorError,
)
from .explanation import Explanation, Figure, Step
from .indicators import (
    Achievement,
    AchievementSubmission,
    Indicator,
    IndicatorSet,
    Record,
    TickBoxAnswer,
)
from .money import (
    DISPLAY_CONTEXT,
    ZERO_MONEY,
    Money,
    as_count,
    as_decimal,
    pennies_to_money,
    round_ratio,
    round_ratio_to_pennies,
)
from .reference import FinancialYear, ReferenceData, YearlyReference
from .sources import QOF_SOURCE, ROUNDING_SOURCE

__all__ = [
    "AchievementResult",
    "IndicatorResult",
    "achievement_rate",
    "calculate_achievement",
    "calculate_achievements",
    "contractor_population_index",
    "indicator_payment",
    "points_for",
    "prevalence_factor",
]

_ZERO_POINTS = Decimal(0)


class IndicatorResult(NamedTuple):
    """One indicator's points and payment, with the inputs it came from.

    A named tuple rather than a frozen dataclass: equally immutable, and about twice as
    cheap to build, which a national run of half a million results needs. Figures beyond
    ``points`` and ``payment`` (achievement, CPI, prevalence factor, explanation) are derived
    on demand from the stored inputs.
    """

    indicator: Indicator
    record: Record | None
    submission: AchievementSubmission
    reference: YearlyReference
    points: Decimal
    payment: Money

    @property
    def code(self) -> str:
        """The indicator code."""
        return self.indicator.code

    @property
    def cohort(self) -> int | None:
        """Denominator less adjustments; ``None`` for tick-box indicators or no data."""
        return self.record.cohort if isinstance(self.record, Achievement) else None

    @property
    def achievement(self) -> Decimal | None:
        """numerator / cohort; ``None`` for an empty cohort, no data or a tick-box."""
        record = self.record
        if not isinstance(record, Achievement) or record.cohort == 0:
            return None
        return DISPLAY_CONTEXT.divide(Decimal(record.numerator), Decimal(record.cohort))

    @property
    def contractor_population_index(self) -> Decimal:
        """List size / national average list size."""
        return contractor_population_index(
            self.submission.list_size, self.reference.average_list_size()
        )

    @property
    def prevalence_factor(self) -> Decimal | None:
        """Practice prevalence / national prevalence; ``None`` if not prevalence-weighted."""
        register = self.indicator.prevalence_register
        if register is None:
            return None
        return prevalence_factor(
            self.submission.register_size(register),
            self.submission.list_for_prevalence,
            self.reference.prevalence_for(register),
        )

    @property
    def unrounded_payment(self) -> Fraction:
        """The exact payment before rounding to the penny."""
        num, den = self._points_ratio()
        factor_num, factor_den = _payment_factor(self.indicator, self.submission, self.reference)
        return Fraction(num * factor_num, den * factor_den)

    def _points_ratio(self) -> tuple[int, int]:
        record = self.record
        if isinstance(record, TickBoxAnswer):
            earned = record.answer is True
            return (self.indicator._points_num, self.indicator._points_den) if earned else (0, 1)
        if record is None:
            return 0, 1
        return self.indicator.points_ratio(record.numerator, record.cohort)

    @property
    def explanation(self) -> Explanation:
        """Every step from the counts to the payment."""
        return _explain(self)


@dataclass(frozen=True, slots=True)
class AchievementResult:
    """An organisation's points and payments for every indicator of a set, and the total.

    ``points`` and ``payments`` follow the order of ``indicator_set.indicators``.
    ``results`` gives one :class:`IndicatorResult` per indicator (with its explanation),
    built when asked for rather than stored, which keeps a national run cheap.
    """

    submission: AchievementSubmission
    indicator_set: IndicatorSet
    reference: YearlyReference
    points: tuple[Decimal, ...]
    payments: tuple[Money, ...]
    total: Money

    @property
    def organisation_code(self) -> str:
        """The practice or network."""
        return self.submission.organisation_code

    @property
    def year(self) -> FinancialYear:
        """The financial year."""
        return self.indicator_set.year

    @property
    def results(self) -> tuple[IndicatorResult, ...]:
        """One result per indicator, in indicator-set order (built afresh on each call)."""
        submission, reference = self.submission, self.reference
        record_for = submission._by_code.get
        new = tuple.__new__
        return tuple(
            new(
                IndicatorResult,
                (indicator, record_for(indicator.code), submission, reference, p, m),
            )
            for indicator, p, m in zip(
                self.indicator_set.indicators, self.points, self.payments, strict=True
            )
        )

    @property
    def total_points(self) -> Decimal:
        """Points earned across the indicators (shown to 28 significant digits)."""
        with localcontext(DISPLAY_CONTEXT):
            return sum(self.points, _ZERO_POINTS)

    def result_for(self, code: str) -> IndicatorResult:
        """The result of indicator ``code``; raises :class:`UnknownIndicatorError`."""
        for result in self.results:
            if result.indicator.code == code:
                return result
        raise UnknownIndicatorError(f"no result for indicator {code!r}")

    @property
    def explanation(self) -> Explanation:
        """The total as the sum of the indicator payments (each explains itself)."""
        step = Step(
            rule="Achievement payment",
            formula="sum of the indicator payments (each already rounded to the penny)",
            inputs=tuple(
                (indicator.code, payment)
                for indicator, payment in zip(
                    self.indicator_set.indicators, self.payments, strict=True
                )
            ),
            result=self.total,
            source=f"{QOF_SOURCE}; {ROUNDING_SOURCE}",
        )
        return Explanation(
            f"{self.organisation_code} {self.indicator_set.service} {self.year}: £{self.total}",
            (step,),
        )


class _Plan:
    """What a run over many organisations shares: reference figures as exact integers."""

    __slots__ = ("base_den", "indicator_set", "ppp_num", "reference", "register_factors")

    def __init__(self, indicator_set: IndicatorSet, reference_data: ReferenceData) -> None:
        reference = reference_data.for_year(indicator_set.year)
        ppp_num, ppp_den = reference.pounds_per_point.as_integer_ratio()
        base_den = ppp_den * reference.average_list_size()
        register_factors: dict[str, tuple[int, int]] = {}
        for indicator in indicator_set.indicators:
            register = indicator.prevalence_register
            if register is not None and register not in register_factors:
                national_num, national_den = reference.prevalence_for(register).as_integer_ratio()
                register_factors[register] = (ppp_num * national_den, base_den * national_num)
        self.indicator_set = indicator_set
        self.reference = reference
        self.ppp_num = ppp_num
        self.base_den = base_den
        self.register_factors = register_factors


def _payment_factor(
    indicator: Indicator, submission: AchievementSubmission, reference: YearlyReference
) -> tuple[int, int]:
    """pounds per point x CPI (x prevalence factor) as an exact fraction (num, den).

    ppp x (L / N), or with prevalence weighting ppp x (L / N) x (R / Lp) / p.
    """
    ppp_num, ppp_den = reference.pounds_per_point.as_integer_ratio()
    factor_num = ppp_num * submission.list_size
    factor_den = ppp_den * reference.average_list_size()
    register = indicator.prevalence_register
    if register is not None:
        national_num, national_den = reference.prevalence_for(register).as_integer_ratio()
        factor_num *= submission.register_size(register) * national_den
        factor_den *= submission.list_for_prevalence * national_num
    return factor_num, factor_den


def _calculate(submission: AchievementSubmission, plan: _Plan) -> AchievementResult:
    indicator_set = plan.indicator_set
    reference = plan.reference
    by_code = submission._by_code
    known = indicator_set._by_code
    for code in by_code:
        if code not in known:
            raise UnknownIndicatorError(
                f"{submission.organisation_code}: {indicator_set.service} "
                f"{indicator_set.year} has no indicator {code!r}"
            )
    list_size = submission.list_size
    prevalence_list = submission.list_for_prevalence
    factors: dict[str | None, tuple[int, int]] = {None: (plan.ppp_num * list_size, plan.base_den)}
    for register, (register_num, register_den) in plan.register_factors.items():
        factors[register] = (
            register_num * list_size * submission.register_size(register),
            register_den * prevalence_list,
        )
    points_out: list[Decimal] = []
    payments_out: list[Money] = []
    add_points = points_out.append
    add_payment = payments_out.append
    total_pennies = 0
    with localcontext(DISPLAY_CONTEXT):
        for indicator in indicator_set.indicators:
            record = by_code.get(indicator.code)
            if indicator.tick_box:
                if record is None or type(record) is TickBoxAnswer:
                    earned = record is not None and record.answer is True
                    num, den = (indicator._points_num, indicator._points_den) if earned else (0, 1)
                    add_points(indicator.max_points if earned else _ZERO_POINTS)
                else:
                    raise IndicatorKindError(f"{indicator.code} is a tick-box: give Yes or No")
            elif record is None:
                num = 0
                add_points(_ZERO_POINTS)
            elif type(record) is Achievement:
                num, den = indicator.points_ratio(record.numerator, record.cohort)
                if num == 0:
                    add_points(_ZERO_POINTS)
                elif den == indicator._points_den and num == indicator._points_num:
                    add_points(indicator.max_points)
                else:
                    add_points(Decimal(num) / Decimal(den))
            else:
                raise IndicatorKindError(f"{indicator.code} is counted: give the counts")
            if num == 0:
                add_payment(ZERO_MONEY)
            else:
                factor_num, factor_den = factors[indicator.prevalence_register]
                pennies = round_ratio_to_pennies(num * factor_num, den * factor_den)
                total_pennies += pennies
                add_payment(pennies_to_money(pennies))
    return AchievementResult(
        submission=submission,
        indicator_set=indicator_set,
        reference=reference,
        points=tuple(points_out),
        payments=tuple(payments_out),
        total=pennies_to_money(total_pennies),
    )


def calculate_achievement(
    submission: AchievementSubmission,
    indicator_set: IndicatorSet,
    reference_data: ReferenceData,
) -> AchievementResult:
    """Points and payment of every indicator of ``indicator_set`` for one organisation.

    Source: GMS Statement of Financial Entitlements (QOF achievement payments), as explained
    in NHS England's QOF guidance; the IIF applies the same rules at network level.
    An indicator without data earns nothing (an unset tick-box counts as No). Raises
    :class:`~claims_portal.calculation.errors.UnknownFinancialYearError` for a year without
    reference values, :class:`~claims_portal.calculation.errors.MissingReferenceValueError`
    for a missing national figure, :class:`InvalidValueError` for a missing register size,
    :class:`UnknownIndicatorError` for data about an indicator outside the set and
    :class:`IndicatorKindError` for counts given to a tick-box (or the reverse).
    """
    return _calculate(submission, _Plan(indicator_set, reference_data))


def calculate_achievements(
    submissions: Iterable[AchievementSubmission],
    indicator_set: IndicatorSet,
    reference_data: ReferenceData,
) -> tuple[AchievementResult, ...]:
    """:func:`calculate_achievement` for many organisations (a national run).

    The reference figures are looked up and checked once for the whole run.
    """
    plan = _Plan(indicator_set, reference_data)
    return tuple(_calculate(submission, plan) for submission in submissions)


# Single rules, for checking published examples and for explanations. They use the same
# exact arithmetic and rounding as ``calculate_achievement``.


def achievement_rate(
    numerator: int, denominator: int, personalised_care_adjustments: int = 0, exclusions: int = 0
) -> Decimal | None:
    """numerator / (denominator - PCAs - exclusions); ``None`` when the cohort is empty.

    Source: GMS SFE / NHS England QOF guidance. Raises the errors of :class:`Achievement`.
    """
    record = Achievement("", numerator, denominator, personalised_care_adjustments, exclusions)
    if record.cohort == 0:
        return None
    return DISPLAY_CONTEXT.divide(Decimal(record.numerator), Decimal(record.cohort))


def points_for(indicator: Indicator, achievement: Decimal | None) -> Decimal:
    """Points earned at ``achievement`` (a fraction, 0.75 for 75%; ``None`` = empty cohort).

    Source: GMS SFE / NHS England QOF guidance (thresholds and linear scale). For a tick-box
    indicator pass ``Decimal(1)`` for Yes and ``Decimal(0)`` for No.
    """
    if achievement is None:
        return _ZERO_POINTS
    value = as_decimal(achievement, f"{indicator.code} achievement")
    if not 0 <= value <= 1:
        raise InvalidValueError(f"{indicator.code}: achievement must be from 0 to 1, got {value}")
    if indicator.tick_box:
        return indicator.max_points if value == 1 else _ZERO_POINTS
    numerator, cohort = value.as_integer_ratio()
    num, den = indicator.points_ratio(numerator, cohort)
    return DISPLAY_CONTEXT.divide(Decimal(num), Decimal(den))


def contractor_population_index(list_size: int, national_average_list_size: int) -> Decimal:
    """CPI = list size / national average list size (GMS SFE, QOF payments)."""
    size = as_count(list_size, "list size")
    average = as_count(national_average_list_size, "national average list size")
    if size == 0 or average == 0:
        raise InvalidValueError("list sizes must be positive")
    return DISPLAY_CONTEXT.divide(Decimal(size), Decimal(average))


def prevalence_factor(register: int, list_size: int, national_prevalence: Decimal) -> Decimal:
    """APDF = (register / list size) / national prevalence (GMS SFE, QOF payments)."""
    size = as_count(list_size, "list size")
    if size == 0:
        raise InvalidValueError("the list size must be positive")
    national = as_decimal(national_prevalence, "national prevalence")
    if national <= 0:
        raise InvalidValueError(f"national prevalence must be positive, got {national}")
    national_num, national_den = national.as_integer_ratio()
    return DISPLAY_CONTEXT.divide(
        Decimal(as_count(register, "register") * national_den), Decimal(size * national_num)
    )


def indicator_payment(
    points: Decimal,
    pounds_per_point: Decimal,
    contractor_population_index: Decimal,
    prevalence_factor: Decimal = Decimal(1),
) -> Money:
    """points x pounds per point x CPI x prevalence factor, exactly, rounded half up.

    Source: GMS SFE, QOF payments. Use it to reproduce examples that publish the CPI and
    prevalence factor already rounded (``calculate_achievement`` keeps them exact).
    """
    num, den = 1, 1
    for name, value in (
        ("points", points),
        ("pounds per point", pounds_per_point),
        ("CPI", contractor_population_index),
        ("prevalence factor", prevalence_factor),
    ):
        figure = as_decimal(value, name)
        if figure < 0:
            raise NegativeValueError(f"{name} must not be negative, got {figure}")
        figure_num, figure_den = figure.as_integer_ratio()
        num *= figure_num
        den *= figure_den
    return round_ratio(num, den)


def _explain(result: IndicatorResult) -> Explanation:
    steps = [*_points_steps(result), *_payment_steps(result)]
    return Explanation(
        f"{result.submission.organisation_code} {result.indicator.code} "
        f"({result.reference.year}): {result.points} points, £{result.payment}",
        tuple(steps),
    )


def _points_steps(result: IndicatorResult) -> list[Step]:
    """How the indicator's points were reached (tick box, no data, or achievement)."""
    indicator, record, points = result.indicator, result.record, result.points
    if indicator.tick_box:
        answer = record.answer if isinstance(record, TickBoxAnswer) else None
        inputs: tuple[tuple[str, Figure], ...] = (
            ("answer", answer),
            ("maximum points", indicator.max_points),
        )
        formula = "all points for Yes; none for No (unset counts as No)"
        return [Step("Tick-box indicator", formula, inputs, points, QOF_SOURCE)]
    if not isinstance(record, Achievement):
        formula = "no achievement was submitted for this indicator: no points"
        return [Step("No data", formula, (), points, QOF_SOURCE)]
    cohort_inputs = (
        ("denominator", record.denominator),
        ("personalised care adjustments", record.personalised_care_adjustments),
        ("exclusions", record.exclusions),
    )
    formula = "denominator - personalised care adjustments - exclusions"
    steps = [Step("Cohort", formula, cohort_inputs, record.cohort, QOF_SOURCE)]
    if record.cohort == 0:
        formula = "no patients in the cohort: no points are available"
        return [*steps, Step("Empty cohort", formula, (), points, QOF_SOURCE)]
    achievement = result.achievement
    inputs = (("numerator", record.numerator), ("cohort", record.cohort))
    steps.append(Step("Achievement", "numerator / cohort", inputs, achievement, QOF_SOURCE))
    lower, upper = indicator.lower_threshold, indicator.upper_threshold
    assert lower is not None
    assert upper is not None
    assert achievement is not None
    if achievement <= lower:
        formula = "at or below the lower threshold: 0 points"
    elif achievement >= upper:
        formula = "at or above the upper threshold: maximum points"
    else:
        formula = "maximum points x (achievement - lower) / (upper - lower)"
    inputs = (
        ("achievement", achievement),
        ("lower threshold", lower),
        ("upper threshold", upper),
        ("maximum points", indicator.max_points),
    )
    steps.append(Step("Points", formula, inputs, points, QOF_SOURCE))
    return steps


def _payment_steps(result: IndicatorResult) -> list[Step]:
    """The population index, any prevalence factor, and the payment from the points."""
    indicator = result.indicator
    reference = result.reference
    submission = result.submission
    steps: list[Step] = []
    steps.append(
        Step(
            rule="Contractor population index",
            formula="list size / national average list size",
            inputs=(
                ("list size", submission.list_size),
                ("national average list size", reference.national_average_list_size),
            ),
            result=result.contractor_population_index,
            source=QOF_SOURCE,
        )
    )
    factor_inputs: tuple[tuple[str, Figure], ...] = ()
    register = indicator.prevalence_register
    if register is not None:
        factor = result.prevalence_factor
        steps.append(
            Step(
                rule="Prevalence factor",
                formula="(register / list size) / national prevalence",
                inputs=(
                    ("register", register),
                    ("register size", submission.register_size(register)),
                    ("list size", submission.list_for_prevalence),
                    ("national prevalence", reference.prevalence_for(register)),
                ),
                result=factor,
                source=QOF_SOURCE,
            )
        )
        factor_inputs = (("prevalence factor", factor),)
    exact = result.unrounded_payment
    steps.append(
        Step(
            rule="Payment",
            formula="points x pounds per point x CPI"
            + (" x prevalence factor" if register is not None else "")
            + ", exact, then rounded half up to the penny",
            inputs=(
                ("points", result.points),
                ("pounds per point", reference.pounds_per_point),
                ("CPI", result.contractor_population_index),
                *factor_inputs,
                (
                    "exact payment",
                    DISPLAY_CONTEXT.divide(Decimal(exact.numerator), Decimal(exact.denominator)),
                ),
            ),
            result=result.payment,
            source=f"{QOF_SOURCE}; {ROUNDING_SOURCE}",
        )
    )
    return steps
