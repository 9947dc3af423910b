"""``make bench`` (benchmarks/run_all.py) runs every benchmark script: a new bench_*.py must get its small
settings there, or the figures it prints are never refreshed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_run_all_lists_every_benchmark_script() -> None:
    spec = importlib.util.spec_from_file_location("run_all", BENCH / "run_all.py")
    assert spec is not None and spec.loader is not None
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    assert set(run_all.SMALL) == {p.stem for p in BENCH.glob("bench_*.py")}


def test_trigger_tables_keep_the_tagger_within_its_accuracy_bound() -> None:
    """bench_trigger's attention tagger uses narrow softmax tables (a config a trigger user sets): against
    its float64 forward pass it stays within the bound the bench states, beside the 8-bit tables."""
    spec = importlib.util.spec_from_file_location("bench_trigger", BENCH / "bench_trigger.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.accuracy(16, 3.333, jets=500, seed=11)
