"""The RTL modules of the Keras front door's tensor ops, one at a time on 16 rows of 32 values of
ap_fixed<16,6> (default settings), through Yosys synth_xilinx -family xcup and
hlsgen.backends.rtl.logic_depth: the LUTs and DSPs of the design, the LUT levels of the design's deepest
register-to-register path (the op's module, its constant source and the top's glue: the op's output
register drives the top's port, so its paths are named after the top's nets), and the estimated cycles
(latency, II) of the design, which tests/test_tensor_rtl.py checks equal to the cosim's. No baseline:
these ops had no RTL before.

    python benchmarks/bench_tensor_rtl.py [--ops add mul concat slice maxpool batchnorm conv3 rowperm]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def measure(kind: str) -> dict[str, object]:
    """LUTs, DSPs, LUT levels of the deepest path, cycles and the Yosys time of one op's design."""
    from test_tensor_rtl import one_op_graph  # type: ignore[import-not-found]

    from hlsgen.backends.rtl import build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    g = one_op_graph(kind)
    d = build_design(g, f"tensor_{kind}")
    with tempfile.TemporaryDirectory() as t:
        t0 = time.perf_counter()
        c = synthesize(write_rtl(d, t), source_order(d), d.top, depth=True)
        dt = time.perf_counter() - t0
    assert c.depth is not None
    deep = c.depth.deepest
    return {
        "lut": c.lut,
        "levels": deep.lut_levels,
        "dsp": c.dsp,
        "latency": d.estimate.latency,
        "ii": d.estimate.ii,
        "seconds": dt,
        "through": f"{deep.through} -> {deep.end}",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    from test_tensor_rtl import OPS  # type: ignore[import-not-found]

    ap.add_argument("--ops", nargs="+", default=OPS, choices=OPS)
    args = ap.parse_args()
    print(
        f"{'op':>9} {'LUT':>6} {'levels':>6} {'DSP':>4} {'latency':>7} {'II':>5} | yosys  deepest path (16x32 ap_fixed<16,6>)"
    )
    for k in args.ops:
        m = measure(k)
        print(
            f"{k:>9} {m['lut']:>6} {m['levels']:>6} {m['dsp']:>4} {m['latency']:>7} {m['ii']:>5.1f} | "
            f"{m['seconds']:>4.0f}s  {m['through']}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
