"""Cycles per decode step (estimate and cosim) and Yosys resources of an RTL decode top.

    .venv/bin/python benchmarks/bench_decode_rtl.py [--length 32 64] [--kv-heads 2] [--max-par 8]
        [--stream] [--no-yosys]

The decoder: one causal attention block (d_model 16, 4 heads of 4, ``--kv-heads`` key/value heads: 4 is
MHA, fewer is GQA) and a Dense head, 10-bit fixed point, at ``max_length`` = ``--length``; RTL at
``--max-par`` (8). ``--stream``: the caches stream their L rows to the engines every step
(``RtlOptions(caches_in_place=False)``, the form before the in-place read). A session of ``L`` tokens fills the cache: the cosim runs it without idle cycles or
back-pressure and measures the latency of the first token and the II of back-to-back tokens (cycles
per step), which must equal the estimate. Yosys: ``synth_xilinx -family xcup`` of the whole top.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

D, H, HD = 16, 4, 4


def decoder(kv_heads: int):
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention

    tf.keras.utils.set_random_seed(5)
    x = tf.keras.Input((8, D), name="tokens")
    a = GroupedQueryAttention(H, kv_heads, HD, name="attn")(x)
    y = tf.keras.layers.Dense(D, name="head")(a)
    return tf.keras.Model(x, y, name="dec")


def main() -> None:
    import hlsgen
    from hlsgen.backends.rtl import RtlOptions
    from hlsgen.backends.rtl.cosim import _rtl_sources, cosim_decode
    from hlsgen.backends.rtl.design import build_decode_design
    from hlsgen.backends.rtl.yosys import synthesize
    from hlsgen.decode import decode_design
    from hlsgen.ir.graph import input_raw

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--length", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--kv-heads", type=int, default=H)
    ap.add_argument("--max-par", type=int, default=8)
    ap.add_argument("--stream", action="store_true", help="the stream form of the caches")
    ap.add_argument("--no-yosys", action="store_true")
    args = ap.parse_args()
    opts = RtlOptions(max_par=args.max_par, caches_in_place=not args.stream)
    cfg = {"default_precision": "ap_fixed<10,4>"}
    proj = hlsgen.convert(decoder(args.kv_heads), cfg)
    print(
        f"{'L':>4} {'est lat':>7} {'cosim lat':>9} {'est II':>6} {'cosim II':>8} {'LUT':>6} {'LUTRAM':>6} "
        f"{'FF':>6} {'DSP':>4} {'BRAM18':>6} {'yosys s':>7}"
    )
    for L in args.length:
        d = decode_design(proj, max_length=L)
        rtl = build_decode_design(d, f"dec_l{L}", opts)
        est = rtl.estimate
        assert est is not None
        t = d.graph.tensors[d.token]
        x = np.random.default_rng(L).normal(size=(L, 1, t.shape[-1]))
        with tempfile.TemporaryDirectory(prefix="hlsgen-bench-") as tmp:
            res = cosim_decode(d, f"dec_l{L}", input_raw(x, t.type), [0] * L, tmp, opts, plain_only=True)
            assert res.passed, res.failure_message()
            cells = "-"
            if not args.no_yosys:
                rdir, sources = _rtl_sources(rtl, Path(tmp) / "syn", None)
                t0 = time.perf_counter()
                c = synthesize(rdir, sources, rtl.top)
                cells = f"{c.lut:>6} {c.lutram:>6} {c.ff:>6} {c.dsp:>4} {c.bram18:>6} {time.perf_counter() - t0:>7.1f}"
        print(f"{L:>4} {est.latency:>7} {res.latency:>9} {est.ii:>6.1f} {res.ii:>8.1f} {cells}", flush=True)


if __name__ == "__main__":
    main()
