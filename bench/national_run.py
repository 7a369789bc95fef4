"""England-scale national QOF run: 6,500 practices x 75 indicators from in-memory inputs.

Builds deterministic (seeded) inputs, then times only the calculation
(``calculate_achievements``) and reports indicator results per second and peak memory.

    .venv/bin/python bench/national_run.py            # 5 timed runs, median reported
    .venv/bin/python bench/national_run.py --runs 9 --practices 6500 --indicators 75

Input mix (per practice): 45 prevalence-weighted counted indicators over 15 registers, 25
counted indicators weighted by list size only, 5 tick-box indicators. Achievement is drawn
so that roughly half the counted results are at or above the upper threshold, a third in
between, a tenth at or below the lower threshold and a few have an empty cohort, as in a
real year. Explanations are not built during the timed run (they are produced on demand);
``--explain`` renders a sample afterwards.

Peak memory: ``tracemalloc`` peak of Python allocations during a separate, traced run of the
calculation (tracing slows it, so it is not timed), and the process's maximum resident set
size from ``resource.getrusage`` (inputs and results included).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The path is set above so the script runs from anywhere, hence imports after code.
from claims_portal.calculation import (
    Achievement,
    AchievementResult,
    AchievementSubmission,
    FinancialYear,
    Indicator,
    IndicatorSet,
    TickBoxAnswer,
    calculate_achievements,
    qof_reference_defaults,
)

YEAR = FinancialYear(2024)
REGISTERS = 15
WEIGHTED, UNWEIGHTED = 45, 25


def build_indicators(count: int, rng: random.Random) -> IndicatorSet:
    """A QOF-like indicator set of ``count`` indicators."""
    indicators = []
    for i in range(count):
        code = f"IND{i:03d}"
        points = Decimal(rng.choice([2, 3, 5, 6, 8, 10, 12, 15, 20, 25, 30]))
        if i >= WEIGHTED + UNWEIGHTED:
            indicators.append(Indicator(code, points, tick_box=True))
            continue
        lower = rng.choice([40, 45, 50, 55, 60, 65, 70])
        upper = min(lower + rng.choice([20, 25, 30, 35]), 100)
        register = f"REG{i % REGISTERS:02d}" if i < WEIGHTED else None
        indicators.append(
            Indicator(
                code,
                points,
                lower_threshold=Decimal(lower) / 100,
                upper_threshold=Decimal(upper) / 100,
                prevalence_register=register,
            )
        )
    return IndicatorSet("QOF", YEAR, tuple(indicators))


def build_submissions(
    practices: int, indicator_set: IndicatorSet, rng: random.Random
) -> list[AchievementSubmission]:
    """``practices`` practices' achievement for every indicator of the set."""
    submissions = []
    for p in range(practices):
        list_size = rng.randint(1_500, 30_000)
        # register r has national prevalence (r + 1)%; a practice's is 50% to 150% of that
        registers = {
            f"REG{r:02d}": list_size * (r + 1) * rng.randint(50, 150) // 10_000
            for r in range(REGISTERS)
        }
        records: list[Achievement | TickBoxAnswer] = []
        for indicator in indicator_set.indicators:
            if indicator.tick_box:
                records.append(TickBoxAnswer(indicator.code, rng.randrange(10) != 0))
                continue
            denominator = rng.randint(0, 1_200) if rng.randrange(100) >= 3 else 0
            pcas = rng.randint(0, denominator // 10)
            exclusions = rng.randint(0, (denominator - pcas) // 20)
            cohort = denominator - pcas - exclusions
            assert indicator.upper_threshold is not None
            assert indicator.lower_threshold is not None
            lower = int(indicator.lower_threshold * 1000)
            upper = int(indicator.upper_threshold * 1000)
            draw = rng.randrange(100)
            if draw < 50:  # at or above the upper threshold
                permille = rng.randint(upper, 1000)
            elif draw < 85:  # between the thresholds
                permille = rng.randint(lower, upper)
            else:  # at or below the lower threshold
                permille = rng.randint(0, lower)
            numerator = cohort * permille // 1000
            records.append(Achievement(indicator.code, numerator, denominator, pcas, exclusions))
        submissions.append(AchievementSubmission(f"P{p:05d}", list_size, registers, tuple(records)))
    return submissions


def national_prevalence() -> dict[str, Decimal]:
    """National prevalence of each register: 1% to 15%."""
    return {f"REG{r:02d}": Decimal(r + 1) / 100 for r in range(REGISTERS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--practices", type=int, default=6_500)
    parser.add_argument("--indicators", type=int, default=75)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240401)
    parser.add_argument("--explain", action="store_true", help="print a sample explanation")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    started = time.perf_counter()
    indicator_set = build_indicators(args.indicators, rng)
    submissions = build_submissions(args.practices, indicator_set, rng)
    defaults = qof_reference_defaults()
    reference = defaults.with_year(defaults.for_year(YEAR).with_prevalence(national_prevalence()))
    build_seconds = time.perf_counter() - started
    count = args.practices * args.indicators

    rates = []
    with_views = []
    results: tuple[AchievementResult, ...] = ()
    for _ in range(args.runs):
        results = ()
        gc.collect()
        started = time.perf_counter()
        results = calculate_achievements(submissions, indicator_set, reference)
        elapsed = time.perf_counter() - started
        rates.append(count / elapsed)
        # Same again, also building every per-indicator result object (IndicatorResult).
        results = ()
        gc.collect()
        started = time.perf_counter()
        results = calculate_achievements(submissions, indicator_set, reference)
        views = sum(len(r.results) for r in results)
        elapsed = time.perf_counter() - started
        with_views.append(views / elapsed)
    total = sum((r.total for r in results), Decimal("0.00"))
    assert sum(len(r.results) for r in results) == count

    sample = [result for r in results[:200] for result in r.results][:10_000]
    started = time.perf_counter()
    for result in sample:
        result.explanation.render()
    explain_rate = len(sample) / (time.perf_counter() - started)

    results = ()
    gc.collect()
    tracemalloc.start()
    results = calculate_achievements(submissions, indicator_set, reference)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"machine        {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"inputs         {args.practices:,} practices x {args.indicators} indicators "
        f"= {count:,} results (built in {build_seconds:.1f} s, not timed)"
    )
    print(f"runs           {args.runs}")
    print(
        f"results/s      median {statistics.median(rates):,.0f}  "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f})  calculation"
    )
    print(f"seconds/run    median {count / statistics.median(rates):.3f}")
    print(
        f"results/s      median {statistics.median(with_views):,.0f}  "
        f"(min {min(with_views):,.0f})  calculation + every IndicatorResult built, per practice"
    )
    print(f"explanations/s {explain_rate:,.0f}  (built and rendered on demand, 10,000 sample)")
    print(f"peak traced    {traced_peak / 2**20:,.1f} MiB (Python allocations during one run)")
    print(f"max RSS        {max_rss_mib:,.1f} MiB (whole process, inputs and results included)")
    print(f"national total £{total:,}")
    if args.explain:
        print()
        print(results[0].results[1].explanation.render())


if __name__ == "__main__":
    main()
