"""Layer normalisation over the last axis, with one 1/sqrt table.

Per row of D values: the mean is an exact sum times 1/D (an exact shift when D is a power of two, else a
rounded 18-bit constant), cast to ``mean_type``; x - mean is exact; the variance is the exact sum of
squares times the same 1/D, cast to ``var_type``. 1/sqrt(var + eps) comes from one table built by
:func:`inv_sqrt_table` (see there for its addressing); (x - mean) * 1/sqrt(var + eps) is cast to
``norm_type`` and gamma * norm + beta, exact, to the output type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...config import LayerNormConfig, Multiplier
from ...fixed import (
    FixedType,
    Overflow,
    Rounding,
    add,
    add_type,
    convert,
    linalg,
    mul,
    mul_type,
    sub,
    sub_type,
    to_raw,
)
from ...fixed.arith import FLOAT_EXACT_BITS, cast_float, convert_float, float_castable
from ...fixed.cmm import gated_product_wins
from ...memory import bram18_for_bits
from .base import Cost, Op
from .basic import exact_accumulator, scale_constant
from .softmax import leading_one

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def _ceil_half(e: np.ndarray | int) -> np.ndarray | int:
    """ceil(e / 2) for integers of any sign."""
    return -((-e) // 2)


@dataclass(frozen=True)
class InvSqrtGeometry:
    """How a variance addresses the 1/sqrt table (see :func:`inv_sqrt_table`).

    Attributes:
        var_width: W_v, bits of the variance type.
        var_frac: F_v, its fractional bits.
        mant_bits: M, mantissa bits below the leading one.
        k_sub: the power-of-two shift of the subnormal segment.
    """

    var_width: int
    var_frac: int
    mant_bits: int
    k_sub: int

    @property
    def n_segments(self) -> int:
        return self.var_width - self.mant_bits + 1

    @property
    def size(self) -> int:
        return self.n_segments << self.mant_bits

    @property
    def k_range(self) -> tuple[int, int]:
        return min(self.k_sub, int(_ceil_half(self.mant_bits - self.var_frac))), int(
            _ceil_half(self.var_width - 1 - self.var_frac)
        )


def inv_sqrt_geometry(var_type: FixedType, table_bits: int, eps: float) -> InvSqrtGeometry:
    """The addressing of the 1/sqrt table for ``var_type`` and ``table_bits`` mantissa bits."""
    wv, fv = var_type.width, var_type.frac
    if wv < 2 or table_bits < 1:
        raise ValueError("layernorm: var_type needs at least 2 bits and table_bits at least 1")
    m = min(table_bits, wv - 1)
    k_sub = int(_ceil_half(m - 1 - fv))
    if eps > 0:  # keep 2^k / sqrt(0 + eps) within sqrt(2)
        k_sub = min(k_sub, math.floor(0.5 * math.log2(2.0 * eps)))
    return InvSqrtGeometry(wv, fv, m, k_sub)


def inv_sqrt_table(geo: InvSqrtGeometry, eps: float, entry_type: FixedType) -> np.ndarray:
    """The 1/sqrt(var + eps) table (raw entries of ``entry_type``), the one place it is computed.

    Addressing: a leading-one normalisation with a subnormal segment, as in floating point. Let V be the
    raw variance (W_v bits, F_v fractional) and p the position of its leading one. When V < 2^M (M =
    ``mant_bits``) the address is V itself (segment 0, every value exact). Otherwise the segment is
    p - M + 1 and the mantissa the M bits below the leading one: address = segment * 2^M + mantissa.
    The table has (W_v - M + 1) * 2^M entries and a relative resolution of 2^-M over the variance
    type's whole range. Entries are normalised by a power of two,

        entry = 2^k / sqrt(v_c + eps),    1/sqrt(var + eps) ~= entry * 2^-k,

    with k = ceil((p - F_v) / 2) in the normal segments (entries within (0, sqrt(2)]) and ``k_sub`` in
    the subnormal one; v_c is the centre of the bucket of variances that share the address. eps is
    folded into every entry, which is why each octave has its own segment. Entries beyond
    ``entry_type`` are clipped (only possible at eps = 0).
    """
    m, fv = geo.mant_bits, geo.var_frac
    seg = np.repeat(np.arange(geo.n_segments, dtype=np.int64), 1 << m)
    mant = np.tile(np.arange(1 << m, dtype=np.float64), geo.n_segments)
    p = seg + m - 1
    centre = np.where(seg > 0, ((1 << m) + mant + 0.5) * np.exp2(np.maximum(p - m, 0)) - 0.5, mant)
    k = np.where(seg > 0, _ceil_half(p - fv), geo.k_sub)
    with np.errstate(divide="ignore"):
        entry = np.exp2(k) / np.sqrt(np.ldexp(centre, -fv) + eps)
    return to_raw(np.clip(entry, entry_type.min, entry_type.max), entry_type)


# ---------------------------------------------------------------------------------------------------
@dataclass
class LayerNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis of ``[..., D]``."""

    kind: ClassVar[str] = "layernorm"
    gamma: np.ndarray = field(default_factory=lambda: np.ones(0))  #: float [D]
    beta: np.ndarray = field(default_factory=lambda: np.zeros(0))  #: float [D]
    epsilon: float = 1e-3  #: added to the variance (Keras LayerNormalization's default)
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: types fixed by QKeras quantizers
    scale_bits: int = 18  #: fractional bits of 1/D when D is not a power of two
    geometry: InvSqrtGeometry | None = None  #: addressing of the 1/sqrt table, set at typing time
    gamma_raw: np.ndarray | None = None
    beta_raw: np.ndarray | None = None
    table_raw: np.ndarray | None = None
    c_raw: int = 0  #: 1/D = c_raw * 2^-c_frac
    c_frac: int = 0
    #: how the squares (x - mean)^2 are bound under the latency strategy: lut or dsp (the layer's
    #: ``multiplier``; ``auto`` resolved once at typing by :func:`hlsgen.fixed.cmm.gated_product_wins` over
    #: the operand ranges the RTL builds, which every backend then reads); None under the resource strategy
    binding: Multiplier | None = None
    #: the same for the products (x - mean) x 1/sqrt (the entries of :meth:`scaled_inv_sqrt_table`)
    scale_binding: Multiplier | None = None

    @property
    def n_feat(self) -> int:
        return int(np.asarray(self.gamma).shape[0])

    # -- typing -------------------------------------------------------------------------------------
    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        shape = graph.tensors[self.inputs[0]].shape
        d = shape[-1]
        if self.n_feat != d or np.shape(self.beta) != (d,):
            raise ValueError(f"layernorm {self.name}: gamma and beta must have {d} values (the last axis)")
        cfg: LayerNormConfig = resolve.layernorm(self)
        tx, ty = self.in_type(graph), self.out_type(graph)
        lg = max(int(d - 1).bit_length(), 0)  # ceil(log2(D))
        self.c_raw, self.c_frac = scale_constant(1.0 / d, self.scale_bits) if d > 1 else (1, 0)
        sc_bits = max(self.c_raw.bit_length(), 1)
        ts = FixedType(sc_bits, sc_bits - self.c_frac, False)
        sum_i = tx.integer + lg + (0 if tx.signed else 1)
        tsum = FixedType(sum_i + tx.frac, sum_i, True)
        if cfg.mean_type:
            tm = FixedType.parse(cfg.mean_type)
        else:  # exact for a power-of-two D, else rounded to lg bits below the input's LSB
            tm = FixedType(tx.width + lg, tx.integer, tx.signed, Rounding.RND, Overflow.SAT)
        tdiff = sub_type(tx, tm)
        bound = d * (max(abs(tdiff.raw_min), tdiff.raw_max) ** 2)
        tsq = exact_accumulator(bound, 2 * tdiff.frac)
        tv = FixedType.parse(cfg.var_type)
        if tv.signed:
            raise ValueError(f"layernorm {self.name}: var_type {tv} must be unsigned (ap_ufixed)")
        tt = FixedType.parse(cfg.inv_sqrt_type)
        tn = FixedType.parse(cfg.norm_type)
        self.geometry = inv_sqrt_geometry(tv, cfg.table_bits, float(self.epsilon))
        self.table_raw = inv_sqrt_table(self.geometry, float(self.epsilon), tt)
        k_min, k_max = self.geometry.k_range
        tp = mul_type(tdiff, tt)
        fw = tp.frac + max(k_max, 0)
        iw = tp.integer + max(-k_min, 0)
        tg = resolve.slot(self, "weight")
        tb = resolve.slot(self, "bias")
        self.gamma_raw = to_raw(np.asarray(self.gamma, dtype=np.float64), tg)
        self.beta_raw = to_raw(np.asarray(self.beta, dtype=np.float64), tb)
        self.reuse_factor = resolve.reuse(self)
        self.types.update(
            x=tx,
            y=ty,
            sum=tsum,
            scale=ts,
            mean=tm,
            diff=tdiff,
            sq=tsq,
            var=tv,
            table=tt,
            wide=FixedType(fw + iw, iw, tp.signed),
            norm=tn,
            weight=tg,
            bias=tb,
        )
        setting = resolve.binding(self)
        self.binding = self.scale_binding = setting
        if setting is Multiplier.AUTO:  # decided once, here, on the ranges the RTL builds
            dr = self.diff_range()
            inv = (0, max(self.scaled_inv_sqrt_table()[0]))
            self.binding = Multiplier.LUT if gated_product_wins(dr, dr) else Multiplier.DSP
            self.scale_binding = Multiplier.LUT if gated_product_wins(dr, inv) else Multiplier.DSP

    def bindings(self) -> tuple[Multiplier, ...]:
        return tuple(m for m in (self.binding, self.scale_binding) if m is not None)

    def diff_range(self) -> tuple[int, int]:
        """The range of ``x - mean`` in raw units of ``types['diff']``, from the input's and the mean's
        types (what the latency RTL builds; ``types['diff']`` may be wider)."""
        tx, tm, fd = self.types["x"], self.types["mean"], self.types["diff"].frac
        sha, shb = fd - tx.frac, fd - tm.frac
        return (tx.raw_min << sha) - (tm.raw_max << shb), (tx.raw_max << sha) - (tm.raw_min << shb)

    def scaled_inv_sqrt_table(self) -> tuple[list[int], int]:
        """The 1/sqrt table with each entry shifted left by ``K - k`` (k its segment's power of two,
        K = max(k_max, 0)), and K: then (x - mean) * entry' has ``F_prod + K`` fractional bits in every
        segment, exactly the value the reference shifts into its ``wide`` type (the latency RTL's ROM,
        with no variable shift after the product)."""
        geo = self.geometry
        assert geo is not None and self.table_raw is not None
        m = geo.mant_bits
        big_k = max(geo.k_range[1], 0)
        out = []
        for addr, e in enumerate(np.asarray(self.table_raw).tolist()):
            seg = addr >> m
            k = -((-(seg + m - 1 - geo.var_frac)) // 2) if seg > 0 else geo.k_sub
            out.append(int(e) << (big_k - k))
        return out, big_k

    # -- execution ----------------------------------------------------------------------------------
    def forward_float(self, x: np.ndarray) -> tuple[np.ndarray]:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return ((x - mean) / np.sqrt(var + self.epsilon) * self.gamma + self.beta,)

    def execute(self, x: np.ndarray) -> tuple[np.ndarray]:
        y = self._execute_float(np.asarray(x))
        return (self._execute_exact(x) if y is None else y,)

    def _execute_float(self, x: np.ndarray) -> np.ndarray | None:
        """``execute`` with the row-wide steps in float64 where every value is an exact integer below
        2^52 (the types say so); None elsewhere. The per-row steps (mean, variance, table) are the
        exact ones of :meth:`_execute_exact`, on int64."""
        t = self.types
        assert self.geometry is not None
        tz_mul = mul_type(t["norm"], t["weight"])
        tz = add_type(tz_mul, t["bias"])
        tprod = mul_type(t["diff"], t["table"])
        kk_min, kk_max = (tprod.frac - t["norm"].frac + k for k in self.geometry.k_range)
        widths = (t["sum"].width, t["diff"].width, t["sq"].width, tprod.width - min(kk_min, 0), tz.width)
        if (
            x.dtype == object
            or x.size == 0
            or max(widths) > FLOAT_EXACT_BITS
            or kk_max > 52
            or not float_castable(t["wide"], t["norm"])
        ):
            return None
        d = x.shape[-1]
        ones = np.ones(d)
        c = np.int64(self.c_raw)
        xc = x.astype(np.float64)
        s = (xc.reshape(-1, d) @ ones).reshape(x.shape[:-1])  # exact sums
        p, tp = mul(s.astype(np.int64), t["sum"], c, t["scale"])
        mean = np.asarray(convert(p, tp, t["mean"])).astype(np.int64)
        fd = t["diff"].frac  # x - mean in raw units of diff (sub_type), exact
        xc *= 2.0 ** (fd - t["x"].frac)
        xc -= (mean.astype(np.float64) * 2.0 ** (fd - t["mean"].frac))[..., None]
        ss = (np.square(xc).reshape(-1, d) @ ones).reshape(x.shape[:-1])  # exact: below 2^(sq width)
        p, tp = mul(ss.astype(np.int64), t["sq"], c, t["scale"])
        var = np.asarray(convert(p, tp, t["var"])).astype(np.int64)
        inv, k = self.lookup(var)
        # the cast to norm_type of (x - mean) * entry * 2^-(F_prod + k), in norm LSBs: one factor per row;
        # (x - mean) * entry < 2^52 and the shift within 0..52, or the value an integer below 2^52
        kk = np.asarray(tprod.frac - t["norm"].frac + k).astype(np.int32)
        xc *= np.ldexp(inv.astype(np.float64), -kk)[..., None]
        z = cast_float(xc, t["norm"], as_float=True)  # the raw norm, in float64
        # gamma * norm + beta, exact in tz: the raw parameters aligned to tz's LSB
        z *= self.gamma_raw.astype(np.float64) * 2.0 ** (tz.frac - tz_mul.frac)
        z += self.beta_raw.astype(np.float64) * 2.0 ** (tz.frac - t["bias"].frac)
        return convert_float(z, tz, t["y"], tz.width, overwrite=True)

    def _execute_exact(self, x: np.ndarray) -> np.ndarray:
        t = self.types
        d = x.shape[-1]
        c = np.int64(self.c_raw)
        s = np.asarray(x).astype(np.int64).sum(axis=-1)
        p, tp = mul(s, t["sum"], c, t["scale"])
        mean = convert(p, tp, t["mean"])
        xc, tdiff = sub(x, t["x"], mean[..., None], t["mean"])
        assert tdiff == t["diff"]
        ss = linalg.einsum("...d,...d->...", xc, xc, d)
        p, tp = mul(ss, t["sq"], c, t["scale"])
        var = np.asarray(convert(p, tp, t["var"])).astype(np.int64)
        inv, k = self.lookup(var)
        prod, tprod = mul(xc, tdiff, inv[..., None], t["table"])
        # value = prod * 2^-(F_prod + k): in raw units of `wide` that is prod << (F_wide - F_prod - k) >= 0
        shift = t["wide"].frac - tprod.frac - k
        out = np.empty(prod.shape, dtype=np.int64 if t["wide"].width <= 61 else object)
        for sh in np.unique(shift):
            rows = shift == sh
            out[rows] = linalg.shift_left(np.asarray(prod[rows]), int(sh))
        norm = convert(out, t["wide"], t["norm"])
        z, tz = mul(norm, t["norm"], self.gamma_raw, t["weight"])
        z, tz = add(z, tz, self.beta_raw, t["bias"])
        return convert(z, tz, t["y"])

    def lookup(self, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Table entries and shifts k for raw variances: 1/sqrt(var + eps) ~= entry * 2^-k."""
        geo = self.geometry
        assert geo is not None and self.table_raw is not None
        m = geo.mant_bits
        p = leading_one(var, geo.var_width)
        normal = p >= m
        seg = np.where(normal, p - m + 1, 0)
        mant = np.where(normal, (var >> np.maximum(p - m, 0)) & ((1 << m) - 1), var)
        k = np.where(normal, _ceil_half(p - geo.var_frac), geo.k_sub)
        return self.table_raw[(seg << m) + mant], k

    # -- backends -----------------------------------------------------------------------------------
    def cost(self, graph: Graph) -> Cost:
        d = self.n_feat
        rows = graph.tensors[self.inputs[0]].size // d
        macs = rows * d * 3 + rows * 2  # squares, x * 1/sqrt, * gamma; two scalings by 1/D
        bits = 0 if self.table_raw is None else int(self.table_raw.size) * self.types["table"].width
        depth = 2 * int(math.ceil(math.log2(max(d, 2)))) + 8
        return Cost(
            macs=macs,
            multipliers=max(1, -(-macs // self.reuse_factor)),
            latency_cycles=depth + self.reuse_factor - 1,
            bram18=bram18_for_bits(bits),
            lut=rows * d * 24,
            mult_widths=(self.types["diff"].width, self.types["table"].width),  # (x - mean) * 1/sqrt
            param_bits=d * (self.types["weight"].width + self.types["bias"].width),
            ff=rows * d * (self.types["norm"].width + self.types["y"].width),
        )


__all__ = ["InvSqrtGeometry", "LayerNorm", "inv_sqrt_geometry", "inv_sqrt_table"]
