"""Logic depth of the RTL engines, one at a time: a Linear, a layer norm and a softmax over 16 rows of
32 values, and the attention scores and context of a 16-token block of 4 heads of 8 (sc: Q, K [16, 32] ->
S [4, 16, 16], scale 1/sqrt(8); cx: P [4, 16, 16], V [16, 32] -> C [16, 32]), all
ap_fixed<8,3,AP_RND_CONV,AP_SAT> at the default settings (64 multipliers, 32 lanes), through Yosys
synth_xilinx -family xcup and hlsgen.backends.rtl.logic_depth: LUT levels and cells of the deepest path
between registers, the slowest path in ns and the estimated Fmax (an estimate, not Vivado timing), beside
the resources and the cycle estimate. Baseline: the same designs before their pipelining (fc, ln, sm: main
at 4841ae1; sc, cx: main at 698a855), printed beside.

    python benchmarks/bench_rtl_depth.py [--kinds fc ln sm sc cx] [--tree-levels 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

#: before the pipelining (fc, ln, sm: 4841ae1; sc, cx: 698a855): LUT levels, slowest path ns, LUT, FF,
#: DSP, latency cycles
BASELINE = {
    "fc": (9, 4.83, 2687, 2236, 64, 260),
    "ln": (32, 36.24, 41045, 1024, 127, 20),
    "sm": (69, 47.68, 7071, 1139, 64, 20),
    "sc": (8, 6.60, 3677, 1949, 72, 147),
    "cx": (7, 3.94, 6228, 1961, 64, 148),
}


def one(kind: str, rows: int = 16, n: int = 32, prec: str = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"):
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.ir.graph import Graph
    from hlsgen.project import quantize_graph

    rng = np.random.default_rng(0)
    g = Graph(kind)
    x = g.add_tensor("x", (rows, n))
    heads = 4
    if kind == "sc":  # scores of 4 heads of 8 over 16 tokens (scale 1/sqrt(8): one constant multiplier)
        k = g.add_tensor("k", (rows, n))
        y = g.add_tensor("y", (heads, rows, rows))
        g.inputs, g.outputs = [x, k], [y]
        g.add_op(ops.Scores("sc", [x, k], [y], num_heads=heads, num_kv_heads=heads, key_dim=n // heads))
        return quantize_graph(g, Config.from_dict({"default_precision": prec}))
    if kind == "cx":  # context of 4 heads of 8 over 16 tokens: P [4, 16, 16] and V = x
        p = g.add_tensor("p", (heads, rows, rows))
        y = g.add_tensor("y", (rows, n))
        g.inputs, g.outputs = [p, x], [y]
        g.add_op(ops.Context("cx", [p, x], [y], num_heads=heads, num_kv_heads=heads, value_dim=n // heads))
        return quantize_graph(g, Config.from_dict({"default_precision": prec}))
    y = g.add_tensor("y", (rows, n))
    g.inputs, g.outputs = [x], [y]
    if kind == "ln":
        g.add_op(ops.LayerNorm("ln", [x], [y], gamma=rng.normal(size=n), beta=rng.normal(size=n)))
    elif kind == "sm":
        g.add_op(ops.Softmax("sm", [x], [y]))
    else:
        g.add_op(ops.Linear("fc", [x], [y], kernel=rng.normal(size=(n, n)) / 4, bias=rng.normal(size=n)))
    return quantize_graph(g, Config.from_dict({"default_precision": prec}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", nargs="+", default=["fc", "ln", "sm", "sc", "cx"])
    ap.add_argument("--tree-levels", type=int, default=1)
    args = ap.parse_args()

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    print(f"{'op':>3} {'levels':>6} {'ns':>6} {'MHz':>5} {'LUT':>6} {'FF':>6} {'DSP':>4} {'lat':>4} {'II':>4} | "
          f"baseline {'levels':>6} {'ns':>6} {'LUT':>6} {'FF':>6} {'DSP':>4} {'lat':>4} | yosys  deepest path")  # fmt: skip
    for k in args.kinds:
        d = build_design(one(k), f"depth_{k}", RtlOptions(tree_levels=args.tree_levels))
        with tempfile.TemporaryDirectory() as t:
            t0 = time.perf_counter()
            c = synthesize(write_rtl(d, t), source_order(d), d.top, depth=True)
            dt = time.perf_counter() - t0
        assert c.depth is not None
        w, deep = c.depth.by_instance[f"u_{k}"]
        b = BASELINE[k]
        print(
            f"{k:>3} {deep.lut_levels:>6} {w.delay:>6.2f} {1000 / w.delay:>5.0f} {c.lut:>6} {c.ff:>6} {c.dsp:>4} "
            f"{d.estimate.latency:>4} {d.estimate.ii:>4.0f} | {'':>8} {b[0]:>6} {b[1]:>6.2f} {b[2]:>6} {b[3]:>6} "
            f"{b[4]:>4} {b[5]:>4} | {dt:>4.0f}s  {deep.through}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
