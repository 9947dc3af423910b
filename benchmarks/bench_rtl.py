"""RTL of an MHA block (seq 16, d_model 32, 4 heads of 8, 8-bit data) at several parallelism settings:
cycles measured by co-simulation (cocotb + Verilator), DSP and LUT counted by Yosys (synth_xilinx
-family xcup), and the ratio of the measured cycles per sequence to the DSP-bound limit
(multiply-accumulates / DSPs used). Target: within 1.25x.

Parallelism P: each projection (Q, K, V, output) gets P multipliers and the score and context engines
P/2 each, so that every matrix engine spends 16384 / P cycles on a sequence; the softmax gets the lanes
that keep it below that. "cycles" is the measured initiation interval (back to back sequences); the
latency of one sequence is printed beside it. Baseline: the estimate (hlsgen.backends.rtl.timing).
The softmax keeps its default tables (18-bit exp and reciprocal entries); each of its products takes
one DSP48E2 (hlsgen.backends.rtl.render_norm._softmax_exp_lo_operand and _softmax_inv_operand).

    python benchmarks/bench_rtl.py [--par 4 8 16 32] [--no-yosys] [--sequences 5] [--breakdown]

--breakdown adds, per P, the Yosys counts of each instance of the top (the blocks u_<layer>, the fork
FIFOs), from a second run that keeps the hierarchy (no optimisation across instances: its total can be
a little above the flat run's, which is the LUT / FF column).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SEQ, D_MODEL, HEADS = 16, 32, 4
PRECISION = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"


def mha_model(seq: int = SEQ, d_model: int = D_MODEL, heads: int = HEADS):
    """The Keras MHA block (self-attention of ``heads`` heads of d_model / heads), seeded."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(5)
    x = tf.keras.Input((seq, d_model), name="tokens")
    y = tf.keras.layers.MultiHeadAttention(heads, d_model // heads, name="mha")(x, x)
    return tf.keras.Model(x, y, name="mha_block")


def mha_project(seq: int = SEQ, d_model: int = D_MODEL, heads: int = HEADS, model=None):
    """The hlsgen project of ``model`` (default :func:`mha_model`) at PRECISION, calibrated on 64
    sequences, and 8 test sequences."""
    import hlsgen

    model = model if model is not None else mha_model(seq, d_model, heads)
    rng = np.random.default_rng(0)
    calib = rng.normal(size=(64, seq, d_model))
    cfg = {"project_name": "mha_block", "default_precision": PRECISION}
    return hlsgen.convert(model, cfg, calibration_data=calib), rng.normal(size=(8, seq, d_model))


def parallelism(graph, p: int) -> dict[str, int]:
    """Multipliers (lanes for the softmax) per op for setting P."""
    par: dict[str, int] = {}
    for op in graph.ops:
        if op.kind == "linear":
            par[op.name] = p
        elif op.kind in ("scores", "context"):
            par[op.name] = max(1, p // 2)
        elif op.kind == "softmax":
            n = graph.tensors[op.inputs[0]].shape[-1]
            rows = graph.tensors[op.inputs[0]].size // n
            # rows * ceil(n / lanes) cycles, kept at or below 16384 / P with room for the pipeline
            par[op.name] = next(ln for ln in range(1, n + 1) if rows * -(-n // ln) <= 0.8 * 16384 / p)
    return par


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--par", type=int, nargs="+", default=[4, 8, 16, 32])
    ap.add_argument("--no-yosys", action="store_true", help="skip the Yosys counts")
    ap.add_argument("--sequences", type=int, default=5, help="sequences driven back to back")
    ap.add_argument("--breakdown", action="store_true", help="Yosys counts per instance of the top")
    ap.add_argument("--no-cosim", action="store_true", help="skip the co-simulation (II: the estimate)")
    args = ap.parse_args()

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.cosim import cosim_graph
    from hlsgen.backends.rtl.yosys import synthesize
    from hlsgen.ir.graph import input_raw

    proj, x = mha_project()
    g = proj.graph
    macs = sum(b for op in g.ops for b in [op.cost(g).macs] if op.kind in ("linear", "scores", "context"))
    raw = {"tokens": input_raw(x[: args.sequences], g.tensors["tokens"].type)}
    print(f"MHA block: seq {SEQ}, d_model {D_MODEL}, {HEADS} heads, {PRECISION}; {macs} MACs per sequence")
    sm = next(op for op in g.ops if op.kind == "softmax")
    print(f"softmax tables (defaults): exp {sm.types['exp']}, inv {sm.types['inv']}")
    print(
        f"{'P':>4} {'mults':>6} {'DSP':>5} {'LUT':>7} {'LUTRAM':>6} {'FF':>7} {'BRAM18':>6} | {'II est':>7} "
        f"{'II meas':>8} {'lat est':>8} {'lat meas':>9} | {'MACs/DSP':>8} {'ratio':>6} | bit-exact  build  sim  yosys"
    )
    worst = 0.0
    breakdowns = []
    with tempfile.TemporaryDirectory(prefix="bench_rtl_") as tmp:
        for p in args.par:
            opts = RtlOptions(max_par=None, par=parallelism(g, p))
            design = build_design(g, proj.name, opts)
            est = design.estimate
            res = None
            if not args.no_cosim:
                res = cosim_graph(g, proj.name, raw, Path(tmp) / f"p{p}", opts, plain_only=True)
            counts = None
            ys = 0.0
            if not args.no_yosys:
                t0 = time.perf_counter()
                out = write_rtl(design, Path(tmp) / f"y{p}")
                counts = synthesize(out, source_order(design), design.top)
                ys = time.perf_counter() - t0
            dsp = counts.dsp if counts else design.multipliers
            limit = macs / max(dsp, 1)
            ii = res.ii or 0 if res else est.ii
            ratio = ii / limit
            worst = max(worst, ratio)
            lut = (
                f"{counts.lut:>7} {counts.lutram:>6} {counts.ff:>7} {counts.bram18:>6}"
                if counts
                else f"{'-':>7} {'-':>6} {'-':>7} {'-':>6}"
            )
            meas = (
                f"{res.ii or 0:>8.1f} {est.latency:>8} {res.latency or 0:>9}"
                if res
                else f"{'-':>8} {est.latency:>8} {'-':>9}"
            )
            done = (
                f"{'yes' if res.passed else 'NO':>9} {res.build_seconds:>5.0f}s {res.sim_seconds:>4.0f}s"
                if res
                else f"{'-':>9} {'-':>6} {'-':>5}"
            )
            print(
                f"{p:>4} {design.multipliers:>6} {dsp:>5} {lut} | {est.ii:>7.1f} {meas} | {limit:>8.1f} "
                f"{ratio:>6.2f} | {done} {ys:>5.0f}s",
                flush=True,
            )
            if counts and args.breakdown:
                breakdowns.append((p, synthesize(out, source_order(design), design.top, per_instance=True)))
    for p, hier in breakdowns:
        print(f"\nP = {p}, per instance (Yosys without -flatten; total LUT {hier.lut}, FF {hier.ff}):")
        print(f"  {'instance':<28} {'LUT':>6} {'LUTRAM':>6} {'FF':>6} {'DSP':>4} {'BRAM18':>6}")
        for name, c in sorted(hier.instances.items(), key=lambda kv: -kv[1].lut):
            print(f"  {name:<28} {c.lut:>6} {c.lutram:>6} {c.ff:>6} {c.dsp:>4} {c.bram18:>6}")
            for sub, cc in sorted(c.instances.items(), key=lambda kv: -kv[1].lut):
                print(f"    {sub:<26} {cc.lut:>6} {cc.lutram:>6} {cc.ff:>6} {cc.dsp:>4} {cc.bram18:>6}")
    src = "Yosys DSP48E2 count" if not args.no_yosys else "multipliers (no Yosys)"
    print(f"ratio = measured II / (MACs / DSPs), DSPs from the {src}; worst {worst:.2f} (target <= 1.25)")
    return 0 if worst <= 1.25 else 1


if __name__ == "__main__":
    sys.exit(main())
