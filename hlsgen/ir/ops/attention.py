"""Attention primitives: scaled scores, masks and the probability-weighted context.

Layouts (other code depends on them): a projection output Q is ``[Tq, H*dk]`` with head-major columns
(column ``h*dk + j``); K is ``[Tk, Hkv*dk]``; V is ``[Tk, Hkv*dv]``; scores and probabilities are
``[H, Tq, Tk]``; the context is ``[Tq, H*dv]``, head-major; a mask is ``[Tq, Tk]`` of ``ap_uint<1>``,
1 = attend. Grouped-query attention: query head ``h`` reads key/value head ``h // (H // Hkv)``.

Exactness. Every dot product accumulates in a type wide enough for the largest sum the input *types*
allow (:func:`~hlsgen.ir.ops.basic.exact_accumulator`), so the accumulator holds the exact sum. The
score scale ``1/sqrt(dk)`` is a power of two when ``dk`` is a power of 4: it is then folded into the
fractional bits (the same bits read with ``shift`` more fractional bits, no multiplier); otherwise the
exact sum is multiplied once by the constant of :func:`attention_scale`, in the exact product type
``mul_type(accum, scale)``. Either way the only rounding is the final cast to the output type, which the
NumPy reference (:func:`~hlsgen.fixed.convert`) and the C++ assignment perform identically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...config import Multiplier
from ...fixed import FixedType, convert, linalg, mul, mul_type, to_raw
from ...fixed.arith import convert_float
from ...fixed.cmm import digit_product_wins
from .base import Cost, Op, multipliers_for
from .basic import exact_accumulator

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver

#: Type of every mask tensor: 1 = attend.
MASK_TYPE = FixedType(1, 1, False, is_int=True)

_HEADER = "hlsgen_attention.h"


def attention_scale(key_dim: int, bits: int = 18) -> tuple[float, int, int]:
    """The score scale ``1/sqrt(key_dim)`` that training and hardware share: ``(value, raw, frac)``.

    ``value == raw * 2**-frac`` exactly. When ``key_dim`` is a power of 4 (1 included) the scale is the
    power of two ``2**-frac`` (``raw == 1``); otherwise it is ``1/sqrt(key_dim)`` quantized to
    ``ap_ufixed<bits,0,AP_RND>`` (trailing zero bits dropped from ``raw``, which leaves the value as is).
    Pure NumPy, so that a Keras layer can import it without the rest of hlsgen needing TensorFlow.

    Raises:
        ValueError: ``key_dim < 1`` or ``bits`` outside 1..52.
    """
    if isinstance(key_dim, bool) or not isinstance(key_dim, (int, np.integer)) or key_dim < 1:
        raise ValueError(f"key_dim must be a positive integer, got {key_dim!r}")
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 52:
        raise ValueError(f"scale bits must be an integer in 1..52, got {bits!r}")
    key_dim, bits = int(key_dim), int(bits)
    e = key_dim.bit_length() - 1
    if key_dim == 1 << e and e % 2 == 0:  # a power of 4: 1/sqrt = 2^-(e/2)
        frac = e // 2
        return math.ldexp(1.0, -frac), 1, frac
    raw = int(to_raw(1.0 / math.sqrt(key_dim), FixedType(bits, 0, False, "AP_RND")))
    frac = bits
    if raw == 0:  # too few bits for the value: the hardware would multiply by zero
        raise ValueError(f"1/sqrt({key_dim}) rounds to 0 with {bits} fractional bits")
    while raw % 2 == 0:
        raw //= 2
        frac -= 1
    return math.ldexp(float(raw), -frac), raw, frac


def _check_heads(op: Op, num_heads: int, num_kv_heads: int) -> None:
    where = f"layer {op.origin or op.name}"
    if num_heads < 1 or num_kv_heads < 1:
        raise ValueError(f"{where}: num_heads ({num_heads}) and num_kv_heads ({num_kv_heads}) must be >= 1")
    if num_heads % num_kv_heads:
        raise ValueError(
            f"{where}: num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads}) "
            "for grouped-query attention"
        )


def kv_head_index(num_heads: int, num_kv_heads: int) -> np.ndarray:
    """Key/value head read by each query head: ``h // (num_heads // num_kv_heads)``."""
    return np.arange(num_heads) // (num_heads // num_kv_heads)


def _maxabs_raw(t: FixedType) -> int:
    return max(abs(t.raw_min), abs(t.raw_max))


def variable_binding(setting: Multiplier | None, ta: FixedType, tb: FixedType) -> Multiplier | None:
    """The binding of data-dependent products of types ``ta`` x ``tb`` (the latency RTL's digit rows):
    ``setting`` with ``auto`` resolved by :func:`hlsgen.fixed.cmm.digit_product_wins`; None stays None."""
    if setting is not Multiplier.AUTO:
        return setting
    wins = digit_product_wins((ta.raw_min, ta.raw_max), (tb.raw_min, tb.raw_max))
    return Multiplier.LUT if wins else Multiplier.DSP


def _clog2(n: int) -> int:
    return max(int(n) - 1, 0).bit_length()


def query_key_heads(
    q: np.ndarray, k: np.ndarray, num_heads: int, num_kv_heads: int, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """``q [B, Tq, H*dim]`` and ``k [B, Tk, Hkv*dim]`` as ``[B, T, H, dim]`` each: the key head of every
    query head (:func:`kv_head_index`) gathered."""
    q4 = q.reshape(q.shape[0], q.shape[1], num_heads, dim)
    k4 = k.reshape(k.shape[0], k.shape[1], num_kv_heads, dim)
    return q4, k4[:, :, kv_head_index(num_heads, num_kv_heads), :]


class ScaledScores:
    """The scale step of a score op (:class:`Scores`, :class:`~hlsgen.ir.ops.decode.LatentScores`): the
    exact sum in ``types['accum']`` times ``scale_raw * 2^-scale_frac``, then one cast to ``types['y']``.

    A power-of-two scale (``scale_raw == 1``) is folded into the fractional bits: the sum's bits read
    as ``types['shifted']``; any other scale is one exact multiplication by ``types['scale']``.
    """

    scale_raw: int
    scale_frac: int
    types: dict[str, FixedType]

    @property
    def scale_is_shift(self) -> bool:
        """True when the scale is a power of two, folded into the fractional bits."""
        return self.scale_raw == 1

    @property
    def scale(self) -> float:
        """The float scale (the same double training uses)."""
        return math.ldexp(float(self.scale_raw), -self.scale_frac)

    def _assign_scale_types(self, ta: FixedType) -> None:
        """``types['shifted']`` and ``types['scale']`` for the accumulator type ``ta``."""
        shift = self.scale_frac if self.scale_is_shift else 0
        # the exact sum read with `shift` more fractional bits: the scaled value, no multiplier
        self.types["shifted"] = FixedType(ta.width, ta.integer - shift, True)
        nbits = max(self.scale_raw.bit_length(), 1)
        self.types["scale"] = FixedType(nbits, nbits - self.scale_frac, False)

    def _scale_cast(self, acc: np.ndarray) -> np.ndarray:
        """The raw exact sums ``acc`` scaled and cast to ``types['y']``."""
        ty = self.types["y"]
        if self.scale_is_shift:
            return convert(acc, self.types["shifted"], ty)
        p, tp = mul(acc, self.types["accum"], np.int64(self.scale_raw), self.types["scale"])
        return convert(p, tp, ty)

    def _scale_cast_float(self, acc: np.ndarray, bits: int) -> np.ndarray:
        """:meth:`_scale_cast` of exact sums held in float64 (``|acc| < 2**bits <= 2**52``, overwritten):
        the scale multiplies in float64 while the product stays exact."""
        ty = self.types["y"]
        if self.scale_is_shift:
            return convert_float(acc, self.types["shifted"], ty, bits, overwrite=True)
        bits += self.scale_raw.bit_length()
        if bits > 53:  # the product could round
            return self._scale_cast(acc.astype(np.int64))
        tp = mul_type(self.types["accum"], self.types["scale"])
        return convert_float(acc, tp, ty, bits, scale=self.scale_raw, overwrite=True)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Scores(ScaledScores, Op):
    """Scaled dot-product scores ``S[h] = cast((Q_h K_g^T) * scale)``, ``g = h // (H // Hkv)``.

    Inputs ``[q, k]`` (``[Tq, H*dk]``, ``[Tk, Hkv*dk]``); output ``[H, Tq, Tk]``. The dot product is
    exact; a power-of-two scale is folded into the fractional bits, any other scale is one exact
    multiplication by the constant of :func:`attention_scale`; then one cast to the ``score`` type.
    """

    kind: ClassVar[str] = "scores"
    num_heads: int = 1  #: H, query heads
    num_kv_heads: int = 1  #: Hkv, key/value heads (H % Hkv == 0; 1 = multi-query attention)
    key_dim: int = 1  #: dk, per-head query/key width
    scale_bits: int = 18  #: fractional bits of a scale that is not a power of two
    role: str = "score"  #: config field of the output
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: types fixed by QKeras quantizers
    shift: int = 0  #: the scale is 2^-shift (when ``scale_raw == 1``)
    scale_raw: int = 1  #: the scale is scale_raw * 2^-scale_frac
    scale_frac: int = 0
    #: how the data-dependent products Q K^T are bound under the latency strategy: lut or dsp (the layer's
    #: ``multiplier``; ``auto`` resolved once at typing by :func:`hlsgen.fixed.cmm.digit_product_wins` over
    #: the q and k types, which every backend then reads); None under the resource strategy
    binding: Multiplier | None = None

    def __post_init__(self) -> None:
        _check_heads(self, self.num_heads, self.num_kv_heads)
        if self.key_dim < 1:
            raise ValueError(f"layer {self.origin or self.name}: key_dim must be >= 1, got {self.key_dim}")
        _, self.scale_raw, self.scale_frac = attention_scale(self.key_dim, self.scale_bits)
        self.shift = self.scale_frac if self.scale_raw == 1 else 0

    def shapes(self, graph: Graph) -> tuple[int, int]:
        q, k = (graph.tensors[t].shape for t in self.inputs)
        s = graph.tensors[self.outputs[0]].shape
        h, hk, dk = self.num_heads, self.num_kv_heads, self.key_dim
        where = f"layer {self.origin or self.name}"
        if len(q) != 2 or q[1] != h * dk:
            raise ValueError(f"{where}: query shape {q} is not [Tq, num_heads*key_dim = {h * dk}]")
        if len(k) != 2 or k[1] != hk * dk:
            raise ValueError(f"{where}: key shape {k} is not [Tk, num_kv_heads*key_dim = {hk * dk}]")
        if tuple(s) != (h, q[0], k[0]):
            raise ValueError(f"{where}: score shape {s} is not [H, Tq, Tk] = {(h, q[0], k[0])}")
        return int(q[0]), int(k[0])

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        self.shapes(graph)
        tq, tk = self.in_type(graph, 0), self.in_type(graph, 1)
        fa = tq.frac + tk.frac
        ta = exact_accumulator(self.key_dim * _maxabs_raw(tq) * _maxabs_raw(tk), fa)
        self.types.update(q=tq, k=tk, accum=ta)
        self._assign_scale_types(ta)
        self.reuse_factor = resolve.reuse(self)
        self.binding = variable_binding(resolve.binding(self), tq, tk)
        super().assign_types(graph, resolve)
        self.types["y"] = self.out_type(graph)

    def bindings(self) -> tuple[Multiplier, ...]:
        return (self.binding,) if self.binding is not None else ()

    def _split(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return query_key_heads(q, k, self.num_heads, self.num_kv_heads, self.key_dim)

    def forward_float(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray]:
        q4, k4 = self._split(q, k)
        return (np.einsum("bqhd,bkhd->bhqk", q4, k4) * self.scale,)

    def accumulate(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Exact sums ``Q_h K_g^T`` (raw, in ``types['accum']``), shape ``[B, H, Tq, Tk]``."""
        q4, k4 = self._split(q, k)
        return linalg.matmul(q4.transpose(0, 2, 1, 3), k4.transpose(0, 2, 3, 1))

    def execute(self, q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray]:
        y = self._execute_float(np.asarray(q), np.asarray(k))
        return (self._scale_cast(self.accumulate(q, k)) if y is None else y,)

    def _execute_float(self, q: np.ndarray, k: np.ndarray) -> np.ndarray | None:
        """``execute`` with the dot products in float64 BLAS where exact (linalg.matmul_float), else None."""
        if q.dtype == object or k.dtype == object:
            return None
        b, tq, tk = q.shape[0], q.shape[1], k.shape[1]
        hk, g, dk = self.num_kv_heads, self.num_heads // self.num_kv_heads, self.key_dim
        # query head h = kv * g + j reads key head kv: [B, Hkv, G, Tq, dk] @ [B, Hkv, 1, dk, Tk], no copies
        q5 = q.astype(np.float64).reshape(b, tq, hk, g, dk).transpose(0, 2, 3, 1, 4)
        k5 = k.astype(np.float64).reshape(b, tk, hk, 1, dk).transpose(0, 2, 3, 4, 1)
        r = linalg.matmul_float(q5, k5)
        if r is None:
            return None
        return self._scale_cast_float(r[0].reshape(b, self.num_heads, tq, tk), r[1])

    def n_mult(self, graph: Graph) -> int:
        """Multipliers after the reuse factor (dot products, plus the scale when not a shift)."""
        tq, tk = self.shapes(graph)
        n = self.num_heads * tq * tk
        return multipliers_for(n * self.key_dim + (0 if self.scale_is_shift else n), self.reuse_factor)

    def cost(self, graph: Graph) -> Cost:
        tq, tk = self.shapes(graph)
        macs = self.num_heads * tq * tk * self.key_dim
        # function pipelined at II = reuse factor: shared multipliers, an adder tree of depth
        # clog2(dk), a register each for product and cast, one more stage for the scale multiply
        lat = self.reuse_factor + _clog2(self.key_dim) + 2 + (0 if self.scale_is_shift else 1)
        n_mult = self.n_mult(graph)
        wq, wk, wa = self.types["q"].width, self.types["k"].width, self.types["accum"].width
        return Cost(
            macs=macs,
            multipliers=n_mult,
            latency_cycles=lat,
            lut=n_mult * wa,  # adder trees
            mult_widths=(max(wq, wk), min(wq, wk)),
            ff=n_mult * (wq + wk) + self.num_heads * tq * tk * self.types["y"].width,
        )


# ---------------------------------------------------------------------------------------------------
@dataclass
class Mask(Op):
    """The ``ap_uint<1>`` ``[Tq, Tk]`` attention mask (1 = attend).

    Causal: query ``i`` attends key ``j`` when ``j <= i + offset``; ``offset`` defaults to ``Tk - Tq``,
    so that with earlier tokens in front of the keys a query sees keys up to its own position. An
    explicit mask (one input, ``[Tq, Tk]``, nonzero = attend) is ANDed with it. With no input (causal
    only) the mask is a constant and ``execute`` returns it with a batch axis of 1, which broadcasts;
    ``shape`` must then be given for the float pass of calibration (typing checks it against the
    output tensor). A model input feeding the mask is typed ``ap_uint<1>`` by this op.
    """

    kind: ClassVar[str] = "mask"
    causal: bool = True  #: AND with the causal mask
    offset: int | None = None  #: causal offset (None = Tk - Tq)
    shape: tuple[int, ...] = ()  #: per-sample (Tq, Tk); needed before typing by a mask without inputs

    def __post_init__(self) -> None:
        if len(self.inputs) > 1:
            raise ValueError(
                f"layer {self.origin or self.name}: a mask takes at most one input (the explicit mask)"
            )
        if not self.causal and not self.inputs:
            raise ValueError(f"layer {self.origin or self.name}: a mask that is neither causal nor explicit")

    def shapes(self, graph: Graph) -> tuple[int, int]:
        s = graph.tensors[self.outputs[0]].shape
        where = f"layer {self.origin or self.name}"
        if len(s) != 2:
            raise ValueError(f"{where}: mask shape {s} is not [Tq, Tk]")
        if self.shape and tuple(self.shape) != tuple(s):
            raise ValueError(f"{where}: mask shape {tuple(self.shape)} differs from its output tensor's {s}")
        if self.inputs and tuple(graph.tensors[self.inputs[0]].shape) != tuple(s):
            raise ValueError(f"{where}: explicit mask shape {graph.tensors[self.inputs[0]].shape} is not {s}")
        return int(s[0]), int(s[1])

    def causal_offset(self, tq: int, tk: int) -> int:
        """The ``offset`` of ``j <= i + offset`` (``Tk - Tq`` unless set)."""
        return tk - tq if self.offset is None else int(self.offset)

    def causal_mask(self, tq: int, tk: int) -> np.ndarray:
        """Bool ``[Tq, Tk]``: ``j <= i + offset``."""
        off = self.causal_offset(tq, tk)
        return np.arange(tk)[None, :] <= np.arange(tq)[:, None] + off

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        self.shape = self.shapes(graph)
        if self.inputs:
            src = graph.tensors[self.inputs[0]]
            if src.name in graph.inputs:
                src.type = MASK_TYPE
            self.types["x"] = src.type
        graph.tensors[self.outputs[0]].type = MASK_TYPE
        self.types["y"] = MASK_TYPE

    def _combine(self, xs: tuple[np.ndarray, ...], shape: tuple[int, int]) -> np.ndarray:
        m = np.ones((1, *shape), dtype=bool)
        if self.causal:
            m = m & self.causal_mask(*shape)[None]
        if xs:
            m = m & (np.asarray(xs[0]) != 0)
        return m

    def _sample_shape(self, xs: tuple[np.ndarray, ...]) -> tuple[int, int]:
        if xs:
            return tuple(np.shape(xs[0])[1:])  # type: ignore[return-value]
        if len(self.shape) != 2:
            raise ValueError(
                f"layer {self.origin or self.name}: a causal mask without inputs needs shape=(Tq, Tk)"
            )
        return int(self.shape[0]), int(self.shape[1])

    def forward_float(self, *xs: np.ndarray) -> tuple[np.ndarray]:
        return (self._combine(xs, self._sample_shape(xs)).astype(np.float64),)

    def execute(self, *xs: np.ndarray) -> tuple[np.ndarray]:
        return (self._combine(xs, self._sample_shape(xs)).astype(np.int64),)

    def cost(self, graph: Graph) -> Cost:
        tq, tk = self.shapes(graph)
        if not self.inputs:
            return Cost()  # constants
        return Cost(latency_cycles=1, lut=tq * tk)


# ---------------------------------------------------------------------------------------------------
@dataclass
class Context(Op):
    """Probability-weighted values ``C[:, h] = cast(P_h V_g)``, ``g = h // (H // Hkv)``.

    Inputs ``[p, v]`` (``[H, Tq, Tk]``, ``[Tk, Hkv*dv]``); output ``[Tq, H*dv]`` head-major. The
    accumulator is exact for every value the input types allow; the only rounding is the final cast to
    the ``context`` type.
    """

    kind: ClassVar[str] = "context"
    num_heads: int = 1  #: H
    num_kv_heads: int = 1  #: Hkv
    value_dim: int = 1  #: dv, per-head value width
    role: str = "context"  #: config field of the output
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: types fixed by QKeras quantizers
    #: how the data-dependent products P V are bound under the latency strategy: lut or dsp (the layer's
    #: ``multiplier``; ``auto`` resolved once at typing by :func:`hlsgen.fixed.cmm.digit_product_wins` over
    #: the p and v types); None under the resource strategy
    binding: Multiplier | None = None

    def __post_init__(self) -> None:
        _check_heads(self, self.num_heads, self.num_kv_heads)
        if self.value_dim < 1:
            raise ValueError(
                f"layer {self.origin or self.name}: value_dim must be >= 1, got {self.value_dim}"
            )

    def shapes(self, graph: Graph) -> tuple[int, int]:
        p, v = (graph.tensors[t].shape for t in self.inputs)
        c = graph.tensors[self.outputs[0]].shape
        h, hk, dv = self.num_heads, self.num_kv_heads, self.value_dim
        where = f"layer {self.origin or self.name}"
        if len(p) != 3 or p[0] != h:
            raise ValueError(f"{where}: probability shape {p} is not [H = {h}, Tq, Tk]")
        if len(v) != 2 or v[0] != p[2] or v[1] != hk * dv:
            raise ValueError(
                f"{where}: value shape {v} is not [Tk = {p[2]}, num_kv_heads*value_dim = {hk * dv}]"
            )
        if tuple(c) != (p[1], h * dv):
            raise ValueError(f"{where}: context shape {c} is not [Tq, H*dv] = {(p[1], h * dv)}")
        return int(p[1]), int(p[2])

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        _, tk = self.shapes(graph)
        tp, tv = self.in_type(graph, 0), self.in_type(graph, 1)
        ta = exact_accumulator(tk * _maxabs_raw(tp) * _maxabs_raw(tv), tp.frac + tv.frac)
        self.types.update(p=tp, v=tv, accum=ta)
        self.reuse_factor = resolve.reuse(self)
        self.binding = variable_binding(resolve.binding(self), tp, tv)
        super().assign_types(graph, resolve)
        self.types["y"] = self.out_type(graph)

    def bindings(self) -> tuple[Multiplier, ...]:
        return (self.binding,) if self.binding is not None else ()

    def _split(self, v: np.ndarray) -> np.ndarray:
        v4 = v.reshape(v.shape[0], v.shape[1], self.num_kv_heads, self.value_dim)
        return v4[:, :, kv_head_index(self.num_heads, self.num_kv_heads), :]

    def forward_float(self, p: np.ndarray, v: np.ndarray) -> tuple[np.ndarray]:
        c = np.einsum("bhqk,bkhd->bqhd", p, self._split(v))
        return (c.reshape(c.shape[0], c.shape[1], -1),)

    def accumulate(self, p: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Exact sums ``P_h V_g`` (raw, in ``types['accum']``), shape ``[B, Tq, H*dv]``."""
        c = linalg.matmul(p, self._split(v).transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)  # [B, Tq, H, dv]
        return c.reshape(c.shape[0], c.shape[1], -1)

    def execute(self, p: np.ndarray, v: np.ndarray) -> tuple[np.ndarray]:
        y = self._execute_float(np.asarray(p), np.asarray(v))
        return (convert(self.accumulate(p, v), self.types["accum"], self.types["y"]) if y is None else y,)

    def _execute_float(self, p: np.ndarray, v: np.ndarray) -> np.ndarray | None:
        """``execute`` with the dot products in float64 BLAS where exact (linalg.matmul_float), else None."""
        if p.dtype == object or v.dtype == object:
            return None
        b, h, tq, tk = p.shape
        hk, g, dv = self.num_kv_heads, self.num_heads // self.num_kv_heads, self.value_dim
        # query head h = kv * g + j reads value head kv: [B, Hkv, G, Tq, Tk] @ [B, Hkv, 1, Tk, dv], written
        # through a view into the output layout [B, Tq, H, dv]
        c = np.empty((b, tq, hk, g, dv))
        p5 = p.astype(np.float64).reshape(b, hk, g, tq, tk)
        v5 = v.astype(np.float64).reshape(b, tk, hk, 1, dv).transpose(0, 2, 3, 1, 4)
        r = linalg.matmul_float(p5, v5, out=c.transpose(0, 2, 3, 1, 4))
        if r is None:
            return None
        return convert_float(
            c.reshape(b, tq, h * dv), self.types["accum"], self.types["y"], r[1], overwrite=True
        )

    def n_mult(self, graph: Graph) -> int:
        tq, tk = self.shapes(graph)
        return multipliers_for(self.num_heads * tq * self.value_dim * tk, self.reuse_factor)

    def cost(self, graph: Graph) -> Cost:
        tq, tk = self.shapes(graph)
        macs = self.num_heads * tq * tk * self.value_dim
        lat = self.reuse_factor + _clog2(tk) + 2  # shared multipliers, adder tree over Tk, cast
        n_mult = self.n_mult(graph)
        wp, wv, wa = self.types["p"].width, self.types["v"].width, self.types["accum"].width
        return Cost(
            macs=macs,
            multipliers=n_mult,
            latency_cycles=lat,
            lut=n_mult * wa,  # adder trees
            mult_widths=(max(wp, wv), min(wp, wv)),
            ff=n_mult * (wp + wv) + tq * self.num_heads * self.value_dim * self.types["y"].width,
        )


__all__ = ["MASK_TYPE", "Context", "Mask", "Scores", "attention_scale", "kv_head_index", "variable_binding"]
