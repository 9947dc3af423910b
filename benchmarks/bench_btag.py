"""The b-tagging transformer of Jiang et al. 2024 ("Ultra Fast Transformers on FPGAs for Particle Physics
Experiments", arXiv:2402.01047) as an hlsgen RTL benchmark: 15 particles of 6 features, a transformer block
of 2 heads of dimension 32 (d_model 64: embedding, multi-head attention, residual and layer norm, a
feed-forward pair, residual and layer norm), average pooling and a 3-class head, untrained (random weights,
calibrated on normal inputs), ap_fixed<16,6,AP_RND_CONV,AP_SAT>, converted with the default (engine)
strategy at max_par multipliers an engine.

Printed: the cycle estimate (latency and II) and, with --cosim, the cycles measured by cocotb + Verilator
(bit-exact against the NumPy reference); with --yosys, synth_xilinx -family xcup DSP / LUT / FF / BRAM18,
the deepest path in LUT levels and the estimated Fmax (hlsgen.backends.rtl.logic_depth, an estimate, not
Vivado timing), and the latency in ns at that clock. Beside them, the published figure: latency under 2 us
at 200 MHz on a VU13P (the paper's resource counts are not restated here).

    python benchmarks/bench_btag.py [--max-par 256] [--cosim] [--yosys]

--yosys takes several minutes on 2 cores; --cosim about a minute.
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

SEQ, FEATURES, HEADS, HEAD_DIM = 15, 6, 2, 32
D_MODEL = HEADS * HEAD_DIM
PRECISION = "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"
#: Jiang et al. 2024: latency under 2 us at 200 MHz on a Xilinx VU13P
PUBLISHED_NS, PUBLISHED_MHZ = 2000.0, 200.0


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-par", type=int, default=256, help="most multipliers (lanes) an engine gets")
    ap.add_argument("--cosim", action="store_true", help="measure cycles in cocotb + Verilator")
    ap.add_argument("--yosys", action="store_true", help="Yosys resources and logic depth (minutes)")
    ap.add_argument("--sequences", type=int, default=4, help="inputs driven back to back in --cosim")
    args = ap.parse_args()

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.cosim import cosim_graph
    from hlsgen.backends.rtl.yosys import synthesize
    from hlsgen.ir.graph import input_raw

    t0 = time.perf_counter()
    proj, x = btag_project()
    g = proj.graph
    opts = RtlOptions(max_par=args.max_par)
    design = build_design(g, proj.name, opts)
    est = design.estimate
    assert est is not None
    print(
        f"b-tagging transformer: {SEQ} x {FEATURES} inputs, {HEADS} heads of {HEAD_DIM}, {PRECISION}, "
        f"max_par {args.max_par}: {design.multipliers} multipliers; convert + plan {time.perf_counter() - t0:.0f}s"
    )
    print(f"estimate: latency {est.latency} cycles, II {est.ii:.0f} cycles")
    latency = est.latency
    with tempfile.TemporaryDirectory(prefix="bench_btag_") as tmp:
        if args.cosim:
            raw = {"particles": input_raw(x[: args.sequences], g.tensors["particles"].type)}
            res = cosim_graph(g, proj.name, raw, Path(tmp) / "cosim", opts, plain_only=True)
            print(
                f"cosim: latency {res.latency} cycles, II {res.ii} cycles, bit-exact {'yes' if res.passed else 'NO'} "
                f"(build {res.build_seconds:.0f}s, sim {res.sim_seconds:.0f}s)"
            )
            latency = res.latency or latency
        fmax = None
        if args.yosys:
            t1 = time.perf_counter()
            c = synthesize(write_rtl(design, Path(tmp) / "rtl"), source_order(design), design.top, depth=True)
            assert c.depth is not None
            fmax = c.depth.fmax_mhz
            print(
                f"yosys ({time.perf_counter() - t1:.0f}s): DSP {c.dsp}, LUT {c.lut}, FF {c.ff}, BRAM18 {c.bram18}; "
                f"{c.depth.deepest.lut_levels} LUT levels, est. Fmax {fmax:.0f} MHz (an estimate, not Vivado)"
            )
            for inst, (w, d) in c.depth.by_instance.items():
                print(f"  {inst:>12}: {d.lut_levels} LUT levels, {w.delay:.2f} ns  {d.through}")
    ns200 = latency * 1000.0 / PUBLISHED_MHZ
    line = f"latency {latency} cycles = {ns200:.0f} ns at {PUBLISHED_MHZ:.0f} MHz"
    if fmax:
        line += f", {latency * 1000.0 / fmax:.0f} ns at the estimated {fmax:.0f} MHz"
    print(
        f"{line} | published (Jiang et al. 2024, VU13P): < {PUBLISHED_NS:.0f} ns at {PUBLISHED_MHZ:.0f} MHz"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
