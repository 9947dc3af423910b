"""Throughput of ``hlsgen.fixed.quantize`` and ``convert`` against a plain float64 baseline.

Run: ``python benchmarks/bench_quantize.py [--n 10000000]``. The baseline is what a float emulation
would do, ``np.clip(np.round(x * 2**F), lo, hi) / 2**F``; it ignores the rounding and overflow modes,
so it is a floor on the cost, not an equivalent.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from hlsgen.fixed import FixedType, convert, quantize, to_raw

TYPES = ("ap_fixed<16,6>", "ap_fixed<16,6,AP_RND_CONV,AP_SAT>", "ap_ufixed<8,0,AP_RND,AP_SAT>")


def _best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _baseline(x: np.ndarray, t: FixedType) -> np.ndarray:
    s = 2.0**t.frac
    return np.clip(np.round(x * s), t.raw_min, t.raw_max) / s


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10**7, help="values per call")
    p.add_argument("--repeat", type=int, default=3, help="best of this many calls")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 20.0, args.n)
    print(f"{args.n:.0e} float64 values, best of {args.repeat}; Mvalues/s (time)")
    print(f"{'type':<40} {'baseline':>18} {'quantize':>18} {'ratio':>6}")
    for spelling in TYPES:
        t = FixedType.parse(spelling)
        tb = _best_of(lambda t=t: _baseline(x, t), args.repeat)
        tq = _best_of(lambda t=t: quantize(x, t), args.repeat)
        print(
            f"{spelling:<40} {args.n / tb / 1e6:>8.1f} ({tb * 1e3:5.0f} ms) "
            f"{args.n / tq / 1e6:>8.1f} ({tq * 1e3:5.0f} ms) {tq / tb:>6.1f}"
        )
    src = FixedType.parse("ap_fixed<32,12>")
    raw = to_raw(np.clip(x, -2000, 2000), src)
    print(f"\nconvert() from {src}, int64 raw")
    for spelling in TYPES:
        t = FixedType.parse(spelling)
        tc = _best_of(lambda t=t: convert(raw, src, t), args.repeat)
        print(f"{spelling:<40} {args.n / tc / 1e6:>8.1f} Mvalues/s ({tc * 1e3:5.0f} ms)")


if __name__ == "__main__":
    main()
