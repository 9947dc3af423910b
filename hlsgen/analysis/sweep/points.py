"""Sweep points: grids and axes of settings, checked, made into configs (the package docstring
describes the settings)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Config
from ...fixed import FixedType, integer_bits_for
from ...ir.graph import Graph

#: Shorthand settings (the module docstring describes them).
SHORTHANDS = ("width", "integer", "softmax_bits", "layernorm_bits", "calibrate")

#: Seconds :func:`sweep` waits for a Dask scheduler before it gives up.
DEFAULT_CONNECT_TIMEOUT = 10.0

#: Where the resource figures come from.


#: Figures of each point (None where the point could not be built).
METRICS = ("accuracy", "agreement", "max_abs_error", "mean_abs_error", "rel_error", "overflows")
#: Resource estimate of each point (see :func:`estimate_resources`).
RESOURCES = ("multipliers", "dsp", "bram18", "lut", "ff", "latency_cycles", "param_bits")


class SweepError(RuntimeError):
    """A sweep that cannot run (e.g. an unreachable Dask scheduler)."""


# ---------------------------------------------------------------------------------------------------
# points
# ---------------------------------------------------------------------------------------------------
@dataclass
class SweepPoint:
    """One point of a sweep: its settings, and the config they make (as a plain dict)."""

    index: int
    settings: dict[str, Any]
    config: dict[str, Any]
    calibrate: bool = True

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.settings.items())


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def grid_settings(grid: Any, where: str = "grid") -> list[dict[str, Any]]:
    """The settings of every point of a grid.

    A grid is a mapping with ``axes`` (setting -> list of values: every combination, the last axis
    fastest) and/or ``points`` (a list of settings; nested mappings are read as dotted keys), or just a
    list of points; a path to a YAML file holding one. Example::

        axes:
          width: [6, 8, 10, 12]
          softmax_bits: [5, 7]
        points:
          - {width: 16, layers: {classifier: {result: "ap_fixed<18,8>"}}}

    Raises:
        ValueError: the grid defines no points, or is not shaped as above (naming what is wrong).
    """
    import yaml

    if isinstance(grid, (str, Path)):
        p = Path(grid)
        where = f"grid {p}"
        if not p.is_file():
            raise FileNotFoundError(f"{where} does not exist")
        try:
            grid = yaml.safe_load(p.read_text())
        except yaml.YAMLError as e:
            raise ValueError(f"{where} is not valid YAML: {e}") from None
    if grid is None:
        grid = {}
    if isinstance(grid, list):
        grid = {"points": grid}
    if not isinstance(grid, dict):
        raise ValueError(f"{where}: expected a mapping with 'axes' and/or 'points', or a list of points")
    unknown = set(grid) - {"axes", "points"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} (expected 'axes' and/or 'points')")
    axes = grid.get("axes") or {}
    if not isinstance(axes, dict):
        raise ValueError(f"{where}.axes: expected a mapping of setting to a list of values")
    axes = _flatten(axes)  # nested sections read as dotted keys
    out: list[dict[str, Any]] = []
    if axes:
        vals = [v if isinstance(v, list) else [v] for v in axes.values()]
        out += [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*vals)]
    points = grid.get("points") or []
    if not isinstance(points, list):
        raise ValueError(f"{where}.points: expected a list of settings")
    for k, pt in enumerate(points):
        if not isinstance(pt, dict) or not pt:
            raise ValueError(f"{where}.points[{k}]: expected a non-empty mapping of settings, got {pt!r}")
        out.append(_flatten(pt))
    if not out:
        raise ValueError(f"{where} defines no points (an empty grid, or an axis with no values)")
    return out


def axes_settings(**axes: list[Any] | None) -> list[dict[str, Any]]:
    """Every combination of the given axes (``width=[6, 8], softmax_bits=[5, 7]``), the last fastest."""
    given = {k: list(v) for k, v in axes.items() if v is not None}
    if not given:
        raise ValueError("nothing to sweep: give widths, integer bits, table sizes or a grid")
    for k, v in given.items():
        if not v:
            raise ValueError(f"the {k} axis has no values")
    return [dict(zip(given, combo, strict=True)) for combo in itertools.product(*given.values())]


def _set_dotted(d: dict[str, Any], key: str, value: Any, where: str) -> None:
    parts = key.split(".")
    cur = d
    for p in parts[:-1]:
        nxt = cur.setdefault(p, {})
        if nxt is None:
            nxt = cur[p] = {}
        if not isinstance(nxt, dict):
            raise ValueError(f"{where}: {key!r}: {p!r} is not a section of the config")
        cur = nxt
    cur[parts[-1]] = value


def _int_setting(k: str, v: Any, where: str, low: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ValueError(f"{where}: {k} must be an integer >= {low}, got {v!r}")
    return v


def weight_integer_bits(graph: Graph) -> int:
    """Integer bits (signed) of the largest float weight or bias of ops that no QKeras quantizer types."""
    m = 0.0
    for op in graph.ops:
        if getattr(op, "qtypes", {}).get("weight") is not None:
            continue
        for attr in ("kernel", "bias", "gamma", "beta"):
            v = getattr(op, attr, None)
            if isinstance(v, np.ndarray) and v.size:
                m = max(m, float(np.max(np.abs(v))))
    return integer_bits_for(m, True)


def make_points(settings: list[dict[str, Any]], base: Config, weight_integer: int) -> list[SweepPoint]:
    """Points from settings: each one's config checked now, so that a typo stops the sweep before it runs.

    Raises:
        ValueError: naming the point and the setting.
    """
    base_d = base.to_dict()
    base_t = FixedType.parse(base.default_precision)
    base_w = FixedType.parse(base.default_weight_precision) if base.default_weight_precision else None
    points = []
    for idx, s in enumerate(settings):
        where = f"sweep point {idx} ({', '.join(f'{k}={v}' for k, v in s.items())})"
        d = copy.deepcopy(base_d)
        w = _int_setting("width", s["width"], where, 1) if "width" in s else None
        i = _int_setting("integer", s["integer"], where, -1024) if "integer" in s else None
        calibrate = s.get("calibrate", i is None)
        if not isinstance(calibrate, bool):
            raise ValueError(f"{where}: calibrate must be true or false, got {calibrate!r}")
        if w is not None or i is not None:
            wd = w if w is not None else base_t.width
            it = i if i is not None else base_t.integer
            try:
                d["default_precision"] = str(
                    FixedType(wd, it, base_t.signed, base_t.rounding, base_t.overflow)
                )
                bw = base_w or base_t
                wi = base_w.integer if base_w is not None else weight_integer
                d["default_weight_precision"] = str(FixedType(wd, wi, bw.signed, bw.rounding, bw.overflow))
            except ValueError as e:
                raise ValueError(f"{where}: {e}") from None
        if "softmax_bits" in s:
            b = _int_setting("softmax_bits", s["softmax_bits"], where, 1)
            _set_dotted(d, "softmax.exp_hi_bits", b, where)
            _set_dotted(d, "softmax.exp_lo_bits", b, where)
        if "layernorm_bits" in s:
            _set_dotted(
                d,
                "layernorm.table_bits",
                _int_setting("layernorm_bits", s["layernorm_bits"], where, 1),
                where,
            )
        for k, v in s.items():
            if k not in SHORTHANDS:
                _set_dotted(d, k, v, where)
        try:
            cfg = Config.from_dict(d)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        points.append(SweepPoint(idx, dict(s), cfg.to_dict(), calibrate))
    if not points:
        raise ValueError("the sweep has no points")
    return points
