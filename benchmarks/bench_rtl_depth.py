"""Logic depth of the RTL engines, one at a time: a Linear, a layer norm and a softmax over 16 rows of
32 values, and the attention scores and context of a 16-token block of 4 heads of 8 (sc: Q, K [16, 32] ->
S [4, 16, 16], scale 1/sqrt(8); cx: P [4, 16, 16], V [16, 32] -> C [16, 32]), all
ap_fixed<8,3,AP_RND_CONV,AP_SAT> at the default settings (64 multipliers, 32 lanes), through Yosys
synth_xilinx -family xcup and hlsgen.backends.rtl.logic_depth: LUT levels and cells of the deepest path
between registers, the slowest path in ns and the estimated Fmax (an estimate, not Vivado timing), beside
the resources and the cycle estimate. Baseline: the same designs before their pipelining (fc, ln, sm: main
at 4841ae1; sc, cx: main at 698a855), printed beside.

    python benchmarks/bench_rtl_depth.py [--kinds fc ln sm sc cx] [--tree-levels 1]

``--mha T D`` takes instead the engines of bench_scale.py's MHA block at sequence T and d_model D (4
heads, its own lanes, SIMD, PE and memories), each alone: its instance as the block's top has it, in a
top of its own whose ports are the signals it is connected to (paths from and to them start and end
there, as at registers; the instance is ``u_<op>`` as in the block), and lists
every register reached by a path of more than ``--over`` LUT levels (6: the 300 MHz class) with the cell
types and the named nets of that path:

    python benchmarks/bench_rtl_depth.py --mha 256 32 [--engines softmax scores context] [--over 6]
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


def engines_alone(seq: int, d: int, kinds: list[str], over: int, tree_levels: int, keep: str | None) -> None:
    """Each engine of kind ``kinds`` of the MHA block (seq, d) through Yosys alone, each in a top of its own
    (:func:`hlsgen.backends.rtl.parts.engine_top`)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_rtl import mha_project

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.parts import engine_top
    from hlsgen.backends.rtl.yosys import synthesize

    proj, _ = mha_project(seq, d, 4)
    design = build_design(proj.graph, "mha_block", RtlOptions(tree_levels=tree_levels))
    print(f"MHA block T {seq} d {d}: estimate latency {design.estimate.latency}, II {design.estimate.ii:.0f}")
    with tempfile.TemporaryDirectory() as t:
        rtl = write_rtl(design, keep or t)
        order = source_order(design)
        for kind in kinds:
            block = next(b for b in design.blocks if b.kind == kind)
            top = engine_top(rtl, design, block)
            t0 = time.perf_counter()
            c = synthesize(rtl, [*order[:-1], f"{top}.sv"], top, depth=True, over=over)
            dt = time.perf_counter() - t0
            assert c.depth is not None
            w, deep = c.depth.by_instance[block.instance]
            par = {
                k: v for k, v in block.params.items() if k in ("N", "L", "SIMD", "PE", "RAM", "GOUT", "LV")
            }
            print(
                f"\n{block.instance} ({block.module} {par}): {deep.lut_levels} LUT levels, slowest "
                f"{w.delay:.2f} ns ({1000 / w.delay:.0f} MHz est.); LUT {c.lut} LUTRAM {c.lutram} FF {c.ff} "
                f"DSP {c.dsp} BRAM18 {c.bram18}; yosys {dt:.0f} s",
                flush=True,
            )
            print(f"  slowest: {w.lut_levels} lv {w.delay:.2f} ns  {w.start} -> {w.end}\n        {w.through}")
            for p in c.depth.over:
                if not p.end.startswith(block.instance + "."):
                    continue
                print(f"  {p.lut_levels:>2} lv {p.delay:5.2f} ns  {p.start} -> {p.end}\n        {p.through}")
                print(f"        nets: {' > '.join(n for n in p.nets if not n.startswith('$'))}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kinds", nargs="+", default=["fc", "ln", "sm", "sc", "cx"])
    ap.add_argument("--tree-levels", type=int, default=1)
    ap.add_argument(
        "--mha", type=int, nargs=2, metavar=("T", "D"), help="the engines of this MHA block alone"
    )
    ap.add_argument("--engines", nargs="+", default=["softmax", "scores", "context"], help="with --mha")
    ap.add_argument("--over", type=int, default=6, help="with --mha: list the paths over this many levels")
    ap.add_argument("--keep", help="with --mha: write the block's RTL (and the engines' wrappers) here")
    args = ap.parse_args()
    if args.mha:
        engines_alone(args.mha[0], args.mha[1], args.engines, args.over, args.tree_levels, args.keep)
        return 0

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
        print(f"{'':>4}slowest: {w.start} -> {w.end}: {w.through}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
