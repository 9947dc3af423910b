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
