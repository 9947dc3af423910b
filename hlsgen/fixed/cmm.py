"""Constant-matrix multiplication without multipliers: canonical signed digits and an adder graph.

``y = x W`` for a constant integer matrix ``W`` (``n_in x n_out``) becomes shifts, additions and
subtractions:

1. every weight is written in canonical signed digits (CSD, the non-adjacent form: digits in
   {-1, 0, +1}, no two adjacent non-zero), so column ``j`` is a sum of signed, shifted inputs
   ``sum_k  s_k * (x_{i_k} << e_k)``; zero weights and zero digits give no term;
2. common subexpressions are shared across the columns (the greedy two-term elimination of Hartley,
   as the CMVM optimiser of da4ml, arXiv:2507.04535, applies it to whole weight matrices): the pair
   ``x_a << p  +-  x_b << q`` that occurs in most columns (up to a common shift) becomes one new
   node, computed once and used, shifted, wherever it occurs; repeated until no pair occurs twice;
   a pair is only taken while its adder depth stays within ``max_cse_depth``;
3. what is left of each column is summed by an adder tree built shallowest-first (the two terms
   of least adder depth first), so that a column's depth is as low as its terms allow.

Every node is a two-input adder ``(A << sa) +- (B << sb)`` on signed integers. Each node's exact
integer range (the minimum and maximum over the box of input ranges: the node is a linear form of
the inputs, so both are found coefficient by coefficient) and the two's complement width that holds
it are recorded; :meth:`AdderGraph.evaluate` runs the graph on raw integers, exactly.

Costs (:class:`CmmCost`): adders, a LUT estimate (one LUT per result bit of each adder, less the low
bits that pass through from an operand the other does not reach), the adder depth. The LUT figure
is an estimate for 6-input-LUT FPGAs with carry chains; Yosys measures the real count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np


def csd(value: int) -> list[tuple[int, int]]:
    """Canonical signed digits of ``value``: ``[(shift, sign), ...]`` with ``value = sum sign << shift``,
    lowest digit first, no two digits at adjacent shifts (the fewest non-zero digits of any signed
    binary form). ``csd(0) == []``."""
    v = int(value)
    out: list[tuple[int, int]] = []
    k = 0
    while v != 0:
        if v & 1:
            d = 2 - (v & 3)  # +1 when v = 1 (mod 4), -1 when v = 3 (mod 4)
            out.append((k, d))
            v -= d
        v >>= 1
        k += 1
    return out


def bits_for(lo: int, hi: int) -> int:
    """Bits of the narrowest two's complement (signed) integer holding every value in ``[lo, hi]``."""
    return max(max(int(hi), 0).bit_length(), max(-int(lo) - 1, 0).bit_length()) + 1


@dataclass(frozen=True)
class Term:
    """``sign * (value of node `var` << shift)``."""

    var: int
    shift: int
    sign: int


@dataclass(frozen=True)
class Node:
    """One adder: ``(value[a] << sha) + sign_b * (value[b] << shb)`` (the first operand is added).

    Attributes:
        a, b: operand ids (``0 .. n_in - 1`` are the inputs, then the nodes in order).
        sha, shb: left shifts of the operands (one of them is 0).
        sub: True when ``b`` is subtracted.
        lo, hi: the exact range of the result over the input box.
        width: two's complement bits holding ``[lo, hi]``.
        depth: adders on the longest path from an input (inputs have depth 0).
    """

    a: int
    sha: int
    b: int
    shb: int
    sub: bool
    lo: int
    hi: int
    width: int
    depth: int

    @property
    def lut(self) -> int:
        """LUT estimate: one per result bit, less the low bits that only the unshifted operand has
        (they pass through when it is added)."""
        if self.sha == 0:  # a +- (b << shb): a's low shb bits pass through
            through = self.shb
        else:  # (a << sha) + b passes b's low bits; (a << sha) - b negates them (no saving)
            through = 0 if self.sub else self.sha
        return max(self.width - through, 1)


@dataclass(frozen=True)
class CmmCost:
    """Cost of an adder graph.

    Attributes:
        adders: two-input adders (each node; zero columns and single-term columns cost none).
        lut: LUT estimate of the adders (:attr:`Node.lut` summed).
        depth: adder depth of the deepest output.
        terms: non-zero CSD digits of the matrix (the adders without sharing: terms - nonzero columns).
        nonzero_weights: non-zero entries of the matrix.
        nonzero_columns: columns with a non-zero weight.
    """

    adders: int
    lut: int
    depth: int
    terms: int
    nonzero_weights: int
    nonzero_columns: int

    @property
    def adders_without_sharing(self) -> int:
        """Adders with no shared subexpressions: one per CSD term beyond each column's first."""
        return self.terms - self.nonzero_columns


@dataclass(frozen=True)
class AdderGraph:
    """``y = x W`` as adders (see the module docstring).

    Attributes:
        n_in: inputs (ids ``0 .. n_in - 1``).
        in_lo, in_hi: raw range of each input.
        nodes: the adders, in an order where every operand comes first (id ``n_in + k`` is ``nodes[k]``).
        outputs: per column of ``W``: the term that equals it, or None for a zero column.
        weights: the matrix, for reference (int, ``n_in x n_out``).
    """

    n_in: int
    in_lo: tuple[int, ...]
    in_hi: tuple[int, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[Term | None, ...]
    weights: tuple[tuple[int, ...], ...]

    @property
    def n_out(self) -> int:
        return len(self.outputs)

    def width(self, var: int) -> int:
        """Bits of value ``var`` (an input's from its range)."""
        if var < self.n_in:
            return bits_for(self.in_lo[var], self.in_hi[var])
        return self.nodes[var - self.n_in].width

    def depth(self, var: int) -> int:
        return 0 if var < self.n_in else self.nodes[var - self.n_in].depth

    def output_range(self, j: int) -> tuple[int, int]:
        """Exact range of column ``j``'s result."""
        t = self.outputs[j]
        if t is None:
            return 0, 0
        lo, hi = (
            (self.in_lo[t.var], self.in_hi[t.var])
            if t.var < self.n_in
            else (self.nodes[t.var - self.n_in].lo, self.nodes[t.var - self.n_in].hi)
        )
        lo, hi = lo << t.shift, hi << t.shift
        return (lo, hi) if t.sign > 0 else (-hi, -lo)

    @property
    def cost(self) -> CmmCost:
        w = np.asarray(self.weights, dtype=object).reshape(self.n_in, self.n_out)
        terms = sum(len(csd(int(v))) for v in w.flat)
        nz_cols = sum(t is not None for t in self.outputs)
        return CmmCost(
            adders=len(self.nodes),
            lut=sum(n.lut for n in self.nodes),
            depth=max((self.depth(t.var) for t in self.outputs if t is not None), default=0),
            terms=terms,
            nonzero_weights=int(sum(int(v) != 0 for v in w.flat)),
            nonzero_columns=nz_cols,
        )

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """``x @ W`` through the adders, exactly: ``x`` raw integers ``(..., n_in)``; int64 where every
        node fits in 62 bits, Python ints (object) otherwise."""
        x = np.asarray(x)
        if x.shape[-1] != self.n_in:
            raise ValueError(f"AdderGraph.evaluate: x has {x.shape[-1]} features, the graph {self.n_in}")
        wide = max((n.width for n in self.nodes), default=0) > 62 or any(
            bits_for(lo, hi) > 62 for lo, hi in zip(self.in_lo, self.in_hi, strict=True)
        )
        dt = object if wide or x.dtype == object else np.int64
        vals: list[np.ndarray] = [x[..., i].astype(dt) for i in range(self.n_in)]
        for n in self.nodes:
            a = vals[n.a] * (1 << n.sha) if n.sha else vals[n.a]
            b = vals[n.b] * (1 << n.shb) if n.shb else vals[n.b]
            vals.append(a - b if n.sub else a + b)
        out = np.zeros((*x.shape[:-1], self.n_out), dtype=dt)
        for j, t in enumerate(self.outputs):
            if t is not None:
                out[..., j] = t.sign * (vals[t.var] * (1 << t.shift))
        return out


class _Builder:
    """Nodes with their linear forms over the inputs (for exact ranges)."""

    def __init__(self, lo: list[int], hi: list[int], share: bool = True) -> None:
        self.share = share  # identical adders built once
        self.n_in = len(lo)
        self.lo, self.hi = lo, hi
        self.coef: list[dict[int, int]] = [{i: 1} for i in range(self.n_in)]
        self.rng: list[tuple[int, int]] = list(zip(lo, hi, strict=True))
        self.dep: list[int] = [0] * self.n_in
        self.nodes: list[Node] = []
        self.memo: dict[tuple[int, int, int, int, bool], int] = {}

    def add(self, a: int, sha: int, b: int, shb: int, sub: bool) -> int:
        key = (a, sha, b, shb, sub)
        if self.share and key in self.memo:
            return self.memo[key]
        c: dict[int, int] = defaultdict(int)
        for i, v in self.coef[a].items():
            c[i] += v << sha
        for i, v in self.coef[b].items():
            c[i] += -(v << shb) if sub else v << shb
        c = {i: v for i, v in c.items() if v}
        lo = sum(min(v * self.lo[i], v * self.hi[i]) for i, v in c.items())
        hi = sum(max(v * self.lo[i], v * self.hi[i]) for i, v in c.items())
        d = max(self.dep[a], self.dep[b]) + 1
        self.nodes.append(Node(a, sha, b, shb, sub, lo, hi, bits_for(lo, hi), d))
        self.coef.append(c)
        self.rng.append((lo, hi))
        self.dep.append(d)
        vid = self.n_in + len(self.nodes) - 1
        self.memo[key] = vid
        return vid

    def combine(self, t1: Term, t2: Term) -> Term:
        """One adder for ``t1 + t2``; the result as a term (common shift and sign factored out)."""
        if t1.sign < 0 < t2.sign:
            t1, t2 = t2, t1  # an added operand first
        m = min(t1.shift, t2.shift)
        v = self.add(t1.var, t1.shift - m, t2.var, t2.shift - m, t1.sign != t2.sign)
        return Term(v, m, t1.sign)


def _pair_key(t1: tuple[int, int, int], t2: tuple[int, int, int]) -> tuple[int, int, int, int, int]:
    """Canonical pattern of two terms (var, shift, sign): (va, da, vb, db, same sign), with the terms
    ordered by (var, shift) and the common shift removed."""
    if (t1[0], t1[1]) > (t2[0], t2[1]):
        t1, t2 = t2, t1
    m = min(t1[1], t2[1])
    return (t1[0], t1[1] - m, t2[0], t2[1] - m, int(t1[2] == t2[2]))


#: LUTs one DSP48E2 is worth when a layer's ``multiplier: auto`` chooses (UltraScale+ parts hold ~100-150
#: LUTs per DSP: a VU13P has 1728k LUTs and 12288 DSPs; we take 100, so LUTs win unless they cost much more)
LUT_PER_DSP = 100


def dsp_products(weights: np.ndarray) -> int:
    """Products of a constant matrix that take a DSP when not built as shifts and adds: the non-zero
    weights that are not a power of two (a zero costs nothing, a power of two is a shift)."""
    return int(sum(1 for v in np.asarray(weights).flat if int(v) != 0 and abs(int(v)) & (abs(int(v)) - 1)))


def luts_win(luts: int, dsps: int = 1) -> bool:
    """The one ``multiplier: auto`` rule, for constant and data-dependent products and for every backend:
    LUTs when their estimate is at most :data:`LUT_PER_DSP` per DSP they save."""
    return luts <= LUT_PER_DSP * max(dsps, 1)


def prefers_luts(graph: AdderGraph) -> bool:
    """The ``auto`` choice of constant products: shifts and adds when :func:`luts_win` over the DSPs they
    save."""
    return luts_win(graph.cost.lut, dsp_products(np.asarray(graph.weights, dtype=object)))


def operand_bits(lo: int, hi: int) -> int:
    """Bits a partial-product operand in ``[lo, hi]`` needs: its magnitude bits if never negative, else
    its signed width."""
    return max(hi.bit_length(), 1) if lo >= 0 else bits_for(lo, hi)


def product_dsps(a_bits: int, b_bits: int) -> int:
    """DSP48E2 (27 x 18 signed) multipliers of an ``a_bits`` x ``b_bits`` product."""
    lo, hi = sorted((a_bits, b_bits))
    return -(-lo // 17) * -(-hi // 26) if hi > 27 or lo > 18 else 1


def gated_product_luts(a_bits: int, b_bits: int) -> int:
    """LUTs of a data-dependent product on LUTs as gated partial products (``b`` gated by each bit of the
    narrower ``a``, summed by a tree of ripple adders, a LUT6 an adder bit): ``(a_bits - 1) * (b_bits +
    1)`` (the layer norm's and a Binary's products; :func:`hlsgen.backends.rtl.logic_depth.lut_product`)."""
    return max(a_bits - 1, 1) * (b_bits + 1)


def digit_product_luts(alo: int, ahi: int, blo: int, bhi: int) -> int:
    """LUTs of a data-dependent product ``a * b`` on LUTs as rows of 2-bit digits of ``b`` (attention's
    scores and context): a LUT per bit of each row (``a``'s width plus the digit's bits), a LUT per bit of
    each adder that sums the rows (the product's width)."""
    nb = max(bhi, 0).bit_length() if blo >= 0 else bits_for(blo, bhi)
    rows = -(-nb // 2)
    corners = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
    return rows * bits_for(alo, ahi) + nb + max(rows - 1, 0) * bits_for(min(corners), max(corners))


def gated_product_wins(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """``auto`` for a gated LUT product of operands in the ranges ``a`` and ``b`` (:func:`luts_win`)."""
    na, nb = sorted((operand_bits(*a), operand_bits(*b)))
    return luts_win(gated_product_luts(na, nb), product_dsps(na, nb))


def digit_product_wins(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """``auto`` for a digit-row LUT product of operands in the ranges ``a`` and ``b`` (:func:`luts_win`
    against one DSP)."""
    return luts_win(digit_product_luts(a[0], a[1], b[0], b[1]))


def optimise(
    weights: np.ndarray,
    in_lo: list[int] | tuple[int, ...],
    in_hi: list[int] | tuple[int, ...],
    cse: bool = True,
    max_cse_depth: int = 3,
) -> AdderGraph:
    """The adder graph of ``x @ weights`` for integer ``weights`` (``n_in x n_out``) and inputs in
    ``[in_lo[i], in_hi[i]]`` (raw integers). ``cse=False`` gives the plain CSD adder trees (nothing shared, not even
    identical adders);
    ``max_cse_depth`` bounds the adder depth of a shared subexpression."""
    w = np.asarray(weights)
    if w.ndim != 2:
        raise ValueError(f"cmm.optimise: weights must be a matrix (n_in x n_out), got shape {w.shape}")
    n_in, n_out = w.shape
    lo, hi = [int(v) for v in in_lo], [int(v) for v in in_hi]
    if len(lo) != n_in or len(hi) != n_in:
        raise ValueError(f"cmm.optimise: {n_in} inputs but {len(lo)} / {len(hi)} input bounds")
    if any(a > b for a, b in zip(lo, hi, strict=True)):
        raise ValueError("cmm.optimise: an input's lower bound exceeds its upper bound")
    bld = _Builder(lo, hi, share=cse)
    # column -> {(var, shift): sign}
    cols: list[dict[tuple[int, int], int]] = []
    for j in range(n_out):
        c: dict[tuple[int, int], int] = {}
        for i in range(n_in):
            for s, g in csd(int(w[i, j])):
                c[(i, s)] = g
        cols.append(c)
    if cse:
        _eliminate(cols, bld, max_cse_depth)
    outputs: list[Term | None] = []
    for c in cols:
        terms = [Term(v, s, g) for (v, s), g in c.items()]
        outputs.append(_tree(terms, bld))
    return AdderGraph(
        n_in=n_in,
        in_lo=tuple(lo),
        in_hi=tuple(hi),
        nodes=tuple(bld.nodes),
        outputs=tuple(outputs),
        weights=tuple(tuple(int(v) for v in row) for row in w),
    )


def _tree(terms: list[Term], bld: _Builder) -> Term | None:
    """Sum of ``terms`` by adders, the two shallowest first (ties: the narrower first)."""
    if not terms:
        return None
    pool = sorted(terms, key=lambda t: (bld.dep[t.var], t.var, t.shift))
    while len(pool) > 1:
        t1, t2 = pool.pop(0), pool.pop(0)
        t = bld.combine(t1, t2)
        d = bld.dep[t.var]
        k = 0
        while k < len(pool) and bld.dep[pool[k].var] <= d:
            k += 1
        pool.insert(k, t)
    return pool[0]


def _eliminate(cols: list[dict[tuple[int, int], int]], bld: _Builder, max_depth: int) -> None:
    """Greedy two-term common subexpression elimination over the columns (in place)."""
    count: dict[tuple[int, int, int, int, int], int] = defaultdict(int)
    buckets: dict[int, set[tuple[int, int, int, int, int]]] = defaultdict(set)
    blocked: set[tuple[int, int, int, int, int]] = set()
    where: dict[int, set[int]] = defaultdict(set)  # var -> columns holding it

    def bump(key: tuple[int, int, int, int, int], d: int) -> None:
        if key in blocked:
            return
        n = count[key]
        if n:
            buckets[n].discard(key)
        n += d
        if n > 0:
            count[key] = n
            buckets[n].add(key)
        else:
            del count[key]

    for j, c in enumerate(cols):
        items = [(v, s, g) for (v, s), g in c.items()]
        for v, _, _ in items:
            where[v].add(j)
        for p in range(len(items)):
            for q in range(p + 1, len(items)):
                bump(_pair_key(items[p], items[q]), 1)
    top = max(buckets, default=0)
    while True:
        while top >= 2 and not buckets.get(top):
            top -= 1
        if top < 2:
            return
        key = None
        for k in buckets[top]:
            if max(bld.dep[k[0]], bld.dep[k[2]]) + 1 <= max_depth:
                key = k
                break
        if key is None:  # everything this frequent is too deep: leave it to the trees
            for k in list(buckets[top]):
                buckets[top].discard(k)
                del count[k]
                blocked.add(k)
            continue
        va, da, vb, db, same = key
        new = bld.add(va, da, vb, db, not same)
        done = 0
        for j in sorted(where[va] & where[vb]):
            c = cols[j]
            for (v, s), g in sorted(c.items()):
                if v != va or (v, s) not in c:
                    continue
                base = s - da
                other = (vb, base + db)
                if base < 0 or other not in c or other == (v, s):
                    continue
                g2 = c[other]
                if (g2 == g) != bool(same):
                    continue
                removed = [(va, s, g), (vb, base + db, g2)]
                for t in removed:
                    del c[(t[0], t[1])]
                rest = [(u, su, gu) for (u, su), gu in c.items()]
                for t in removed:
                    for r in rest:
                        bump(_pair_key(t, r), -1)
                bump(_pair_key(removed[0], removed[1]), -1)
                nt = (new, base, g)
                for r in rest:
                    bump(_pair_key(nt, r), 1)
                c[(new, base)] = g
                where[new].add(j)
                done += 1
            if not any(v == va for v, _ in c):
                where[va].discard(j)
            if not any(v == vb for v, _ in c):
                where[vb].discard(j)
        if done == 0:  # counted pairs that never form a clean occurrence (overlaps): drop the pattern
            if key in count:
                buckets[count[key]].discard(key)
                del count[key]
            blocked.add(key)
        top = max((n for n, keys in buckets.items() if keys), default=0)


__all__ = [
    "LUT_PER_DSP",
    "AdderGraph",
    "CmmCost",
    "Node",
    "Term",
    "bits_for",
    "csd",
    "digit_product_luts",
    "digit_product_wins",
    "dsp_products",
    "gated_product_luts",
    "gated_product_wins",
    "luts_win",
    "operand_bits",
    "optimise",
    "prefers_luts",
    "product_dsps",
]
