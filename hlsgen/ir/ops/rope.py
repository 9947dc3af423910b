"""Rotary position embedding (RoPE), in prefill (``[T, width]``, position = row) and in decode (one row at
the graph input ``position``).

Exactness. The cos/sin tables are computed once by :func:`rope_tables` (float64, the same function the
Keras layers call) and quantized to the table type; each rotated pair is ``a*cos - b*sin`` and
``b*cos + a*sin``: two exact products, an exact sum (``sub_type``/``add_type`` of the product type), one
cast to the output type. Dimensions past ``rope_dim`` in each head are cast unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...fixed import FixedType, convert, mul_type, sub_type, to_raw
from ...memory import bram18_for_bits
from .base import Cost, Op

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def _where(op: Op) -> str:
    return f"layer {op.origin or op.name}"


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


__all__ = ["RoPE", "rope_tables"]
