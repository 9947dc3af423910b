"""Attention in the ``latency`` strategy: the IR's attention primitives at II = 1, one net of values.

Each renderer of :data:`ATTENTION_RENDERERS` (merged into
:data:`hlsgen.backends.rtl.latency.LATENCY_RENDERERS`) builds the values of one op, bit-exact with its
``execute``, scheduled by the same delay model as the rest of the net:

- ``scores``: every ``Q_h K_g^T`` entry of every head as its own dot product: ``key_dim`` data-dependent
  products (:func:`product_terms`) summed exactly by one balanced adder tree, then the scale as the
  reference applies it (a power of two read as more fractional bits; any other scale one exact product
  by the constant of :func:`~hlsgen.ir.ops.attention.attention_scale`, as shifts and adds) and the cast;
- ``mask``: a static (causal) mask is constants, and the softmax drops masked keys at build time (their
  probability is the constant 0 the reference gives); an explicit mask input (a second model input, its
  beat joined with the features') is a 0 / 1 value per entry that gates the key's maximum input and its
  exponential at run time;
- ``softmax``: the reference's algorithm unrolled over the keys, one copy a row (query and head): the
  row maximum (a tree of 4-way selects, :func:`max_tree`, stable variant), each difference ``max - x``
  addressing one LUT ROM of the exponential (the reference's own table, rounding and range included;
  latency variant: the input's top bits), the exact sum, its cast to ``sum_type``, the leading one and the
  mantissa bits after it (a priority mux) addressing the reciprocal ROM; with LUT products the reciprocal
  and its multiple 3 (a second ROM) are shifted by the reciprocal's exponent once a row (a barrel shifter,
  0 where the sum is 0) and each exponential's 2-bit digits select their rows, so the product sums to
  ``types['wide']`` with no shifter after it; with DSP products each exponential times the reciprocal is
  shifted after the product; then the cast;
- ``context``: every ``P_h V_g`` entry as a dot product over the keys (constant-zero probabilities of
  masked keys cost nothing), then the cast.

Where it can be folded, an AP_RND cast of a sum (scores, context) truncates: the half is OR-ed into the
zero LSBs of a shifted adder operand of the sum's tree (:func:`rounded_sum`: where an adder of the tree has
such a free slot) or, for the context with LUT products, rides as a constant in every option of one row of
each sum's first product (the value's multiples plus the half, built once and shared by every query row:
``plus`` of :func:`product_terms`), so the cast has no increment and no round-up overflow (two LUT levels
instead of five). Elsewhere (no free slot; DSP products of the context) the cast rounds.

Data-dependent products. ``multiplier: lut`` builds ``a * b`` as partial products of ``a`` (the operand
that arrives first) by 2-bit digits of ``b`` (the sign bit of a signed ``b`` weighs ``-2^(w-1)``): each
row a 4:1 mux among ``0, a, 2a, 3a`` (``0, a, -2a, -a`` for the signed top digit), the multiples ``3a``
and ``-a`` built once per operand and shared by all its products (:data:`MUX_ROWS`), the rows summed by
the same adder tree as the dot product they belong to, so the scheduler pipelines inside the multipliers; ``dsp`` builds one ``*`` (a DSP48E2 where synthesis maps it, delay
:func:`~hlsgen.backends.rtl.unrolled.multiplier_delay`). The op's ``binding`` says which (``auto`` resolved
when the graph was typed, by :func:`hlsgen.fixed.cmm.digit_product_wins`: LUTs when a product's LUT estimate,
:func:`~hlsgen.fixed.cmm.digit_product_luts`, is at most :data:`~hlsgen.fixed.cmm.LUT_PER_DSP`, else a DSP).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...config import Multiplier, SoftmaxVariant
from ...fixed import FixedType, Overflow, Rounding, convert
from ...fixed.cmm import bits_for, optimise
from ...ir.graph import c_identifier
from .casts import rounding
from .logic_depth import DELAYS, NET, rom_delay
from .unrolled import Net, adder_delay, multiplier_delay

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op
    from .latency import _Builder

#: LUT products as 4:1 muxes of precomputed multiples (else LUT rows into carry chains)
MUX_ROWS = True

#: widest address of a LUT ROM the latency strategy builds (4096 entries an element)
ROM_BITS_MAX = 12


@dataclass(frozen=True)
class _Term:
    """``value * 2**shift``, the value within ``[lo, hi]``."""

    value: int
    shift: int
    lo: int
    hi: int


def _prefix(op: Op) -> str:
    return f"{c_identifier(op.name)}_"


def constant_of(net: Net, v: int) -> int | None:
    """The value of a constant of the net (an ``acc`` with no operand), else None."""
    val = net.values[v]
    return int(val.attr("bias")) if val.kind == "acc" and not val.args else None  # type: ignore[arg-type]


def _constant(net: Net, name: str, c: int) -> int:
    return net.place(name, "acc", bits_for(c, c), (), 0.0, sh=0, neg=0, bias=int(c))


def _mux_levels(inputs: int) -> int:
    """LUT levels of an ``inputs``-way mux (a LUT6 is a 4:1 mux)."""
    return max(1, math.ceil(math.log(max(inputs, 2), 4)))


def tree(net: Net, terms: list[_Term], name: str, inject: int | None = None) -> _Term:
    """The exact sum of ``terms`` by a balanced adder tree, the earliest operands first.

    ``inject``: a bit position (in the terms' units, shift 0) whose power of two joins the sum for free:
    it is OR-ed into the zero LSBs of the first adder operand shifted past it (:func:`can_inject` says
    whether the tree has one)."""
    terms = list(terms)
    if not terms:
        return _Term(_constant(net, f"{name}z", 0), 0, 0, 0)
    k = 0
    while len(terms) > 1:
        terms.sort(key=lambda t: (net.values[t.value].stage, net.arrival[t.value]))
        a, b = terms.pop(0), terms.pop(0)
        m = min(a.shift, b.shift)
        sa, sb = a.shift - m, b.shift - m
        lo, hi = (a.lo << sa) + (b.lo << sb), (a.hi << sa) + (b.hi << sb)
        orc = {}
        if inject is not None and m <= inject < m + max(sa, sb):
            bit = 1 << (inject - m)
            orc = {"ora": bit} if sa > sb else {"orb": bit}
            lo, hi, inject = lo + bit, hi + bit, None
        w = bits_for(lo, hi)
        s = net.place(
            f"{name}a{k}", "add", w, (a.value, b.value), adder_delay(w), sha=sa, shb=sb, sub=0, **orc
        )
        k += 1
        net.adders += 1
        net.lut += w
        terms.append(_Term(s, m, lo, hi))
    if inject is not None:
        raise ValueError(f"{name}: no adder operand of the tree is shifted past bit {inject}")
    return terms[0]


def can_inject(terms: list[_Term], bit: int) -> bool:
    """Whether :func:`tree` can add ``2**bit`` for free: some term lies above the bit and some not, so
    the adder that first joins the two has an operand whose zero LSBs hold it."""
    return any(t.shift > bit for t in terms) and any(t.shift <= bit for t in terms)


def rounded_sum(net: Net, terms: list[_Term], name: str, frac: int, dst: FixedType, where: str) -> int:
    """The exact sum of ``terms`` (``frac`` fractional bits) cast to ``dst``, named ``name`` + ``y``.

    AP_RND is round half up, ``floor(x + half)``: the half joins the sum and the cast truncates, so it has
    no increment and no round-up overflow to detect (about two LUT levels instead of five). The half is
    OR-ed into the zero LSBs of a shifted adder operand where the terms' shifts allow it
    (:func:`can_inject`), else it is a constant term where that does not deepen the adder tree (a count
    that is not a power of two); otherwise the cast rounds."""
    rs = frac - dst.frac
    n = len(terms)
    inject = None
    if rs > 0 and rounding(dst) is Rounding.RND and n > 1:
        half = 1 << (rs - 1)
        if can_inject(terms, rs - 1):
            inject = rs - 1
            dst = dataclasses.replace(dst, rounding=Rounding.TRN)
        elif n & (n - 1):
            terms = [*terms, _Term(_constant(net, f"{name}h", half), 0, half, half)]
            dst = dataclasses.replace(dst, rounding=Rounding.TRN)
    v, lo, hi = unshifted(net, tree(net, terms, name, inject), f"{name}u")
    return net.cast(f"{name}y", v, frac, dst, where, lo, hi)


def unshifted(net: Net, t: _Term, name: str) -> tuple[int, int, int]:
    """``t`` as one value at shift 0: (value, lo, hi)."""
    if t.shift == 0:
        return t.value, t.lo, t.hi
    lo, hi = t.lo << t.shift, t.hi << t.shift
    return net.place(name, "add0", bits_for(lo, hi), (t.value,), 0.0, sh=t.shift), lo, hi


def _digits(lo: int, hi: int) -> list[list[tuple[int, int]]]:
    """The 2-bit digits of a two's complement operand in ``[lo, hi]``: per digit, its (bit, sign) pairs
    (the sign bit of a signed operand weighs ``-2^(w-1)``)."""
    if lo >= 0:
        bits = [(i, 1) for i in range(max(hi, 0).bit_length())]
    else:
        w = bits_for(lo, hi)
        bits = [(i, 1) for i in range(w - 1)] + [(w - 1, -1)]
    return [bits[k : k + 2] for k in range(0, len(bits), 2)]


def _range(alo: int, ahi: int, blo: int, bhi: int) -> tuple[int, int]:
    c = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
    return min(c), max(c)


def _multiple(net: Net, a: tuple[int, int, int], m: int, cache: dict, name: str) -> int:
    """``m * a`` for m = 3 or -1 (an adder each), built once per operand (``cache``)."""
    key = (a[0], m)
    if key not in cache:
        lo, hi = sorted((m * a[1], m * a[2]))
        w = bits_for(lo, hi)
        if m == 3:
            v = net.place(f"{name}x3", "add", w, (a[0], a[0]), adder_delay(w), sha=0, shb=1, sub=0)
        else:
            v = net.place(f"{name}neg", "acc", w, (a[0],), adder_delay(w), sh=0, neg=1, bias=0)
        net.adders += 1
        net.lut += w
        cache[key] = v
    return cache[key]


def _multiple_plus(
    net: Net, a: tuple[int, int, int], m: int, c: int, cache: dict, name: str
) -> tuple[int, int, int]:
    """``m * a + c`` (m in 1, 2, 3, -1, -2; c > 0 a constant) as (value, lo, hi), built once per operand
    (``cache``): one adder (3a + c: the shared 3a, then one)."""
    key = (a[0], m, c)
    lo, hi = sorted((m * a[1], m * a[2]))
    lo, hi = lo + c, hi + c
    if key not in cache:
        w = bits_for(lo, hi)
        src, sh, neg = a[0], 0, m < 0
        if m == 3:
            src = _multiple(net, a, 3, cache, name)
        elif abs(m) == 2:
            sh = 1
        v = net.place(
            f"{name}p{m}_{c}".replace("-", "n"), "acc", w, (src,), adder_delay(w), sh=sh, neg=int(neg), bias=c
        )
        net.adders += 1
        net.lut += w
        cache[key] = v
    return cache[key], lo, hi


def _plus_row(
    net: Net, a: tuple[int, int, int], bv: int, digit: list[tuple[int, int]], c: int, cache: dict, name: str
) -> tuple[int, int, int]:
    """The partial product row of ``digit`` (its (bit, sign) pairs, of the operand ``bv``) times ``a``, plus
    the constant ``c`` in every option: a 4:1 (or 2:1) mux among ``c`` and the multiples ``m * a + c``
    (:func:`_multiple_plus`). Returns (value, lo, hi)."""
    base = digit[0][0]
    options = []
    for combo in range(1 << len(digit)):
        m = sum(sg << (bit - base) for i, (bit, sg) in enumerate(digit) if combo >> i & 1)
        options.append(None if m == 0 else _multiple_plus(net, a, m, c, cache, name))
    lo = min([c] + [o[1] for o in options if o is not None])
    hi = max([c] + [o[2] for o in options if o is not None])
    w = bits_for(lo, hi)
    args = [bv] + [o[0] for o in options if o is not None]
    refs, k = [], 1
    for o in options:
        refs.append(f"{w}'({c})" if o is None else f"{w}'(@{k})")
        k += o is not None
    bits = [bit for bit, _ in digit]
    if len(digit) == 1:
        text = f"@0[{bits[0]}] ? {refs[1]} : {refs[0]}"
    else:
        text = f"@0[{bits[1]}] ? (@0[{bits[0]}] ? {refs[3]} : {refs[2]}) : (@0[{bits[0]}] ? {refs[1]} : {refs[0]})"
    v = net.place(f"{name}r", "expr", w, tuple(args), NET + DELAYS["lut"], expr=text)
    net.lut += w
    return v, lo, hi


def product_terms(
    net: Net,
    a: tuple[int, int, int],
    b: tuple[int, int, int],
    mult: Multiplier,
    name: str,
    cache: dict | None = None,
    keep: bool = False,
    plus: int | None = None,
) -> list[_Term]:
    """The data-dependent product of ``a`` and ``b`` (each (value, lo, hi), signed values) as terms whose
    sum is the exact product: one DSP product, or the partial products of a LUT multiplier, left for the
    caller's adder tree. A constant-zero operand gives nothing.

    LUT rows: without ``cache``, each 2-bit digit of the narrower operand times the other is a LUT row into
    a carry chain (``a*b0 + 2a*b1``); with ``cache``, the operand that arrives first is the multiplicand, its
    multiples ``3a`` and ``-a`` are built once (an adder each, shared by every product of that operand
    through ``cache``) and each digit of the later operand selects its row among ``0, a, 2a, 3a`` (the
    signed top digit among ``0, a, -2a, -a``): a 4:1 mux, one LUT level and no carry chain. ``keep``: ``a``
    is the multiplicand whichever arrives first (its multiples given in ``cache``).

    ``plus`` (a bit position; LUT rows with ``cache`` only): ``2**plus`` joins the product for free on the
    products' path, as a constant in every option of the row of the highest digit at or below the bit (its
    multiples ``m * a + c`` are built once per multiplicand, beside ``3a``)."""
    if constant_of(net, a[0]) == 0 or constant_of(net, b[0]) == 0:
        return []
    if plus is not None and (mult is Multiplier.DSP or cache is None):
        raise ValueError(f"{name}: a constant joins LUT rows with shared multiples only")
    plo, phi = _range(a[1], a[2], b[1], b[2])
    if mult is Multiplier.DSP:
        w = bits_for(plo, phi)
        v = net.place(name, "expr", w, (a[0], b[0]), multiplier_delay(), expr=f"{w}'(@0) * {w}'(@1)")
        net.multipliers += 1
        return [_Term(v, 0, plo, phi)]
    if cache is not None:
        later = (net.values[b[0]].stage, net.arrival[b[0]]) < (net.values[a[0]].stage, net.arrival[a[0]])
        if later and not keep:
            a, b = b, a
    elif bits_for(b[1], b[2]) > bits_for(a[1], a[2]):
        a, b = b, a
    out = []
    digits = _digits(b[1], b[2])
    row_plus = None if plus is None else max(k for k, d in enumerate(digits) if d[0][0] <= plus)
    for k, digit in enumerate(digits):
        base = digit[0][0]
        if k == row_plus:
            assert plus is not None and cache is not None
            v, lo, hi = _plus_row(net, a, b[0], digit, 1 << (plus - base), cache, f"{name}d{k}")
            out.append(_Term(v, base, lo, hi))
            continue
        lo = hi = 0
        for bit, sign in digit:
            c = sign << (bit - base)
            tlo, thi = sorted((c * a[1], c * a[2]))
            lo, hi = lo + min(tlo, 0), hi + max(thi, 0)
        w = bits_for(lo, hi)
        plain = len(digit) == 1 and digit[0][1] > 0  # one AND a bit: no carry chain
        if cache is not None and not plain:
            (j, _), signs = digit[0], [sg for _, sg in digit]
            if signs == [1, 1]:  # 0, a, 2a, 3a
                m = _multiple(net, a, 3, cache, f"{name}m")
                text = (
                    f"@2[{j + 1}] ? (@2[{j}] ? {w}'(@1) : ({w}'(@0) <<< 1)) : (@2[{j}] ? {w}'(@0) : {w}'(0))"
                )
            elif signs == [1, -1]:  # the signed top digit: 0, a, -2a, -a
                m = _multiple(net, a, -1, cache, f"{name}m")
                text = (
                    f"@2[{j + 1}] ? (@2[{j}] ? {w}'(@1) : ({w}'(@1) <<< 1)) : (@2[{j}] ? {w}'(@0) : {w}'(0))"
                )
            else:  # the sign bit alone: 0, -a
                m = _multiple(net, a, -1, cache, f"{name}m")
                text = f"@2[{j}] ? {w}'(@1) : {w}'(0)"
            v = net.place(f"{name}d{k}", "expr", w, (a[0], m, b[0]), NET + DELAYS["lut"], expr=text)
        else:
            text = ""
            for bit, sign in digit:
                sel = f"(@1[{bit}] ? ({w}'(@0) <<< {bit - base}) : {w}'(0))"
                text += (" - " if sign < 0 else (" + " if text else "")) + sel
            if text.startswith(" - "):
                text = "-" + text[3:]
            v = net.place(
                f"{name}d{k}",
                "expr",
                w,
                (a[0], b[0]),
                NET + DELAYS["lut"] if plain else adder_delay(w),
                expr=text,
            )
        net.lut += w
        out.append(_Term(v, base, lo, hi))
    return out


def resolve_multiplier(b: _Builder, op: Op, mult: Multiplier | None) -> Multiplier:
    """The op's data-dependent product choice (its ``binding``, lut or dsp, resolved at typing), recorded."""
    assert mult is not None and mult is not Multiplier.AUTO, (
        f"{op.name}: the latency strategy needs a binding"
    )
    b.multipliers[op.name] = mult.value
    return mult


def const_product(net: Net, v: tuple[int, int, int], c: int, name: str) -> tuple[int, int, int]:
    """``v * c`` (c > 0 a constant) exactly: a shift when c is a power of two, else shifts and adds."""
    x, lo, hi = v
    plo, phi = sorted((lo * c, hi * c))
    pw = bits_for(plo, phi)
    if c & (c - 1) == 0:
        return net.place(name, "add0", pw, (x,), 0.0, sh=c.bit_length() - 1), plo, phi
    cg = optimise(np.array([[c]]), [lo], [hi])
    ids = net.adder_graph(cg, [x], f"{name}n")
    t = cg.outputs[0]
    neg = t.sign < 0
    p = net.place(
        name, "acc", pw, (ids[t.var],), adder_delay(pw) if neg else 0.0, sh=t.shift, neg=int(neg), bias=0
    )
    return p, plo, phi


# ---------------------------------------------------------------------------------------------------
def _scores(b: _Builder, op: Any) -> list[int]:
    tq_, tk_ = op.shapes(b.graph)
    tq, tk, ta, ty = (op.types[k] for k in ("q", "k", "accum", "y"))
    h_, hk, dk = op.num_heads, op.num_kv_heads, op.key_dim
    q = b.arith(op.inputs[0])
    k = b.arith(op.inputs[1])
    mult = resolve_multiplier(b, op, op.binding)
    cache: dict | None = {} if MUX_ROWS else None  # multiples shared by the products
    net, p = b.net, _prefix(op)
    fa = tq.frac + tk.frac
    assert ta.frac == fa
    where = f"scores '{op.name}'"
    out = []
    for h in range(h_):
        g = h // (h_ // hk)
        for i in range(tq_):
            for j in range(tk_):
                terms = []
                for d in range(dk):
                    qv = (q[i * h_ * dk + h * dk + d], tq.raw_min, tq.raw_max)
                    kv = (k[j * hk * dk + g * dk + d], tk.raw_min, tk.raw_max)
                    terms += product_terms(net, qv, kv, mult, f"{p}p{h}_{i}_{j}_{d}", cache)
                if op.scale_is_shift:
                    out.append(rounded_sum(net, terms, f"{p}s{h}_{i}_{j}", fa + op.shift, ty, where))
                else:
                    s = unshifted(net, tree(net, terms, f"{p}s{h}_{i}_{j}"), f"{p}u{h}_{i}_{j}")
                    m = const_product(net, s, int(op.scale_raw), f"{p}m{h}_{i}_{j}")
                    out.append(net.cast(f"{p}y{h}_{i}_{j}", m[0], fa + op.scale_frac, ty, where, m[1], m[2]))
    return out


def _mask(b: _Builder, op: Any) -> list[int]:
    """The mask as values of 0 / 1: constants where the causal mask clears an entry (or with no explicit
    input), else the explicit mask's entry (its bit, or ``!= 0`` of a wider value)."""
    tq, tk = op.shapes(b.graph)
    p = _prefix(op)
    causal = op.causal_mask(tq, tk) if op.causal else np.ones((tq, tk), dtype=bool)
    if not op.inputs:
        return [_constant(b.net, f"{p}c{i}_{j}", int(causal[i, j])) for i in range(tq) for j in range(tk)]
    src, tm = b.arith(op.inputs[0]), b.type_of(op.inputs[0])
    out = []
    for i in range(tq):
        for j in range(tk):
            if causal[i, j]:
                out.append(nonzero(b.net, src[i * tk + j], tm, f"{p}k{i}_{j}"))
            else:
                out.append(_constant(b.net, f"{p}c{i}_{j}", 0))
    return out


def nonzero(net: Net, v: int, t: FixedType, name: str) -> int:
    """``v != 0`` as a 0 / 1 value: ``v`` itself when it is one bit of an unsigned type or a constant."""
    c = constant_of(net, v)
    if c is not None:
        return v if c in (0, 1) else _constant(net, name, int(c != 0))
    if not t.signed and t.width == 1:
        return v
    w = net.values[v].width
    net.lut += math.ceil(w / 5)
    return net.place(name, "expr", 2, (v,), (NET + DELAYS["lut"]) * _reduce_levels(w), expr="{1'b0, |@0}")


def _reduce_levels(bits: int) -> int:
    """LUT levels of an OR (or AND) reduction of ``bits`` bits (a LUT6 takes 6)."""
    return max(1, math.ceil(math.log(max(bits, 2), 6)))


def _softmax_mask(b: _Builder, op: Any, n: int) -> list[list[bool | int]]:
    """Per mask row (``Tq`` of them, every head reads the same), per key: True (kept), False (masked, a
    constant: it drops out at build time) or the value of a 0 / 1 mask bit known only at run time."""
    if not op.has_mask:
        return [[True] * n]
    vals = b.arith(op.inputs[1])
    tm = op.types["mask"]
    net, p = b.net, _prefix(op)
    rows: list[list[bool | int]] = []
    for i in range(len(vals) // n):
        row: list[bool | int] = []
        for j in range(n):
            v = vals[i * n + j]
            c = constant_of(net, v)
            row.append(bool(c) if c is not None else nonzero(net, v, tm, f"{p}k{i}_{j}"))
        rows.append(row)
    return rows


def exp_rom(tx: FixedType, pl: Any, joint: np.ndarray) -> tuple[int, int, np.ndarray]:
    """The stable softmax's exponential ROM: ``(q, k, entries)``, the ROM addressed by
    ``a = min(d >> q, 2^k - 1)`` of the difference ``d = max - x`` (``0 <= d < 2^W``, ``W`` the input's
    width), ``entries[a]`` equal to the reference's exponential of every ``d`` that gives ``a``.

    The reference (:meth:`~hlsgen.ir.ops.softmax.Softmax.exponentials`) reads ``joint[min(d', 2^A)]`` with
    ``d' = (d + 2^(s-1)) >> s`` (``s = drop_bits``, round half up; ``d' = d`` for ``s = 0``), ``A =
    addr_bits`` and ``joint[2^A] = 0``. Since ``2^(s-1)`` is a whole number of units of ``2^q`` (``q =
    s - 1``), ``d' = ((d >> q) + 1) >> 1``: the ``q`` bits dropped never change the entry, and the
    rounding is folded into the entries. Every ``a >= a0`` (``a0 = 2^(A+1) - 1`` for ``s >= 1``, else
    ``2^A``) reads ``joint[2^A]``, so saturating ``d >> q`` at ``2^k - 1 >= a0`` (``k`` = bits of ``a0``)
    changes no entry: the ROM has ``min(W - q, k)`` address bits whatever the input's width."""
    q, k = exp_rom_geometry(tx, pl)
    a = np.arange(1 << k, dtype=np.int64)
    dd = (a + 1) >> 1 if pl.drop_bits else a
    return q, k, joint[np.minimum(dd, 1 << pl.addr_bits)]


def exp_rom_geometry(tx: FixedType, pl: Any) -> tuple[int, int]:
    """``(q, k)`` of :func:`exp_rom`: difference LSBs dropped and ROM address bits (``a0`` has ``A + 1``
    bits for either ``s``)."""
    q = max(pl.drop_bits - 1, 0)
    return q, min(tx.width - q, pl.addr_bits + 1)


def _exp_rom(b: _Builder, op: Any) -> tuple[str, int, np.ndarray, int]:
    """The exponential ROM of the softmax: (name, address bits, raw entries, difference LSBs dropped)."""
    pl = op.plan
    name = f"{_prefix(op)}exp"
    if pl.variant is SoftmaxVariant.LATENCY:
        return name, pl.exp_table_bits, np.asarray(pl.tables["exp"][1], dtype=np.int64), 0
    q, k, entries = exp_rom(op.types["x"], pl, op._joint_exp_table())
    return name, k, entries, q


def _exp_address(net: Net, name: str, d: int, w: int, q: int, k: int) -> tuple[int, int]:
    """The ROM address of the ``w``-bit difference ``d``: ``min(d >> q, 2^k - 1)`` as (value, its width
    as :func:`_rom_read` reads it). With nothing to saturate, ``d`` itself (the ROM reads its top bits)."""
    top = w - q - k  # bits above the address: any of them set saturates it
    if top <= 0:
        return d, w
    net.lut += k + math.ceil(top / 5)
    text = f"(|@0[{w - 1}:{q + k}]) ? {k}'h{(1 << k) - 1:x} : @0[{q + k - 1}:{q}]"
    v = net.place(name, "expr", k + 1, (d,), (NET + DELAYS["lut"]) * _reduce_levels(top + 1), expr=text)
    return v, k


def _masked_max_input(net: Net, x: int, keep: int, lo: int, name: str) -> int:
    """``keep ? x : lo`` (the input type's minimum, as the reference does for a masked key)."""
    w = net.values[x].width
    net.lut += w
    text = f"@1[0] ? @0 : {w}'h{lo & ((1 << w) - 1):x}"
    return net.place(name, "expr", w, (x, keep), NET + DELAYS["lut"], expr=text)


def _gated(net: Net, e: int, keep: int, name: str) -> int:
    """``keep ? e : 0`` (a masked key's exponential is 0)."""
    w = net.values[e].width
    net.lut += w
    return net.place(name, "expr", w, (e, keep), NET + DELAYS["lut"], expr="@1[0] ? @0 : '0")


def _rom(b: _Builder, table: str, bits: int, entries: np.ndarray) -> int:
    """Register the ROM function ``table``; returns the width of its (signed) entries."""
    width = bits_for(int(entries.min()), int(entries.max()))
    b.net.tables.append((table, bits, width, tuple(int(v) for v in entries)))
    return width


def _priority(n: int, pick: Callable[[int], str], last: str) -> str:
    """``@0[n-1] ? pick(n-1) : ... @0[1] ? pick(1) : last``: by the leading one of the n-bit ``@0``."""
    return "".join(f"@0[{p}] ? {pick(p)} : " for p in range(n - 1, 0, -1)) + last


def _softmax(b: _Builder, op: Any) -> list[int]:
    check_softmax(b.graph, op)
    net, p = b.net, _prefix(op)
    where = f"softmax '{op.name}'"
    shape = b.graph.tensors[op.inputs[0]].shape
    n = int(shape[-1])
    rows = b.graph.tensors[op.inputs[0]].size // n
    keep = _softmax_mask(b, op, n)
    dynamic = any(not isinstance(k, bool) for row in keep for k in row)
    tx, te, ti, ts, tw, ty = (op.types[k] for k in ("x", "exp", "inv", "sum", "wide", "y"))
    pl = op.plan
    stable = pl.variant is SoftmaxVariant.STABLE
    raw = b.env[op.inputs[0]]
    xs = b.arith(op.inputs[0])
    exp_name, exp_bits, exp_entries, exp_q = _exp_rom(b, op)
    exp_w = _rom(b, exp_name, exp_bits, exp_entries)
    emax = int(exp_entries.max())
    inv_entries = np.asarray(pl.tables["inv"][1], dtype=np.int64)
    inv_name, ib = f"{p}inv", pl.inv_bits
    inv3_name = f"{p}inv_x3"
    inv_w = _rom(b, inv_name, ib, inv_entries)
    rmax = int(inv_entries.max())
    mult = resolve_multiplier(b, op, op.binding)
    cache: dict | None = {} if MUX_ROWS else None  # multiples shared by the products
    t_min, t_max = op.t_range
    k0 = tw.frac - te.frac - ti.frac

    def shv(pos: int) -> int:
        return k0 - min(max(pos - ts.frac, t_min), t_max)

    sh_max = max(shv(q) for q in range(ts.width))
    sh_bits = max(sh_max.bit_length(), 1)
    # S == 0 gives outputs 0: gated unless a stable row's sum saturates at or above exp(0) > 0 (a row
    # whose keys a run-time mask may all drop has S == 0)
    one = int(convert(np.array([exp_entries[0]]), te, ts)[0]) if stable else 0
    gate = dynamic or not (stable and one > 0 and ts.overflow in (Overflow.SAT, Overflow.SAT_SYM))
    out = []
    for r in range(rows):
        krow = keep[r % len(keep)]
        kept = [j for j in range(n) if krow[j] is not False]
        if not kept:
            out += [_constant(net, f"{p}z{r}_{j}", 0) for j in range(n)]
            continue
        e: dict[int, int] = {}
        if stable:
            # a key masked at run time takes part in the maximum as the type's minimum (the reference's)
            xm = {
                j: xs[r * n + j]
                if krow[j] is True
                else _masked_max_input(net, xs[r * n + j], int(krow[j]), tx.raw_min, f"{p}xm{r}_{j}")
                for j in kept
            }
            mx, group, sel = max_tree(net, [xm[j] for j in kept], f"{p}max{r}_")
            dw = bits_for(0, tx.raw_max - tx.raw_min)
            for j in kept:
                # max - x overlapped with the last select: the difference to each of its candidates, in
                # parallel with its comparators, then the one its index picks
                cands = []
                for i, c in enumerate(group if sel is not None else [mx]):
                    d = net.place(
                        f"{p}d{r}_{j}_{i}",
                        "add",
                        dw,
                        (c, xm[j]),
                        adder_delay(dw),
                        sha=0,
                        shb=0,
                        sub=1,
                    )
                    net.lut += dw
                    cands.append(d)
                d = cands[0] if sel is None else _select(net, f"{p}d{r}_{j}", dw, cands, sel)
                a, aw = _exp_address(net, f"{p}a{r}_{j}", d, tx.width, exp_q, exp_bits)
                e[j] = _rom_read(net, f"{p}e{r}_{j}", a, exp_name, exp_bits, exp_w, aw, False, exp_rom_delay)
        else:
            for j in kept:
                e[j] = _rom_read(
                    net, f"{p}e{r}_{j}", raw[r * n + j], exp_name, exp_bits, exp_w, tx.width, tx.signed
                )
        for j in kept:
            if krow[j] is not True:  # a masked key's exponential is 0
                e[j] = _gated(net, e[j], int(krow[j]), f"{p}eg{r}_{j}")
        ssum, _, shi = unshifted(
            net, tree(net, [_Term(e[j], 0, 0, emax) for j in kept], f"{p}t{r}"), f"{p}tu{r}"
        )
        up = ts.frac - te.frac
        if up >= 0 and shi << up <= ts.raw_max:  # sum_type holds every sum exactly: the cast is wires
            s = (
                ssum
                if up == 0
                else net.place(f"{p}sum{r}", "add0", bits_for(0, shi << up), (ssum,), 0.0, sh=up)
            )
            ws = (shi << up).bit_length()  # the bits of S that can be set
        else:
            s = net.cast(f"{p}sum{r}", ssum, te.frac, ts, where, 0, shi)
            ws = ts.width
        # the reciprocal: the mantissa bits after the sum's leading one address the table; its exponent
        # gives the shift into `wide` (one priority mux each, by the leading one)
        # a priority mux: a LUT level per halving of the candidates (Yosys maps the sum's carry chain,
        # this mux and the reciprocal ROM of the 4-particle bench in 7 LUT levels); the index's mux one
        # more (:data:`PRIORITY_EXTRA`)
        lv = (NET + DELAYS["lut"]) * max(1, math.ceil(math.log2(max(ws, 2))))

        def mant(pos: int) -> str:
            if pos >= ib:
                return f"@0[{pos - 1}:{pos - ib}]"
            return f"{{@0[{pos - 1}:0], {ib - pos}'d0}}"

        idx = net.place(
            f"{p}idx{r}", "expr", ib + 1, (s,), lv + PRIORITY_EXTRA, expr=_priority(ws, mant, f"{ib}'d0")
        )
        net.lut += ib * _mux_levels(ws)
        inv = _rom_read(net, f"{p}inv{r}", idx, inv_name, ib, inv_w, ib, False, inv_rom_delay)
        shw = sh_bits + int(gate)
        shtext = _priority(ws, lambda q: f"{sh_bits}'d{shv(q)}", f"{sh_bits}'d{shv(0)}")
        if gate:
            shtext = f"{{|@0, {sh_bits}'({shtext})}}"
        sh = net.place(f"{p}sh{r}", "expr", shw + 1, (s,), lv, expr=shtext)
        net.lut += shw * _mux_levels(ws)
        # a barrel shifter: a LUT level per bit of the amount (Yosys: 3 levels for the 3-bit shift of
        # the 4-particle bench), one more for the gate
        sh_levels = sh_bits + int(gate)
        sh_delay = (NET + DELAYS["lut"]) * sh_levels
        pre = None
        if mult is Multiplier.LUT and cache is not None:
            # LUT products: the reciprocal and its multiple 3 (a second ROM, no adder) shifted by the
            # exponent once a row, beside nothing on the products' path: the rows of e * (inv << sh) sum
            # to wide directly
            if inv3_name not in {t[0] for t in net.tables}:
                _rom(b, inv3_name, ib, 3 * inv_entries)
            inv3_w = bits_for(0, 3 * rmax)
            inv3 = _rom_read(net, f"{p}inv3_{r}", idx, inv3_name, ib, inv3_w, ib, False, inv_rom_delay)
            shifted = []
            for m, src in ((1, inv), (3, inv3)):
                ww = bits_for(0, m * rmax << sh_max)
                shift = f"({ww}'(@0) <<< @1[{sh_bits - 1}:0])"
                text = f"@1[{sh_bits}] ? {shift} : {ww}'(0)" if gate else shift
                shifted.append(net.place(f"{p}is{m}_{r}", "expr", ww, (src, sh), sh_delay, expr=text))
                net.lut += ww * sh_levels
            a_sh = (shifted[0], 0, rmax << sh_max)
            pre = (a_sh, {(shifted[0], 3): shifted[1]})
        for j in range(n):
            if j not in e:
                out.append(_constant(net, f"{p}z{r}_{j}", 0))
                continue
            if pre is not None:
                # the shifted reciprocal is the multiplicand, the exponential's 2-bit digits pick its rows
                terms = product_terms(net, pre[0], (e[j], 0, emax), mult, f"{p}p{r}_{j}", pre[1], keep=True)
                out.append(rounded_sum(net, terms, f"{p}q{r}_{j}", tw.frac, ty, where))
                continue
            terms = product_terms(net, (e[j], 0, emax), (inv, 0, rmax), mult, f"{p}p{r}_{j}", cache)
            prod, _, phi = unshifted(net, tree(net, terms, f"{p}q{r}_{j}"), f"{p}pu{r}_{j}")
            ww = bits_for(0, phi << sh_max)
            shift = f"({ww}'(@0) <<< @1[{sh_bits - 1}:0])"
            text = f"@1[{sh_bits}] ? {shift} : {ww}'(0)" if gate else shift
            wide = net.place(f"{p}w{r}_{j}", "expr", ww, (prod, sh), sh_delay, expr=text)
            net.lut += ww * sh_levels
            out.append(net.cast(f"{p}y{r}_{j}", wide, tw.frac, ty, where, 0, phi << sh_max))
    return out


def _select(net: Net, name: str, w: int, group: list[int], sel: int) -> int:
    """``group[sel]`` (at most 4 values, ``sel`` a 2-bit index): one LUT6 a bit where a register takes it
    (the differences ``max - x``: their ROM address is read in the next stage). Written as an AND-OR of
    the decoded index, not a mux, so that Yosys ``opt_share`` cannot turn a select of differences
    ``c_i - x`` back into one subtraction after the select (it did: a 3.5 ns path). Where logic reads
    the select in the same stage, Yosys maps this form in two LUT levels: :func:`_mux` is the select
    for that."""
    g = len(group)
    text = " | ".join(f"({{{w}{{@{g} == 2'd{i}}}}} & {w}'(@{i}))" for i in range(g))
    net.lut += w
    return net.place(name, "expr", w, (*group, sel), NET + DELAYS["lut"], expr=text)


def _mux(net: Net, name: str, w: int, group: list[int], sel: int) -> int:
    """``group[sel]`` (at most 4 values, ``sel`` a 2-bit index) as a mux on the index bits: one LUT6 a bit,
    also where a comparator's carry chain reads it in the same stage. The AND-OR form of :func:`_select`
    is mapped there as two LUT levels (Yosys decodes ``sel == i`` in a LUT shared by the bits, then ORs:
    the 16-particle tagger's row maximum, stages 8-10, 6 LUT levels and 3.42 ns, against 5 levels and
    3.00 ns with this mux; ``tests/test_latency_attention.py::test_row_maximum_selects_are_index_muxes``)."""
    refs = [f"{w}'(@{i})" for i in range(len(group))]
    g = len(group)
    s = f"@{g}"
    if g == 1:
        text = refs[0]
    elif g == 2:
        text = f"{s}[0] ? {refs[1]} : {refs[0]}"
    else:
        high = refs[2] if g == 3 else f"({s}[0] ? {refs[3]} : {refs[2]})"
        text = f"{s}[1] ? {high} : ({s}[0] ? {refs[1]} : {refs[0]})"
    net.lut += w
    return net.place(name, "expr", w, (*group, sel), NET + DELAYS["lut"], expr=text)


def max_tree(net: Net, xs: list[int], name: str) -> tuple[int, list[int], int | None]:
    """The maximum of the signed values ``xs`` by a tree of 4-way selects, the earliest operands first;
    returns it, the operands of the last select and its index value (None for one value).

    A select of k <= 4 operands compares every pair at once (k(k-1)/2 comparators: a carry chain each),
    encodes the winner's index (the first operand not below any later one wins, so ties pick one of the
    equal values; each comparison the sign of a difference one bit wider, so it is one carry chain; Yosys
    maps the encoder in two LUT levels after the comparators) and muxes the operands
    by it (a 4:1 mux: one LUT6 a bit): one carry chain and three LUT levels for two levels of a pairwise
    tree."""
    lv = NET + DELAYS["lut"]
    m = list(xs)
    k = 0
    group: list[int] = []
    sel: int | None = None
    while len(m) > 1:
        m.sort(key=lambda v: (net.values[v].stage, net.arrival[v]))
        group, m = m[:4], m[4:]
        g = len(group)
        w = max(net.values[v].width for v in group)
        text = ""
        for i in range(g - 1):
            # a >= b as the sign of the (w+1)-bit difference: one carry chain (Yosys maps a signed `>=`
            # to two chains with an inverter between them: 3.50 ns on the 4-particle netlist)
            wins = " && ".join(
                f"((({w + 1}'(@{i}) - {w + 1}'(@{j})) >> {w}) == {w + 1}'(0))" for j in range(i + 1, g)
            )
            text += f"({wins}) ? 2'd{i} : "
        sel = net.place(
            f"{name}s{k}", "expr", 2, tuple(group), adder_delay(w + 1) + 2 * lv, expr=text + f"2'd{g - 1}"
        )
        net.lut += g * (g - 1) // 2 * (w + 1) + 2
        m.append(_mux(net, f"{name}{k}", w, group, sel))
        k += 1
    return m[0], group, sel


def table_delay(bits: int) -> float:
    """Estimated ns through a ROM of ``2**bits`` entries as Yosys ``synth_xilinx`` maps this module's
    case-statement ROMs: about ``bits - 4`` LUT levels (the 256-entry exponential ROM of the 4-particle
    bench from a register: 4 levels, 1.88 ns; its 64-entry reciprocal ROM after the priority mux: 2),
    never less than :func:`~hlsgen.backends.rtl.logic_depth.rom_delay` (Vivado's
    LUT6 + MUXF mapping)."""
    return max(rom_delay(bits), (NET + DELAYS["lut"]) * max(1, bits - 4))


#: the exponential ROMs' extra charge, ns (one LUT level) when read whole and their sum's first adder
#: may follow in the same stage: Yosys ``synth_xilinx`` of the 16-particle narrow tagger (stages 9-14)
#: mapped the 256-entry ROM in 5 LUT levels, not the 4 of :func:`table_delay` (ABC's mapping of a ROM
#: depends on the logic around it; the 4-particle bench's took 4): LUT2 > LUT2 > LUT4 > LUT4 > LUT5, then
#: the adder's LUT5 > CARRY4 x 2, 3.37 ns where 2.95 were planned
EXP_ROM_EXTRA = NET + DELAYS["lut"]


#: the reciprocal's address (the mantissa bits after the sum's leading one, a priority mux) is charged one
#: LUT level above ``ceil(log2(sum bits))``: Yosys mapped it in 5 levels behind the sum's last adder in a
#: lone 16-key softmax (13-bit sum, 3.37 ns), in 4 in the 16-particle tagger; the planner takes the 5
PRIORITY_EXTRA = NET + DELAYS["lut"]


#: the reciprocal ROMs' extra charge, ns (one LUT level): Yosys merges the priority mux of their address
#: and the ROM into one cone, mapped in up to 8 LUT levels (the 16-particle narrow tagger, a 13-bit sum
#: and a 6-bit ROM: 3.56 ns where 7 levels, 3.14 ns, were planned), so the ROM starts the next stage
INV_ROM_EXTRA = NET + DELAYS["lut"]


def inv_rom_delay(bits: int) -> float:
    """Planned ns through the softmax's reciprocal ROM (and its multiple 3) of ``bits`` address bits:
    :func:`table_delay` and :data:`INV_ROM_EXTRA`."""
    return table_delay(bits) + INV_ROM_EXTRA


def exp_rom_delay(bits: int) -> float:
    """Planned ns through the softmax's exponential ROM of ``bits`` address bits read whole:
    :func:`table_delay` and :data:`EXP_ROM_EXTRA` from 8 address bits on (256 entries and more)."""
    return table_delay(bits) + (EXP_ROM_EXTRA if bits >= 8 else 0.0)


def _rom_read(
    net: Net,
    name: str,
    v: int,
    table: str,
    bits: int,
    width: int,
    xw: int,
    signed: bool,
    delay: Callable[[int], float] | None = None,
) -> int:
    """One read of ROM ``table`` addressed by the top ``bits`` of the ``xw``-bit ``v`` (offset binary
    when ``signed``); ``delay``: the ns charged for a whole read (default :func:`table_delay`; the
    sub-ROMs of a split read are charged :func:`table_delay`).

    A ROM too deep for one stage of the clock (:func:`table_delay` past the stage budget: a 12-bit
    exponential ROM at 3.333 ns) is read in two: ``2^h`` sub-ROMs of the ``bits - h`` low address bits
    (:func:`_rom_parts`, entries ``j * 2^(bits-h)`` on of the table: the same LUTs) in one stage, then the
    one the ``h`` high bits pick, so the scheduler can put a register between them."""
    fit = net.budget - DELAYS["ff_tco"]
    d = (delay or table_delay)(bits)
    if d <= fit or bits <= 1:
        net.lut += width * max(1, (1 << bits) // 64)
        return net.place(name, "rom", width, (v,), d, table=table, bits=bits, xw=xw, xs=int(signed))
    h = 1
    while h < bits - 1 and (table_delay(bits - h) > fit or _select_delay(h) > fit):
        h += 1
    m = bits - h
    parts = []
    for j, sub in enumerate(_rom_parts(net, table, m)):
        net.lut += width * max(1, (1 << m) // 64)
        parts.append(
            net.place(f"{name}_p{j}", "rom", width, (v,), table_delay(m), table=sub, bits=m, xw=xw - h, xs=0)
        )
    hi = f"@0[{xw - 1}:{xw - h}]"
    if signed:  # offset binary: the address's top bit is the sign bit inverted
        hi = f"{{~@0[{xw - 1}]{f', @0[{xw - 2}:{xw - h}]' if h > 1 else ''}}}"
    text = "".join(f"({hi} == {h}'d{j}) ? @{j + 1} : " for j in range(len(parts) - 1)) + f"@{len(parts)}"
    net.lut += width * max(1, math.ceil(len(parts) / 4))
    return net.place(name, "expr", width, (v, *parts), _select_delay(h), expr=text)


def _select_delay(bits: int) -> float:
    """Estimated ns through a ``2^bits``:1 select (a LUT6 is a 4:1 mux, then a level per 2 more bits)."""
    return (NET + DELAYS["lut"]) * max(1, math.ceil(bits / 2))


def _rom_parts(net: Net, table: str, bits: int) -> list[str]:
    """The sub-ROMs of ``bits`` address bits of the ROM ``table`` (an entry of ``net.tables``): added to
    ``net.tables`` once, named ``table_p<j>``, each at the table's entry width so that the select's
    operands are alike. The whole table stays listed (a split core's parts render only the tables they
    read; the one-piece core also emits the unused whole one, which synthesis drops)."""
    name, tbits, width, entries = next(t for t in net.tables if t[0] == table)
    names = [f"{name}_p{j}" for j in range(1 << (tbits - bits))]
    if names[0] not in {t[0] for t in net.tables}:
        size = 1 << bits
        padded = tuple(entries) + (0,) * ((1 << tbits) - len(entries))
        for j, sub in enumerate(names):
            net.tables.append((sub, bits, width, padded[j * size : (j + 1) * size]))
    return names


def _context(b: _Builder, op: Any) -> list[int]:
    tq_, tk_ = op.shapes(b.graph)
    tp, tv, ta, ty = (op.types[k] for k in ("p", "v", "accum", "y"))
    h_, hk, dv = op.num_heads, op.num_kv_heads, op.value_dim
    pr = b.arith(op.inputs[0])
    v = b.arith(op.inputs[1])
    mult = resolve_multiplier(b, op, op.binding)
    cache: dict | None = {} if MUX_ROWS else None  # multiples shared by the products
    net, p = b.net, _prefix(op)
    fa = tp.frac + tv.frac
    assert ta.frac == fa
    where = f"context '{op.name}'"
    # AP_RND's half rides in a row of each sum's first product (the value's multiples + the half are
    # shared by every query row), so the cast truncates
    rs = fa - ty.frac
    half = (
        rs - 1
        if cache is not None and mult is Multiplier.LUT and rs > 0 and rounding(ty) is Rounding.RND
        else None
    )
    ty_t = ty if half is None else dataclasses.replace(ty, rounding=Rounding.TRN)
    out = []
    for i in range(tq_):
        for h in range(h_):
            g = h // (h_ // hk)
            for e in range(dv):
                terms: list[_Term] = []
                for j in range(tk_):
                    pv = (pr[(h * tq_ + i) * tk_ + j], tp.raw_min, tp.raw_max)
                    vv = (v[j * hk * dv + g * dv + e], tv.raw_min, tv.raw_max)
                    pt = f"{p}p{i}_{h}_{e}_{j}"
                    terms += product_terms(net, pv, vv, mult, pt, cache, plus=None if terms else half)
                if half is None or not terms:
                    out.append(rounded_sum(net, terms, f"{p}s{i}_{h}_{e}", fa, ty, where))
                    continue
                sv, lo, hi = unshifted(net, tree(net, terms, f"{p}s{i}_{h}_{e}"), f"{p}s{i}_{h}_{e}u")
                out.append(net.cast(f"{p}s{i}_{h}_{e}y", sv, fa, ty_t, where, lo, hi))
    return out


# ---------------------------------------------------------------------------------------------------
def check_softmax(graph: Graph, op: Any) -> None:
    """Refuse a softmax whose tables the latency strategy cannot build as LUT ROMs."""
    where = f"softmax '{op.name}'" + (f" (layer {op.origin})" if op.origin else "")
    pl, tx = op.plan, op.types["x"]
    if pl.variant is SoftmaxVariant.STABLE:
        _, k = exp_rom_geometry(tx, pl)
        if k > ROM_BITS_MAX:
            hl = op.settings.exp_hi_bits + op.settings.exp_lo_bits if op.settings is not None else "?"
            raise NotImplementedError(
                f"{where}: the latency strategy's exponential ROM would have {k} address bits (the "
                f"difference max - x of its input {tx} at the tables' {pl.addr_bits}-bit resolution, "
                f"exp_hi_bits + exp_lo_bits = {hl}, saturated past their range); it builds at most "
                f"{ROM_BITS_MAX}. Set softmax exp_hi_bits + exp_lo_bits to at most {ROM_BITS_MAX - 1} "
                "(coarser differences), or give the softmax input (the attention scores: layers: {LAYER: "
                "{score: ...}}) fewer fractional bits"
            )
    if pl.exp_table_bits > ROM_BITS_MAX or pl.inv_bits > ROM_BITS_MAX:
        raise NotImplementedError(
            f"{where}: the latency strategy builds LUT ROMs of at most {ROM_BITS_MAX} address bits; "
            f"softmax latency_table_bits {pl.exp_table_bits}, inv_bits {pl.inv_bits}"
        )


def check_op(graph: Graph, op: Op) -> None:
    """Refuse, naming it, an attention op the latency strategy cannot build (cheap: no scheduling)."""
    if op.kind == "softmax":
        check_softmax(graph, op)


#: op kind -> its latency-strategy renderer (merged into LATENCY_RENDERERS)
ATTENTION_RENDERERS: dict[str, Callable[[Any, Any], list[int]]] = {
    "scores": _scores,
    "mask": _mask,
    "softmax": _softmax,
    "context": _context,
}

__all__ = [
    "ATTENTION_RENDERERS",
    "ROM_BITS_MAX",
    "check_op",
    "const_product",
    "exp_rom",
    "exp_rom_geometry",
    "product_terms",
    "table_delay",
    "tree",
]
