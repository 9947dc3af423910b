"""RTL renderings of the Keras front door's tensor ops, one hand-written module each:

- ``constant``: hlsgen_const, a source repeating its rows (a position table, a class token);
- ``embedding``: hlsgen_embedding, table rows picked by token ids;
- ``binary``: hlsgen_binary, add/sub/mul of two row streams, an operand of one row (a constant vector)
  held over the rows or one value broadcast over a row, one cast;
- ``slice``: hlsgen_slice, rows kept along a leading axis (``x[:, 0]``) or values of each row;
- ``concat``: hlsgen_concat, rows of a then of b (a class token in front) or rows side by side (features);
- ``transpose``: hlsgen_transpose (the rows and columns of [rows, values] swapped), or hlsgen_rowperm for a
  permutation of the leading axes that keeps the last (patches); one moving the last axis of a rank-3+
  tensor is refused by name;
- ``global_max_pool``: hlsgen_maxpool; ``batchnorm``: hlsgen_affine (y = x * scale + shift, exact);
- ``conv1d``: hlsgen_window (K rows, zeros for 'same') in front of hlsgen_linear (two blocks); kernel 1
  without padding is the hlsgen_linear alone.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...fixed import add_type, mul_type, sub_type
from . import timing
from .block import Block, Const, RtlOptions, op_label, pack, row_shape, sign_bit
from .casts import cast_params, check_cast
from .render_matrix import linear_block

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
    # the first row is held from reset on, before the first input beat
    model = timing.Source(rows, first=0)
    return Block(op.name, op.kind, "hlsgen_const", params, {}, op.outputs[0], model, [init])


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


def render_transpose(op: Op, graph: Graph, opts: RtlOptions) -> Block | None:
    shape = tuple(graph.tensors[op.inputs[0]].shape)
    perm = tuple(op.perm)
    if perm == tuple(range(len(shape))):
        return None  # the identity: the same stream
    w = op.types["x"].width
    if len(shape) == 2:
        a, b = shape
        params: dict[str, int | str] = {"W": w, "A": a, "B": b}
        return Block(
            op.name,
            op.kind,
            "hlsgen_transpose",
            params,
            {"in": op.inputs[0]},
            op.outputs[0],
            timing.ReshapeModel(a, b),
        )
    if perm[-1] != len(shape) - 1:
        raise NotImplementedError(
            f"{op_label(op)}: the RTL swaps the rows and columns of [rows, values] sequences, or permutes "
            f"the leading axes keeping the last; not perm {perm} of {shape}"
        )
    lead = shape[:-1]
    rows = math.prod(lead)
    src = np.arange(rows).reshape(lead).transpose(perm[:-1]).reshape(-1)
    iw = max(1, (rows - 1).bit_length())
    table = Const(f"P_{op.name}", rows * iw, pack(src, iw))
    params = {"W": w, "N": shape[-1], "ROWS": rows, "IW": iw, "SRC": table.name}
    return Block(
        op.name,
        op.kind,
        "hlsgen_rowperm",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.ReshapeModel(rows, rows),
        [table],
    )


def _operand(graph: Graph, op: Op, k: int, rows: int, cols: int, want: tuple[int, int]) -> tuple[int, int]:
    """(rows, values) of operand ``k``'s stream, checked against its broadcast view ``want``."""
    got = row_shape(graph, op.inputs[k])
    if got != want or want[0] not in (1, rows) or want[1] not in (1, cols):
        raise NotImplementedError(
            f"{op_label(op)}: the RTL broadcasts an operand over the rows or over a row only; operand "
            f"{op.inputs[k]} streams {got[0]} rows of {got[1]} against {rows} rows of {cols}"
        )
    return got


def render_binary(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    from ...ir.ops.tensor import BinaryKind

    ta, tb, ty = op.types["a"], op.types["b"], op.types["y"]
    rows, cols, da, db = op.dims(graph)
    (ra, ca), (rb, cb) = _operand(graph, op, 0, rows, cols, da), _operand(graph, op, 1, rows, cols, db)
    ae, be = ta.width + (not ta.signed), tb.width + (not tb.signed)
    if op.operation is BinaryKind.MUL:
        ts = mul_type(ta, tb)
        sw, sf, code = ae + be, ta.frac + tb.frac, 2
    else:
        ts = (add_type if op.operation is BinaryKind.ADD else sub_type)(ta, tb)
        sw, sf, code = ts.width + 2, ts.frac, 0 if op.operation is BinaryKind.ADD else 1
    check_cast(ts, ty, op_label(op))
    params: dict[str, int | str] = {
        "N": cols,
        "ROWS": rows,
        "OP": code,
        "A_N": ca,
        "A_ROWS": ra,
        "AW": ta.width,
        "AF": ta.frac,
        "AS": sign_bit(ta),
        "B_N": cb,
        "B_ROWS": rb,
        "BW": tb.width,
        "BF": tb.frac,
        "BS": sign_bit(tb),
        "SW": sw,
        "SF": sf,
        **cast_params("Y", ty),
    }
    held = tuple(p for p, r in (("a", ra), ("b", rb)) if r == 1)
    return Block(
        op.name,
        op.kind,
        "hlsgen_binary",
        params,
        {"a": op.inputs[0], "b": op.inputs[1]},
        op.outputs[0],
        timing.BroadcastPipe(["a", "b"], rows, held),
        multipliers=cols if code == 2 else 0,
    )


def render_slice(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    shape = tuple(graph.tensors[op.inputs[0]].shape)
    rows, n = row_shape(graph, op.inputs[0])
    ax = op.axis % len(shape)
    if ax == len(shape) - 1:  # values of every row
        keep = [True] * rows
        geo = {"ON": op.stop - op.start, "C0": op.start, "A": 1, "INNER": 1, "START": 0, "STOP": 1}
    else:  # rows along a leading axis
        inner = math.prod(shape[ax + 1 : -1])
        keep = [op.start <= (r // inner) % shape[ax] < op.stop for r in range(rows)]
        geo = {"ON": n, "C0": 0, "A": shape[ax], "INNER": inner, "START": op.start, "STOP": op.stop}
    out = row_shape(graph, op.outputs[0])
    if out != (sum(keep), geo["ON"]):
        raise NotImplementedError(
            f"{op_label(op)}: the RTL slice keeps the rows of the stream; taking {op.start}:{op.stop} of axis "
            f"{ax} of {shape} with squeeze={op.squeeze} makes rows of {out[1]} values"
        )
    params: dict[str, int | str] = {"W": op.types["x"].width, "N": n, **geo}
    return Block(
        op.name,
        op.kind,
        "hlsgen_slice",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.SliceModel(keep),
    )


def render_concat(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    ta, tb, ty = op.types["a"], op.types["b"], op.types["y"]
    check_cast(ta, ty, op_label(op))
    check_cast(tb, ty, op_label(op))
    ax = op.norm_axis(graph)
    sa, sb, so = (tuple(graph.tensors[t].shape) for t in (*op.inputs, op.outputs[0]))
    ra, na = row_shape(graph, op.inputs[0])
    rb, nb = row_shape(graph, op.inputs[1])
    rowwise = ax < len(so) - 1
    params: dict[str, int | str] = {"ROWWISE": int(rowwise), "NA": na, "NB": nb}
    if rowwise:
        groups = math.prod(so[:ax])
        model: timing.BlockModel = timing.ConcatRows(groups, ra // groups, rb // groups)
        params.update(RA=ra // groups, RB=rb // groups, N=na)
    else:
        model = timing.RowPipe(["a", "b"], ra)
        params.update(RA=1, RB=1, N=na + nb)
    params.update(
        AW=ta.width,
        AF=ta.frac,
        AS=sign_bit(ta),
        BW=tb.width,
        BF=tb.frac,
        BS=sign_bit(tb),
        **cast_params("Y", ty),
    )
    return Block(
        op.name,
        op.kind,
        "hlsgen_concat",
        params,
        {"a": op.inputs[0], "b": op.inputs[1]},
        op.outputs[0],
        model,
    )


def render_maxpool(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    shape = graph.tensors[op.inputs[0]].shape
    if len(shape) != 2:
        raise NotImplementedError(f"{op_label(op)}: the RTL pools [T, D] inputs only, not {tuple(shape)}")
    t, d = shape
    tx = op.types["x"]
    params: dict[str, int | str] = {"T": t, "D": d, "W": tx.width, "S": sign_bit(tx)}
    return Block(
        op.name, op.kind, "hlsgen_maxpool", params, {"in": op.inputs[0]}, op.outputs[0], timing.PoolModel(t)
    )


def render_batchnorm(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tx, tw, tb, ty = (op.types[k] for k in ("x", "weight", "bias", "y"))
    ts = add_type(mul_type(tx, tw), tb)
    check_cast(ts, ty, op_label(op))
    rows, d = row_shape(graph, op.inputs[0])
    scale = Const(f"S_{op.name}", d * tw.width, pack(np.asarray(op.scale_raw), tw.width))
    shift = Const(f"H_{op.name}", d * tb.width, pack(np.asarray(op.shift_raw), tb.width))
    params: dict[str, int | str] = {
        "D": d,
        "XW": tx.width,
        "XF": tx.frac,
        "XS": sign_bit(tx),
        "WW": tw.width,
        "WF": tw.frac,
        "WS": sign_bit(tw),
        "BW": tb.width,
        "BF": tb.frac,
        "BS": sign_bit(tb),
        "SW": ts.width + 3,
        "SF": ts.frac,
        "SCALE": scale.name,
        "SHIFT": shift.name,
        **cast_params("Y", ty),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_affine",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.RowPipe(["in"], rows),
        [scale, shift],
        multipliers=d,
    )


def render_conv1d(op: Op, graph: Graph, opts: RtlOptions) -> Block | list[Block]:
    shape = graph.tensors[op.inputs[0]].shape
    if len(shape) != 2:
        raise NotImplementedError(f"{op_label(op)}: the RTL convolves [T, C] inputs only, not {tuple(shape)}")
    t_in, t_out = op.tokens(graph)
    k, (pl, pr) = op.kernel_size, op.pads()
    if k == 1 and pl == pr == 0:
        return linear_block(op, graph, opts, op.inputs[0], t_in)
    tx = op.types["x"]
    c = op.channels_in
    win = f"{op.name}_window"
    params: dict[str, int | str] = {"W": tx.width, "C": c, "T": t_in, "K": k, "PL": pl, "PR": pr}
    window = Block(
        win,
        op.kind,
        "hlsgen_window",
        params,
        {"in": op.inputs[0]},
        win,
        timing.WindowModel(t_in, k, pl, pr),
        stream=(t_out, k * c, tx),
    )
    return [window, linear_block(op, graph, opts, win, t_out)]


__all__ = [
    "MAX_TABLE_BITS",
    "render_batchnorm",
    "render_binary",
    "render_concat",
    "render_constant",
    "render_conv1d",
    "render_embedding",
    "render_maxpool",
    "render_slice",
    "render_transpose",
]
