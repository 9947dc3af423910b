"""Decode state: key/value and latent caches, and the decode mask (``j <= position``).

Caches are the only state. In the NumPy reference they are arrays ``[B, L, w]`` (``L`` = ``max_length``)
that a session holds and passes to :meth:`KVCache.step`; in HLS they are static arrays of the decode top
function. A cache stores its input exactly (same type), so a step reads back the values prefill computed
for the earlier tokens. The token's position is the graph input ``position`` (``[1]`` of
:func:`position_type`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...fixed import FixedType
from .base import Cost, Op

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def position_type(max_length: int) -> FixedType:
    """Type of the ``position`` input of a decode graph: ``ap_uint`` holding 0 .. max_length - 1."""
    bits = max(int(max_length - 1).bit_length(), 1)
    return FixedType(bits, bits, False, is_int=True)


def _where(op: Op) -> str:
    return f"layer {op.origin or op.name}"


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


__all__ = ["CacheContent", "DecodeOverflowError", "KVCache", "LatentCache", "PositionMask", "position_type"]
