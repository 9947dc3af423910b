"""Emulation throughput (samples/s at batch 1000) against Keras float and csim; conversion and build times.

    .venv/bin/python benchmarks/bench_emulation.py [--batch 1000]

Models: the bundled digits transformer (8 tokens x 8 pixels) and an MHA block of 16 tokens x 32 features,
4 heads, the size at which hls4ml's compiled predict runs about 1,200 samples/s and da4ml's emulator
1,400-2,000 on this kind of machine (figures quoted for comparison, not measured here). Then the time
of each op of the MHA block per batch (``--no-profile`` skips it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def mha_block(seq: int = 16, d_model: int = 32, heads: int = 4):
    """MHA (heads of d_model / heads) + residual + layer norm, seeded."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((seq, d_model), name="x")
    a = tf.keras.layers.MultiHeadAttention(heads, d_model // heads, name="mha")(x, x)
    h = tf.keras.layers.LayerNormalization(name="norm")(tf.keras.layers.Add(name="res")([x, a]))
    return tf.keras.Model(x, h, name="mha_block")


def timeit(fn, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def profile(proj, x: np.ndarray) -> None:
    """Milliseconds per op for the batch ``x`` (best of 5), in the chunks of samples that ``predict``
    runs (hlsgen.ir.graph.RUN_CHUNK_ELEMENTS), the quantization of the input first."""
    from hlsgen.ir import graph as graph_module

    g = proj.graph
    step = max(1, graph_module.RUN_CHUNK_ELEMENTS // max(t.size for t in g.tensors.values()))
    chunks = [x[i : i + step] for i in range(0, len(x), step)]
    envs = [g.run_raw([c], keep=True) for c in chunks]
    t_in = g.tensors[g.inputs[0]].type
    rows = [("input quantization", timeit(lambda: [graph_module.input_raw(c, t_in) for c in chunks], reps=5))]
    for op in g.ops:
        args = [[env[t] for t in op.inputs] for env in envs]
        t = timeit(lambda op=op, args=args: [op.execute(*a) for a in args], reps=5)
        rows.append((f"{op.kind} {op.name}", t))
    print(f"\nper op, batch {len(x)} in chunks of {step} (ms):")
    for label, t in rows:
        print(f"  {label:<28} {t * 1e3:7.2f}")
    print(f"  {'sum':<28} {sum(t for _, t in rows) * 1e3:7.2f}")


def main() -> None:
    import hlsgen
    from hlsgen.frontend.keras import load_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--csim-batch", type=int, default=200)
    ap.add_argument("--no-profile", action="store_true", help="skip the per-op times of the MHA block")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    models = [("mha 16x32 h4", mha_block(), rng.normal(size=(args.batch, 16, 32)).astype(np.float32))]
    digits = ROOT / "examples" / "digits" / "digits_float.keras"
    if digits.is_file():
        models.insert(0, ("digits", load_model(digits), rng.random((args.batch, 8, 8)).astype(np.float32)))
    print(
        f"{'model':<14} {'convert s':>9} {'emulation/s':>12} {'Keras float/s':>14} {'csim/s':>9} {'g++ build s':>11}"
    )
    for name, model, x in models:
        t0 = time.perf_counter()
        proj = hlsgen.convert(
            model, {"default_precision": "ap_fixed<16,6,AP_RND,AP_SAT>"}, calibration_data=x[:200]
        )
        t_conv = time.perf_counter() - t0
        proj.predict(x[:10])
        t_emu = timeit(lambda p=proj, x=x: p.predict(x), reps=7)
        model.predict(x, verbose=0, batch_size=args.batch)
        t_keras = timeit(lambda m=model, x=x: m.predict(x, verbose=0, batch_size=args.batch))
        os.environ["HLSGEN_CACHE"] = str(Path("/tmp") / f"hlsgen-bench-{os.getpid()}")
        xs = x[: args.csim_batch]
        t0 = time.perf_counter()
        proj.build_csim()
        t_build = time.perf_counter() - t0
        t_csim = timeit(lambda p=proj, xs=xs: p.csim_raw(xs), reps=1)
        print(
            f"{name:<14} {t_conv:>9.2f} {args.batch / t_emu:>12,.0f} {args.batch / t_keras:>14,.0f} "
            f"{len(xs) / t_csim:>9,.0f} {t_build:>11.1f}"
        )
    print(
        "\nanchors (same kind of machine): hls4ml compiled predict ~1,200/s, da4ml emulator 1,400-2,000/s, "
        "hls4ml csim build 6.5-13 s"
    )
    print(
        "baseline (hlsgen before the float64 fast paths, same machine): emulation digits 21,000-35,000/s, "
        "MHA block 6,900-9,600/s (softmax 26 ms, scores 17, context 12, layer norm 10 per 1000)"
    )
    if not args.no_profile:
        profile(proj, x)
    print(
        f"\nload average (1, 5, 15 min) at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
        f"on {os.cpu_count()} cores"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
