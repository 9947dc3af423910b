"""RTL renderings of the row normalisers (hlsgen_softmax, hlsgen_layernorm) and the operand forms of
their tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...config import SoftmaxVariant
from ...fixed import FixedType, add_type, mul_type
from . import timing
from .block import (
    Block,
    Const,
    RtlOptions,
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
from .render_matrix import attention_shape

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


def render_softmax(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    pl = op.plan
    assert pl is not None
    tx, ty, te, ts, ti, tw, tacc = (op.types[k] for k in ("x", "y", "exp", "sum", "inv", "wide", "accum"))
    rows, n = row_shape(graph, op.inputs[0])
    where = op_label(op)
    check_cast(tacc, ts, where)
    check_cast(tw, ty, where)
    lanes = softmax_lanes(op, graph, opts)
    g = -(-n // lanes)
    lv = max(0, int(opts.tree_levels))
    # the pipeline of hlsgen_softmax: M scans a row g groups long before it is accepted with its last
    # group (the stable variant; the latency variant reads no maximum); the row maximum reaches F0M rp
    # cycles after that (the es stages of the G:1 group multiplexer, or one register, and the lane tree);
    # a group issued in E reaches F1B re cycles later (the multiplexer, 5 lane stages (the table
    # address, the tables, the product, its sum, the cast), the lane tree, the sum's cast, the leading
    # one's 2 steps and the reciprocal address); N's lanes take rn = 3 stages to the row buffer (the
    # operands, the product; the cast's register, hlsgen_castreg)
    es = softmax_select_stages(g)
    stable = pl.variant is SoftmaxVariant.STABLE
    scan = g if stable else 1
    rp = max(es, 1) + tree_latency(lanes, lv) if stable else 1
    re, rn = 9 + es + tree_latency(lanes, lv), 3
    depth = out_depth(g, 4 + rn)
    inv, inv_w, inv_s = _softmax_inv_operand(pl.tables["inv"][1], ti)
    consts = [rom(f"INV_{op.name}", inv, inv_w, 1)]
    params: dict[str, int | str] = {
        "N": n,
        "L": lanes,
        "ROWS": rows,
        "NQ": graph.tensors[op.inputs[0]].shape[-2] if op.has_mask else 1,
        "HAS_MASK": int(op.has_mask),
        "XW": tx.width,
        "XS": sign_bit(tx),
        "EW": te.width,
        "EF": te.frac,
        "ES": sign_bit(te),
        "ACW": tacc.width,
        "SW": ts.width,
        "SF": ts.frac,
        "S_RND": cast_params("S", ts)["S_RND"],
        "S_OVF": cast_params("S", ts)["S_OVF"],
        "IB": pl.inv_bits,
        "IW": inv_w,
        "IS": inv_s,
        "INV_FILE": consts[0].name,
        "TMIN": op.t_range[0],
        "TMAX": op.t_range[1],
        "WSH0": tw.frac - te.frac - ti.frac,
        "WF": tw.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "LV": lv,
        "MODEL_RP": rp,
        "MODEL_RE": re,
        "SEL_LV": SOFTMAX_SEL_LV,
        # the rows of exponentials between the stages in a memory where the row is long (ram_min_rows)
        "RAM": int(opts.ram_bank(n)),
    }
    if pl.variant is SoftmaxVariant.STABLE:
        check_cast(mul_type(te, te), te, where)
        hi, lo = pl.tables["exp_hi"][1], pl.tables["exp_lo"][1]
        lo_cpl, lo_w, lo_entries = _softmax_exp_lo_operand(hi, lo, te)
        consts += [
            Const(f"EHI_{op.name}", hi.size * te.width, pack(hi, te.width)),
            Const(f"ELO_{op.name}", lo.size * lo_w, pack(lo_entries, lo_w)),
        ]
        params.update(
            VARIANT=0,
            DROP=pl.drop_bits,
            ADDR=pl.addr_bits,
            HIB=pl.hi_bits,
            LOB=pl.lo_bits,
            E_RND=cast_params("E", te)["E_RND"],
            E_OVF=cast_params("E", te)["E_OVF"],
            LO_CPL=int(lo_cpl),
            LW=lo_w,
            EHI_INIT=consts[1].name,
            ELO_INIT=consts[2].name,
        )
        mults = 2 * lanes
    else:
        tab = pl.tables["exp"][1]
        consts.append(Const(f"EXP_{op.name}", tab.size * te.width, pack(tab, te.width)))
        params.update(VARIANT=1, TB=pl.exp_table_bits, EXP_INIT=consts[1].name)
        mults = lanes
    inputs = {"in": op.inputs[0]}
    if op.has_mask:
        inputs["mask"] = op.inputs[1]
        mt = graph.tensors[op.inputs[1]].type
        if mt is None or mt.width != 1:
            raise NotImplementedError(f"{where}: the RTL takes masks of single bits (ap_uint<1>), not {mt}")
    mask_rows = graph.tensors[op.inputs[0]].shape[-2] if op.has_mask else 0
    return Block(
        op.name,
        op.kind,
        "hlsgen_softmax",
        params,
        inputs,
        op.outputs[0],
        timing.RowTwoStage(
            rows, g, depth, mask_rows, f0_depth=rp + 2, rp=rp, re=re, f1_depth=re + 2, rn=rn, scan=scan
        ),
        consts,
        multipliers=mults,
        info={"lanes": lanes, "row_cycles": g, "tree_levels": lv, "scan": scan},
        # the group port, tied off unless a context reads the rows in place (design.link_probabilities)
        links={"out_gaddr": "'0", "out_gre": "1'b0", "out_gdata": ""},
    )


#: levels of 2:1 multiplexers between registers in hlsgen_softmax's selection of E's group from the row
#: (its SEL_LV): 4 levels (a 16:1 multiplexer, after the row's LUTRAM read in the first stage) keep each
#: stage within 6 LUT levels (Yosys synth_xilinx; README "Scaling with sequence length")
SOFTMAX_SEL_LV = 4


def softmax_select_stages(groups: int) -> int:
    """Register stages of hlsgen_softmax's G:1 multiplexer picking E's group (its ES): one after every
    :data:`SOFTMAX_SEL_LV` levels of the ceil(log2 G) and after the last; none for a single group."""
    if groups <= 1:
        return 0
    return -(-((groups - 1).bit_length()) // SOFTMAX_SEL_LV)


def softmax_lanes(op: Op, graph: Graph, opts: RtlOptions) -> int:
    """Lanes of hlsgen_softmax: the per-op override (``RtlOptions.par``) or MACs / reuse factor capped at
    ``max_par``, as every row engine; then, where the row is long enough to live in memories
    (:meth:`RtlOptions.ram_bank` of its N values), no more lanes than keep pace with the attention
    engines around it: the fewest lanes L whose G = ceil(N / L) cycles a row are at most the cycles a row
    of the scores engine producing the rows and of every context engine consuming them (the smallest of
    those rates). The softmax then never waits for them nor they for it, so the block's cycles per
    sequence stay; its latency grows by the two passes' longer rows (2 (G - G0) cycles, G0 at the capped
    lanes) less the shallower lane trees. Where one context consumes the rows and its SIMD is at least
    that (and within the cap), its SIMD: a memory word is then one key group, and the context reads the
    rows in place (design.link_probabilities). Short rows (the 16 x 32 block) keep their lanes and cycles.
    """
    rows, n = row_shape(graph, op.inputs[0])
    lanes = requested_par(op, rows * n, opts, n)
    if op.name in opts.par or not opts.ram_bank(n):
        return lanes
    readers = [c for c in graph.ops if op.outputs[0] in c.inputs]
    shapes = [(o, attention_shape(o, graph, opts)) for o in [graph.producer(op.inputs[0]), *readers] if o]
    rates = [sh[2] for _, sh in shapes if sh is not None]
    if not rates:
        return lanes
    need = -(-n // min(rates))
    cx = [sh for o, sh in shapes if o in readers and o.kind == "context" and sh is not None]
    if len(readers) == 1 and cx and need <= cx[0][0] <= lanes:
        return cx[0][0]
    return min(lanes, need)


def _signed_width(v: np.ndarray) -> int:
    """Fewest two's complement bits that hold every entry of int64 ``v``."""
    lo, hi = int(np.min(v)), int(np.max(v))
    return max((~lo).bit_length() if lo < 0 else 0, hi.bit_length() if hi > 0 else 0) + 1


def _softmax_exp_lo_operand(hi: np.ndarray, lo: np.ndarray, te: FixedType) -> tuple[bool, int, np.ndarray]:
    """The fine exp table as hlsgen_softmax stores it: (LO_CPL, LW, entries).

    exp_lo holds exp of the low bits of the difference, in (0, 1] = (0, 2^F] raw (F the fractional bits
    of ``te``), so c = exp_lo - 2^F lies in [-2^F, 0] and exp_hi * exp_lo = (exp_hi << F) + exp_hi * c
    exactly. With the default ap_ufixed<18,1> c takes at most 18 signed bits (15 for inputs with 10
    fractional bits, whose exp_lo stays above 0.88), so the multiplier is 18 unsigned x 18 signed bits: one
    DSP48E2, whose 18-bit signed port takes at most 17 unsigned bits, where 18 x 18 unsigned takes two.
    Unsigned ``te`` only, and only when c is no wider than ``te`` (the plain entries enter the multiplier
    as te.width + 1 signed bits); else the plain entries (LO_CPL false).
    """
    lo = np.asarray(lo, dtype=np.int64)
    plain = (False, te.width, lo)
    if te.signed or te.frac < 0 or te.frac > 60:
        return plain
    c = lo - (1 << te.frac)
    width = _signed_width(c)
    if width > te.width:  # the plain entries: te.width unsigned bits, te.width + 1 as a signed factor
        return plain
    h = np.asarray(hi, dtype=object)[:, None]
    exact = h * np.asarray(lo, dtype=object)[None, :]
    if not ((h << te.frac) + h * np.asarray(c, dtype=object)[None, :] == exact).all():
        return plain
    if int(exact.max()) >= 1 << (2 * te.width):  # the RTL's sum modulo 2^(2W) must be the product itself
        return plain
    return True, width, c


def _softmax_inv_operand(inv: np.ndarray, ti: FixedType) -> tuple[np.ndarray, int, int]:
    """The reciprocal table as hlsgen_softmax stores it: (entries, IW, IS). Entries lie in (1/2, 1), so
    the integer bit of the default ap_ufixed<18,1> is always 0: the ROM keeps the bits the entries use
    (17), unsigned, and e * inv is an 18 x 17-bit product (one DSP48E2), the same integer."""
    inv = np.asarray(inv, dtype=np.int64)
    if inv.size and int(inv.min()) >= 0:
        return inv, max(1, int(inv.max()).bit_length()), 0
    return inv, ti.width, sign_bit(ti)


def render_layernorm(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    t = op.types
    geo = op.geometry
    assert geo is not None and op.table_raw is not None
    rows, d = row_shape(graph, op.inputs[0])
    where = op_label(op)
    tx, tm, tdiff, tsq, tv, tt, tw, tn, tg, tb, ty = (
        t[k] for k in ("x", "mean", "diff", "sq", "var", "table", "wide", "norm", "weight", "bias", "y")
    )
    if tt.signed:
        raise NotImplementedError(f"{where}: the RTL needs an unsigned 1/sqrt table type, not {tt}")
    tsum, tsc = t["sum"], t["scale"]
    check_cast(mul_type(tsum, tsc), tm, where)
    check_cast(mul_type(tsq, tsc), tv, where)
    check_cast(tw, tn, where)
    tz = add_type(mul_type(tn, tg), tb)
    check_cast(tz, ty, where)
    lanes = requested_par(op, rows * d, opts, d)
    g = -(-d // lanes)
    lv = max(0, int(opts.tree_levels))
    # the pipeline of hlsgen_layernorm: the mean reaches F0M rp cycles after the row was accepted; a group
    # issued in E reaches F1B re cycles later (the centred lanes' register, their squares' register, the
    # lane tree, the variance product's halves and their sum (hlsgen_mul2), cast, the leading one's 2
    # steps, address); N's lanes take rn = 7 stages to the row buffer (the operands, the product, the
    # normalisation's cast split by a register, gamma's product, beta's sum, the output cast's register).
    # The module checks rp and re against its own pipeline at elaboration (MODEL_RP / MODEL_RE).
    # at wide types (16 bits: 23-bit centred values) the square and N's product are wider than one
    # DSP48E2 and go in halves (hlsgen_mul2), one stage more each: the module's SQS / NSP
    sqs = int(mul2_low(tdiff.width, tdiff.width) > 0)
    nsp = int(mul2_low(tdiff.width, tt.width + 1) > 0)
    rp, re, rn = tree_latency(d, lv) + 2, 8 + sqs + tree_latency(lanes, lv), 7 + nsp
    depth = out_depth(g, 4 + rn)
    k_min, _ = geo.k_range
    tprod = mul_type(tdiff, tt)
    consts = [
        rom(f"ISQ_{op.name}", op.table_raw, tt.width, 1),
        Const(f"G_{op.name}", d * tg.width, pack(op.gamma_raw, tg.width)),
        Const(f"BT_{op.name}", d * tb.width, pack(op.beta_raw, tb.width)),
    ]
    params: dict[str, int | str] = {
        "D": d,
        "L": lanes,
        "XW": tx.width,
        "XF": tx.frac,
        "XS": sign_bit(tx),
        "SUMW": tsum.width + 1,
        "SCW": tsc.width,
        "SC_F": op.c_frac,
        "SC_RAW": f"{tsc.width}'d{op.c_raw}",
        "MW": tm.width,
        "MF": tm.frac,
        "MS": sign_bit(tm),
        "M_RND": cast_params("M", tm)["M_RND"],
        "M_OVF": cast_params("M", tm)["M_OVF"],
        "DW": tdiff.width,
        "DF": tdiff.frac,
        "SQW": tsq.width,
        "VW": tv.width,
        "VF": tv.frac,
        "V_RND": cast_params("V", tv)["V_RND"],
        "V_OVF": cast_params("V", tv)["V_OVF"],
        "M": geo.mant_bits,
        "K_SUB": geo.k_sub,
        "TW": tt.width,
        "T_FILE": consts[0].name,
        "KSH0": tw.frac - tprod.frac,
        "KMIN": k_min,
        "WF": tw.frac,
        "NW": tn.width,
        "NF": tn.frac,
        "NS": sign_bit(tn),
        "N_RND": cast_params("N", tn)["N_RND"],
        "N_OVF": cast_params("N", tn)["N_OVF"],
        "GW": tg.width,
        "GF": tg.frac,
        "GS": sign_bit(tg),
        "G_INIT": consts[1].name,
        "BW": tb.width,
        "BF": tb.frac,
        "BS": sign_bit(tb),
        "B_INIT": consts[2].name,
        "ZW": tz.width + 1,
        "ZF": tz.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
        "LV": lv,
        "MODEL_RP": rp,
        "MODEL_RE": re,
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_layernorm",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.RowTwoStage(rows, g, depth, f0_depth=rp + 2, rp=rp, re=re, f1_depth=re + 2, rn=rn),
        consts,
        multipliers=(3 + sqs + nsp) * lanes + 2,
        info={"lanes": lanes, "row_cycles": g, "tree_levels": lv},
    )
