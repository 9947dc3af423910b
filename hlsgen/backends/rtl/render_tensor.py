"""RTL renderings of the Keras front door's tensor ops: typed constants (a source of rows), embedding
lookups and token/feature transposes. The other ops of hlsgen.ir.ops.tensor (broadcast Binary, Concat,
Slice, GlobalMaxPool, BatchNorm) and Conv1D have no RTL yet: the table leaves them out, so the backend
names them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import timing
from .block import Block, Const, RtlOptions, op_label, pack, row_shape, sign_bit
from .casts import cast_params, check_cast

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op

#: largest table (bits) an embedding keeps as a packed parameter
MAX_TABLE_BITS = 1 << 20


def render_constant(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    rows, n = row_shape(graph, op.outputs[0])
    t = op.types["y"]
    init = Const(f"C_{op.name}", rows * n * t.width, pack(np.asarray(op.raw), t.width))
    params: dict[str, int | str] = {"W": t.width, "N": n, "ROWS": rows, "INIT": init.name}
    return Block(op.name, op.kind, "hlsgen_const", params, {}, op.outputs[0], timing.Source(rows), [init])


def render_embedding(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tx, tt, ty = op.types["x"], op.types["weight"], op.types["y"]
    check_cast(tt, ty, op_label(op))
    in_rows, t = row_shape(graph, op.inputs[0])
    if in_rows != 1:
        raise NotImplementedError(f"{op_label(op)}: the RTL embeds one sequence of token ids a row")
    bits = op.table_raw.size * tt.width
    if bits > MAX_TABLE_BITS:
        raise NotImplementedError(
            f"{op_label(op)}: a table of {bits} bits is past the {MAX_TABLE_BITS} the RTL keeps in logic"
        )
    table = Const(f"E_{op.name}", bits, pack(op.table_raw, tt.width))
    params: dict[str, int | str] = {
        "T": t,
        "V": op.vocab,
        "D": op.dim,
        "XW": tx.width,
        "TW": tt.width,
        "TF": tt.frac,
        "TS": sign_bit(tt),
        "TABLE": table.name,
        **cast_params("Y", ty),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_embedding",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.ReshapeModel(1, t),
        [table],
    )


def render_transpose(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    shape = graph.tensors[op.inputs[0]].shape
    if len(shape) != 2 or tuple(op.perm) != (1, 0):
        raise NotImplementedError(
            f"{op_label(op)}: the RTL swaps the rows and columns of [rows, values] sequences only, not "
            f"perm {tuple(op.perm)} of {shape}"
        )
    a, b = shape
    params: dict[str, int | str] = {"W": op.types["x"].width, "A": a, "B": b}
    return Block(
        op.name,
        op.kind,
        "hlsgen_transpose",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.ReshapeModel(a, b),
    )


__all__ = ["MAX_TABLE_BITS", "render_constant", "render_embedding", "render_transpose"]
