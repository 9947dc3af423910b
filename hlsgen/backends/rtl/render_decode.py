"""RTL renderings of the decode ops (KV / latent cache, position mask) and rotary position embedding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import timing
from .block import (
    Block,
    RtlOptions,
    op_label,
    requested_par,
    rom,
    sign_bit,
)
from .casts import cast_params, check_cast

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


def render_kv_cache(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """A decode cache (key, value, latent or RoPE key rows): hlsgen_kv_cache, fed by the decode top's
    position stream. It streams its L rows every step; where its one reader is a scores engine's K
    operand or a context engine's V operand, :func:`..design.link_caches` makes that reader read the rows
    in place instead (latent caches keep the stream form)."""
    tx, tp = op.types["x"], op.types["pos"]
    depth = 3  # a read's credit returns 3 cycles after it issued: 3 slots keep one read a cycle
    return Block(
        op.name,
        op.kind,
        "hlsgen_kv_cache",
        {"L": op.max_length, "RW": op.width * tx.width, "PW": tp.width, "OUT_DEPTH": depth},
        {"x": op.inputs[0], "pos": op.inputs[1]},
        op.outputs[0],
        timing.CacheModel(op.max_length, depth),
        # the in-place read port, unused in the stream form (design.link_caches sets LINK)
        links={"rd_addr": "'0", "rd_en": "1'b0", "rd_data": ""},
        info={"rows": op.max_length, "bits": op.bits()},
    )


def render_position_mask(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """The decode mask ``j <= position``: hlsgen_position_mask, one row a step from the position stream."""
    return Block(
        op.name,
        op.kind,
        "hlsgen_position_mask",
        {"L": op.max_length, "PW": op.types["pos"].width},
        {"pos": op.inputs[0]},
        op.outputs[0],
        timing.RowPipe(["pos"], 1),
    )


def _rope_depth(g: int) -> int:
    """Output slots of hlsgen_rope for rows of ``g`` issue cycles: a row is visible 2 cycles after its
    last issue and its credit returns the cycle after it is taken."""
    return max(2, -(-3 // max(g, 1)) + 1)


def render_rope(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """Rotary position embedding: hlsgen_rope, LANES pairs a cycle, the cos/sin rows in one ROM (the
    reference's ``cos_raw`` / ``sin_raw``). Prefill: a row's position is its index; decode: the ``pos``
    input (one row per sequence) holds the position of the first row."""
    tx, tt, ts, ty = (op.types[k] for k in ("x", "table", "sum", "y"))
    assert op.cos_raw is not None and op.sin_raw is not None
    where = op_label(op)
    rows, width = op.rows_width(graph)
    check_cast(ts, ty, where)
    if op.rope_dim < op.head_dim:
        check_cast(tx, ty, where)
    n_heads, half = width // op.head_dim, op.rope_dim // 2
    n_pairs = n_heads * half
    lanes = requested_par(op, rows * n_pairs, opts, n_pairs)
    g = -(-n_pairs // lanes)
    n_pos = op.n_positions if op.decode else rows  # prefill reads positions 0 .. rows-1 only
    paw = max(1, (n_pos - 1).bit_length())
    inputs = {"x": op.inputs[0]}
    pos_w = paw
    if op.decode:
        tp = graph.tensors[op.inputs[1]].type
        if tp is None or tp.signed or tp.frac != 0 or tp.width != paw:
            raise NotImplementedError(
                f"{where}: the RTL reads the position as ap_uint<{paw}> (position_type({n_pos})), not {tp}"
            )
        inputs["pos"] = op.inputs[1]
        pos_w = tp.width
    table = np.concatenate([np.asarray(op.cos_raw)[:n_pos], np.asarray(op.sin_raw)[:n_pos]], axis=1)
    consts = [rom(f"ROPE_{op.name}", table, tt.width, 2 * half)]
    depth = _rope_depth(g)
    params: dict[str, int | str] = {
        "NH": n_heads,
        "HD": op.head_dim,
        "RD": op.rope_dim,
        "T": rows,
        "DECODE": int(op.decode),
        "N_POS": n_pos,
        "POSW": pos_w,
        "LANES": lanes,
        "XW": tx.width,
        "XF": tx.frac,
        "XS": sign_bit(tx),
        "TW": tt.width,
        "TS": sign_bit(tt),
        "SF": tx.frac + tt.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "T_FILE": consts[0].name,
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_rope",
        params,
        inputs,
        op.outputs[0],
        timing.RopeModel(rows, g, depth, op.decode),
        consts,
        multipliers=4 * lanes,
        info={"lanes": lanes, "row_cycles": g},
    )
