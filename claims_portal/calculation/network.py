"""Network (PCN) achievement: aggregate member practices, then the same points/payment rules.

Rules (source: Network Contract DES specification and Investment and Impact Fund guidance,
NHS England; "PCN achievement is the aggregate of member practices over the relationship
dates" in CQRS):

- A practice's data count for the network on an achievement date only if one of its
  membership periods covers that date (start and end inclusive; no end = still a member).
  Data from a practice that is not a member on the date are left out, with the reason.
- The network's list size, prevalence list size, register sizes and each counted
  indicator's numerator, denominator, PCAs and exclusions are the sums over the included
  practices. Tick-box indicators are answered by the network itself (``network_answers``);
  member practices cannot answer them.
- Until every member practice's data are in, the network is "Awaiting Network Achievement":
  :func:`calculate_network_achievement` raises ``IncompleteNetworkDataError``.
- The payment then follows ``qof.py`` with the network's reference data (for the IIF:
  pounds per point, e.g. 198.00 in 2024/25, the national mean PCN list size and national
  prevalence): points x pounds per point x list size adjustment x prevalence adjustment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from .errors import (
    DuplicateEntryError,
    IncompleteNetworkDataError,
    IndicatorKindError,
    InvalidDateRangeError,
    InvalidValueError,
)
from .explanation import Explanation, Step
from .indicators import Achievement, AchievementSubmission, IndicatorSet, TickBoxAnswer
from .money import Money
from .qof import AchievementResult, calculate_achievement
from .reference import ReferenceData
from .sources import IIF_SOURCE

__all__ = [
    "NetworkAchievementResult",
    "NetworkAggregate",
    "NetworkMembership",
    "aggregate_network",
    "calculate_network_achievement",
]


@dataclass(frozen=True, slots=True)
class NetworkMembership:
    """A practice's membership of a network from ``start`` to ``end`` (inclusive)."""

    practice_code: str
    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InvalidDateRangeError(
                f"{self.practice_code}: membership ends {self.end} before it starts {self.start}"
            )

    def covers(self, day: date) -> bool:
        """Whether the practice is a member on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        end = self.end.isoformat() if self.end else "open"
        return f"{self.start.isoformat()} to {end}"


@dataclass(frozen=True, slots=True)
class NetworkAggregate:
    """Member practices' data summed for one network and achievement date."""

    network_code: str
    achievement_date: date
    included: tuple[str, ...]
    excluded: tuple[tuple[str, str], ...]
    missing_members: tuple[str, ...]
    list_size: int
    prevalence_list_size: int
    registers: Mapping[str, int] = field(hash=False)
    records: tuple[Achievement | TickBoxAnswer, ...]

    @property
    def is_complete(self) -> bool:
        """Whether every member's data are in (else "Awaiting Network Achievement")."""
        return not self.missing_members and bool(self.included)

    def as_submission(self) -> AchievementSubmission:
        """The aggregate as the network's own submission; raises if it is incomplete."""
        if self.missing_members:
            raise IncompleteNetworkDataError(
                f"{self.network_code} is awaiting network achievement: no data yet for "
                f"{', '.join(self.missing_members)} on {self.achievement_date.isoformat()}"
            )
        if not self.included:
            raise IncompleteNetworkDataError(
                f"{self.network_code} has no member practices on "
                f"{self.achievement_date.isoformat()}"
            )
        return AchievementSubmission(
            organisation_code=self.network_code,
            list_size=self.list_size,
            registers=self.registers,
            records=self.records,
            achievement_date=self.achievement_date,
            prevalence_list_size=self.prevalence_list_size,
        )

    @property
    def explanation(self) -> Explanation:
        """Which practices were counted, which were left out and why, and the sums."""
        inputs = tuple((code, "counted") for code in self.included) + self.excluded
        inputs += tuple((code, "member, data not yet in") for code in self.missing_members)
        steps = (
            Step(
                rule="Network aggregation",
                formula="sum of member practices' data where a membership covers the date",
                inputs=(("achievement date", self.achievement_date), *inputs),
                result=f"{len(self.included)} practices counted",
                source=IIF_SOURCE,
            ),
            Step(
                rule="Network list size",
                formula="sum of the counted practices' list sizes",
                inputs=(),
                result=self.list_size,
                source=IIF_SOURCE,
            ),
        )
        return Explanation(f"{self.network_code} on {self.achievement_date.isoformat()}", steps)


def aggregate_network(
    network_code: str,
    achievement_date: date,
    memberships: Iterable[NetworkMembership],
    practice_submissions: Iterable[AchievementSubmission],
    network_answers: Iterable[TickBoxAnswer] = (),
) -> NetworkAggregate:
    """Sum the data of the practices that are members on ``achievement_date``.

    Source: Network Contract DES / IIF guidance. Raises :class:`DuplicateEntryError` for two
    submissions from one practice, :class:`InvalidValueError` for a submission dated for
    another achievement date and :class:`IndicatorKindError` when a practice answers a
    tick-box (the network answers those).
    """
    periods: dict[str, list[NetworkMembership]] = {}
    for membership in memberships:
        periods.setdefault(membership.practice_code, []).append(membership)
    members = {
        code for code, spans in periods.items() if any(m.covers(achievement_date) for m in spans)
    }

    seen: set[str] = set()
    included: list[str] = []
    excluded: list[tuple[str, str]] = []
    list_size = prevalence_list_size = 0
    registers: dict[str, int] = {}
    sums: dict[str, list[int]] = {}
    for submission in practice_submissions:
        code = submission.organisation_code
        if code in seen:
            raise DuplicateEntryError(f"{network_code}: two submissions from practice {code}")
        seen.add(code)
        if submission.achievement_date not in (None, achievement_date):
            raise InvalidValueError(
                f"{code}: data are for {submission.achievement_date}, not {achievement_date}"
            )
        if code not in members:
            spans = periods.get(code)
            reason = (
                f"not a member on {achievement_date.isoformat()} (membership "
                + ", ".join(str(m) for m in spans)
                + ")"
                if spans
                else f"not a member of {network_code}"
            )
            excluded.append((code, reason))
            continue
        included.append(code)
        list_size += submission.list_size
        prevalence_list_size += submission.list_for_prevalence
        for register, size in submission.registers.items():
            registers[register] = registers.get(register, 0) + size
        for record in submission.records:
            if isinstance(record, TickBoxAnswer):
                raise IndicatorKindError(
                    f"{code}: {record.indicator_code} is answered by the network, not a practice"
                )
            totals = sums.setdefault(record.indicator_code, [0, 0, 0, 0])
            totals[0] += record.numerator
            totals[1] += record.denominator
            totals[2] += record.personalised_care_adjustments
            totals[3] += record.exclusions

    records: list[Achievement | TickBoxAnswer] = [
        Achievement(indicator_code, *totals) for indicator_code, totals in sums.items()
    ]
    records.extend(network_answers)
    return NetworkAggregate(
        network_code=network_code,
        achievement_date=achievement_date,
        included=tuple(included),
        excluded=tuple(excluded),
        missing_members=tuple(sorted(members - seen)),
        list_size=list_size,
        prevalence_list_size=prevalence_list_size,
        registers=MappingProxyType(registers),
        records=tuple(records),
    )


@dataclass(frozen=True, slots=True)
class NetworkAchievementResult:
    """A network's aggregate and its points and payments."""

    aggregate: NetworkAggregate
    result: AchievementResult

    @property
    def total(self) -> Money:
        """The network's achievement payment."""
        return self.result.total

    @property
    def explanation(self) -> Explanation:
        """The aggregation steps, then the payment total."""
        return Explanation(
            self.result.explanation.subject,
            self.aggregate.explanation.steps + self.result.explanation.steps,
        )


def calculate_network_achievement(
    aggregate: NetworkAggregate, indicator_set: IndicatorSet, reference_data: ReferenceData
) -> NetworkAchievementResult:
    """Points and payments of a network from its aggregate (same rules as a practice).

    Source: Network Contract DES / IIF guidance. Raises ``IncompleteNetworkDataError`` while
    members' data are missing, then the errors of :func:`calculate_achievement`.
    """
    return NetworkAchievementResult(
        aggregate, calculate_achievement(aggregate.as_submission(), indicator_set, reference_data)
    )
