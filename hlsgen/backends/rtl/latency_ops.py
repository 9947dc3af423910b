"""More ops of the ``latency`` strategy (:mod:`hlsgen.backends.rtl.latency`): layer norm and the cheap
tensor ops of the Keras front door, each as values of the one :class:`~hlsgen.backends.rtl.unrolled.Net`
and bit-exact with its op's ``execute``:

- ``layernorm``, per row of D values: the sum as a balanced adder tree, times the op's 1/D constant
  (shift-adds), cast to the mean type; x - mean exact; the squares as variable products (:func:`var_mul`);
  their sum, times 1/D, cast to the variance type; the 1/sqrt table addressed by the variance's leading
  one (``lzaddr``: a priority mux) as a LUT ROM whose entries are the op's own table pre-shifted by its
  per-segment power of two (:func:`scaled_inv_sqrt_table`, so no variable shift follows); (x - mean) *
  entry cast to the norm type; gamma * norm + beta as constant products (shift-adds) and one cast;
- ``constant``: constant values (no logic; each placed in the stage that reads it, :func:`settle_constants`);
- ``binary`` add / sub / mul, broadcasting as :class:`~hlsgen.ir.ops.Binary` does: an adder, a constant
  product or a bias where an operand is a constant, a variable product otherwise; then the cast;
- ``concat``, ``slice``, ``transpose``: wires (each concatenated operand cast to the output type; a constant's cast is
  computed here); ``global_max_pool``: a tree of compare-selects over the rows;
- ``batchnorm`` (the per-feature affine that was not folded): a constant product and a bias, the cast;
- ``conv1d`` (kernel > 1; kernel 1 is a Linear already): the unrolled Linear on each output token's
  window, zeros outside the sequence.

A variable product (``x * x``, ``x * 1/sqrt``, a Binary ``mul`` of two tensors) follows the op's
``multiplier`` setting: ``lut`` as gated partial products summed by a tree of adders (the scheduler
pipelines them like any adder; :func:`~hlsgen.backends.rtl.logic_depth.lut_product` states its cost),
``dsp`` as one ``*`` (DSP48E2), ``auto`` the cheaper by the same LUT-per-DSP rule as the constant products.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType, convert
from ...fixed.arith import add_type, mul_type
from ...fixed.cmm import bits_for, gated_product_wins, operand_bits, optimise, product_dsps
from ...ir.graph import c_identifier
from .logic_depth import DELAYS, NET, priority_delay, rom_delay, rom_luts
from .unrolled import Net, adder_delay, emit_linear, linear_graph, multiplier_delay

if TYPE_CHECKING:
    from ...ir.ops.base import Op
    from ...ir.ops.layernorm import LayerNorm
    from .latency import _Builder

#: (value, range lo, range hi) of a signed value of the net
Ranged = tuple[int, int, int]

#: ns of a partial product's AND gates: one LUT level (Yosys does not merge them into the adder's LUTs)
GATE = NET + DELAYS["lut"]


def _prefix(op: Op) -> str:
    return f"{c_identifier(op.name)}_"


def const_of(net: Net, v: int) -> int | None:
    """The integer a constant value holds (an ``acc`` with no operand), else None."""
    val = net.values[v]
    return int(val.attr("bias")) if val.kind == "acc" and not val.args else None  # type: ignore[call-overload]


def constant(net: Net, name: str, c: int, width: int | None = None) -> int:
    """A constant value (signed, ``width`` bits or the fewest that hold ``c``)."""
    w = bits_for(c, c) if width is None else width
    return net.place(name, "acc", w, (), 0.0, sh=0, neg=0, bias=int(c))


def as_output(net: Net, v: int, t: FixedType, name: str) -> int:
    """``v`` as the raw bits of ``t`` on an output port: a cast already, else an (exact) cast to ``t``."""
    if net.values[v].kind == "cast":
        return v
    return net.cast(name, v, t.frac, t, f"output {name}")


def settle_constants(net: Net, outputs: list[int]) -> None:
    """Place every constant value in the stage that reads it (a copy for each further stage that reads
    it; an output's in the last stage), so no register carries a constant. ``outputs`` is updated."""
    readers: dict[int, set[int]] = {}
    for v in net.values:
        for a in v.args:
            readers.setdefault(a, set()).add(v.stage)
    last = max((net.values[o].stage for o in outputs if const_of(net, o) is None), default=1)
    for o in outputs:
        readers.setdefault(o, set()).add(last)
    copies: dict[tuple[int, int], int] = {}
    for i in range(len(net.values)):
        v = net.values[i]
        if v.kind != "acc" or v.args or not readers.get(i):
            continue
        stages = sorted(readers[i])
        net.values[i] = replace(v, stage=stages[0])
        for s in stages[1:]:
            copies[(i, s)] = len(net.values)
            net.values.append(replace(v, name=f"{v.name}_at{s}", stage=s))
            net.arrival.append(DELAYS["ff_tco"])
    if not copies:
        return
    for k, v in enumerate(net.values):
        if any((a, v.stage) in copies for a in v.args):
            net.values[k] = replace(v, args=tuple(copies.get((a, v.stage), a) for a in v.args))
    outputs[:] = [copies.get((o, last), o) for o in outputs]


def signed_of(net: Net, v: int, t: FixedType) -> int:
    """A cast's raw bits (type ``t``) read as a signed value; other values are signed already."""
    if net.values[v].kind != "cast":
        return v
    w = t.width + (0 if t.signed else 1)
    return net.place(f"{net.values[v].name}_s", "ext", w, (v,), 0.0, signed=int(t.signed))


def tree_sum(net: Net, terms: list[Ranged], name: str) -> Ranged:
    """The exact sum of ``terms`` by a balanced adder tree, the earliest operands first."""
    terms = list(terms)
    if not terms:
        return constant(net, f"{name}_0", 0), 0, 0
    while len(terms) > 1:
        terms.sort(key=lambda q: (net.values[q[0]].stage, net.arrival[q[0]]))
        (u, ulo, uhi), (v, vlo, vhi) = terms.pop(0), terms.pop(0)
        w = bits_for(ulo + vlo, uhi + vhi)
        s = net.place(f"{name}_{len(net.values)}", "add", w, (u, v), adder_delay(w), sha=0, shb=0, sub=0)
        net.adders += 1
        net.lut += w
        terms.append((s, ulo + vlo, uhi + vhi))
    return terms[0]


def scaled(net: Net, x: Ranged, c: int, sh: int, bias: int, name: str) -> Ranged:
    """``(c * x << sh) + bias`` exactly, the constant product as shift-adds (canonical signed digits)."""
    v, lo, hi = x
    plo, phi = sorted((lo * c, hi * c))
    rlo, rhi = (plo << sh) + bias, (phi << sh) + bias
    if c == 0:
        return constant(net, name, bias), bias, bias
    cg = optimise(np.array([[c]], dtype=object), [lo], [hi])
    ids = net.adder_graph(cg, [v], f"{name}_n")
    term = cg.outputs[0]
    assert term is not None
    w = bits_for(rlo, rhi)
    work = term.sign < 0 or bias != 0
    out = net.place(
        name,
        "acc",
        w,
        (ids[term.var],),
        adder_delay(w) if work else 0.0,
        sh=term.shift + sh,
        neg=int(term.sign < 0),
        bias=int(bias),
    )
    if work:
        net.adders += 1
        net.lut += w
    return out, rlo, rhi


def product_range(a: Ranged, b: Ranged, square: bool = False) -> tuple[int, int]:
    """The exact range of ``a * b`` (of ``a * a`` when ``square``)."""
    if square:
        lo, hi = a[1], a[2]
        top = max(lo * lo, hi * hi)
        return (0 if lo <= 0 <= hi else min(lo * lo, hi * hi)), top
    corners = [a[1] * b[1], a[1] * b[2], a[2] * b[1], a[2] * b[2]]
    return min(corners), max(corners)


def product_multiplier(a: Ranged, b: Ranged, setting: Multiplier) -> Multiplier:
    """``lut`` or ``dsp`` for a variable product (``auto``: :func:`hlsgen.fixed.cmm.gated_product_wins`, the
    rule the layer norm's ``binding`` was resolved by at typing)."""
    if setting is not Multiplier.AUTO:
        return setting
    return Multiplier.LUT if gated_product_wins((a[1], a[2]), (b[1], b[2])) else Multiplier.DSP


def var_mul(net: Net, a: Ranged, b: Ranged, setting: Multiplier, name: str) -> Ranged:
    """The exact product of two signed values of the net (``a is b``: a square).

    ``lut``: partial products ``b`` gated by each bit of the narrower operand (the sign bit's subtracted),
    two at a time in the first adders (``vppadd``: two gated rows in one adder), a square's rows
    with each cross product once (:func:`_square_rows`), then summed by a tree of adders, earliest
    first; ``dsp``: one ``*``.
    """
    square = a[0] == b[0]
    lo, hi = product_range(a, b, square)
    w = bits_for(lo, hi)
    if product_multiplier(a, b, setting) is Multiplier.DSP:
        net.multipliers += product_dsps(operand_bits(a[1], a[2]), operand_bits(b[1], b[2]))
        return net.place(name, "vmul", w, (a[0], b[0]), multiplier_delay()), lo, hi
    if square:
        terms = _square_rows(net, a, name)
    else:
        terms = _product_rows(net, a, b, name)
    v, sh, sign = _sum_rows(net, terms, name)
    out = net.place(
        name, "acc", w, (v,), adder_delay(w) if sign < 0 else 0.0, sh=sh, neg=int(sign < 0), bias=0
    )
    if sign < 0:
        net.adders += 1
        net.lut += w
    return out, lo, hi


#: a row of a product: (value, shift, sign, lo, hi); it counts sign * value << shift, value in [lo, hi]
Row = tuple[int, int, int, int, int]


def _square_rows(net: Net, a: Ranged, name: str) -> list[Row]:
    """The rows of ``a * a`` with each cross product once: for an n-bit signed ``a`` (bits a_i),
    a^2 = sum_{i < n-1} a_i * (4 * (a >> (i + 1)) + 1) << 2i  (+ a_{n-1} << 2n - 2 when a can be
    negative), rows of n - i + 1 bits: about half the partial-product bits of a general product."""
    n = bits_for(a[1], a[2])
    rows: list[Row] = []
    for i in range(n - 1):
        lo, hi = min(0, 4 * (a[1] >> (i + 1)) + 1), max(0, 4 * (a[2] >> (i + 1)) + 1)
        r = net.place(f"{name}_h{i}", "vsq", n - i + 1, (a[0],), GATE, bit=i, top=n - 1)
        rows.append((r, 2 * i, 1, lo, hi))
    if a[1] < 0:  # the sign bit's own square
        r = net.place(f"{name}_h{n - 1}", "vsq", 2, (a[0],), 0.0, bit=n - 1, top=n - 1)
        rows.append((r, 2 * n - 2, 1, 0, 1))
    return rows


def _product_rows(net: Net, a: Ranged, b: Ranged, name: str) -> list[Row]:
    """The rows of ``a * b``: ``b`` gated by each bit of the narrower operand, two bits an adder."""
    if operand_bits(b[1], b[2]) < operand_bits(a[1], a[2]):
        a, b = b, a
    na = operand_bits(a[1], a[2])
    blo, bhi = min(b[1], 0), max(b[2], 0)
    bw = bits_for(blo, bhi)
    terms: list[Row] = []
    for j in range(0, na, 2):
        neg = a[1] < 0 and j + 1 == na - 1  # the pair's upper bit is the sign bit
        if j + 1 == na:  # an odd bit left: one gated operand
            pp = net.place(f"{name}_p{j}", "vpp", bw, (a[0], b[0]), GATE, bit=j)
            terms.append((pp, j, -1 if a[1] < 0 else 1, blo, bhi))
            continue
        # two partial products in one adder (Yosys maps the gates as a LUT level of their own)
        plo, phi = (blo - (bhi << 1), bhi - (blo << 1)) if neg else (blo + (blo << 1), bhi + (bhi << 1))
        pw = bits_for(plo, phi)
        pp = net.place(
            f"{name}_p{j}", "vppadd", pw, (a[0], b[0]), GATE + adder_delay(pw), ja=j, jb=j + 1, sub=int(neg)
        )
        net.adders += 1
        net.lut += pw
        terms.append((pp, j, 1, plo, phi))
    return terms


def _sum_rows(net: Net, terms: list[Row], name: str) -> tuple[int, int, int]:
    """The rows summed by a tree of adders, earliest first: (value, shift, sign) of the sum."""
    terms = list(terms)
    while len(terms) > 1:
        terms.sort(key=lambda q: (net.values[q[0]].stage, net.arrival[q[0]], q[1]))
        t1, t2 = terms.pop(0), terms.pop(0)
        if t1[2] < 0 < t2[2]:
            t1, t2 = t2, t1
        m = min(t1[1], t2[1])
        sha, shb = t1[1] - m, t2[1] - m
        sub = t1[2] != t2[2]
        if sub:  # t1 positive, t2 negative: t1 - t2
            slo, shi = (t1[3] << sha) - (t2[4] << shb), (t1[4] << sha) - (t2[3] << shb)
        else:
            slo, shi = (t1[3] << sha) + (t2[3] << shb), (t1[4] << sha) + (t2[4] << shb)
        sw = bits_for(slo, shi)
        s = net.place(
            f"{name}_s{len(net.values)}",
            "add",
            sw,
            (t1[0], t2[0]),
            adder_delay(sw),
            sha=sha,
            shb=shb,
            sub=int(sub),
        )
        net.adders += 1
        net.lut += sw
        terms.append((s, m, 1 if sub else t1[2], slo, shi))
    v, sh, sign, _, _ = terms[0]
    return v, sh, sign


def _arith(b: _Builder, tensor: str) -> list[Ranged]:
    """The tensor's values as signed values with the range of its type (a constant: its own value)."""
    t = b.type_of(tensor)
    out = []
    for v in b.arith(tensor):
        c = const_of(b.net, v)
        out.append((v, c, c) if c is not None else (v, t.raw_min, t.raw_max))
    return out


# -- layer norm ----------------------------------------------------------------------------------------
def scaled_inv_sqrt_table(op: LayerNorm) -> tuple[list[int], int]:
    """The op's pre-shifted 1/sqrt ROM and K (:meth:`LayerNorm.scaled_inv_sqrt_table
    <hlsgen.ir.ops.layernorm.LayerNorm.scaled_inv_sqrt_table>`, where the typing reads its width)."""
    return op.scaled_inv_sqrt_table()


def _layernorm(b: _Builder, op: LayerNorm) -> list[int]:
    net, t, geo = b.net, op.types, op.geometry
    assert geo is not None and op.gamma_raw is not None and op.beta_raw is not None
    d = op.n_feat
    x = _arith(b, op.inputs[0])
    rows = len(x) // d
    p = _prefix(op)
    where = f"layernorm '{op.name}'"
    assert op.binding is not None and op.scale_binding is not None  # the latency strategy: set at typing
    tx, tm, tdiff, tv, tn, ty = (t[k] for k in ("x", "mean", "diff", "var", "norm", "y"))
    tg, tb = t["weight"], t["bias"]
    c = int(op.c_raw)
    fd = tdiff.frac
    # the 1/sqrt ROM, shared by the rows' look-ups (each row has its own copy of the logic)
    entries, big_k = scaled_inv_sqrt_table(op)
    abits = max(int(len(entries) - 1).bit_length(), 1)
    ew = bits_for(0, max(entries))
    rom = f"{p}inv_sqrt"
    net.tables.append((rom, abits, ew, tuple(entries)))
    fprod = fd + t["table"].frac + big_k
    tzm = mul_type(tn, tg)
    tz = add_type(tzm, tb)
    out = []
    for r in range(rows):
        xr = x[r * d : (r + 1) * d]
        q = f"{p}r{r}_"
        s = tree_sum(net, xr, f"{q}sum")
        mp = scaled(net, s, c, 0, 0, f"{q}mp")
        mean = net.cast(f"{q}mean", mp[0], tx.frac + op.c_frac, tm, where)
        ms = signed_of(net, mean, tm)
        sha, shb = fd - tx.frac, fd - tm.frac
        diffs: list[Ranged] = []
        for j, (v, lo, hi) in enumerate(xr):
            dlo, dhi = (lo << sha) - (tm.raw_max << shb), (hi << sha) - (tm.raw_min << shb)
            w = bits_for(dlo, dhi)
            dv = net.place(f"{q}d{j}", "add", w, (v, ms), adder_delay(w), sha=sha, shb=shb, sub=1)
            net.adders += 1
            net.lut += w
            diffs.append((dv, dlo, dhi))
        squares = [var_mul(net, dj, dj, op.binding, f"{q}sq{j}") for j, dj in enumerate(diffs)]
        ss = tree_sum(net, squares, f"{q}ss")
        vp = scaled(net, ss, c, 0, 0, f"{q}vp")
        var = net.cast(f"{q}var", vp[0], 2 * fd + op.c_frac, tv, where)
        n_seg = geo.n_segments
        addr = net.place(
            f"{q}addr", "lzaddr", abits, (var,), priority_delay(n_seg), vw=tv.width, m=geo.mant_bits
        )
        net.lut += abits * max(1, n_seg // 2)
        inv = net.place(
            f"{q}inv", "rom", ew, (addr,), rom_delay(abits), table=rom, bits=abits, xw=abits, xs=0
        )
        net.lut += rom_luts(abits, ew)
        inv_r = (inv, 0, max(entries))
        for j, dj in enumerate(diffs):
            prod = var_mul(net, dj, inv_r, op.scale_binding, f"{q}pn{j}")
            norm = net.cast(f"{q}n{j}", prod[0], fprod, tn, where)
            nv = (signed_of(net, norm, tn), tn.raw_min, tn.raw_max)
            bias = int(op.beta_raw[j]) << (tz.frac - tb.frac)
            z = scaled(net, nv, int(op.gamma_raw[j]), tz.frac - tzm.frac, bias, f"{q}z{j}")
            out.append(net.cast(f"{q}y{j}", z[0], tz.frac, ty, where))
    return out


# -- tensor ops ----------------------------------------------------------------------------------------
def _constant(b: _Builder, op: Op) -> list[int]:
    ty = op.types["y"]
    w = ty.width + (0 if ty.signed else 1)  # as an input's bits: readable raw or signed
    return [constant(b.net, f"{_prefix(op)}c{k}", int(v), w) for k, v in enumerate(np.ravel(op.raw))]


def _index(shape: tuple[int, ...]) -> np.ndarray:
    """Element indices of a per-sample ``shape``, with a batch axis of 1."""
    return np.arange(math.prod(shape)).reshape(1, *shape)


def _binary(b: _Builder, op: Op) -> list[int]:
    net = b.net
    ta, tb, ty = op.types["a"], op.types["b"], op.types["y"]
    ia, ib = (_index(b.graph.tensors[n].shape) for n in op.inputs)
    va, vb, _ = op._views(ia, ib)
    pa, pb = np.broadcast_arrays(va, vb)
    xa, xb = _arith(b, op.inputs[0]), _arith(b, op.inputs[1])
    p = _prefix(op)
    where = f"binary '{op.name}'"
    kind = str(op.operation)
    if kind == "mul":
        tp = mul_type(ta, tb)
        fr = tp.frac
    else:
        tp = add_type(ta, tb)
        fr = tp.frac
    sha, shb = fr - ta.frac, fr - tb.frac
    setting = op.binding if op.binding is not None else b.resolver.multiplier(op)
    if kind == "mul" and op.binding is not None:
        b.multipliers[op.name] = op.binding.value
    out = []
    for k, (i, j) in enumerate(zip(pa.ravel().tolist(), pb.ravel().tolist(), strict=True)):
        u, v = xa[i], xb[j]
        cu, cv = const_of(net, u[0]), const_of(net, v[0])
        name = f"{p}s{k}"
        if cu is not None and cv is not None:  # both constants: the cast here
            r = {"add": (cu << sha) + (cv << shb), "sub": (cu << sha) - (cv << shb), "mul": cu * cv}[kind]
            wr = bits_for(r, r)
            y = int(np.asarray(convert(np.array([r], dtype=object), FixedType(wr, wr - fr), ty))[0])
            out.append(constant(net, f"{p}y{k}", y, ty.width + (0 if ty.signed else 1)))
            continue
        if kind == "mul":
            if cu is not None or cv is not None:
                c, x = (cu, v) if cu is not None else (cv, u)
                s = scaled(net, x, int(c), 0, 0, name)  # type: ignore[arg-type]
            else:
                s = var_mul(net, u, v, setting, name)
        elif cv is not None:  # a +- c
            s = scaled(net, u, 1, sha, (cv << shb) * (-1 if kind == "sub" else 1), name)
        elif cu is not None:  # c +- b
            s = scaled(net, v, -1 if kind == "sub" else 1, shb, cu << sha, name)
        else:
            sub = kind == "sub"
            lo = (u[1] << sha) - (v[2] << shb) if sub else (u[1] << sha) + (v[1] << shb)
            hi = (u[2] << sha) - (v[1] << shb) if sub else (u[2] << sha) + (v[2] << shb)
            w = bits_for(lo, hi)
            sv = net.place(name, "add", w, (u[0], v[0]), adder_delay(w), sha=sha, shb=shb, sub=int(sub))
            net.adders += 1
            net.lut += w
            s = (sv, lo, hi)
        out.append(net.cast(f"{p}y{k}", s[0], fr, ty, where))
    return out


def _cast_all(b: _Builder, op: Op, tensor: str, tin: FixedType, name: str) -> list[int]:
    """The tensor's values cast to the op's output type (wires when the types are equal)."""
    ty = op.types["y"]
    if tin == ty:
        return list(b.env[tensor])
    out = []
    for k, (v, _, _) in enumerate(_arith(b, tensor)):
        c = const_of(b.net, v)
        if c is not None:
            y = int(np.asarray(convert(np.array([c], dtype=object), tin, ty))[0])
            out.append(constant(b.net, f"{name}{k}", y, ty.width + (0 if ty.signed else 1)))
        else:
            out.append(b.net.cast(f"{name}{k}", v, tin.frac, ty, f"{op.kind} '{op.name}'"))
    return out


def _concat(b: _Builder, op: Op) -> list[int]:
    p = _prefix(op)
    va = _cast_all(b, op, op.inputs[0], op.types["a"], f"{p}a")
    vb = _cast_all(b, op, op.inputs[1], op.types["b"], f"{p}b")
    sa, sb = (b.graph.tensors[n].shape for n in op.inputs)
    ia, ib = _index(sa), _index(sb) + math.prod(sa)
    idx = np.concatenate([ia, ib], axis=op.norm_axis(b.graph) + 1)
    both = va + vb
    return [both[i] for i in idx.ravel().tolist()]


def _slice(b: _Builder, op: Op) -> list[int]:
    idx = op._take(_index(b.graph.tensors[op.inputs[0]].shape))
    return [b.env[op.inputs[0]][i] for i in idx.ravel().tolist()]


def _transpose(b: _Builder, op: Op) -> list[int]:
    idx = np.transpose(_index(b.graph.tensors[op.inputs[0]].shape), (0, *(p + 1 for p in op.perm)))
    return [b.env[op.inputs[0]][i] for i in idx.ravel().tolist()]


def _maxpool(b: _Builder, op: Op) -> list[int]:
    net = b.net
    shape = b.graph.tensors[op.inputs[0]].shape
    rows, d = math.prod(shape[:-1]), shape[-1]
    x = _arith(b, op.inputs[0])
    p = _prefix(op)
    out = []
    for j in range(d):
        terms = [x[r * d + j] for r in range(rows)]
        while len(terms) > 1:
            terms.sort(key=lambda q: (net.values[q[0]].stage, net.arrival[q[0]]))
            (u, ulo, uhi), (v, vlo, vhi) = terms.pop(0), terms.pop(0)
            lo, hi = max(ulo, vlo), max(uhi, vhi)
            w = max(bits_for(ulo, uhi), bits_for(vlo, vhi))
            m = net.place(
                f"{p}m{j}_{len(net.values)}", "selmax", w, (u, v), adder_delay(w) + NET + DELAYS["lut"]
            )
            net.lut += 2 * w
            terms.append((m, lo, hi))
        out.append(terms[0][0])
    return out


def _batchnorm(b: _Builder, op: Op) -> list[int]:
    tx, tw, tb, ty = (op.types[k] for k in ("x", "weight", "bias", "y"))
    tp = mul_type(tx, tw)
    ts = add_type(tp, tb)
    x = _arith(b, op.inputs[0])
    d = len(op.scale_raw)
    p = _prefix(op)
    out = []
    for k, xv in enumerate(x):
        j = k % d
        bias = int(op.shift_raw[j]) << (ts.frac - tb.frac)
        z = scaled(b.net, xv, int(op.scale_raw[j]), ts.frac - tp.frac, bias, f"{p}z{k}")
        out.append(b.net.cast(f"{p}y{k}", z[0], ts.frac, ty, f"batchnorm '{op.name}'"))
    return out


def _conv1d(b: _Builder, op: Op) -> list[int]:
    x = b.arith(op.inputs[0])
    t_in, t_out = op.tokens(b.graph)
    c_in = op.channels_in
    left, _ = op.pads()
    p = _prefix(op)
    zero = constant(b.net, f"{p}zero", 0)
    ins = []
    for t in range(t_out):
        row = []
        for k in range(op.kernel_size):
            s = t + k - left
            row.extend(x[s * c_in : (s + 1) * c_in] if 0 <= s < t_in else [zero] * c_in)
        ins.append(row)
    mult, graph = linear_graph(op, op.binding or b.resolver.multiplier(op))
    b.multipliers[op.name] = mult.value
    return emit_linear(b.net, op, ins, mult, graph, p)


#: op kind -> its latency-strategy renderer, merged into :data:`~hlsgen.backends.rtl.latency.LATENCY_RENDERERS`
OP_RENDERERS: dict[str, Callable[[Any, Any], list[int]]] = {
    "layernorm": _layernorm,
    "constant": _constant,
    "binary": _binary,
    "concat": _concat,
    "slice": _slice,
    "transpose": _transpose,
    "global_max_pool": _maxpool,
    "batchnorm": _batchnorm,
    "conv1d": _conv1d,
}


__all__ = [
    "OP_RENDERERS",
    "as_output",
    "const_of",
    "constant",
    "product_multiplier",
    "scaled",
    "scaled_inv_sqrt_table",
    "settle_constants",
    "signed_of",
    "tree_sum",
    "var_mul",
]
