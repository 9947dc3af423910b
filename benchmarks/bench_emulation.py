"""Emulation throughput (samples/s at batch 1000) against Keras float and csim; conversion and build times.

    .venv/bin/python benchmarks/bench_emulation.py [--batch 1000]

Models: the bundled digits transformer (8 tokens x 8 pixels) and an MHA block of 16 tokens x 32 features,
4 heads, the size at which hls4ml's compiled predict runs about 1,200 samples/s and da4ml's emulator
1,400-2,000 on this kind of machine (figures quoted for comparison, not measured here).
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


def mha_block():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((16, 32), name="x")
    a = tf.keras.layers.MultiHeadAttention(4, 8, name="mha")(x, x)
    h = tf.keras.layers.LayerNormalization(name="norm")(tf.keras.layers.Add(name="res")([x, a]))
    return tf.keras.Model(x, h, name="mha_block")


def timeit(fn, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    import hlsgen
    from hlsgen.frontend.keras import load_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--csim-batch", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    models = [("mha 16x32 h4", mha_block(), rng.normal(size=(args.batch, 16, 32)).astype(np.float32))]
    digits = ROOT / "examples" / "digits" / "digits_float.keras"
    if digits.is_file():
        models.insert(0, ("digits", load_model(digits), rng.random((args.batch, 8, 8)).astype(np.float32)))
    print(f"{'model':<14} {'convert s':>9} {'emulation/s':>12} {'Keras float/s':>14} {'csim/s':>9} {'g++ build s':>11}")
    for name, model, x in models:
        t0 = time.perf_counter()
        proj = hlsgen.convert(model, {"default_precision": "ap_fixed<16,6,AP_RND,AP_SAT>"}, calibration_data=x[:200])
        t_conv = time.perf_counter() - t0
        proj.predict(x[:10])
        t_emu = timeit(lambda p=proj, x=x: p.predict(x))
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
    print("\nanchors (same kind of machine): hls4ml compiled predict ~1,200/s, da4ml emulator 1,400-2,000/s, "
          "hls4ml csim build 6.5-13 s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
