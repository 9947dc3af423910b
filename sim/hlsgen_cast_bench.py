"""cocotb bench of hlsgen_cast: every (source, destination) pair of a generated top
(hlsgen.backends.rtl.casts.cast_check_top) on random raw values, extremes included, against
hlsgen.fixed.convert (the model). Combinational: drive, wait 1 ns, read; registered (hlsgen_castreg, the
top has a clk): drive, one clock edge, read. ``HLSGEN_COSIM_SPEC`` names a JSON file with the pairs (C++
spellings), the number of samples, the seed, ``registered`` and ``exhaustive_bits`` (sources of at most
that many bits take every raw value)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.triggers import Timer

from hlsgen.fixed import FixedType, convert


def _values(t: FixedType, n: int, rng: np.random.Generator, exhaustive_bits: int = 0) -> np.ndarray:
    lo, hi = t.raw_min, t.raw_max
    if t.width <= exhaustive_bits:
        every = np.arange(lo, hi + 1, dtype=np.int64)
        return np.resize(every, max(n + 9, every.size))
    edges = [
        lo,
        hi,
        0,
        min(1, hi),
        max(-1, lo),
        lo + 1 if hi > lo else lo,
        hi - 1 if hi > lo else hi,
        hi // 2,
        lo // 2,
    ]
    if t.width <= 62:
        rnd = (
            rng.integers(lo, hi + 1, size=n, dtype=np.int64, endpoint=False)
            if hi > lo
            else np.zeros(n, np.int64)
        )
    else:
        rnd = np.array(
            [int(rng.integers(0, 1 << 62)) * (1 << (t.width - 62)) % (1 << t.width) + lo for _ in range(n)],
            dtype=object,
        )
    return np.concatenate([np.array(edges, dtype=rnd.dtype), rnd])


@cocotb.test()
async def casts(dut: Any) -> None:
    """Every cast equals hlsgen.fixed.convert bit for bit."""
    spec = json.loads(Path(os.environ["HLSGEN_COSIM_SPEC"]).read_text())
    pairs = [(FixedType.parse(s), FixedType.parse(d)) for s, d in spec["pairs"]]
    rng = np.random.default_rng(int(spec["seed"]))
    exhaustive = int(spec.get("exhaustive_bits", 0))
    ins = [_values(s, int(spec["samples"]), rng, exhaustive) for s, _ in pairs]
    n = max(len(v) for v in ins)
    ins = [np.resize(v, n) for v in ins]
    want = [convert(v, s, d) for v, (s, d) in zip(ins, pairs, strict=True)]
    registered = bool(spec.get("registered", False))
    if registered:
        dut.clk.value = 0
    first = None
    bad = 0
    for i in range(n):
        word = off = 0
        for v, (s, _) in zip(ins, pairs, strict=True):
            word |= (int(v[i]) & ((1 << s.width) - 1)) << off
            off += s.width
        dut.vin.value = word
        await Timer(1, unit="ns")
        if registered:
            dut.clk.value = 1
            await Timer(1, unit="ns")
            dut.clk.value = 0
            await Timer(1, unit="ns")
        out = int(dut.vout.value)
        off = 0
        for k, (w, (s, d)) in enumerate(zip(want, pairs, strict=True)):
            got = (out >> off) & ((1 << d.width) - 1)
            if d.signed and got >> (d.width - 1):
                got -= 1 << d.width
            off += d.width
            if got != int(w[i]):
                bad += 1
                if first is None:
                    first = (
                        f"cast {k} {s} -> {d}: input raw {int(ins[k][i])}: rtl {got} != convert {int(w[i])}"
                    )
    assert first is None, f"{bad} mismatching cast(s); first: {first}"
