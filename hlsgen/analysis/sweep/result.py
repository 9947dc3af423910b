"""Sweep results: the table, CSV, JSON and the accuracy-against-width plot."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .points import METRICS, RESOURCES
from .run import resources_source


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
        from ...io import atomic_write

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
