"""Sweeps: the emulation's accuracy and error, and the analytical resource estimate, over a grid of settings.

A *point* is an ordered set of settings. A setting is a dotted config key (``softmax.inv_bits``,
``layers.classifier.result``, ``default_precision``, ...: any field of
:class:`~hlsgen.config.Config`) or one of these shorthands:

- ``width``: total width W of every value that nothing else types (``default_precision`` becomes
  ``ap_fixed<W, I>`` with the base precision's sign and modes; the integer bits come from calibration),
  and of the weights and biases of float layers (``ap_fixed<W, I_w>``, ``I_w`` the integer bits of the
  model's largest float weight or bias, or those of the config's ``default_weight_precision``);
- ``integer``: integer bits I of ``default_precision`` (the width is the base precision's unless
  ``width`` is set); turns calibration off for the point, so that I applies;
- ``softmax_bits``: address bits of both exp tables of the stable softmax (``exp_hi_bits`` and
  ``exp_lo_bits``);
- ``layernorm_bits``: address bits of the layer norm 1/sqrt table (``table_bits``);
- ``calibrate``: whether calibration types the values (default: yes unless ``integer`` is set).

Types fixed by QKeras quantizers stay as they are (config precedence). Calibration ranges are computed
once, on the calibration data (default: the sweep's data), and shared by every point.

Each point gives the accuracy against the labels (or the argmax agreement with float when there are no
labels), the output error against Keras, the number of float values that overflow their type, and
the analytical resource estimate (:func:`hlsgen.plan.estimate`: multipliers, DSP, BRAM18, LUT, FF,
latency; sums of ``op.cost()`` where hlsgen.plan is absent) plus the bits of every constant (weights,
biases, tables). A point that cannot be built (e.g. a width too small for
the softmax tables) records the error and the sweep goes on.

Points run on local processes (``workers``) or on an existing Dask cluster (``scheduler``); each point
is a pure function of the shared payload, so the results are the same whichever way they ran, and
they are sorted by point. Local workers are spawned (not forked: the parent holds TensorFlow), so a
script that calls :func:`sweep` needs the usual ``if __name__ == "__main__":`` guard. Dask workers need
hlsgen installed.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backends.hls.ops import hls_call
from ..config import Config
from ..fixed import FixedType, integer_bits_for
from ..ir.graph import Graph
from .compare import (
    as_inputs,
    class_labels,
    is_mask,
    keras_outputs,
    output_errors,
    overflow_mask,
    param_values,
    resolve_model,
)

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


# ---------------------------------------------------------------------------------------------------
# one point
# ---------------------------------------------------------------------------------------------------
@dataclass
class Payload:
    """What every point reads: the float graph, the data, the float reference; shipped once per worker."""

    graph: Graph
    inputs: list[np.ndarray]
    labels: np.ndarray | None
    float_output: np.ndarray  #: the Keras model's first output
    float_env: dict[str, np.ndarray]  #: every tensor of the IR's float pass on the data
    ranges: dict[str, float]  #: calibration ranges


def _plan_estimate() -> Any:
    try:
        from ..plan import estimate
    except ImportError:  # hlsgen.plan not there: sums of op.cost()
        return None
    return estimate


def resources_source() -> str:
    """Where the resource figures of :func:`estimate_resources` come from."""
    if _plan_estimate() is not None:
        return "estimate: hlsgen.plan.estimate (no board), not synthesis"
    return "estimate: sums of op.cost() (hlsgen.ir.ops), not synthesis"


def estimate_resources(graph: Graph) -> dict[str, int | None]:
    """The analytical resource estimate of a typed graph (:func:`hlsgen.plan.estimate`, or sums of the
    ops' ``cost()`` without it: then no DSP and FF figures), and the bits of every constant."""
    estimate = _plan_estimate()
    tot: dict[str, int | None] = dict.fromkeys(RESOURCES, 0)
    if estimate is not None:
        plan = estimate(graph)
        t = plan.totals
        tot.update(
            multipliers=sum(x.multipliers for x in plan.layers),
            dsp=t["dsp"],
            bram18=t["bram18"],
            lut=t["lut"],
            ff=t["ff"],
            latency_cycles=plan.latency_cycles,
        )
    else:
        costs = [op.cost(graph) for op in graph.ops]
        tot.update(
            multipliers=sum(int(c.multipliers) for c in costs),
            dsp=None,
            bram18=sum(int(c.bram18) for c in costs),
            lut=sum(int(c.lut) for c in costs),
            ff=None,
            latency_cycles=sum(int(c.latency_cycles) for c in costs),
        )
    bits = 0
    for op in graph.ops:
        try:
            params = hls_call(op, graph).params
        except NotImplementedError:
            params = []
        bits += sum(int(np.size(p.raw)) * p.type.width for p in params)
    tot["param_bits"] = bits
    return tot


def run_point(point: SweepPoint, payload: Payload) -> dict[str, Any]:
    """The figures of one point (a pure function of its arguments)."""
    from ..fixed import from_raw
    from ..quant.passes import quantize_graph

    row: dict[str, Any] = {"index": point.index, "label": point.label, "settings": dict(point.settings)}
    row.update(dict.fromkeys(METRICS + RESOURCES))
    row["error"] = ""
    try:
        cfg = Config.from_dict(point.config)
        typed = quantize_graph(payload.graph, cfg, ranges=payload.ranges if point.calibrate else {})
        raw = typed.run_raw(payload.inputs)
    except ValueError as e:
        row["error"] = str(e)
        return row
    k = typed.outputs[0]
    y = from_raw(raw[k], typed.tensors[k].type).reshape(payload.float_output.shape)
    am = np.argmax(y, axis=-1)
    if payload.labels is not None:
        row["accuracy"] = float(np.mean(am == payload.labels))
    row["agreement"] = float(np.mean(am == np.argmax(payload.float_output, axis=-1)))
    e = output_errors(k, y, payload.float_output)
    row.update(max_abs_error=e.max_abs_error, mean_abs_error=e.mean_abs_error, rel_error=e.rel_error)
    over = 0
    for name, t in typed.tensors.items():
        if t.type is not None and not is_mask(t.type) and name in payload.float_env:
            over += int(overflow_mask(payload.float_env[name], t.type).sum())
    for op in typed.ops:
        over += sum(int(overflow_mask(v, t).sum()) for _, v, t in param_values(op))
    row["overflows"] = over
    row.update(estimate_resources(typed))
    return row


_WORKER_PAYLOAD: Payload | None = None


def _init_worker(blob: bytes) -> None:
    global _WORKER_PAYLOAD
    _WORKER_PAYLOAD = pickle.loads(blob)


def _run_in_worker(point: SweepPoint) -> dict[str, Any]:
    assert _WORKER_PAYLOAD is not None
    return run_point(point, _WORKER_PAYLOAD)


# ---------------------------------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------------------------------
def connect(scheduler: str, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Any:
    """A ``dask.distributed.Client`` of the scheduler at ``scheduler``.

    Raises:
        SweepError: the scheduler did not answer within ``timeout`` seconds, or dask is not installed.
    """
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise SweepError(
            f"--scheduler needs dask.distributed: pip install 'dask[distributed]' ({e})"
        ) from None
    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise SweepError(
            f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s: {e}"
        ) from None


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="sweep", unit="point", disable=not enabled)


def run_points(
    points: list[SweepPoint],
    payload: Payload,
    workers: int | None = None,
    client: Any = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Rows of every point, sorted by point: on the Dask ``client`` when given, else on ``workers``
    local processes (``workers <= 1``: in this process)."""
    rows: list[dict[str, Any]] = []
    with _progress(len(points), progress) as bar:
        if client is not None:
            from dask.distributed import as_completed

            shared = client.scatter(payload, broadcast=True, hash=False)
            futures = client.map(run_point, points, payload=shared, pure=False)
            for f in as_completed(futures, loop=client.loop):
                rows.append(f.result())
                bar.update(1)
        else:
            n = min(workers if workers is not None else (os.cpu_count() or 1), len(points))
            if n <= 1:
                for p in points:
                    rows.append(run_point(p, payload))
                    bar.update(1)
            else:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor, as_completed

                blob = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(blob,)) as ex:
                    for f in as_completed([ex.submit(_run_in_worker, p) for p in points]):
                        rows.append(f.result())
                        bar.update(1)
    return sorted(rows, key=lambda r: r["index"])


# ---------------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """Every point's figures, and the float reference they are measured against."""

    model: str
    n_samples: int
    float_accuracy: float | None  #: Keras float accuracy (None without labels)
    keys: list[str]  #: the settings that vary, in order
    rows: list[dict[str, Any]]
    resources_source: str = field(default_factory=resources_source)
    config: dict[str, Any] = field(default_factory=dict)  #: the base config

    @property
    def metric(self) -> str:
        """``accuracy`` with labels, else ``agreement`` (argmax agreement with float)."""
        return "accuracy" if self.float_accuracy is not None else "agreement"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "n_samples": self.n_samples,
            "metric": self.metric,
            "float_accuracy": self.float_accuracy,
            "resources_source": self.resources_source,
            "config": self.config,
            "keys": self.keys,
            "points": self.rows,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["index", *self.keys, *METRICS, *RESOURCES, "error"])
        for r in self.rows:
            vals = [r["index"], *(r["settings"].get(k, "") for k in self.keys)]
            vals += ["" if r[m] is None else r[m] for m in (*METRICS, *RESOURCES)]
            w.writerow([*vals, r["error"]])
        return buf.getvalue()

    def format_table(self) -> str:
        head = [
            "#",
            *self.keys,
            self.metric,
            "max|err|",
            "overflows",
            "mult",
            "dsp",
            "bram18",
            "lut",
            "kbit",
            "",
        ]
        body = []
        for r in self.rows:
            row = [str(r["index"]), *(str(r["settings"].get(k, "")) for k in self.keys)]
            if r["error"]:
                row += ["-"] * 8 + [f"not built: {r['error']}"]
            else:
                row += [
                    f"{r[self.metric]:.4f}",
                    f"{r['max_abs_error']:.3g}",
                    str(r["overflows"]),
                    str(r["multipliers"]),
                    "-" if r["dsp"] is None else str(r["dsp"]),
                    str(r["bram18"]),
                    str(r["lut"]),
                    f"{r['param_bits'] / 1000:.1f}",
                    "",
                ]
            body.append(row)
        widths = [max(len(h), *(len(b[k]) for b in body)) for k, h in enumerate(head)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
        lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths, strict=True)).rstrip() for b in body]
        ref = f"Keras float accuracy {self.float_accuracy:.4f}" if self.float_accuracy is not None else ""
        lines.append(f"{self.model}, {self.n_samples} samples. {ref}; resources: {self.resources_source}")
        return "\n".join(lines) + "\n"

    def plot_png(self, dpi: int = 100) -> bytes:
        """Accuracy (or agreement) against width (or point), the float accuracy as a line."""
        return sweep_png(self, dpi)

    def files(self) -> dict[str, str | bytes]:
        return {"sweep.csv": self.to_csv(), "sweep.json": self.to_json(), "sweep.png": self.plot_png()}

    def write(self, out_dir: str | Path, force: bool = False) -> Path:
        """Write sweep.csv, sweep.json and sweep.png into ``out_dir`` at once (refused if it exists
        unless ``force``; nothing half-written)."""
        from ..io import atomic_write

        return atomic_write(self.files(), Path(out_dir), force=force)


def sweep_png(result: SweepResult, dpi: int = 100) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    metric = result.metric
    rows = result.rows
    by_width = "width" in result.keys and all("width" in r["settings"] for r in rows)
    others = [k for k in result.keys if not (by_width and k == "width")]
    fig = Figure(figsize=(7.5, 4.5), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r["settings"].get(k) for k in others), []).append(r)
    xs_all = []
    for gkey, grp in groups.items():
        ok = [r for r in grp if not r["error"]]
        x = [r["settings"]["width"] if by_width else r["index"] for r in ok]
        xs_all += [r["settings"]["width"] if by_width else r["index"] for r in grp]
        lab = ", ".join(f"{k}={v}" for k, v in zip(others, gkey, strict=True)) or "hlsgen fixed (emulation)"
        ax.plot(x, [r[metric] for r in ok], marker="o", label=lab)
        bad = [r["settings"]["width"] if by_width else r["index"] for r in grp if r["error"]]
        if bad:  # at the bottom edge, whatever the y range
            ax.plot(bad, [0.02] * len(bad), "x", color="#c00000", ms=8, transform=ax.get_xaxis_transform())
    if any(r["error"] for r in rows):
        ax.plot([], [], "x", color="#c00000", label="not buildable")
    if len(groups) == 1 and any(not r["error"] for r in rows):
        ok = [r for r in rows if not r["error"]]
        ax2 = ax.twinx()
        ax2.plot([r["settings"]["width"] if by_width else r["index"] for r in ok],
                 [r["param_bits"] / 1000 for r in ok], ls=":", marker=".", color="#888888")  # fmt: skip
        ax2.set_ylabel("constants: weights + tables (kbit, estimate)", color="#666666", fontsize=8)
        ax2.tick_params(axis="y", colors="#666666", labelsize=8)
        ax.plot([], [], ls=":", marker=".", color="#888888", label="kbit of constants (right axis)")
    if result.float_accuracy is not None:
        ax.axhline(result.float_accuracy, ls="--", color="black", lw=1,
                   label=f"Keras float {result.float_accuracy:.4f}")  # fmt: skip
    if by_width:
        ax.set_xlabel("total width W (bits), integer bits from calibration")
        ax.set_xticks(sorted(set(xs_all)))
    else:
        ax.set_xlabel("sweep point")
        ax.set_xticks([r["index"] for r in rows])
    ax.set_ylabel("accuracy" if metric == "accuracy" else "argmax agreement with float")
    vals = [r[metric] for r in rows if not r["error"]]
    if result.float_accuracy is not None:
        vals.append(result.float_accuracy)
    low = min(vals, default=0.0)
    ax.set_ylim(max(-0.02, low - 0.1 * max(1.0 - low, 0.05)), 1.0 + 0.05 * max(1.0 - low, 0.05))
    ax.grid(alpha=0.3)
    ax.set_title(f"{result.model}: emulation {metric} ({result.n_samples} samples)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------------
# the entry points
# ---------------------------------------------------------------------------------------------------
def sweep_settings(
    widths: list[int] | None = None,
    integer: list[int] | None = None,
    softmax_bits: list[int] | None = None,
    layernorm_bits: list[int] | None = None,
    grid: Any = None,
) -> list[dict[str, Any]]:
    """The settings of every point: the combinations of the axes given, or the points of ``grid``.

    Raises:
        ValueError: nothing to sweep, both a grid and axes, an empty grid or axis.
    """
    axes = {
        "width": widths,
        "integer": integer,
        "softmax_bits": softmax_bits,
        "layernorm_bits": layernorm_bits,
    }
    if grid is not None:
        if any(v is not None for v in axes.values()):
            raise ValueError("give either a grid or the axes (widths, integer, softmax_bits, layernorm_bits)")
        return grid_settings(grid)
    return axes_settings(**axes)


@dataclass
class SweepPlan:
    """A prepared sweep: its points and the payload they share (the float reference, computed once).

    Running the same plan locally or on Dask gives the same rows, point for point.
    """

    model: str
    points: list[SweepPoint]
    payload: Payload
    float_accuracy: float | None
    config: dict[str, Any]

    @property
    def keys(self) -> list[str]:
        keys: list[str] = []
        for p in self.points:
            keys += [k for k in p.settings if k not in keys]
        return keys

    def run(self, workers: int | None = None, client: Any = None, progress: bool = True) -> SweepResult:
        """Every point, on ``workers`` local processes or on the Dask ``client``."""
        rows = run_points(self.points, self.payload, workers=workers, client=client, progress=progress)
        return SweepResult(
            model=self.model,
            n_samples=int(self.payload.inputs[0].shape[0]),
            float_accuracy=self.float_accuracy,
            keys=self.keys,
            rows=rows,
            config=self.config,
        )


def prepare_sweep(
    model: Any, data: Any, labels: Any, config: Any, settings: list[dict[str, Any]], calibration: Any = None
) -> SweepPlan:
    """Load the model, check the data and settings, compute the float reference and calibration ranges."""
    from ..frontend.keras import load_model, read_keras

    src, cfg = resolve_model(model, config)
    keras_model = load_model(src)
    graph = read_keras(keras_model)
    points = make_points(settings, cfg, weight_integer_bits(graph))
    xs = as_inputs(graph, data, "data")
    y_float = keras_outputs(keras_model, xs, graph)[0]
    lab = class_labels(labels, y_float) if labels is not None else None
    env = graph.run_float(xs, keep=True)
    if calibration is not None:
        from ..quant.passes import calibration_ranges

        ranges = calibration_ranges(graph, as_inputs(graph, calibration, "calibration data"))
    else:
        ranges = {k: float(np.max(np.abs(v))) if np.size(v) else 0.0 for k, v in env.items()}
    return SweepPlan(
        model=str(getattr(keras_model, "name", graph.name)),
        points=points,
        payload=Payload(graph, xs, lab, y_float, env, ranges),
        float_accuracy=float(np.mean(np.argmax(y_float, axis=-1) == lab)) if lab is not None else None,
        config=cfg.to_dict(),
    )


def sweep(
    model: Any,
    data: Any,
    labels: Any = None,
    config: Any = None,
    *,
    widths: list[int] | None = None,
    integer: list[int] | None = None,
    softmax_bits: list[int] | None = None,
    layernorm_bits: list[int] | None = None,
    grid: Any = None,
    calibration: Any = None,
    workers: int | None = None,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    progress: bool = True,
) -> SweepResult:
    """Run the emulation at every point of a sweep (settings: the module docstring).

    Args:
        model: a ``tf.keras.Model``, a ``.keras`` / ``.h5`` file, or a project folder.
        data: inputs ``(batch, ...)`` (a list for several inputs).
        labels: class indices or one-hot of the first output (without them the metric is the argmax
            agreement with float).
        config: the base config (dict, Config or YAML path).
        widths, integer, softmax_bits, layernorm_bits: axes; every combination is a point.
        grid: instead of the axes, a grid (mapping, list or YAML path; see :func:`grid_settings`).
        calibration: inputs for the calibration ranges (default: ``data``).
        workers: local processes (default: one per CPU, at most one per point; 1 = in this process).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``) to run the points on.
        connect_timeout: seconds to wait for the scheduler.

    Raises:
        ValueError: no points / an empty grid, a bad setting (naming the point), data or labels that
            do not fit the model (naming both shapes or lengths).
        SweepError: the scheduler cannot be reached within ``connect_timeout``.
    """
    settings = sweep_settings(widths, integer, softmax_bits, layernorm_bits, grid)
    client = connect(scheduler, connect_timeout) if scheduler else None  # fail fast, before any work
    try:
        plan = prepare_sweep(model, data, labels, config, settings, calibration)
        return plan.run(workers=workers, client=client, progress=progress)
    finally:
        if client is not None:
            client.close()
