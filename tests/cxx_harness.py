"""The g++ oracle of the differential fixed-point tests: the session's cases and the values to try.

The C++ program, its build and its request loop live in :mod:`hlsgen.fixed.selfcheck` (the
``hlsgen selfcheck`` command uses them too); this module chooses what the tests compile: a few hundred
(operation, types) cases drawn once per session from a seeded RNG, so that one build serves every
test, plus hypothesis strategies that draw the values sent to them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from hlsgen import tools
from hlsgen.fixed import FixedType, Overflow, Rounding
from hlsgen.fixed.selfcheck import (
    Case,
    Op,
    Oracle,
    as_ints,
    build_oracle,
    double_grid,
    expected,
    operand_grid,
    raw_grid,
)

__all__ = [
    "SEED",
    "Case",
    "Op",
    "Oracle",
    "assert_matches",
    "dense_doubles",
    "dense_raws",
    "double_grid",
    "double_values",
    "operand_grid",
    "operand_values",
    "raw_grid",
    "session_cases",
    "source_values",
    "start_oracle",
]

#: Seed of the session's type choice (fixed, so the cases, and the build, are the same every run).
SEED = 20250611

#: Widths the random types take. Few distinct widths keep g++ fast: every new width instantiates the
#: ap_private machinery again. Above 61 bits hlsgen switches to Python integers.
WIDTHS = (1, 2, 3, 4, 5, 7, 8, 12, 16, 18, 24, 32, 33, 48, 53, 54, 60, 61, 62, 64, 65, 70)
SOURCE_WIDTHS = (8, 16, 24, 32, 48, 53, 54, 61, 64, 70, 90)


def _random_type(
    rng: np.random.Generator,
    signed: bool,
    q: Rounding = Rounding.TRN,
    o: Overflow = Overflow.WRAP,
    n: int = 0,
    widths: Sequence[int] = WIDTHS,
) -> FixedType:
    """W from ``widths`` (at least N), I mostly within [-4, W+4], sometimes far outside (negative, > W)."""
    w = int(rng.choice([x for x in widths if x >= max(n, 1)]))
    if rng.random() < 0.25:
        i = int(rng.integers(-20, 0)) if rng.random() < 0.5 else int(rng.integers(w + 1, w + 21))
    else:
        i = int(rng.integers(-4, w + 5))
    return FixedType(w, i, signed, q, o, n)


def session_cases(seed: int = SEED) -> list[Case]:
    """Every (rounding, overflow) pair from double and from a wider ap_fixed, into signed and unsigned
    targets, N in {1, 2, 3} for AP_WRAP and AP_WRAP_SM, ap_int / ap_uint targets, a handful of edge
    types, and +, -, * on signed, unsigned, narrow and wide operands."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    for q in Rounding:
        for o in Overflow:
            for signed in (True, False):
                if o is Overflow.WRAP_SM and not signed:
                    continue
                cases.append(Case(Op.FROM_DOUBLE, (_random_type(rng, signed, q, o),)))
                dst = _random_type(rng, signed, q, o)
                src = _random_type(rng, bool(rng.random() < 0.7), widths=SOURCE_WIDTHS)
                cases.append(Case(Op.CONVERT, (src, dst)))
    for o in (Overflow.WRAP, Overflow.WRAP_SM):
        for n in (1, 2, 3):
            for signed in (True, False) if o is Overflow.WRAP else (True,):
                for j in rng.choice(len(Rounding), size=2, replace=False):
                    q = list(Rounding)[j]
                    cases.append(Case(Op.FROM_DOUBLE, (_random_type(rng, signed, q, o, n),)))
                    dst = _random_type(rng, signed, q, o, n)
                    src = _random_type(rng, True, widths=SOURCE_WIDTHS)
                    cases.append(Case(Op.CONVERT, (src, dst)))
    edges = [
        "ap_fixed<1,1,AP_RND,AP_SAT>",
        "ap_fixed<1,-3,AP_RND_CONV,AP_SAT_SYM>",
        "ap_ufixed<1,1,AP_RND_INF,AP_SAT>",
        "ap_fixed<2,1,AP_RND_ZERO,AP_WRAP_SM,2>",
        "ap_fixed<5,12,AP_RND,AP_SAT_SYM>",
        "ap_fixed<8,-6,AP_RND_MIN_INF,AP_WRAP,3>",
        "ap_fixed<70,4,AP_RND_CONV,AP_SAT>",
        "ap_ufixed<64,64,AP_RND,AP_WRAP>",
        "ap_fixed<16,-1040,AP_RND,AP_SAT>",  # F > 1022: the headers' reading of subnormal doubles shows
    ]
    ints = ["ap_int<1>", "ap_uint<1>", "ap_int<8>", "ap_uint<8>", "ap_int<64>", "ap_uint<70>"]
    cases += [Case(Op.FROM_DOUBLE, (t,)) for t in edges + ints]
    # sources with I >= 0 only: for I < 0 to_ap_int_base leaves its result uninitialised
    int_conversions = [
        ("ap_fixed<16,6>", "ap_int<8>"),
        ("ap_ufixed<12,4>", "ap_uint<8>"),
        ("ap_fixed<12,0>", "ap_int<1>"),
        ("ap_fixed<12,0>", "ap_uint<8>"),
        ("ap_fixed<8,12>", "ap_int<8>"),
        ("ap_fixed<70,40>", "ap_int<8>"),
    ]
    cases += [Case(Op.CONVERT, pair) for pair in int_conversions]
    cases.append(Case(Op.CONVERT, ("ap_int<16>", "ap_fixed<8,4,AP_RND,AP_SAT>")))
    operands = [
        ("ap_fixed<8,3>", "ap_fixed<8,3>"),
        ("ap_fixed<16,6>", "ap_ufixed<8,2>"),
        ("ap_ufixed<12,4>", "ap_fixed<5,5>"),
        ("ap_ufixed<7,-2>", "ap_ufixed<9,12>"),
        ("ap_fixed<1,1>", "ap_fixed<3,-1>"),
        ("ap_fixed<32,16>", "ap_fixed<32,8>"),
        ("ap_fixed<40,10>", "ap_ufixed<30,-5>"),
        ("ap_fixed<70,30>", "ap_fixed<16,6>"),
        ("ap_ufixed<64,32>", "ap_fixed<8,8>"),
        ("ap_int<8>", "ap_fixed<12,4>"),
    ]
    for _ in range(4):
        a = _random_type(rng, bool(rng.random() < 0.7))
        b = _random_type(rng, bool(rng.random() < 0.7))
        operands.append((str(a), str(b)))
    cases += [Case(op, (a, b)) for a, b in operands for op in (Op.ADD, Op.SUB, Op.MUL)]
    return cases


def start_oracle(cases: Sequence[Case], directory: Path) -> Oracle:
    """Build (or reuse) the oracle for ``cases`` in ``directory`` and start it.

    Raises:
        hlsgen.tools.ToolMissing: without g++ or the ap_types headers.
    """
    tools.cxx()
    tools.ap_types_include()
    return Oracle(build_oracle(cases, directory, jobs=2), cases)


def assert_matches(oracle: Oracle, index: int, *inputs: np.ndarray | Sequence[float] | Sequence[int]) -> None:
    """Case ``index`` gives the same raw integers (and result type) in C++ and in hlsgen.fixed."""
    case = oracle.cases[index]
    got = oracle.run(index, *inputs)
    want, rt = expected(case, *inputs)
    assert oracle.result_types[index] == (rt.width, rt.integer, rt.signed), (
        f"{case}: C++ gives a result of (W, I, signed) = {oracle.result_types[index]}, hlsgen {rt}"
    )
    want = as_ints(want)
    if case.op is Op.FROM_DOUBLE:
        # to_raw picks its path per call (int64 while every value fits): values within the type's
        # reach go again on their own, so that a huge value in the batch does not hide the fast path
        x = np.asarray(inputs[0], dtype=np.float64)
        near = np.abs(x) < 2.0 ** (rt.integer + 8)
        if near.any() and not near.all():
            alone = want.copy()
            alone[near] = as_ints(expected(case, x[near])[0])
            _compare(case, inputs, alone, got)
    _compare(case, inputs, want, got)


def _compare(case: Case, inputs: tuple, want: np.ndarray, got: np.ndarray) -> None:
    bad = np.flatnonzero(want != got)
    lines = []
    for k in bad[:8]:
        operands = ", ".join(
            repr(float(x[k])) if case.op is Op.FROM_DOUBLE else str(int(x[k])) for x in inputs
        )
        lines.append(f"  ({operands}) -> C++ {got[k]}, hlsgen {want[k]}")
    np.testing.assert_array_equal(
        want, got, err_msg=f"{case}: {bad.size} of {want.size} differ (raw integers)\n" + "\n".join(lines)
    )


# ---------------------------------------------------------------------------------------------------
# dense enumerations
# ---------------------------------------------------------------------------------------------------
def dense_doubles(t: FixedType, limit: int = 4096) -> np.ndarray:
    """Every quarter LSB from below the minimum to above the maximum, tie points included (types with
    at most ``limit`` such points; the range of the others is sampled at its edges by double_grid)."""
    span = 4 * (t.raw_max - t.raw_min + 16)
    if span > limit:
        return np.zeros(0)
    k = np.arange(4 * (t.raw_min - 8), 4 * (t.raw_max + 8) + 1, dtype=np.float64)
    return np.ldexp(k, -t.frac - 2)


def dense_raws(src: FixedType, limit: int = 1 << 14) -> np.ndarray:
    """Every raw integer of ``src`` when there are at most ``limit``."""
    if src.raw_max - src.raw_min + 1 > limit:
        return as_ints([])
    return as_ints(range(src.raw_min, src.raw_max + 1))


# ---------------------------------------------------------------------------------------------------
# hypothesis strategies
# ---------------------------------------------------------------------------------------------------
def double_values(t: FixedType) -> st.SearchStrategy[float]:
    """Doubles that probe ``t``: exact half-LSB ties (inside the range and past it), points just past
    the limits, multiples of LSB/8, any finite double (huge, tiny, subnormal), both zeros."""
    F, W = t.frac, t.width
    reach = 1 << min(W + 2, 60)
    ties = st.integers(-reach, reach).map(lambda k: math.ldexp(k + 0.5, -F))
    eighths = st.integers(-8 * reach, 8 * reach).map(lambda k: math.ldexp(k, -F - 3))
    edges = [t.min, t.max, -t.max, 0.0, math.ldexp(1.0, t.integer), -math.ldexp(1.0, t.integer)]
    near = st.tuples(st.sampled_from(edges), st.integers(-6, 6), st.sampled_from([-1, 0, 1])).map(
        lambda p: _nudge(p[0] + p[1] * math.ldexp(0.5, -F), p[2])
    )
    scales = st.tuples(st.floats(-1.0, 1.0), st.integers(t.integer - W - 8, t.integer + 12)).map(
        lambda p: math.ldexp(p[0], p[1])
    )
    anything = st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(ties, eighths, near, scales, anything, st.sampled_from([0.0, -0.0, 5e-324, -5e-324]))


def _nudge(x: float, direction: int) -> float:
    return x if direction == 0 else math.nextafter(x, math.inf * direction)


def source_values(src: FixedType, dst: FixedType) -> st.SearchStrategy[int]:
    """Raw integers of ``src`` that probe ``dst``: ties and their neighbours in dst LSBs, near the
    limits of dst and of src, and anywhere in src's range."""
    sh = src.frac - dst.frac
    unit = 1 << max(sh, 0)
    half = unit >> 1

    def clip(v: int) -> int:
        return min(max(v, src.raw_min), src.raw_max)

    reach = (1 << (dst.width + 2)) if sh >= 0 else max(1, (1 << (dst.width + 2)) >> -sh)
    ties = st.tuples(st.integers(-reach, reach), st.sampled_from([-1, 0, 1])).map(
        lambda p: clip(p[0] * unit + half + p[1])
    )
    limits = [src.raw_min, src.raw_max, 0]
    limits += [r * unit if sh >= 0 else r >> -sh for r in (dst.raw_min, dst.raw_max, -dst.raw_max)]
    near = st.tuples(st.sampled_from(limits), st.integers(-3 * unit - 2, 3 * unit + 2)).map(
        lambda p: clip(p[0] + p[1])
    )
    return st.one_of(ties, near, st.integers(src.raw_min, src.raw_max))


def operand_values(t: FixedType) -> st.SearchStrategy[int]:
    """Raw integers of ``t`` for arithmetic: anywhere in range, the limits and the values next to them."""
    specials = sorted({t.raw_min, t.raw_min + 1, t.raw_max, t.raw_max - 1, 0, min(1, t.raw_max)})
    return st.one_of(st.integers(t.raw_min, t.raw_max), st.sampled_from(specials))
