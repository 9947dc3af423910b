"""Quantized against float: compare (errors, overflows, suggested types), profiling plots and sweeps."""

from __future__ import annotations

from .compare import CompareResult, OutputReport, TensorReport, compare, overflow_mask, suggest_type
from .sweep import SweepError, SweepResult, sweep

__all__ = [
    "CompareResult",
    "OutputReport",
    "SweepError",
    "SweepResult",
    "TensorReport",
    "compare",
    "overflow_mask",
    "suggest_type",
    "sweep",
]
