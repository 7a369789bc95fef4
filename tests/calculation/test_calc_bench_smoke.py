"""The national-run benchmark still builds its inputs and runs (at a tiny scale)."""

import importlib.util
from decimal import Decimal
from pathlib import Path
from random import Random

from claims_portal.calculation import calculate_achievements, qof_reference_defaults

BENCH = Path(__file__).resolve().parents[2] / "bench" / "national_run.py"


def test_bench_inputs_calculate() -> None:
    spec = importlib.util.spec_from_file_location("national_run", BENCH)
    assert spec is not None
    assert spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = Random(1)
    indicators = bench.build_indicators(75, rng)
    submissions = bench.build_submissions(3, indicators, rng)
    defaults = qof_reference_defaults()
    reference = defaults.with_year(
        defaults.for_year(bench.YEAR).with_prevalence(bench.national_prevalence())
    )
    results = calculate_achievements(submissions, indicators, reference)
    assert sum(len(r.results) for r in results) == 3 * 75
    assert all(r.total == sum(r.payments, Decimal("0.00")) for r in results)
