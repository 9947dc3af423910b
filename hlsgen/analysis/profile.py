"""The profiling plot: per tensor, where its float values lie against the range and resolution of its type.

One row per tensor (graph order, top to bottom). The x axis is log2 of the magnitude. The green band spans
the magnitudes the fixed-point type represents, from its LSB (2^-F) to its largest magnitude; the box and
whiskers show the float values' log2|x| (box: quartiles, whiskers: smallest and largest, zeros left
out; the axis starts 3 bits below the finest LSB, so whiskers of values far below every resolution are
cut). Values right of the band overflow (counted on the right, red); values left of it fall below the
resolution; band beyond the box on either side is bits the data does not use. The dashed outline is
the suggested type's band.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np

from ..fixed import FixedType

if TYPE_CHECKING:
    from .compare import CompareResult


def _band(t: FixedType) -> tuple[float, float]:
    top = max(abs(t.min), abs(t.max))
    return math.log2(t.lsb), math.log2(top) if top > 0 else math.log2(t.lsb)


def profile_png(result: CompareResult, dpi: int = 100) -> bytes:
    """The profiling plot of a comparison, as PNG bytes (matplotlib's Agg canvas, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    tensors = result.tensors
    n = max(len(tensors), 1)
    height = 1.4 + 0.3 * n
    fig = Figure(figsize=(10, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    logs, pos = [], []
    lo_all, hi_all = [], []
    for k, t in enumerate(tensors):
        y = n - 1 - k
        typ = FixedType.parse(t.type)
        b0, b1 = _band(typ)
        ax.add_patch(Rectangle((b0, y - 0.36), b1 - b0, 0.72, color="#cfe8cf", zorder=0))
        sug = FixedType.parse(t.suggested)
        s0, s1 = _band(sug)
        ax.add_patch(
            Rectangle((s0, y - 0.42), s1 - s0, 0.84, fill=False, ls="--", lw=0.8, ec="#555555", zorder=1)
        )
        lo_all += [b0, s0]
        hi_all += [b1, s1]
        v = np.abs(result.samples.get(t.name, np.zeros(0)))
        v = v[v > 0]
        if v.size:
            lv = np.log2(v)
            logs.append(lv)
            pos.append(y)
            hi_all.append(float(lv.max()))
        if t.overflows:
            what = "saturate" if t.overflow_mode == "saturate" else "WRAP"
            ax.annotate(
                f"{t.overflows} {what}",
                (1.0, y),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                color="#c00000",
                fontsize=8,
            )
    if logs:
        ax.boxplot(
            logs,
            positions=pos,
            vert=False,
            widths=0.5,
            whis=(0, 100),
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#6a8fc7", "edgecolor": "#1f3b66"},
            medianprops={"color": "#1f3b66"},
            whiskerprops={"color": "#1f3b66"},
            capprops={"color": "#1f3b66"},
            manage_ticks=False,
            zorder=2,
        )
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{t.name}  {t.type}" for t in reversed(tensors)], fontsize=8)
    ax.set_ylim(-0.6, n - 0.4)
    if hi_all:  # values far below every resolution would squash the rest: the left edge is the types'
        ax.set_xlim(min(lo_all) - 3, max(hi_all) + 1)
    ax.set_xlabel("log2 |value|")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        f"{result.model}: float values against fixed-point types ({result.n_samples} samples)", fontsize=10
    )
    fig.legend(
        handles=[
            Patch(color="#cfe8cf", label="type: LSB .. largest magnitude"),
            Patch(fill=False, ls="--", ec="#555555", label="suggested type"),
            Patch(facecolor="#6a8fc7", edgecolor="#1f3b66", label="float log2|x|: quartiles, min .. max"),
        ],
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.6 / height, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
