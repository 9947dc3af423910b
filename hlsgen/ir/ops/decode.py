"""Decoder primitives: rotary position embedding, key/value and latent caches, the decode mask, and the
pieces of multi-head latent attention (exact up-projections, two-part scores).

Layouts follow :mod:`hlsgen.ir.ops.attention`: token-major ``[T, width]`` with head-major columns. A
decode graph (:func:`hlsgen.quant.decode_pass.to_decode`) processes one token: row tensors are ``[1, w]``,
a cache output is ``[L, w]`` (``L`` = ``max_length``), scores are ``[H, 1, L]``, and the token's position
is the graph input ``position`` (``[1]`` of :func:`position_type`).

RoPE exactness. The cos/sin tables are computed once by :func:`rope_tables` (float64, the same function
the Keras layers call) and quantized to the table type; each rotated pair is ``a*cos - b*sin`` and
``b*cos + a*sin``: two exact products, an exact sum (``sub_type``/``add_type`` of the product type), one
cast to the output type. Dimensions past ``rope_dim`` in each head are cast unchanged.

Caches are the only state. In the NumPy reference they are arrays ``[B, L, w]`` that a session holds and
passes to :meth:`KVCache.step`; in HLS they are static arrays of the decode top function. A cache stores
its input exactly (same type), so a step reads back the values prefill computed for the earlier tokens.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...fixed import FixedType, convert, linalg, mul_type, sub_type, to_raw
from ...memory import bram18_for_bits
from .attention import Context, ScaledScores, _maxabs_raw, attention_scale, query_key_heads
from .base import Cost, Op, multipliers_for
from .basic import Linear, exact_accumulator

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver

_HEADER = "hlsgen_decode.h"


def position_type(max_length: int) -> FixedType:
    """Type of the ``position`` input of a decode graph: ``ap_uint`` holding 0 .. max_length - 1."""
    bits = max(int(max_length - 1).bit_length(), 1)
    return FixedType(bits, bits, False, is_int=True)


def _where(op: Op) -> str:
    return f"layer {op.origin or op.name}"


def _keep_accumulator(op: Op, graph: Graph) -> None:
    """The op's output takes its exact accumulator type: no rounding."""
    ta = op.types["accum"]
    graph.tensors[op.outputs[0]].type = ta
    op.types["y"] = ta


# ---------------------------------------------------------------------------------------------------
# RoPE
# ---------------------------------------------------------------------------------------------------
def rope_tables(n_positions: int, rope_dim: int, base: float = 10000.0) -> tuple[np.ndarray, np.ndarray]:
    """Float64 ``cos`` and ``sin`` tables ``[n_positions, rope_dim // 2]`` of rotary position embedding.

    Entry ``(p, i)`` is the angle ``p * base**(-2i / rope_dim)``: computed element by element, so that a
    row does not depend on how many rows the table has (decode and prefill share every row bit for bit).
    The one place the tables are computed: the Keras layers, the reference and the HLS writer read them.
    """
    if rope_dim < 2 or rope_dim % 2:
        raise ValueError(f"rope_dim must be a positive even number, got {rope_dim}")
    if n_positions < 1:
        raise ValueError(f"RoPE needs at least one position, got {n_positions}")
    inv_freq = np.power(float(base), -np.arange(0, rope_dim, 2, dtype=np.float64) / float(rope_dim))
    ang = np.arange(n_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    return np.cos(ang), np.sin(ang)


def _times(a: np.ndarray, b: np.ndarray, bits: int) -> np.ndarray:
    """Exact elementwise product of raw integers whose product needs ``bits`` bits."""
    if bits <= 62 and a.dtype != object and b.dtype != object:
        return a.astype(np.int64) * b.astype(np.int64)
    return a.astype(object) * b.astype(object)


@dataclass
class RoPE(Op):
    """Rotary position embedding over ``[T, n_heads * head_dim]`` (one token in decode).

    In each head, dimensions ``i`` and ``i + rope_dim/2`` (``i < rope_dim/2``, the half-split pairing of
    GPT-NeoX / Llama) rotate by the angle of the token's position; dimensions from ``rope_dim`` on pass
    through (cast to the output type). Prefill: token ``t`` is at position ``t`` (one input). Decode: a
    second input ``[1]`` holds the position of the token. The table covers ``n_positions`` positions
    (prefill: T; decode: max_length); entries of type ``table`` (a QKeras quantizer's type or the
    config's ``decode.rope_table_type``).
    """

    kind: ClassVar[str] = "rope"
    head_dim: int = 0  #: width of one head
    rope_dim: int = 0  #: rotated dimensions at the start of each head (even, <= head_dim)
    base: float = 10000.0  #: angle base
    n_positions: int = 0  #: table rows (0 = the input's row count)
    role: str = "result"  #: config field of the output (query, key, query_rope, key_rope, result)
    qtypes: dict[str, FixedType] = field(default_factory=dict)  #: ``table`` and the output type
    cos_raw: np.ndarray | None = None
    sin_raw: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.head_dim < 1:
            raise ValueError(f"{_where(self)}: RoPE head_dim must be >= 1, got {self.head_dim}")
        if self.rope_dim < 2 or self.rope_dim % 2 or self.rope_dim > self.head_dim:
            raise ValueError(
                f"{_where(self)}: rope_dim must be even, >= 2 and <= head_dim ({self.head_dim}), got {self.rope_dim}"
            )

    @property
    def decode(self) -> bool:
        return len(self.inputs) > 1

    def rows_width(self, graph: Graph) -> tuple[int, int]:
        s = graph.tensors[self.inputs[0]].shape
        if len(s) != 2 or s[1] % self.head_dim:
            raise ValueError(f"{_where(self)}: RoPE input shape {s} is not [T, n_heads*{self.head_dim}]")
        if tuple(graph.tensors[self.outputs[0]].shape) != tuple(s):
            raise ValueError(f"{_where(self)}: RoPE output shape differs from its input's {s}")
        return int(s[0]), int(s[1])

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        rows, _ = self.rows_width(graph)
        if self.n_positions < 1:
            self.n_positions = rows
        if not self.decode and self.n_positions < rows:
            raise ValueError(
                f"{_where(self)}: {rows} tokens but a RoPE table of {self.n_positions} positions"
            )
        from ...config import DecodeConfig

        tt = self.qtypes.get("table") or FixedType.parse(
            getattr(resolve.config, "decode", DecodeConfig()).rope_table_type
        )
        cos, sin = rope_tables(self.n_positions, self.rope_dim, self.base)
        self.cos_raw, self.sin_raw = to_raw(cos, tt), to_raw(sin, tt)
        tx = self.in_type(graph)
        tp = mul_type(tx, tt)
        self.types.update(x=tx, table=tt, prod=tp, sum=sub_type(tp, tp))
        if self.decode:
            self.types["pos"] = self.in_type(graph, 1)
        self.reuse_factor = resolve.reuse(self)
        super().assign_types(graph, resolve)
        self.types["y"] = self.out_type(graph)

    def _angles(self, x: np.ndarray, pos: np.ndarray | None, cos: np.ndarray, sin: np.ndarray):
        b, t = x.shape[0], x.shape[1]
        p = np.broadcast_to(np.arange(t)[None, :], (b, t))
        if pos is not None:
            p = np.asarray(pos).reshape(b, 1).astype(np.int64) + p
            if np.any(p >= self.n_positions) or np.any(p < 0):
                raise ValueError(
                    f"{_where(self)}: position {int(p.max())} outside the RoPE table of {self.n_positions}"
                )
        return cos[p][:, :, None, :], sin[p][:, :, None, :]  # [B, T, 1, r/2]

    def _heads(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], x.shape[1], -1, self.head_dim)

    def forward_float(self, x: np.ndarray, pos: np.ndarray | None = None) -> tuple[np.ndarray]:
        cos, sin = rope_tables(max(self.n_positions, x.shape[1]), self.rope_dim, self.base)
        c, s = self._angles(x, pos, cos, sin)
        h = self._heads(np.asarray(x, dtype=np.float64)).copy()
        r = self.rope_dim // 2
        a, b = h[..., :r].copy(), h[..., r : 2 * r].copy()
        h[..., :r] = a * c - b * s
        h[..., r : 2 * r] = b * c + a * s
        return (h.reshape(x.shape),)

    def execute(self, x: np.ndarray, pos: np.ndarray | None = None) -> tuple[np.ndarray]:
        t = self.types
        c, s = self._angles(x, pos, self.cos_raw, self.sin_raw)
        h = self._heads(np.asarray(x))
        r = self.rope_dim // 2
        a, b = h[..., :r], h[..., r : 2 * r]
        bits = t["sum"].width
        ya = _times(a, c, bits) - _times(b, s, bits)
        yb = _times(b, c, bits) + _times(a, s, bits)
        out = np.empty(h.shape, dtype=np.int64 if t["y"].width <= 61 else object)
        out[..., :r] = convert(ya, t["sum"], t["y"])
        out[..., r : 2 * r] = convert(yb, t["sum"], t["y"])
        if 2 * r < self.head_dim:
            out[..., 2 * r :] = convert(h[..., 2 * r :], t["x"], t["y"])
        return (out.reshape(np.shape(x)),)

    def cost(self, graph: Graph) -> Cost:
        rows, width = self.rows_width(graph)
        pairs = rows * (width // self.head_dim) * (self.rope_dim // 2)
        bits = 2 * self.cos_raw.size * self.types["table"].width if self.cos_raw is not None else 0
        return Cost(
            macs=4 * pairs,
            multipliers=max(1, -(-4 * pairs // self.reuse_factor)),
            latency_cycles=self.reuse_factor + 3,
            bram18=bram18_for_bits(bits),
        )


# ---------------------------------------------------------------------------------------------------
# caches and the decode mask
# ---------------------------------------------------------------------------------------------------
class CacheContent(enum.StrEnum):
    """What a cache holds (for reports)."""

    KEY = "key"
    VALUE = "value"
    LATENT = "latent"  #: the shared KV latent of multi-head latent attention
    ROPE_KEY = "rope_key"  #: the decoupled RoPE key of multi-head latent attention


class DecodeOverflowError(ValueError):
    """A decode session was asked for a token past its max_length (call reset())."""


@dataclass
class KVCache(Op):
    """A cache of ``max_length`` rows: the decode step writes its input row at ``position`` and outputs
    every row ``[L, w]`` (rows past the position hold stale values that the decode mask hides).

    In HLS the output is the cache itself: the call only writes the row, and the ops that read the output
    read the static array in place, row by row (``hlsgen.backends.hls.decode``).

    Inputs ``[x [1, w], position [1]]``; output ``[L, w]`` of the input's type (stored exactly). Stateful:
    :meth:`step` takes the cache array (raw integers ``[B, L, w]``) and updates it in place.
    """

    kind: ClassVar[str] = "kv_cache"
    max_length: int = 1  #: L, rows
    content: CacheContent = CacheContent.KEY  #: what the rows hold
    width: int = 0  #: values per row (set at typing)

    def __post_init__(self) -> None:
        self.content = CacheContent(self.content)
        if self.max_length < 1:
            raise ValueError(f"{_where(self)}: a cache needs max_length >= 1, got {self.max_length}")

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        s = graph.tensors[self.inputs[0]].shape
        if len(s) != 2 or s[0] != 1:
            raise ValueError(f"{_where(self)}: a cache takes one row [1, w], got {s}")
        if tuple(graph.tensors[self.outputs[0]].shape) != (self.max_length, s[1]):
            raise ValueError(f"{_where(self)}: cache output shape is not [{self.max_length}, {s[1]}]")
        self.width = int(s[1])
        t = self.in_type(graph)
        graph.tensors[self.outputs[0]].type = t
        self.types.update(x=t, y=t, pos=self.in_type(graph, 1))

    def init_state(self, batch: int) -> np.ndarray:
        """A zeroed cache ``[batch, L, w]`` of raw integers."""
        return np.zeros(
            (batch, self.max_length, self.width), dtype=np.int64 if self.types["x"].width <= 61 else object
        )

    def step(self, state: np.ndarray, x: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray]:
        """Write row ``x[b, 0]`` at ``pos[b]`` of ``state[b]``; return every row (a copy)."""
        p = np.asarray(pos).reshape(-1).astype(np.int64)
        if np.any(p >= self.max_length) or np.any(p < 0):
            raise DecodeOverflowError(
                f"{_where(self)}: position {int(p.max())} is past the cache's max_length {self.max_length}"
            )
        state[np.arange(state.shape[0]), p] = np.asarray(x)[:, 0]
        return (state.copy(),)

    def execute(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        raise TypeError(f"{self.name}: a cache is stateful; run it through a decode session (step)")

    def forward_float(self, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
        raise TypeError(f"{self.name}: a cache is stateful; run it through a decode session (step)")

    @property
    def cache_var(self) -> str:
        """Name of the static array of the decode top function."""
        return f"hlsgen_{self.name}"

    def cost(self, graph: Graph) -> Cost:
        return Cost(latency_cycles=1)  # one row, one memory word; the readers loop over the rows

    def bits(self) -> int:
        """Bits of the whole cache."""
        return self.max_length * self.width * self.types["x"].width


@dataclass
class LatentCache(KVCache):
    """The cache of multi-head latent attention: the shared KV latent or the decoupled RoPE key."""

    kind: ClassVar[str] = "latent_cache"
    content: CacheContent = CacheContent.LATENT


@dataclass
class PositionMask(Op):
    """The decode mask ``[1, L]``: key ``j`` is attended when ``j <= position`` (ap_uint<1>)."""

    kind: ClassVar[str] = "position_mask"
    max_length: int = 1

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        from .attention import MASK_TYPE

        if tuple(graph.tensors[self.outputs[0]].shape) != (1, self.max_length):
            raise ValueError(f"{_where(self)}: decode mask shape is not [1, {self.max_length}]")
        graph.tensors[self.outputs[0]].type = MASK_TYPE
        self.types.update(pos=self.in_type(graph), y=MASK_TYPE)

    def _mask(self, pos: np.ndarray) -> np.ndarray:
        p = np.asarray(pos).reshape(-1, 1).astype(np.int64)
        return (np.arange(self.max_length)[None, :] <= p)[:, None, :]

    def forward_float(self, pos: np.ndarray) -> tuple[np.ndarray]:
        return (self._mask(pos).astype(np.float64),)

    def execute(self, pos: np.ndarray) -> tuple[np.ndarray]:
        return (self._mask(pos).astype(np.int64),)


# ---------------------------------------------------------------------------------------------------
# multi-head latent attention
# ---------------------------------------------------------------------------------------------------
@dataclass
class BlockLinear(Linear):
    """A :class:`Linear` without bias whose kernel is block diagonal: ``blocks`` heads, each mapping its
    ``n_in / blocks`` inputs to its ``n_out / blocks`` outputs (decode's absorbed W_UK^T and W_UV).

    The reference multiplies by the whole kernel (the zero blocks add exactly 0; the accumulator type,
    from the kernel's column sums, is the same); the hardware stores and multiplies the blocks only.
    """

    kind: ClassVar[str] = "block_linear"
    blocks: int = 1  #: diagonal blocks (1 = a dense kernel)

    def __post_init__(self) -> None:
        if self.bias is not None:
            raise ValueError(f"{_where(self)}: {self.kind} has no bias")
        if self.blocks < 1 or self.n_in % self.blocks or self.n_out % self.blocks:
            raise ValueError(
                f"{_where(self)}: {self.blocks} blocks do not divide the kernel {self.kernel.shape}"
            )
        if self.blocks > 1:
            bi, bo = self.n_in // self.blocks, self.n_out // self.blocks
            mask = np.kron(np.eye(self.blocks), np.ones((bi, bo))) > 0
            if np.any(self.kernel[~mask] != 0):
                raise ValueError(f"{_where(self)}: the kernel is not block diagonal in {self.blocks} blocks")

    def block_raw(self) -> np.ndarray:
        """The raw weights of the diagonal blocks, ``[blocks * n_in/blocks, n_out/blocks]``."""
        b, bi, bo = self.blocks, self.n_in // self.blocks, self.n_out // self.blocks
        return np.concatenate([self.w_raw[k * bi : (k + 1) * bi, k * bo : (k + 1) * bo] for k in range(b)])

    def multipliers(self, rows: int) -> int:
        return max(1, -(-(self.n_in * self.n_out // self.blocks) // self.reuse_factor))

    def cost(self, graph: Graph) -> Cost:
        rows = graph.tensors[self.inputs[0]].size // self.n_in
        macs = rows * self.n_in * self.n_out // self.blocks
        return Cost(
            macs=macs, multipliers=self.multipliers(rows), latency_cycles=rows * self.reuse_factor + 2
        )


@dataclass
class ExactLinear(BlockLinear):
    """A :class:`BlockLinear` whose output keeps the exact accumulator type: no rounding.

    Multi-head latent attention's up-projections (W_UK, W_UV: ``num_heads`` heads of ``head_dim``
    columns, kernel ``[n_in, num_heads*head_dim]``) are exact, which is what lets decode absorb them
    (W_UK into the query, W_UV into the context) and still equal prefill bit for bit. Decode's absorbed
    query projection (``q_nope_h W_UK_h^T``, block diagonal) is one as well.
    """

    kind: ClassVar[str] = "exact_linear"
    num_heads: int = 1  #: heads of the output columns
    head_dim: int = 0  #: columns per head (0 = n_out / num_heads)

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        _keep_accumulator(self, graph)

    def absorbed_query_kernel(self) -> np.ndarray:
        """Block-diagonal ``[H*d, H*n_in]``: head ``h`` maps ``q_h`` to ``q_h W_h^T`` (W_UK folded into the query)."""
        h, d, n = self.num_heads, self.n_out // self.num_heads, self.n_in
        k = np.zeros((h * d, h * n))
        for i in range(h):
            k[i * d : (i + 1) * d, i * n : (i + 1) * n] = self.kernel[:, i * d : (i + 1) * d].T
        return k

    def absorbed_value_kernel(self) -> np.ndarray:
        """Block-diagonal ``[H*n_in, H*d]``: head ``h`` maps its latent context ``c_h`` to ``c_h W_h``."""
        h, d, n = self.num_heads, self.n_out // self.num_heads, self.n_in
        k = np.zeros((h * n, h * d))
        for i in range(h):
            k[i * n : (i + 1) * n, i * d : (i + 1) * d] = self.kernel[:, i * d : (i + 1) * d]
        return k


@dataclass
class ExactContext(Context):
    """A :class:`Context` whose output keeps the exact accumulator type (decode's latent context ``P C``)."""

    kind: ClassVar[str] = "exact_context"

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        super().assign_types(graph, resolve)
        _keep_accumulator(self, graph)


@dataclass
class LatentScores(ScaledScores, Op):
    """Two-part scaled scores of multi-head latent attention:
    ``S[h] = cast((A_h B_g^T + R_h K_r^T) * scale)``.

    Inputs ``[qa, ka, qr, kr]`` (``qr, kr`` absent when ``rope_dim == 0``): ``qa [Tq, H*a_dim]``,
    ``ka [Tk, a_kv_heads*a_dim]`` (head ``h`` reads ``g = h // (H // a_kv_heads)``), ``qr [Tq, H*rope_dim]``,
    ``kr [Tk, rope_dim]`` (one RoPE key shared by the heads). Prefill and recompute decode: ``a`` is the
    no-RoPE query and the up-projected keys (``a_kv_heads = H``); absorbed decode: the absorbed query
    ``q W_UK^T`` and the latent itself (``a_kv_heads = 1``, ``a_dim`` = latent size). Both sums are exact
    and added exactly, so both forms give the same value before the one cast; ``scale`` is
    :func:`attention_scale` of ``scale_dim`` (no-RoPE head size + rope_dim) in either form.
    """

    kind: ClassVar[str] = "latent_scores"
    num_heads: int = 1
    a_dim: int = 1
    a_kv_heads: int = 1
    rope_dim: int = 0
    scale_dim: int = 1
    scale_bits: int = 18
    role: str = "score"
    qtypes: dict[str, FixedType] = field(default_factory=dict)
    scale_raw: int = 1
    scale_frac: int = 0

    def __post_init__(self) -> None:
        if self.num_heads < 1 or self.a_kv_heads < 1 or self.num_heads % self.a_kv_heads:
            raise ValueError(
                f"{_where(self)}: num_heads ({self.num_heads}) must be a multiple of the key heads ({self.a_kv_heads})"
            )
        if self.a_dim < 1 or self.rope_dim < 0:
            raise ValueError(
                f"{_where(self)}: head sizes must be positive (a_dim {self.a_dim}, rope_dim {self.rope_dim})"
            )
        if len(self.inputs) != (4 if self.rope_dim else 2):
            raise ValueError(f"{_where(self)}: latent scores take {4 if self.rope_dim else 2} inputs")
        _, self.scale_raw, self.scale_frac = attention_scale(self.scale_dim, self.scale_bits)

    def shapes(self, graph: Graph) -> tuple[int, int]:
        sh = [graph.tensors[t].shape for t in self.inputs]
        h, a, g, r = self.num_heads, self.a_dim, self.a_kv_heads, self.rope_dim
        want = [(None, h * a), (None, g * a)] + ([(None, h * r), (None, r)] if r else [])
        for name, s, w in zip(("query", "key", "rope query", "rope key"), sh, want, strict=False):
            if len(s) != 2 or s[1] != w[1]:
                raise ValueError(f"{_where(self)}: {name} shape {s} is not [T, {w[1]}]")
        tq, tk = int(sh[0][0]), int(sh[1][0])
        if r and (sh[2][0] != tq or sh[3][0] != tk):
            raise ValueError(f"{_where(self)}: RoPE parts have {sh[2][0]} / {sh[3][0]} rows, not {tq} / {tk}")
        if tuple(graph.tensors[self.outputs[0]].shape) != (h, tq, tk):
            raise ValueError(f"{_where(self)}: score shape is not [H, Tq, Tk] = {(h, tq, tk)}")
        return tq, tk

    def assign_types(self, graph: Graph, resolve: TypeResolver) -> None:
        self.shapes(graph)
        ts = [self.in_type(graph, k) for k in range(len(self.inputs))]
        fa = ts[0].frac + ts[1].frac
        fr = ts[2].frac + ts[3].frac if self.rope_dim else fa
        f = max(fa, fr)
        bound = (self.a_dim * _maxabs_raw(ts[0]) * _maxabs_raw(ts[1])) << (f - fa)
        if self.rope_dim:
            bound += (self.rope_dim * _maxabs_raw(ts[2]) * _maxabs_raw(ts[3])) << (f - fr)
        ta = exact_accumulator(bound, f)
        self.types.update(qa=ts[0], ka=ts[1], accum=ta)
        if self.rope_dim:
            self.types.update(qr=ts[2], kr=ts[3])
        self._assign_scale_types(ta)
        self.reuse_factor = resolve.reuse(self)
        super().assign_types(graph, resolve)
        self.types["y"] = self.out_type(graph)

    def _pair(self, q: np.ndarray, k: np.ndarray, d: int, kv: int) -> tuple[np.ndarray, np.ndarray]:
        return query_key_heads(q, k, self.num_heads, kv, d)

    def forward_float(self, *xs: np.ndarray) -> tuple[np.ndarray]:
        q4, k4 = self._pair(xs[0], xs[1], self.a_dim, self.a_kv_heads)
        s = np.einsum("bqhd,bkhd->bhqk", q4, k4)
        if self.rope_dim:
            q4, k4 = self._pair(xs[2], xs[3], self.rope_dim, 1)
            s = s + np.einsum("bqhd,bkhd->bhqk", q4, k4)
        return (s * self.scale,)

    def accumulate(self, *xs: np.ndarray) -> np.ndarray:
        """Exact two-part sums (raw, in ``types['accum']``), ``[B, H, Tq, Tk]``."""
        t = self.types
        q4, k4 = self._pair(xs[0], xs[1], self.a_dim, self.a_kv_heads)
        acc = linalg.matmul(q4.transpose(0, 2, 1, 3), k4.transpose(0, 2, 3, 1))  # bqhd,bkhd->bhqk
        acc = linalg.shift_left(acc, t["accum"].frac - t["qa"].frac - t["ka"].frac)
        if self.rope_dim:
            q4, k4 = self._pair(xs[2], xs[3], self.rope_dim, 1)
            r = linalg.matmul(q4.transpose(0, 2, 1, 3), k4.transpose(0, 2, 3, 1))
            r = linalg.shift_left(r, t["accum"].frac - t["qr"].frac - t["kr"].frac)
            if acc.dtype != r.dtype:
                acc, r = acc.astype(object), r.astype(object)
            acc = acc + r
        return acc

    def execute(self, *xs: np.ndarray) -> tuple[np.ndarray]:
        return (self._scale_cast(self.accumulate(*xs)),)

    def n_mult(self, graph: Graph) -> int:
        """Multipliers after the reuse factor when the scores are plain grouped scores over the latent
        (no RoPE part): dot products, plus the scale when not a shift."""
        tq, tk = self.shapes(graph)
        n = self.num_heads * tq * tk
        return multipliers_for(n * self.a_dim + (0 if self.scale_is_shift else n), self.reuse_factor)

    def cost(self, graph: Graph) -> Cost:
        tq, tk = self.shapes(graph)
        macs = self.num_heads * tq * tk * (self.a_dim + self.rope_dim)
        return Cost(
            macs=macs, multipliers=max(1, -(-macs // self.reuse_factor)), latency_cycles=self.reuse_factor + 4
        )


__all__ = [
    "BlockLinear",
    "CacheContent",
    "DecodeOverflowError",
    "ExactContext",
    "ExactLinear",
    "KVCache",
    "LatentCache",
    "LatentScores",
    "PositionMask",
    "RoPE",
    "position_type",
    "rope_tables",
]
