"""The pieces of multi-head latent attention: block-diagonal and exact up-projections, the exact context,
and the two-part (latent + RoPE) scores.

Layouts follow :mod:`hlsgen.ir.ops.attention`: token-major ``[T, width]`` with head-major columns; in a
decode graph row tensors are ``[1, w]`` and scores ``[H, 1, L]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ...fixed import FixedType, linalg
from .attention import Context, ScaledScores, _maxabs_raw, attention_scale, query_key_heads
from .base import Cost, Op, multipliers_for
from .basic import Linear, exact_accumulator

if TYPE_CHECKING:
    from ..graph import Graph
    from .base import TypeResolver


def _where(op: Op) -> str:
    return f"layer {op.origin or op.name}"


def _keep_accumulator(op: Op, graph: Graph) -> None:
    """The op's output takes its exact accumulator type: no rounding."""
    ta = op.types["accum"]
    graph.tensors[op.outputs[0]].type = ta
    op.types["y"] = ta


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


__all__ = ["BlockLinear", "ExactContext", "ExactLinear", "LatentScores"]
