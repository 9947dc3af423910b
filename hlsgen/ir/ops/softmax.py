"""Softmax over the last axis, with an optional attention mask; two table-based variants.

STABLE (the default) subtracts the row maximum, so every exponent is of a non-positive difference and
nothing overflows. LATENCY reads exp(x) straight from one table over the input's range: no max search
(shorter latency, fewer comparators) but exp(x) saturates its table type for large logits, and then the
probabilities are wrong; use it only when the logits are known to be small.

Both variants end the same way: the exponentials are summed exactly, the sum is cast to ``sum_type``,
its reciprocal is read from a table addressed by the mantissa bits after the sum's leading one (so the
table keeps its relative precision over the sum's whole range) and shifted back, and each exponential
times the reciprocal is cast to the output type. Every table is built once by :func:`softmax_tables`;
the reference indexes those arrays and the HLS backend writes the same arrays to weights/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...config import Multiplier, SoftmaxConfig, SoftmaxVariant
from ...fixed import FixedType, calibrated_type, convert, mul_type, to_raw
from ...fixed.arith import FLOAT_EXACT_BITS, cast_float, float_castable
from ...fixed.cmm import digit_product_wins
from ...memory import bram18_for_bits
from .base import Cost, Op

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver

#: Widest input type the reference handles with int64 arithmetic (differences, shifts and rounding).
_MAX_IN_WIDTH = 56

#: Type of a model input that feeds the mask (1 = attend).
_MASK_TYPE = FixedType(1, 1, False, is_int=True)


@dataclass(frozen=True, eq=False)
class SoftmaxTables:
    """Every table of one softmax and the bit geometry that addresses them (see :func:`softmax_tables`).

    Attributes:
        variant: which variant the tables are for.
        tables: name -> (entry type, raw entries): ``exp_hi``, ``exp_lo``, ``inv`` (stable) or ``exp``,
            ``inv`` (latency).
        drop_bits: stable: LSBs of the difference dropped (rounded) below the table resolution.
        addr_bits: stable: bits of the rounded difference that the two tables address (hi + lo).
        hi_bits: stable: address bits of the coarse table.
        lo_bits: stable: address bits of the fine table.
        exp_table_bits: latency: address bits of the exp table (the input's top bits).
        inv_bits: address bits of the reciprocal table.
    """

    variant: SoftmaxVariant
    tables: dict[str, tuple[FixedType, np.ndarray]]
    drop_bits: int = 0
    addr_bits: int = 0
    hi_bits: int = 0
    lo_bits: int = 0
    exp_table_bits: int = 0
    inv_bits: int = 0


def _underflow_range_bits(exp_type: FixedType) -> int:
    """Smallest R with exp(-2^R) below half an LSB of ``exp_type``: larger differences give exp = 0."""
    return max(math.ceil(math.log2((exp_type.frac + 1) * math.log(2.0))), 0)


def softmax_tables(input_type: FixedType, cfg: SoftmaxConfig) -> SoftmaxTables:
    """Build every table of a softmax over inputs of ``input_type`` (the one place they are computed).

    Stable variant: the difference d = max - x >= 0 is an integer in LSBs of the input (2^-F). Values
    d >= 2^R give exp = 0, with R the smaller of the input's integer bits (d < 2^I always) and the
    underflow point of ``exp_type``. The R + F bits of d are reduced to ``exp_hi_bits + exp_lo_bits``
    by dropping ``s`` LSBs, rounding to nearest with ties upward: d' = (d + 2^(s-1)) >> s (s = 0 keeps
    the input's full resolution). A d' that reaches 2^(hi+lo) also gives exp = 0. Then
    exp(-d') = exp_hi[d' >> lo] * exp_lo[d' & (2^lo - 1)], the product cast to ``exp_type``. When the
    input has fewer bits than the tables can address, the coarse table shrinks first (at least 1 bit).

    Reciprocal: entry j is 1 / (1 + (j + 0.5) 2^-inv_bits), the reciprocal of the centre of the
    mantissa bucket [1 + j 2^-b, 1 + (j+1) 2^-b) (the minimax choice for relative error).

    Latency variant: entry k is exp() of the centre of the bucket of input codes whose top
    ``latency_table_bits`` bits (offset binary) equal k, clipped to ``latency_exp_type``.
    """
    tx = FixedType.parse(input_type)
    ti = FixedType.parse(cfg.inv_type)
    inv_bits = cfg.inv_bits
    if inv_bits < 1:
        raise ValueError("softmax: inv_bits must be at least 1")
    j = np.arange(1 << inv_bits, dtype=np.float64)
    inv = (ti, to_raw(np.clip(1.0 / (1.0 + (j + 0.5) * 2.0**-inv_bits), ti.min, ti.max), ti))
    if cfg.variant is SoftmaxVariant.LATENCY:
        te = FixedType.parse(cfg.latency_exp_type)
        bits = min(cfg.latency_table_bits, tx.width)
        if bits < 1:
            raise ValueError("softmax: latency_table_bits must be at least 1")
        shift = tx.width - bits
        codes = (np.arange(1 << bits, dtype=np.int64) << shift) + tx.raw_min
        centre = np.ldexp(codes.astype(np.float64) + ((1 << shift) - 1) / 2.0, -tx.frac)
        with np.errstate(over="ignore"):
            e = np.clip(np.exp(centre), te.min, te.max)
        return SoftmaxTables(
            SoftmaxVariant.LATENCY,
            {"exp": (te, to_raw(e, te)), "inv": inv},
            exp_table_bits=bits,
            inv_bits=inv_bits,
        )
    te = FixedType.parse(cfg.exp_type)
    if cfg.exp_hi_bits < 1 or cfg.exp_lo_bits < 1:
        raise ValueError("softmax: exp_hi_bits and exp_lo_bits must be at least 1")
    r = min(tx.integer, _underflow_range_bits(te))
    n_total = r + tx.frac
    if n_total < 2:
        raise ValueError(f"softmax: input type {tx} has too few bits for the exp tables (need 2 above 2^-F)")
    s = max(0, n_total - (cfg.exp_hi_bits + cfg.exp_lo_bits))
    n_d = n_total - s
    lo = min(cfg.exp_lo_bits, n_d - 1)
    hi = n_d - lo
    step = 2.0 ** (s - tx.frac)  # value of one unit of d'
    e_lo = np.exp(-np.arange(1 << lo, dtype=np.float64) * step)
    e_hi = np.exp(-np.arange(1 << hi, dtype=np.float64) * step * (1 << lo))
    tables = {
        "exp_hi": (te, to_raw(np.clip(e_hi, te.min, te.max), te)),
        "exp_lo": (te, to_raw(np.clip(e_lo, te.min, te.max), te)),
        "inv": inv,
    }
    return SoftmaxTables(
        SoftmaxVariant.STABLE, tables, drop_bits=s, addr_bits=n_d, hi_bits=hi, lo_bits=lo, inv_bits=inv_bits
    )


def leading_one(v: np.ndarray, width: int) -> np.ndarray:
    """Position of the leading one of non-negative int64 ``v`` of ``width`` bits (0 for v <= 1), as the
    headers' priority encoders compute it (at most ``width - 1``)."""
    v = np.asarray(v)
    if width <= 53 and v.dtype != object:
        # frexp reads the exponent of the double, exact for every integer below 2^53; larger ones (out
        # of a 53-bit type) may round up a power of two, which the cap at width - 1 hides
        e = np.frexp(v.astype(np.float64))[1].astype(np.int64)
        e -= 1
        return np.minimum(np.where(v > 1, e, 0), max(width - 1, 0))
    p = np.zeros(v.shape, dtype=np.int64)
    for b in range(1, width):
        p += (v >> b) > 0
    return p


def _row_max(x: np.ndarray) -> np.ndarray:
    """Maximum over the last axis, keepdims; short rows by columns (NumPy's reduction over a short
    contiguous axis costs about 30 ns a row)."""
    n = x.shape[-1]
    if n > 64 or n < 2 or x.ndim < 2:
        return x.max(axis=-1, keepdims=True)
    x2 = x.reshape(-1, n)  # 2-D: each column pass is one strided loop
    m = x2[:, 0].copy()
    for j in range(1, n):
        np.maximum(m, x2[:, j], out=m)
    return m.reshape(*x.shape[:-1], 1)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Softmax(Op):
    """Softmax over the last axis of ``[..., N]``.

    An optional second input is a mask ``[Tq, Tk]`` (ap_uint<1>, nonzero = attend) applied to every
    leading slice of scores ``[..., Tq, Tk]``. Masked entries get probability exactly 0 and take no part
    in the maximum or the sum; a fully masked row gives all zeros. Settings come from
    ``resolve.softmax(op)``. The output type comes from the ``probability`` config field (or a QKeras
    quantizer); without either it is the default width with the integer bits of the range [0, 1] (never
    narrower, whatever calibration data showed), so that an ap_fixed<16,6> default does not spend 4 bits
    on integers that a probability never uses.
    """

    kind: ClassVar[str] = "softmax"
    role: str = "probability"  #: config field of the output type
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: types fixed by QKeras quantizers
    settings: SoftmaxConfig | None = None  #: resolved at typing time
    plan: SoftmaxTables | None = None  #: the tables and their geometry, built at typing time
    t_range: tuple[int, int] = (0, 0)  #: range of the reciprocal's shift t (1/S = inv * 2^-t)
    #: the exponential x reciprocal products under the latency strategy (lut or dsp: the layer's
    #: ``multiplier``, ``auto`` resolved at typing by :func:`hlsgen.fixed.cmm.digit_product_wins` over the
    #: entries' ranges); None under the resource strategy
    binding: Multiplier | None = None

    @property
    def has_mask(self) -> bool:
        return len(self.inputs) > 1

    # -- typing -------------------------------------------------------------------------------------
    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        out = graph.tensors[self.outputs[0]]
        explicit = self.role in self.qtypes or any(
            getattr(lc, self.role, "") for lc in resolve.config.layer(self.name, self.origin)
        )
        if not explicit:
            # probabilities lie in [0, 1]: type them for that range, whatever the calibration data showed
            # (a calibration set whose largest probability is 0.3 must not make 1.0 saturate later)
            out.type = calibrated_type(1.0, resolve.default, resolve.config.calibration_margin_bits)
        shape = graph.tensors[self.inputs[0]].shape
        if not shape:
            raise ValueError(f"softmax {self.name}: the input needs at least one axis")
        if self.has_mask:
            mshape = graph.tensors[self.inputs[1]].shape
            if len(shape) < 2 or tuple(mshape) != tuple(shape[-2:]):
                raise ValueError(
                    f"softmax {self.name}: mask shape {mshape} does not match the last two axes of {shape}"
                )
            src = graph.tensors[self.inputs[1]]
            if src.name in graph.inputs:  # a model input feeding the mask carries single bits
                src.type = _MASK_TYPE
            self.types["mask"] = self.in_type(graph, 1)
        tx, ty = self.in_type(graph), self.out_type(graph)
        if tx.width > _MAX_IN_WIDTH:
            raise ValueError(f"softmax {self.name}: input type {tx} is wider than {_MAX_IN_WIDTH} bits")
        cfg = resolve.softmax(self)
        self.settings = cfg
        try:
            self.plan = softmax_tables(tx, cfg)
        except ValueError as e:
            layer = self.origin or self.name
            fix = (
                f". Give its scores a type with fractional bits in the config (layers: {{{layer}: {{score: "
                "'ap_fixed<16,6>'}}) or a wider default_precision"
                if "too few bits" in str(e)
                else ""
            )
            raise ValueError(f"{e} (layer {layer}){fix}") from None
        self.reuse_factor = resolve.reuse(self)
        n = shape[-1]
        if self.plan.variant is SoftmaxVariant.STABLE:
            te = FixedType.parse(cfg.exp_type)
            self.types["diff"] = FixedType(tx.width, tx.integer, False)  # max - x >= 0, exact
        else:
            te = FixedType.parse(cfg.latency_exp_type)
        ts = FixedType.parse(cfg.sum_type)
        ti = FixedType.parse(cfg.inv_type)
        if ts.signed:
            raise ValueError(f"softmax {self.name}: sum_type {ts} must be unsigned (ap_ufixed)")
        acc_i = te.integer + max(int(n - 1).bit_length(), 0)
        self.types.update(x=tx, y=ty, exp=te, sum=ts, inv=ti)
        self.types["accum"] = FixedType(acc_i + te.frac, acc_i, te.signed)  # exact sum of n exponentials
        # 1/S = inv[idx] * 2^-t with t = p - F_s (p: leading one of S); the product exp * inv is shifted
        # by t in `wide`, which holds every shift exactly. A stable row holds exp(0) = 1, so S >= 1 and
        # t >= 0 whenever exp_type and sum_type represent 1.
        t_max = ts.width - 1 - ts.frac
        t_min = -ts.frac
        one_ok = te.max >= 1.0 and ts.max >= 1.0 and te.frac >= 0 and ts.frac >= 0
        if self.plan.variant is SoftmaxVariant.STABLE and one_ok:
            t_min = max(t_min, 0)
        tp = mul_type(te, ti)
        fw = tp.frac + max(t_max, 0)
        iw = tp.integer + max(-t_min, 0)
        self.types["wide"] = FixedType(fw + iw, iw, tp.signed)
        self.t_range = (t_min, t_max)
        self.binding = resolve.binding(self)
        if self.binding is Multiplier.AUTO:
            wins = digit_product_wins((0, self.exp_entry_max()), (0, int(np.max(self.plan.tables["inv"][1]))))
            self.binding = Multiplier.LUT if wins else Multiplier.DSP

    def bindings(self) -> tuple[Multiplier, ...]:
        return (self.binding,) if self.binding is not None else ()

    def exp_entry_max(self) -> int:
        """The largest raw exponential a product reads (the stable variant's joint entries, as the latency
        RTL's ROM holds them, or the latency variant's table)."""
        assert self.plan is not None
        if self.plan.variant is SoftmaxVariant.STABLE:
            return int(self._joint_exp_table().max())
        return int(np.max(self.plan.tables["exp"][1]))

    # -- execution ----------------------------------------------------------------------------------
    def forward_float(self, x: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray]:
        keep = self._keep(x.shape, mask)
        z = np.where(keep, x, -np.inf)
        m = np.max(z, axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.where(keep, np.exp(z - m), 0.0)
        s = e.sum(axis=-1, keepdims=True)
        return (np.divide(e, s, out=np.zeros_like(e), where=s > 0),)

    def _keep(self, shape: tuple[int, ...], mask: np.ndarray | None) -> np.ndarray:
        """Bool array broadcast to ``shape`` (batch axis first): True where the entry takes part."""
        if mask is None:
            return np.ones(shape, dtype=bool)
        m = np.asarray(mask) != 0
        m = m.reshape(m.shape[0], *([1] * (len(shape) - 3)), *m.shape[1:])
        return np.broadcast_to(m, shape)

    def exponentials(self, x: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """Raw exponentials (``types['exp']``) of raw inputs, 0 where masked (``keep`` None: no mask)."""
        assert self.plan is not None
        tx = self.types["x"]
        pl = self.plan
        x = np.asarray(x).astype(np.int64)
        if pl.variant is SoftmaxVariant.LATENCY:
            idx = (x - tx.raw_min) >> (tx.width - pl.exp_table_bits)
            e = pl.tables["exp"][1][idx]
            return e if keep is None else np.where(keep, e, 0)
        m = (x if keep is None else np.where(keep, x, tx.raw_min)).max(axis=-1, keepdims=True)
        d = m - x  # exact, >= 0 where kept
        s = pl.drop_bits
        dd = (d + ((1 << s) >> 1)) >> s if s else d
        # one gather instead of two: entry i of the joint table is the header's
        # cast(exp_hi[i >> lo] * exp_lo[i & mask]) for the very same tables; its last entry (i = 2^addr)
        # is the 0 of differences beyond the tables' range
        joint = self._joint_exp_table()
        # (masked entries may lie above the kept maximum: their d < 0 is clipped, then zeroed below)
        dd = np.minimum(dd, joint.size - 1) if keep is None else np.clip(dd, 0, joint.size - 1)
        e = joint[dd]
        return e if keep is None else np.where(keep, e, 0)

    def _joint_exp_table(self) -> np.ndarray:
        """Raw exponentials of every (rounded) difference, from the two split tables; cached."""
        assert self.plan is not None
        cached = getattr(self, "_joint", None)
        if cached is not None and cached[0] is self.plan:
            return cached[1]
        pl = self.plan
        th, rh = pl.tables["exp_hi"]
        _, rl = pl.tables["exp_lo"]
        i = np.arange(1 << pl.addr_bits, dtype=np.int64)
        e = convert(
            rh[i >> pl.lo_bits] * rl[i & ((1 << pl.lo_bits) - 1)], mul_type(th, th), self.types["exp"]
        )
        joint = np.append(np.asarray(e, dtype=np.int64), 0)
        self._joint = (pl, joint)
        return joint

    def normalise(self, e: np.ndarray) -> np.ndarray:
        """Raw outputs from raw exponentials: exact sum, cast, reciprocal table, product, cast."""
        assert self.plan is not None
        te, ti, tw, ty = (self.types[k] for k in ("exp", "inv", "wide", "y"))
        s, r, t = self.reciprocal(e.sum(axis=-1))
        prod = e * r[..., None]
        shift = tw.frac - (te.frac + ti.frac) - t  # wide raw = prod * 2^shift, shift >= 0
        if tw.width <= 61:
            wide = prod.astype(np.int64) << np.broadcast_to(shift[..., None], prod.shape)
        else:
            wide = np.empty(prod.shape, dtype=object)
            for sh in np.unique(shift):
                rows = shift == sh
                wide[rows] = prod[rows].astype(object) << int(sh)
        y = convert(wide, tw, ty)
        return np.where((s > 0)[..., None], y, 0)

    def reciprocal(self, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, from the exact sums ``acc`` of the exponentials: the sum cast to ``sum_type`` (S), the
        reciprocal table entry and its shift t (1/S ~= entry * 2^-t), as int64."""
        assert self.plan is not None
        ts = self.types["sum"]
        s = np.asarray(convert(acc, self.types["accum"], ts)).astype(np.int64)
        b = self.plan.inv_bits
        p = leading_one(s, ts.width)
        idx = np.where(s > 0, ((s << b) >> p) - (1 << b), 0)
        r = self.plan.tables["inv"][1][idx]
        t = p - ts.frac
        t_min, t_max = self.t_range
        t = np.clip(t, t_min, t_max)  # S == 0 (outputs 0) or a wrapped sum_type; the header clamps alike
        return s, r, t

    def execute(self, x: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray]:
        keep = None if mask is None else self._keep(np.shape(x), mask)
        y = self._execute_float(np.asarray(x), keep)
        if y is None:
            y = self.normalise(self.exponentials(x, keep))
        return (y,)

    # -- the float64 fast path ----------------------------------------------------------------------
    def _execute_float(self, x: np.ndarray, keep: np.ndarray | None) -> np.ndarray | None:
        """``execute`` with the exponentials gathered as float64, summed by BLAS and multiplied by the
        reciprocals in float64, every step exact (the types are checked by :meth:`_float_tables`);
        None where those bounds do not hold. Equal to ``normalise(exponentials(x, keep))``."""
        ft, direct = self._float_tables()
        if ft is None or x.dtype == object or x.size == 0:
            return None
        assert self.plan is not None
        tx, te, ti, ty = (self.types[k] for k in ("x", "exp", "inv", "y"))
        shape, n = x.shape, x.shape[-1]
        x = x.astype(np.int64, copy=False).reshape(-1, n)
        # (row-wise broadcasts go through np.repeat: NumPy loops over short rows one by one)
        if self.plan.variant is SoftmaxVariant.LATENCY:
            e = ft.take((x - tx.raw_min) >> (tx.width - self.plan.exp_table_bits), mode="clip")
        else:
            if keep is not None:  # masked entries read the type's minimum: d >= 0 everywhere
                x = np.where(keep.reshape(-1, n), x, tx.raw_min)
            d = np.repeat(_row_max(x), n).reshape(x.shape)
            d -= x  # exact, 0 <= d < 2^W for raw inputs of the input type
            if direct:  # indexed by d itself: the rounding and the range are in the table
                e = ft.take(d, mode="clip")
            else:
                s = self.plan.drop_bits
                if s:
                    d += (1 << s) >> 1
                    d >>= s
                e = ft.take(d, mode="clip")  # d' past the table's range reads its last entry, 0
        if keep is not None:
            np.multiply(e, keep.reshape(-1, n), out=e)
        s, r, t = self.reciprocal((e @ np.ones(n)).astype(np.int64))  # the sums: exact below 2^52
        # the output cast of e * r * 2^-(F_e + F_i + t), in output LSBs: one factor per row (0 where
        # S == 0); e * r < 2^52 and the shift within 0..52, or the value an integer below 2^52
        k = (te.frac + ti.frac - ty.frac) + t
        f = np.ldexp(r.astype(np.float64), -k.astype(np.int32))
        f[s <= 0] = 0.0
        e *= np.repeat(f, n).reshape(e.shape)
        return cast_float(e, ty).reshape(shape)

    def _float_tables(self) -> tuple[np.ndarray | None, bool]:
        """The exponential table as float64 for the fast path and whether the difference indexes it
        directly, cached; None where the fast path's bounds fail (the exponential sum or the product with
        the reciprocal reaching 2^52, the output cast's shift outside 0..52, or an output type that
        :func:`~hlsgen.fixed.arith.cast_float` does not take).

        Stable variant, inputs of up to 16 bits: indexed by the difference d itself (2^W entries, at most
        512 KiB, the rounding to the table resolution and the zeros beyond its range included; faster than
        rounding d first), else the joint table of :meth:`_joint_exp_table`. Latency variant: the exp
        table.
        """
        key = (self.plan, self.t_range, *(self.types[k] for k in ("x", "exp", "inv", "accum", "wide", "y")))
        cached = getattr(self, "_float_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        pl = self.plan
        assert pl is not None
        tx, te, ti, ta, ty = (self.types[k] for k in ("x", "exp", "inv", "accum", "y"))
        tp = mul_type(te, ti)
        k_min, k_max = (te.frac + ti.frac - ty.frac + t for t in self.t_range)
        table, direct = None, False
        if (
            max(ta.width, tp.width - min(k_min, 0)) <= FLOAT_EXACT_BITS
            and k_max <= 52
            and float_castable(self.types["wide"], ty)
        ):
            if pl.variant is SoftmaxVariant.LATENCY:
                table = pl.tables["exp"][1].astype(np.float64)
            else:
                joint = self._joint_exp_table()
                direct = tx.width <= 16
                if direct:
                    d = np.arange(1 << tx.width, dtype=np.int64)
                    s = pl.drop_bits
                    dd = (d + ((1 << s) >> 1)) >> s if s else d
                    table = joint[np.minimum(dd, joint.size - 1)].astype(np.float64)
                else:
                    table = joint.astype(np.float64)
        self._float_cache = (key, (table, direct))
        return table, direct

    # -- backends -----------------------------------------------------------------------------------
    def cost(self, graph: Graph) -> Cost:
        shape = graph.tensors[self.inputs[0]].shape
        n = shape[-1]
        rows = graph.tensors[self.inputs[0]].size // n
        bits = 0 if self.plan is None else sum(r.size * t.width for t, r in self.plan.tables.values())
        stable = self.plan is not None and self.plan.variant is SoftmaxVariant.STABLE
        mults = rows * n * (2 if stable else 1)  # exp_hi * exp_lo (stable), exp * 1/S
        depth = (
            (int(math.ceil(math.log2(max(n, 2)))) if stable else 0) + int(math.ceil(math.log2(max(n, 2)))) + 6
        )
        return Cost(
            macs=mults,
            multipliers=max(1, -(-mults // self.reuse_factor)),
            latency_cycles=depth + self.reuse_factor - 1,
            bram18=bram18_for_bits(bits),
            lut=rows * n * 32,
            mult_widths=(self.types["exp"].width, max(self.types["exp"].width, self.types["inv"].width)),
            ff=rows * n * (self.types["exp"].width + self.types["y"].width),
        )


__all__ = ["Softmax", "SoftmaxTables", "leading_one", "softmax_tables"]
