"""The b-tagging transformer of Jiang et al. 2024 ("Ultra Fast Transformers on FPGAs for Particle Physics
Experiments", arXiv:2402.01047) as an hlsgen RTL benchmark: 15 particles of 6 features, a transformer block
of 2 heads of dimension 32 (d_model 64: embedding, multi-head attention, residual and layer norm, a
feed-forward pair, residual and layer norm), average pooling and a 3-class head, untrained (random weights,
calibrated on normal inputs), ap_fixed<16,6,AP_RND_CONV,AP_SAT>, converted with the default (engine)
strategy at max_par multipliers an engine.

Printed, one row per --max-par value (several in one run; default 256 1024): the multipliers, the cycle
estimate (latency and II) and, with --cosim, the cycles measured by cocotb + Verilator (bit-exact against
the NumPy reference; a row whose cosim differs from the reference or from the estimate is printed as a
MISMATCH and the exit status is 1); with --yosys, synth_xilinx -family xcup DSP / LUT / FF / BRAM18, the
deepest path in LUT levels and the estimated Fmax (hlsgen.backends.rtl.logic_depth, an estimate, not Vivado
timing), and the latency in ns at 200 MHz and at that clock. Yosys runs in parts (each engine alone and the
rest of the top, hlsgen.backends.rtl.parts.synthesize_engines, as ``hlsgen report --yosys`` does) when
``parts.wants_parts`` holds, in one flat run otherwise; the row says which, and a table under it gives each
part's figures and seconds and the Yosys wall and CPU time. Beside them, the published figure: latency under
2 us at 200 MHz on a VU13P (12,288 DSP48E2; the paper's resource counts are not restated here); a line per
row says whether the latency meets it and whether the DSPs fit the VU13P.

    python benchmarks/bench_btag.py [--max-par 256 1024] [--cosim] [--yosys]

--yosys takes several minutes a row on 2 cores (HLSGEN_YOSYS_JOBS processes at a time, default 2); --cosim
about a minute a row.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from hlsgen.backends.rtl.cosim import CosimResult
    from hlsgen.backends.rtl.yosys import YosysCounts

SEQ, FEATURES, HEADS, HEAD_DIM = 15, 6, 2, 32
D_MODEL = HEADS * HEAD_DIM
PRECISION = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
#: Jiang et al. 2024: latency under 2 us at 200 MHz on a Xilinx VU13P
PUBLISHED_NS, PUBLISHED_MHZ = 2000.0, 200.0
#: DSP48E2 slices of a Xilinx VU13P
VU13P_DSP = 12288


def btag_project():
    """The converted model and a few test inputs."""
    import tensorflow as tf

    import hlsgen

    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    x = tf.keras.Input((SEQ, FEATURES), name="particles")
    h = L.Dense(D_MODEL, name="embed")(x)
    a = L.MultiHeadAttention(HEADS, HEAD_DIM, name="mha")(h, h)
    h = L.LayerNormalization(name="ln1")(L.Add(name="res1")([h, a]))
    f = L.Dense(D_MODEL, activation="relu", name="ff1")(h)
    f = L.Dense(D_MODEL, name="ff2")(f)
    h = L.LayerNormalization(name="ln2")(L.Add(name="res2")([h, f]))
    y = L.Dense(3, name="head")(L.GlobalAveragePooling1D(name="pool")(h))
    model = tf.keras.Model(x, y, name="btag")
    rng = np.random.default_rng(0)
    cfg = {"project_name": "btag", "default_precision": PRECISION}
    proj = hlsgen.convert(model, cfg, calibration_data=rng.normal(size=(64, SEQ, FEATURES)))
    return proj, rng.normal(size=(4, SEQ, FEATURES))


@dataclass
class Row:
    """The figures of one max_par: the estimate, and what cosim and Yosys measured when run."""

    max_par: int
    multipliers: int
    est_latency: int
    est_ii: float
    cosim: CosimResult | None = None
    yosys: YosysCounts | None = None
    #: "parts (N)": N Yosys processes (each engine alone and the rest of the top); "flat": one run
    yosys_mode: str = ""
    yosys_cpu: float = 0.0

    @property
    def latency(self) -> int:
        """Cycles of one sample: cosim's when measured, else the estimate's."""
        return self.cosim.latency if self.cosim and self.cosim.latency else self.est_latency

    @property
    def fmax(self) -> float | None:
        """Estimated Fmax (MHz) from Yosys's netlist and hlsgen's delay model."""
        return self.yosys.depth.fmax_mhz if self.yosys and self.yosys.depth else None

    def mismatch(self) -> str:
        """What cosim measured that disagrees with the reference or the estimate ("" when nothing)."""
        c = self.cosim
        if c is None:
            return ""
        if not c.passed:
            return f"max_par {self.max_par}: cosim NOT bit-exact: {c.failure_message()}"
        if c.latency != self.est_latency or c.ii is None or round(c.ii) != round(self.est_ii):
            return (
                f"max_par {self.max_par}: estimate latency {self.est_latency} / II {self.est_ii:g} "
                f"!= cosim {c.latency} / {c.ii}"
            )
        return ""


def _ns(cycles: int, mhz: float | None) -> str:
    return f"{cycles * 1000.0 / mhz:.0f}" if mhz else "-"


def table(rows: list[Row]) -> str:
    """One line per max_par, and the published figure under them."""
    head = (
        f"{'max_par':>7} {'mult':>6} | {'est lat':>7} {'est II':>6} | {'cos lat':>7} {'cos II':>6} "
        f"{'exact':>5} | {'yosys':>10} {'DSP':>6} {'LUT':>7} {'FF':>7} {'BRAM18':>6} {'levels':>6} "
        f"{'Fmax':>5} | {'ns@200':>6} {'ns@Fmax':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        c, y = r.cosim, r.yosys
        cos = (
            f"{c.latency or '-':>7} {f'{c.ii:g}' if c.ii is not None else '-':>6} {'yes' if c.passed else 'NO':>5}"
            if c
            else f"{'-':>7} {'-':>6} {'-':>5}"
        )
        if y is not None:
            levels = y.depth.deepest.lut_levels if y.depth else "-"
            fmax = f"{r.fmax:.0f}" if r.fmax else "-"
            syn = f"{r.yosys_mode:>10} {y.dsp:>6} {y.lut:>7} {y.ff:>7} {y.bram18:>6} {levels:>6} {fmax:>5}"
        else:
            syn = f"{'-':>10} {'-':>6} {'-':>7} {'-':>7} {'-':>6} {'-':>6} {'-':>5}"
        lines.append(
            f"{r.max_par:>7} {r.multipliers:>6} | {r.est_latency:>7} {r.est_ii:>6.0f} | {cos} | {syn} | "
            f"{_ns(r.latency, PUBLISHED_MHZ):>6} {_ns(r.latency, r.fmax):>7}"
        )
    lines.append(
        f"published (Jiang et al. 2024, arXiv:2402.01047): < {PUBLISHED_NS:.0f} ns at {PUBLISHED_MHZ:.0f} MHz "
        f"on a VU13P ({VU13P_DSP:,} DSP48E2)"
    )
    return "\n".join(lines)


def verdict(r: Row) -> str:
    """Which published figure ``r`` meets: the latency at 200 MHz, and the DSPs against the VU13P's."""
    src = "cosim" if r.cosim and r.cosim.latency else "estimate"
    us = r.latency / PUBLISHED_MHZ
    met = "met" if us * 1000.0 < PUBLISHED_NS else "not met"
    line = (
        f"max_par {r.max_par}: {r.latency} cycles ({src}) = {us:.2f} us at {PUBLISHED_MHZ:.0f} MHz "
        f"(< {PUBLISHED_NS / 1000:.0f} us: {met})"
    )
    if r.fmax:
        line += f"; {r.latency / r.fmax:.2f} us at the estimated {r.fmax:.0f} MHz"
    dsp, what = (r.yosys.dsp, "Yosys DSP") if r.yosys else (r.multipliers, "multipliers (estimate)")
    fits = "within" if dsp <= VU13P_DSP else "OVER"
    return f"{line}; {what} {dsp:,}: {fits} the VU13P's {VU13P_DSP:,}"


def parts_table(r: Row) -> str:
    """Each Yosys part of ``r`` (in parts) or each instance's depth (flat), and the Yosys wall / CPU time."""
    y = r.yosys
    assert y is not None
    lines = [f"  max_par {r.max_par}, Yosys {r.yosys_mode}:"]
    if y.engine_parts:
        lines.append(
            f"    {'part':<18} {'module':<16} {'LUT':>7} {'LUTRAM':>6} {'FF':>7} {'DSP':>5} {'BRAM18':>6} "
            f"{'levels':>6} {'ns':>5} {'s':>7}"
        )
        modules = y.depth.modules if y.depth else {}
        for name, p in y.instances.items():
            levels, ns = (p.depth.deepest.lut_levels, f"{p.depth.worst.delay:.2f}") if p.depth else ("-", "-")
            lines.append(
                f"    {name:<18} {modules.get(name, ''):<16} {p.lut:>7} {p.lutram:>6} {p.ff:>7} {p.dsp:>5} "
                f"{p.bram18:>6} {levels:>6} {ns:>5} {p.seconds:>7.1f}"
            )
    elif y.depth:
        for inst, (w, d) in y.depth.by_instance.items():
            lines.append(f"    {inst:>14}: {d.lut_levels} LUT levels, {w.delay:.2f} ns  {d.through}")
    if y.depth:
        lines.append(
            f"    sum: DSP {y.dsp}, LUT {y.lut} (LUTRAM {y.lutram}), FF {y.ff}, BRAM18 {y.bram18}; deepest "
            f"{y.depth.deepest.lut_levels} LUT levels, slowest {y.depth.worst.delay:.2f} ns: est. Fmax "
            f"{y.depth.fmax_mhz:.0f} MHz"
        )
    lines.append(
        f"    yosys wall {y.seconds:.1f} s, CPU {r.yosys_cpu:.1f} s"
        + (f", peak {y.peak_rss_mib:.0f} MiB" if y.peak_rss_mib else "")
    )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--max-par", type=int, nargs="+", default=[256, 1024], help="most multipliers (lanes) an engine gets"
    )
    ap.add_argument("--cosim", action="store_true", help="measure cycles in cocotb + Verilator")
    ap.add_argument("--yosys", action="store_true", help="Yosys resources and logic depth (minutes)")
    ap.add_argument("--sequences", type=int, default=4, help="inputs driven back to back in --cosim")
    args = ap.parse_args()
    if any(p < 1 for p in args.max_par):
        ap.error(f"--max-par: every value must be >= 1, got {args.max_par}")

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.cosim import cosim_graph
    from hlsgen.backends.rtl.parts import synthesize_engines, wants_parts
    from hlsgen.backends.rtl.yosys import synthesize
    from hlsgen.ir.graph import input_raw

    t0 = time.perf_counter()
    proj, x = btag_project()
    g = proj.graph
    print(
        f"b-tagging transformer: {SEQ} x {FEATURES} inputs, {HEADS} heads of {HEAD_DIM}, {PRECISION}, "
        f"random weights; convert {time.perf_counter() - t0:.0f}s",
        flush=True,
    )
    rows: list[Row] = []
    designs = {}
    for mp in args.max_par:
        design = build_design(g, proj.name, RtlOptions(max_par=mp))
        est = design.estimate
        assert est is not None
        designs[mp] = design
        rows.append(Row(mp, design.multipliers, est.latency, est.ii))
        print(
            f"max_par {mp}: {design.multipliers} multipliers, estimate latency {est.latency} cycles, "
            f"II {est.ii:.0f}",
            flush=True,
        )
    with tempfile.TemporaryDirectory(prefix="bench_btag_") as tmp:
        if args.cosim:
            raw = {"particles": input_raw(x[: args.sequences], g.tensors["particles"].type)}
            for r in rows:
                res = cosim_graph(
                    g,
                    proj.name,
                    raw,
                    Path(tmp) / f"cosim_{r.max_par}",
                    RtlOptions(max_par=r.max_par),
                    plain_only=True,
                )
                r.cosim = res
                print(
                    f"max_par {r.max_par}: cosim latency {res.latency} cycles, II {res.ii}, bit-exact "
                    f"{'yes' if res.passed else 'NO'} (build {res.build_seconds:.0f}s, sim {res.sim_seconds:.0f}s)",
                    flush=True,
                )
        if args.yosys:
            for r in rows:
                design = designs[r.max_par]
                rtl = write_rtl(design, Path(tmp) / f"rtl_{r.max_par}")
                if wants_parts(design):
                    print(f"max_par {r.max_par}: Yosys in parts ...", flush=True)
                    c = synthesize_engines(
                        rtl, design, depth=True, log=lambda line: print(f"  {line}", flush=True)
                    )
                    r.yosys_mode, r.yosys_cpu = f"parts ({c.engine_parts})", c.cpu_seconds
                else:
                    print(f"max_par {r.max_par}: Yosys flat ...", flush=True)
                    cpu0 = _children_cpu()
                    c = synthesize(rtl, source_order(design), design.top, depth=True)
                    r.yosys_mode, r.yosys_cpu = "flat", _children_cpu() - cpu0
                r.yosys = c
                print(parts_table(r), flush=True)
    print()
    print(table(rows))
    if args.yosys:
        print(
            "LUT levels and Fmax: the deepest path and hlsgen's delay model (an estimate, not Vivado timing)"
        )
    for r in rows:
        print(verdict(r))
    bad = [m for r in rows if (m := r.mismatch())]
    for m in bad:
        print(f"MISMATCH {m}")
    return 1 if bad else 0


def _children_cpu() -> float:
    """CPU seconds of the child processes (Yosys) waited for so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


if __name__ == "__main__":
    sys.exit(main())
