"""Decode speed (tokens/s) in emulation and csim, and KV-cache size, for MHA / GQA / MQA / MLA twins.

    .venv/bin/python benchmarks/bench_decode.py [--length 64] [--batch 32] [--no-csim]

Twins: one causal block (d_model 64, 8 heads of 8, a ReLU MLP) with the attention of each kind: MHA, GQA
with 2 key/value heads, MQA, and MLA with a KV latent of 16 and RoPE of 4 (absorbed and recompute). The
baseline is prefill: ``predict`` on whole sequences of the same length, in tokens/s. Cache sizes are
estimates from the types (hlsgen.decode.cache_report), for ``--length`` tokens.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

D, H, HD = 64, 8, 8


def block(kind: str, seq: int):
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention, MultiHeadLatentAttention

    tf.keras.utils.set_random_seed(0)
    x = tf.keras.Input((seq, D), name="x")
    if kind == "mla":
        a = MultiHeadLatentAttention(H, HD, 16, rope_dim=4, name="attn")(x)
    else:
        kv = {"mha": H, "gqa": 2, "mqa": 1}[kind]
        a = GroupedQueryAttention(H, kv, HD, name="attn")(x)
    h = tf.keras.layers.Add(name="res")([x, a])
    h = tf.keras.layers.Dense(2 * D, activation="relu", name="mlp")(h)
    return tf.keras.Model(x, h, name=f"{kind}_block")


def main() -> None:
    import hlsgen

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--length", type=int, default=64, help="sequence length = max_length")
    ap.add_argument("--batch", type=int, default=32, help="sequences per emulation step")
    ap.add_argument("--no-csim", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HLSGEN_CACHE", tempfile.mkdtemp(prefix="hlsgen-bench-"))
    L, B = args.length, args.batch
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, L, D)).astype(np.float32)
    cfg = {"default_precision": "ap_fixed<16,6>", "decode": {"max_length": L}}
    print(
        f"decode of one causal block, d_model {D}, {H} heads of {HD}, max_length {L} (tokens/s; prefill = baseline)"
    )
    head = (
        f"{'attention':<15} {'prefill emu':>11} {'decode emu b1':>13} {f'decode emu b{B}':>14} "
        f"{'decode csim':>11} {'g++ s':>6} {'values/tok':>10} {'bytes/tok':>9} {f'KiB @{L}':>8} {'BRAM18':>6}"
    )
    print(head)
    print("-" * len(head))
    for kind, form in (
        ("mha", None),
        ("gqa", None),
        ("mqa", None),
        ("mla", "absorbed"),
        ("mla", "recompute"),
    ):
        proj = hlsgen.convert(block(kind, L), {**cfg, "project_name": f"{kind}_block"})
        t0 = time.perf_counter()
        proj.predict(x)
        prefill = B * L / (time.perf_counter() - t0)
        dec = proj.decoder(form=form)
        t0 = time.perf_counter()
        dec.run_raw(x[:1])
        emu1 = L / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        dec.run_raw(x)
        emub = B * L / (time.perf_counter() - t0)
        csim, build = float("nan"), float("nan")
        if not args.no_csim:
            t0 = time.perf_counter()
            cdec = proj.decoder("csim", form=form)
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            cdec.run_raw(x[:1])
            csim = L / (time.perf_counter() - t0)
        rep = proj.cache_report()
        r = rep.rows[0]
        name = kind if form is None else f"{kind} {form}"
        print(
            f"{name:<15} {prefill:>11,.0f} {emu1:>13,.0f} {emub:>14,.0f} {csim:>11,.0f} {build:>6.1f} "
            f"{r.values_per_token:>10} {r.bits_per_token / 8:>9.0f} {r.bits_per_token * L / 8192:>8.1f} {r.bram18:>6}"
        )
    print(
        f"\nMHA twin of every row: {H * 2 * HD} values/token; MLA caches the latent (16) and the RoPE key (4). "
        "csim: one sequence, the decode top compiled with g++ -O1."
    )


if __name__ == "__main__":
    main()
