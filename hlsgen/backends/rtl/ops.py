"""The RTL rendering of each IR op, in one table: op kind -> the renderer that picks the hand-written
module of templates/rtl/lib, its parameters, the constants it reads (weights and tables: the very arrays the
NumPy reference indexes) and its timing model.

The renderers live by family in render_matrix (linear, scores, context), render_rows (element-wise and
row ops), render_norm (softmax, layer norm), render_decode (caches, position mask, RoPE) and render_tensor
(the Keras front door's constants, embeddings, broadcast arithmetic, slices, concatenation, transposes,
max pooling, BatchNorm and Conv1D); a renderer returns a block, or a list of blocks in stream order; the values
they return and their shared helpers in :mod:`.block`. An op kind without a renderer, or a setting a module
does not implement, raises :class:`NotImplementedError` naming the op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .block import Block, Const, RtlOptions, factor, op_label, pack, requested_par, rom
from .render_decode import render_kv_cache, render_position_mask, render_rope
from .render_matrix import render_context, render_latent_scores, render_linear, render_scores
from .render_norm import render_layernorm, render_softmax
from .render_rows import render_activation, render_add, render_avgpool, render_mask, render_reshape
from .render_tensor import (
    render_batchnorm,
    render_binary,
    render_concat,
    render_constant,
    render_conv1d,
    render_embedding,
    render_maxpool,
    render_slice,
    render_transpose,
)

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


#: op kind -> renderer (None: the op needs no hardware)
RENDERERS: dict[str, Callable[[Op, Graph, RtlOptions], Block | list[Block] | None]] = {
    "linear": render_linear,
    "activation": render_activation,
    "add": render_add,
    "reshape": render_reshape,
    "global_avg_pool": render_avgpool,
    "mask": render_mask,
    "softmax": render_softmax,
    "layernorm": render_layernorm,
    "scores": render_scores,
    "context": render_context,
    "exact_linear": render_linear,
    "block_linear": render_linear,
    "latent_scores": render_latent_scores,
    "exact_context": render_context,
    "rope": render_rope,
    "kv_cache": render_kv_cache,
    "latent_cache": render_kv_cache,
    "position_mask": render_position_mask,
    "constant": render_constant,
    "embedding": render_embedding,
    "transpose": render_transpose,
    "binary": render_binary,
    "slice": render_slice,
    "concat": render_concat,
    "global_max_pool": render_maxpool,
    "batchnorm": render_batchnorm,
    "conv1d": render_conv1d,
}


def render_op(op: Op, graph: Graph, opts: RtlOptions) -> Block | list[Block] | None:
    """The block of ``op``, or its blocks in stream order (a Conv1D: the window, then hlsgen_linear);
    None when the op is a pure re-labelling of a stream."""
    fn = RENDERERS.get(op.kind)
    if fn is None:
        raise NotImplementedError(
            f"{op_label(op)}: the RTL backend has no implementation of {op.kind!r} "
            f"(it renders {', '.join(sorted(RENDERERS))})"
        )
    return fn(op, graph, opts)


__all__ = ["RENDERERS", "Block", "Const", "RtlOptions", "factor", "pack", "render_op", "requested_par", "rom"]
