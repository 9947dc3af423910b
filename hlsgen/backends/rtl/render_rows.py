"""RTL renderings of the row-wise ops (activation, add, reshape, average pooling, mask)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...fixed import add_type, mul_type
from . import timing
from .block import (
    Block,
    Const,
    RtlOptions,
    op_label,
    pack,
    row_shape,
    sign_bit,
)
from .casts import cast_params, check_cast

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


def render_activation(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    from ...ir.ops.basic import ActivationKind

    tx, ty = op.types["x"], op.types["y"]
    rows, n = row_shape(graph, op.inputs[0])
    kind = op.act_kind
    consts: list[Const] = []
    params: dict[str, int | str] = {"N": n, "XW": tx.width, "XF": tx.frac, "XS": sign_bit(tx)}
    if kind is ActivationKind.TABLE:
        tt = op.types["table"]
        check_cast(tt, ty, op_label(op))
        consts.append(Const(f"T_{op.name}", op.table_raw.size * tt.width, pack(op.table_raw, tt.width)))
        params.update(
            KIND=2, TB=op.table_bits, TW=tt.width, TF=tt.frac, TS=sign_bit(tt), T_INIT=consts[0].name
        )
    else:
        check_cast(tx, ty, op_label(op))
        params["KIND"] = 1 if kind is ActivationKind.RELU else 0
    params.update(cast_params("Y", ty))
    return Block(
        op.name,
        op.kind,
        "hlsgen_act",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.RowPipe(["in"], rows),
        consts,
    )


def render_add(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    ta, tb, ty = op.types["a"], op.types["b"], op.types["y"]
    ts = add_type(ta, tb)
    check_cast(ts, ty, op_label(op))
    rows, n = row_shape(graph, op.inputs[0])
    # hlsgen_binary with OP 0 and neither operand broadcast: both taken every row (its row counter is
    # then dead logic), the same datapath and output register as an add of its own would have
    params: dict[str, int | str] = {
        "N": n,
        "ROWS": rows,
        "OP": 0,
        "A_N": n,
        "A_ROWS": rows,
        "AW": ta.width,
        "AF": ta.frac,
        "AS": sign_bit(ta),
        "B_N": n,
        "B_ROWS": rows,
        "BW": tb.width,
        "BF": tb.frac,
        "BS": sign_bit(tb),
        "SW": ts.width + 1,
        "SF": ts.frac,
        **cast_params("Y", ty),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_binary",
        params,
        {"a": op.inputs[0], "b": op.inputs[1]},
        op.outputs[0],
        timing.BroadcastPipe(["a", "b"], rows),
    )


def render_reshape(op: Op, graph: Graph, opts: RtlOptions) -> Block | None:
    in_rows, in_n = row_shape(graph, op.inputs[0])
    out_rows, out_n = row_shape(graph, op.outputs[0])
    if in_n == out_n:
        return None  # the same rows: the output tensor is the input stream
    t = op.types["x"]
    params: dict[str, int | str] = {
        "W": t.width,
        "IN_N": in_n,
        "IN_ROWS": in_rows,
        "OUT_N": out_n,
        "OUT_ROWS": out_rows,
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_reshape",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.ReshapeModel(in_rows, out_rows),
    )


def render_avgpool(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tx, ts, tc, ty = (op.types[k] for k in ("x", "sum", "scale", "y"))
    check_cast(mul_type(ts, tc), ty, op_label(op))
    t, d = graph.tensors[op.inputs[0]].shape[-2:]
    if len(graph.tensors[op.inputs[0]].shape) != 2:
        raise NotImplementedError(f"{op_label(op)}: the RTL pools [T, D] inputs only")
    params: dict[str, int | str] = {
        "T": t,
        "D": d,
        "XW": tx.width,
        "XS": sign_bit(tx),
        "XF": tx.frac,
        "SW": ts.width + 1,
        "C_W": tc.width,
        "C_F": op.c_frac,
        "C_RAW": f"{tc.width}'d{op.c_raw}",
        **cast_params("Y", ty),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_avgpool",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.PoolModel(t, pipe=3),
        # the sum times 1/T in two halves where the sum is wider than 17 bits (hlsgen_avgpool's LO)
        multipliers=d * (2 if ts.width + 1 > 17 else 1),
    )


def render_mask(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tq, tk = op.shapes(graph)
    params: dict[str, int | str] = {
        "TQ": tq,
        "TK": tk,
        "HAS_INPUT": int(bool(op.inputs)),
        "CAUSAL": int(op.causal),
        "OFFSET": op.causal_offset(tq, tk),
    }
    if op.inputs:
        tx = graph.tensors[op.inputs[0]].type
        if tx is None or tx.width != 1:
            raise NotImplementedError(
                f"{op_label(op)}: the RTL takes masks of single bits (ap_uint<1>), not {tx}"
            )
        model: timing.BlockModel = timing.RowPipe(["in"], tq)
        inputs = {"in": op.inputs[0]}
    else:
        model = timing.Source(tq)
        inputs = {}
    return Block(op.name, op.kind, "hlsgen_mask", params, inputs, op.outputs[0], model)
