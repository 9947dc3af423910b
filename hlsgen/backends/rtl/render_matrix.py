"""RTL renderings of the matrix engines (hlsgen_linear, hlsgen_scores, hlsgen_context): parallelism
factored into SIMD x PE, weights as ROMs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...fixed import FixedType, mul_type
from . import timing
from .block import (
    Block,
    Const,
    RtlOptions,
    factor,
    mul2_low,
    op_label,
    out_depth,
    pack,
    requested_par,
    rom,
    row_shape,
    sign_bit,
    tree_latency,
)
from .casts import cast_params, check_cast

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


#: hlsgen_mac's operands registered once more before the multipliers (OREG), in every matrix engine: the
#: DSP48E2's A / B registers, so that no path runs from a memory's read register (a V / K bank or a
#: weight ROM in block RAM, a row read in place) through a multiplexer into a multiplier without one
#: (at T 1024 that path was the slowest, 4.37 ns by the delay model). One cycle more a row; II unchanged.
OREG = 1


def render_linear(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """Linear, and its block-diagonal (block_linear) and exact (exact_linear: the output type is the
    exact accumulator, so the cast is lossless) forms: hlsgen_linear, which stores and multiplies the
    diagonal blocks only."""
    return linear_block(op, graph, opts, op.inputs[0], row_shape(graph, op.inputs[0])[0])


def linear_block(op: Op, graph: Graph, opts: RtlOptions, source: str, rows: int) -> Block:
    """The hlsgen_linear of ``op`` reading ``rows`` rows of ``op.n_in`` values a sequence from the stream
    ``source`` (the op's input, or the window a Conv1D puts in front of it); a layer of ``strategy:
    latency`` inside a resource model (``op.engine``, set at typing) gets its unrolled engine instead
    (:mod:`.render_latency`); under the global latency strategy this row-streaming design shares its
    engines as a resource model does (the II = 1 design is :mod:`.latency`'s)."""
    if op.engine:
        from .render_latency import engine_block

        return engine_block(op, opts, source, rows)
    tx, tw, ta, ty = (op.types[k] for k in ("x", "weight", "accum", "y"))
    n_in, n_out = op.n_in, op.n_out
    blocks = int(getattr(op, "blocks", 1))
    bi, bo = n_in // blocks, n_out // blocks
    check_cast(ta, ty, op_label(op))
    par = requested_par(op, blocks * bi * bo, opts, bi * bo)
    simd, pe = factor(par, bi, bo)
    ni, no = -(-bi // simd), -(-bo // pe)
    wb = op.block_raw() if blocks > 1 else op.w_raw
    w = np.zeros((blocks, ni * simd, no * pe), dtype=np.int64)
    w[:, :bi, :bo] = np.asarray(wb, dtype=np.int64).reshape(blocks, bi, bo)
    # ROM word (b*NO + o)*NI + i, lane pe*SIMD + s = W_b[i*SIMD + s][o*PE + pe] (block b of the diagonal)
    words = w.reshape(blocks, ni, simd, no, pe).transpose(0, 3, 1, 4, 2).reshape(-1)
    ww = _weight_bits(w, sign_bit(tw))
    consts = [rom(f"W_{op.name}", words, ww, pe * simd)]
    has_bias = op.b_raw is not None
    tb = op.types.get("bias", tw)
    b = np.zeros((blocks, no * pe), dtype=np.int64)
    if has_bias:
        b[:, :bo] = np.asarray(op.b_raw, dtype=np.int64).reshape(blocks, bo)
    consts.append(Const(f"B_{op.name}", b.size * tb.width, pack(b, tb.width)))
    r = blocks * ni * no
    lv = max(0, int(opts.tree_levels))
    ts = tree_latency(simd, lv) + OREG  # stages of the SIMD sum tree in hlsgen_mac, its operand register
    depth = out_depth(r, 5 + ts)
    params: dict[str, int | str] = {
        "N_IN": n_in,
        "N_OUT": n_out,
        "SIMD": simd,
        "PE": pe,
        "XW": tx.width,
        "XS": sign_bit(tx),
        "WW": ww,
        "WS": sign_bit(tw),
        "HAS_BIAS": int(has_bias),
        "BW": tb.width,
        "BS": sign_bit(tb),
        "PSH": ta.frac - tw.frac - tx.frac,
        "BSH": ta.frac - tb.frac if has_bias else 0,
        "ACC_F": ta.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "LV": lv,
        "OREG": OREG,
        "W_BRAM": int(opts.rom_bram_min_words is not None and r >= opts.rom_bram_min_words),
        "W_FILE": consts[0].name,
        "B_INIT": consts[1].name,
        **_sum_widths(w, tx),
    }
    info = _engine_info(simd, pe, r)
    if blocks > 1:
        params["BLOCKS"] = blocks
        info["blocks"] = blocks
    info["macs"] = rows * blocks * bi * bo
    return Block(
        op.name,
        op.kind,
        "hlsgen_linear",
        params,
        {"in": source},
        op.outputs[0],
        timing.MatVec(rows, r, depth, stages=5 + ts),
        consts,
        multipliers=simd * pe,
        info=info,
    )


def _weight_bits(w: np.ndarray, signed: int) -> int:
    """Bits of the weight ROM's entries: the narrowest width (signed, or unsigned when the weight type
    is) that holds every raw weight in ``w``, so that the ROM stores no copies of a sign bit."""
    hi, lo = int(w.max(initial=0)), int(w.min(initial=0))
    if not signed:
        return max(hi.bit_length(), 1)
    return max(hi.bit_length(), (-lo - 1).bit_length()) + 1


def _sum_widths(w: np.ndarray, tx: FixedType) -> dict[str, int]:
    """hlsgen_linear's PN and ACW: the signed bits of every product and of every partial sum of a row,
    from the weights ``w`` [blocks, inputs, outputs] (raw) and the largest magnitude of an input of type
    ``tx``, as the reference's exact accumulator bounds them (Linear.assign_types, without the bias,
    which hlsgen_linear adds after the sum)."""
    xmax = max(abs(tx.raw_min), abs(tx.raw_max))
    a = np.abs(w)
    prod = int(a.max(initial=0)) * xmax
    total = int(a.sum(axis=1).max(initial=0)) * xmax
    return {"PN": max(prod.bit_length(), 1) + 1, "ACW": max(total.bit_length(), 1) + 1}


def render_scores(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    return _score_block(op, graph, opts, op.types["q"], op.types["k"], op.num_kv_heads, op.key_dim)


def render_latent_scores(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """The two-part scores of multi-head latent attention: hlsgen_scores over the DK = a_dim latent (or
    no-RoPE) part and, with rope_dim > 0, the R = rope_dim RoPE part, on the same multipliers. The
    products of the part with fewer fractional bits are aligned by shifting one of its operands (the
    one whose shift widens the multipliers' operands least); the sum is exact, as the reference's."""
    t = op.types
    if not op.rope_dim:
        return _score_block(op, graph, opts, t["qa"], t["ka"], op.a_kv_heads, op.a_dim)
    f = t["accum"].frac
    need = {"a": f - t["qa"].frac - t["ka"].frac, "r": f - t["qr"].frac - t["kr"].frac}
    choices = []
    for side in ("q", "k"):  # the part short of fractional bits is shifted on one side
        sh = {(part, sd): need[part] if sd == side else 0 for part in "ar" for sd in "qk"}
        bits = _common_width(t["qa"], t["qr"], sh["a", "q"], sh["r", "q"]) + _common_width(
            t["ka"], t["kr"], sh["a", "k"], sh["r", "k"]
        )
        choices.append((bits, side, sh))
    sh = min(choices, key=lambda c: c[:2])[2]
    inputs = {"q": op.inputs[0], "k": op.inputs[1], "qr": op.inputs[2], "kr": op.inputs[3]}
    rope = (op.rope_dim, t["qr"], t["kr"], sh)
    return _score_block(op, graph, opts, t["qa"], t["ka"], op.a_kv_heads, op.a_dim, rope, inputs)


def _common_width(ta: FixedType, tr: FixedType, sha: int, shr: int) -> int:
    """Bits of hlsgen_scores' common operand format of two parts (signed if either is)."""
    s = ta.signed or tr.signed
    return max(ta.width + int(s and not ta.signed) + sha, tr.width + int(s and not tr.signed) + shr)


def _score_block(
    op: Op,
    graph: Graph,
    opts: RtlOptions,
    tq_t: FixedType,
    tk_t: FixedType,
    hk: int,
    dk: int,
    rope: tuple[int, FixedType, FixedType, dict[tuple[str, str], int]] | None = None,
    inputs: dict[str, str] | None = None,
) -> Block:
    """hlsgen_scores for a Scores or LatentScores op: key heads ``hk`` of ``dk`` values; ``rope`` =
    (R, type of QR, type of KR, left shifts by (part, side)) adds the RoPE part."""
    ta, ty = op.types["accum"], op.types["y"]
    tq, tk = op.shapes(graph)
    h = op.num_heads
    r_dim = rope[0] if rope else 0
    where = op_label(op)
    if op.scale_is_shift:
        src = op.types["shifted"]
        acc_f = src.frac
    else:
        src = mul_type(ta, op.types["scale"])
        acc_f = src.frac
    check_cast(src, ty, where)
    dt = dk + r_dim
    macs = h * tq * tk * dt
    simd, pe, r = _scores_shape(op, graph, opts, dt)
    sc_w = max(op.scale_raw.bit_length(), 1)
    lv = max(0, int(opts.tree_levels))
    # operand registers, products, the SIMD sum tree, accumulate, the scale product, the cast, row buffer
    stages = 5 + tree_latency(simd, lv) + OREG + int(not op.scale_is_shift)
    depth = out_depth(r, stages)
    params: dict[str, int | str] = {
        "TQ": tq,
        "TK": tk,
        "H": h,
        "HKV": hk,
        "DK": dk,
        "PE": pe,
        "SIMD": simd,
        "QW": tq_t.width,
        "QS": sign_bit(tq_t),
        "KW": tk_t.width,
        "KS": sign_bit(tk_t),
        "SCALE_MUL": int(not op.scale_is_shift),
        "SC_W": sc_w,
        "SC_RAW": f"{sc_w}'d{op.scale_raw}",
        "ACC_F": acc_f,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "LV": lv,
        "OREG": OREG,
        # the RoPE banks are register arrays: memories for the Q and K banks only without them
        "QRAM": int(not rope and opts.ram_bank(tq)),
        "KRAM": int(not rope and opts.ram_bank(-(-tk // pe))),
        "ORAM": int(opts.ram_bank(tk)),  # output rows of TK scores assembled in memories
    }
    if rope:
        _, tqr, tkr, sh = rope
        params.update(
            R=r_dim,
            QRW=tqr.width,
            QRS=sign_bit(tqr),
            KRW=tkr.width,
            KRS=sign_bit(tkr),
            QASH=sh[("a", "q")],
            KASH=sh[("a", "k")],
            QRSH=sh[("r", "q")],
            KRSH=sh[("r", "k")],
        )
    split = _scale_split(params, simd)
    params["SC_SPLIT"] = int(split)
    stages += int(split)
    params["OUT_DEPTH"] = depth = out_depth(r, stages)
    return Block(
        op.name,
        op.kind,
        "hlsgen_scores",
        params,
        inputs or {"q": op.inputs[0], "k": op.inputs[1]},
        op.outputs[0],
        timing.ScoresModel(tq, tk, h, r, depth, rope=bool(rope), stages=stages),
        # the in-place read of the K rows from a decode cache, unused unless linked (design.link_caches)
        links={"k_gaddr": "", "k_gre": "", "k_gdata": "'0"},
        multipliers=simd * pe + (0 if op.scale_is_shift else pe) * (2 if split else 1),
        info=_engine_info(simd, pe, r, macs=macs, ram=_in_ram(params, "QKO")),
    )


def _scale_split(params: dict[str, int | str], simd: int) -> bool:
    """hlsgen_scores' SC_SPLIT: the scale product of its exact sum (AW bits, as the module sizes it) by
    the SC_W-bit constant in two halves where one DSP48E2 cannot take it (a 16-bit block's 39-bit sum:
    two DSPs and the carry chain joining them in one cycle, 4.57 ns); never where the sum is not wider
    than the module's low half (SLO)."""
    if not params["SCALE_MUL"]:
        return False
    r = int(params.get("R", 0))

    def side(w: str, s: str, rw: str, rs: str, sh: str, rsh: str) -> int:
        signed = bool(params[s]) or (r > 0 and bool(params[rs]))
        main = int(params[w]) + int(signed and not params[s]) + int(params.get(sh, 0))
        if r > 0:
            rope = int(params[rw]) + int(signed and not params[rs]) + int(params.get(rsh, 0))
            main = max(main, rope)
        return main + (0 if signed else 1)

    qe = side("QW", "QS", "QRW", "QRS", "QASH", "QRSH")
    ke = side("KW", "KS", "KRW", "KRS", "KASH", "KRSH")
    nj = -(-(int(params["DK"]) + r) // simd)
    aw = qe + ke + (nj * simd).bit_length() + 1  # the module's AW: PW + clog2(NJ * SIMD + 1) + 1
    return mul2_low(aw, int(params["SC_W"]) + 1) > 0


def _scores_shape(op: Op, graph: Graph, opts: RtlOptions, dt: int) -> tuple[int, int, int]:
    """(SIMD, PE, cycles an output row) of hlsgen_scores over ``dt`` products a score."""
    tq, tk = op.shapes(graph)
    par = requested_par(op, op.num_heads * tq * tk * dt, opts, tk * dt)
    simd, pe = factor(par, dt, tk)
    return simd, pe, -(-tk // pe) * -(-dt // simd)


def _context_shape(op: Op, graph: Graph, opts: RtlOptions) -> tuple[int, int, int]:
    """(SIMD, PE, cycles a probability row) of hlsgen_context."""
    tq, tk = op.shapes(graph)
    dv = op.value_dim
    par = requested_par(op, op.num_heads * tq * tk * dv, opts, tk * dv)
    simd, pe = factor(par, tk, dv, opts=opts, narrow=True)
    return simd, pe, -(-dv // pe) * -(-tk // simd)


def attention_shape(op: Op, graph: Graph, opts: RtlOptions) -> tuple[int, int, int] | None:
    """(SIMD, PE, cycles a row) of hlsgen_scores producing rows of scores, or of hlsgen_context consuming
    rows of probabilities, for ``op`` (None for any other op): the row rate the softmax between them is
    sized to (render_norm.softmax_lanes)."""
    if op.kind == "scores":
        return _scores_shape(op, graph, opts, op.key_dim)
    if op.kind == "latent_scores":
        return _scores_shape(op, graph, opts, op.a_dim + (op.rope_dim or 0))
    if op.kind == "context":
        return _context_shape(op, graph, opts)
    return None


def _engine_info(simd: int, pe: int, r: int, **extra: object) -> dict[str, object]:
    """The ``info`` of a matrix engine (design JSON, the top's comments): its shape and cycles a row."""
    return {"par": simd * pe, "simd": simd, "pe": pe, "row_cycles": r, **extra}


def _in_ram(params: dict[str, int | str], banks: str) -> str:
    """Which of the engine's banks (one letter each, parameter ``<letter>RAM``) are memories, e.g. "Q+K"."""
    return "+".join(b for b in banks if params[f"{b}RAM"]) or "none"


def render_context(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tp, tv, ta, ty = op.types["p"], op.types["v"], op.types["accum"], op.types["y"]
    tq, tk = op.shapes(graph)
    h, hk, dv = op.num_heads, op.num_kv_heads, op.value_dim
    check_cast(ta, ty, op_label(op))
    macs = h * tq * tk * dv
    simd, pe, r = _context_shape(op, graph, opts)
    lv = max(0, int(opts.tree_levels))
    # operand registers, products, the SIMD sum tree, accumulate, the cast, the row buffer
    stages = 5 + tree_latency(simd, lv) + OREG
    # the rows of a sequence leave in a burst with its last head: room for all of them, so that the
    # engine goes on with the next sequence while a slower reader drains them
    depth = max(out_depth(r, stages), tq)
    params: dict[str, int | str] = {
        "TQ": tq,
        "TK": tk,
        "H": h,
        "HKV": hk,
        "DV": dv,
        "PE": pe,
        "SIMD": simd,
        "PW_": tp.width,
        "PS": sign_bit(tp),
        "VW": tv.width,
        "VS": sign_bit(tv),
        "ACC_F": ta.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "LV": lv,
        "OREG": OREG,
        "VRAM": int(opts.ram_bank(-(-tk // simd))),
        "ORAM": int(opts.ram_bank(tq)),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_context",
        params,
        {"p": op.inputs[0], "v": op.inputs[1]},
        op.outputs[0],
        timing.ContextModel(tq, tk, h, r, depth, stages=stages),
        # the in-place reads of the probability rows (design.link_probabilities) and of the V rows
        # from a decode cache (design.link_caches), unused unless linked
        links={"p_gaddr": "", "p_gre": "", "p_gdata": "'0", "v_gaddr": "", "v_gre": "", "v_gdata": "'0"},
        multipliers=simd * pe,
        info=_engine_info(simd, pe, r, macs=macs, ram=_in_ram(params, "VO")),
    )
