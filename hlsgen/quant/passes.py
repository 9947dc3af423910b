"""Graph passes of the quant layer, one contract: a pass takes a graph (and its settings) and returns a
new graph; it never changes the one it is given. Passes are plain callables referenced by object.

- :func:`quantize_graph`: float IR -> typed IR (every tensor typed, parameters quantized to raw integers)
  by the :class:`~hlsgen.quant.resolver.TypeResolver`, from the config, QKeras quantizers and calibration.
- :func:`hlsgen.quant.decode_pass.to_decode`: typed prefill graph -> the one-token decode design.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import Config
from ..fixed import Overflow
from ..ir.graph import Graph
from .resolver import TypeResolver


class WrapWarning(UserWarning):
    """Calibration values lie outside a tensor's wrapping type: in hardware they flip sign."""


def wrapping_tensors(typed: Graph, ranges: dict[str, float]) -> list[str]:
    """Tensors of a typed graph whose type wraps (AP_WRAP) and does not hold the observed range: one
    line each, naming the tensor, its layer, the range and the type."""
    out = []
    for name, t in typed.tensors.items():
        tt = t.type
        if tt is None or name not in ranges or tt.overflow not in (Overflow.WRAP, Overflow.WRAP_SM):
            continue
        if ranges[name] > max(tt.max, -tt.min):
            origin = f" (layer {t.origin})" if t.origin else ""
            out.append(f"{name}{origin}: calibration values up to {ranges[name]:.4g} wrap in {tt}")
    return out


def ranges_of(env: dict[str, np.ndarray]) -> dict[str, float]:
    """Largest magnitude of every tensor of a float run (``Graph.run_float(..., keep=True)``)."""
    return {k: float(np.max(np.abs(v))) if np.size(v) else 0.0 for k, v in env.items()}


def calibration_ranges(graph: Graph, data: Any) -> dict[str, float]:
    """Largest magnitude of every tensor over ``data`` in the float IR."""
    return ranges_of(graph.run_float(graph.check_inputs(data, "calibration data"), keep=True))


def quantize_graph(
    graph: Graph, config: Config, calibration: Any = None, ranges: dict[str, float] | None = None
) -> Graph:
    """Pass: a typed copy of ``graph`` (every tensor and op typed, parameters quantized).

    ``ranges`` (tensor name -> largest magnitude, as :func:`calibration_ranges` returns) stands in for
    ``calibration`` when the ranges are already known (a sweep computes them once for every point).
    """
    g = graph.copy()
    if ranges is None:
        ranges = calibration_ranges(g, calibration) if calibration is not None else {}
    resolve = TypeResolver(config, ranges)
    for name in g.inputs:
        t = g.tensors[name]
        fixed = {"result": g.input_types[name]} if name in g.input_types else {}
        t.type = resolve.result(_InputOp(name, t.origin, qtypes=fixed), t)
    for op in g.ops:
        op.assign_types(g, resolve)
    g.check_typed()
    return g


@dataclass
class _InputOp:
    """Stands for a model input in the type resolver (its config entry is the input's name)."""

    name: str
    origin: str
    role: str = "result"
    qtypes: dict = field(default_factory=dict)


__all__ = ["WrapWarning", "calibration_ranges", "quantize_graph", "ranges_of", "wrapping_tensors"]
