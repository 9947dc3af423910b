"""The RTL rendering of each IR op: which hand-written module of templates/rtl/lib, its parameters, the
constants it reads (weights and tables: the very arrays the NumPy reference indexes) and its timing model.

One function per op kind, registered in :data:`RENDERERS`; an op kind without one, or a setting a module
does not implement, raises :class:`NotImplementedError` naming the op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ...fixed import FixedType, add_type, mul_type
from ...quant.config import SoftmaxVariant
from . import timing
from .casts import cast_params, check_cast

if TYPE_CHECKING:
    from ...ir.graph import Graph
    from ...ir.ops.base import Op


@dataclass
class RtlOptions:
    """Settings of the RTL backend.

    Attributes:
        max_par: most multipliers (or lanes) one engine gets, whatever the reuse factor asks for
            (None = no limit). The reuse factor R of an op asks for MACs / R multipliers, as the HLS
            backend uses (a Linear: n_in * n_out / R, so that a row takes R cycles).
        par: per-op override of the multipliers (matrix engines) or lanes (softmax, layer norm), by IR
            op name; it wins over the reuse factor and ``max_par``.
    """

    max_par: int | None = 64
    par: dict[str, int] = field(default_factory=dict)


@dataclass
class Const:
    """A constant array of a block: a packed vector in the parameter package (small tables read by
    several lanes at once), or a ``$readmemh`` file (ROMs read one word a cycle).

    Attributes:
        name: SystemVerilog name (file ``<name>.mem`` for a ROM).
        bits: width of the packed vector, or of one ROM word.
        value: the packed vector (entry k at bits [k*W +: W]).
        words: the ROM words, one a line of the file (None for a packed vector).
    """

    name: str
    bits: int
    value: int = 0
    words: list[int] | None = None

    @property
    def is_file(self) -> bool:
        return self.words is not None

    @property
    def file_name(self) -> str:
        return f"{self.name}.mem"

    @property
    def literal(self) -> str:
        return f"{self.bits}'h{self.value:x}"

    def mem_text(self) -> str:
        """The ``$readmemh`` file: the banner as a comment, then one word a line, in hex."""
        from ..hls.writer import banner

        assert self.words is not None
        digits = max(1, -(-self.bits // 4))
        return banner("//") + "\n" + "".join(f"{w:0{digits}x}\n" for w in self.words)


def rom(name: str, raw: np.ndarray, width: int, lanes: int) -> Const:
    """A ROM of ``raw.size / lanes`` words, word a = entries [a*lanes, (a+1)*lanes) packed (entry 0 in
    the LSBs)."""
    flat = np.asarray(raw).reshape(-1, lanes)
    return Const(name, lanes * width, words=[pack(row, width) for row in flat])


@dataclass
class Block:
    """One instance of a hand-written module, rendered for one op.

    Attributes:
        op: the IR op's name; ``kind`` its kind.
        module: the SystemVerilog module.
        params: parameter name -> integer, or the name of a :class:`Const` in the package.
        inputs: module port prefix -> tensor name (ports ``<prefix>_valid/_ready/_data``).
        output: tensor on the ``out`` port.
        model: the block's row-timing model.
        consts: constants in the package.
        multipliers: hardware multipliers of the block (what its DSP count should track).
        info: figures for reports (parallelism, cycles per row, ...).
    """

    op: str
    kind: str
    module: str
    params: dict[str, int | str]
    inputs: dict[str, str]
    output: str
    model: timing.BlockModel
    consts: list[Const] = field(default_factory=list)
    multipliers: int = 0
    info: dict[str, object] = field(default_factory=dict)

    @property
    def instance(self) -> str:
        return f"u_{self.op}"


def pack(raw: np.ndarray, width: int) -> int:
    """Raw integers as one unsigned integer: entry k at bits [k*width, (k+1)*width) (two's complement)."""
    v = np.asarray(raw).reshape(-1)
    if v.size == 0:
        return 0
    if v.dtype == object or width > 62:
        out = 0
        mask = (1 << width) - 1
        for k, x in enumerate(v.tolist()):
            out |= (int(x) & mask) << (k * width)
        return out
    u = v.astype(np.int64) & ((1 << width) - 1)
    bits = ((u[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).reshape(-1)
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def _sign(t: FixedType) -> int:
    return int(t.signed)


def _where(op: Op) -> str:
    return f"op {op.name} ({op.kind}{', layer ' + op.origin if op.origin else ''})"


def requested_par(op: Op, macs: int, opts: RtlOptions, limit: int) -> int:
    """Multipliers (or lanes) for an engine: the per-op override, else MACs / reuse factor capped at
    ``opts.max_par``; never more than ``limit`` (what one row can use)."""
    if op.name in opts.par:
        p = int(opts.par[op.name])
        if p < 1:
            raise ValueError(f"{_where(op)}: RTL parallelism must be >= 1, got {p}")
    else:
        p = max(1, -(-macs // max(op.reuse_factor, 1)))
        if opts.max_par is not None:
            p = min(p, opts.max_par)
    return max(1, min(p, limit))


def factor(par: int, n_simd: int, n_pe: int) -> tuple[int, int]:
    """(SIMD, PE) with SIMD * PE <= par that minimise ceil(n_simd/SIMD) * ceil(n_pe/PE) cycles, then
    multipliers, preferring the wider SIMD."""
    best: tuple[int, int, int, int] | None = None
    for s in range(1, min(par, n_simd) + 1):
        p = min(n_pe, par // s)
        if p < 1:
            break
        cyc = -(-n_simd // s) * -(-n_pe // p)
        key = (cyc, s * p, -s, p)
        if best is None or key < best:
            best = key
    assert best is not None
    return -best[2], best[3]


def _rows(graph: Graph, tensor: str) -> tuple[int, int]:
    """(rows per sequence, values per row) of a tensor streamed along its last axis."""
    t = graph.tensors[tensor]
    n = t.shape[-1] if t.shape else 1
    return t.size // max(n, 1), n


def _out_depth(row_cycles: int) -> int:
    # enough output slots that 4 pipeline stages of short rows never wait for a credit
    return max(2, -(-5 // max(row_cycles, 1)) + 1)


# ---------------------------------------------------------------------------------------------------
def render_linear(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """Linear, and its block-diagonal (block_linear) and exact (exact_linear: the output type is the
    exact accumulator, so the cast is lossless) forms: hlsgen_linear, which stores and multiplies the
    diagonal blocks only."""
    tx, tw, ta, ty = (op.types[k] for k in ("x", "weight", "accum", "y"))
    n_in, n_out = op.n_in, op.n_out
    blocks = int(getattr(op, "blocks", 1))
    bi, bo = n_in // blocks, n_out // blocks
    rows, _ = _rows(graph, op.inputs[0])
    check_cast(ta, ty, _where(op))
    par = requested_par(op, blocks * bi * bo, opts, bi * bo)
    simd, pe = factor(par, bi, bo)
    ni, no = -(-bi // simd), -(-bo // pe)
    wb = op.block_raw() if blocks > 1 else op.w_raw
    w = np.zeros((blocks, ni * simd, no * pe), dtype=np.int64)
    w[:, :bi, :bo] = np.asarray(wb, dtype=np.int64).reshape(blocks, bi, bo)
    # ROM word (b*NO + o)*NI + i, lane pe*SIMD + s = W_b[i*SIMD + s][o*PE + pe] (block b of the diagonal)
    words = w.reshape(blocks, ni, simd, no, pe).transpose(0, 3, 1, 4, 2).reshape(-1)
    consts = [rom(f"W_{op.name}", words, tw.width, pe * simd)]
    has_bias = op.b_raw is not None
    tb = op.types.get("bias", tw)
    b = np.zeros((blocks, no * pe), dtype=np.int64)
    if has_bias:
        b[:, :bo] = np.asarray(op.b_raw, dtype=np.int64).reshape(blocks, bo)
    consts.append(Const(f"B_{op.name}", b.size * tb.width, pack(b, tb.width)))
    r = blocks * ni * no
    params: dict[str, int | str] = {
        "N_IN": n_in,
        "N_OUT": n_out,
        "SIMD": simd,
        "PE": pe,
        "XW": tx.width,
        "XS": _sign(tx),
        "WW": tw.width,
        "WS": _sign(tw),
        "HAS_BIAS": int(has_bias),
        "BW": tb.width,
        "BS": _sign(tb),
        "PSH": ta.frac - tw.frac - tx.frac,
        "BSH": ta.frac - tb.frac if has_bias else 0,
        "ACC_F": ta.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": _out_depth(r),
        "W_FILE": consts[0].name,
        "B_INIT": consts[1].name,
    }
    info: dict[str, object] = {"par": simd * pe, "simd": simd, "pe": pe, "row_cycles": r}
    if blocks > 1:
        params["BLOCKS"] = blocks
        info["blocks"] = blocks
    info["macs"] = rows * blocks * bi * bo
    return Block(
        op.name,
        op.kind,
        "hlsgen_linear",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.MatVec(rows, r, _out_depth(r)),
        consts,
        multipliers=simd * pe,
        info=info,
    )


def render_activation(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    from ...ir.ops.basic import ActivationKind

    tx, ty = op.types["x"], op.types["y"]
    rows, n = _rows(graph, op.inputs[0])
    kind = op.act_kind
    consts: list[Const] = []
    params: dict[str, int | str] = {"N": n, "XW": tx.width, "XF": tx.frac, "XS": _sign(tx)}
    if kind is ActivationKind.TABLE:
        tt = op.types["table"]
        check_cast(tt, ty, _where(op))
        consts.append(Const(f"T_{op.name}", op.table_raw.size * tt.width, pack(op.table_raw, tt.width)))
        params.update(KIND=2, TB=op.table_bits, TW=tt.width, TF=tt.frac, TS=_sign(tt), T_INIT=consts[0].name)
    else:
        check_cast(tx, ty, _where(op))
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
    check_cast(ts, ty, _where(op))
    rows, n = _rows(graph, op.inputs[0])
    params: dict[str, int | str] = {
        "N": n,
        "AW": ta.width,
        "AF": ta.frac,
        "AS": _sign(ta),
        "BW": tb.width,
        "BF": tb.frac,
        "BS": _sign(tb),
        "SW": ts.width + 1,
        "SF": ts.frac,
        **cast_params("Y", ty),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_add",
        params,
        {"a": op.inputs[0], "b": op.inputs[1]},
        op.outputs[0],
        timing.RowPipe(["a", "b"], rows),
    )


def render_reshape(op: Op, graph: Graph, opts: RtlOptions) -> Block | None:
    in_rows, in_n = _rows(graph, op.inputs[0])
    out_rows, out_n = _rows(graph, op.outputs[0])
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
    check_cast(mul_type(ts, tc), ty, _where(op))
    t, d = graph.tensors[op.inputs[0]].shape[-2:]
    if len(graph.tensors[op.inputs[0]].shape) != 2:
        raise NotImplementedError(f"{_where(op)}: the RTL pools [T, D] inputs only")
    params: dict[str, int | str] = {
        "T": t,
        "D": d,
        "XW": tx.width,
        "XS": _sign(tx),
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
        timing.PoolModel(t),
        multipliers=d,
    )


def render_mask(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tq, tk = op._shape(graph)
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
                f"{_where(op)}: the RTL takes masks of single bits (ap_uint<1>), not {tx}"
            )
        model: timing.BlockModel = timing.RowPipe(["in"], tq)
        inputs = {"in": op.inputs[0]}
    else:
        model = timing.Source(tq)
        inputs = {}
    return Block(op.name, op.kind, "hlsgen_mask", params, inputs, op.outputs[0], model)


def render_softmax(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    pl = op.plan
    assert pl is not None
    tx, ty, te, ts, ti, tw, tacc = (op.types[k] for k in ("x", "y", "exp", "sum", "inv", "wide", "accum"))
    rows, n = _rows(graph, op.inputs[0])
    where = _where(op)
    check_cast(tacc, ts, where)
    check_cast(tw, ty, where)
    lanes = requested_par(op, rows * n, opts, n)
    g = -(-n // lanes)
    inv, inv_w, inv_s = _softmax_inv_operand(pl.tables["inv"][1], ti)
    consts = [rom(f"INV_{op.name}", inv, inv_w, 1)]
    params: dict[str, int | str] = {
        "N": n,
        "L": lanes,
        "ROWS": rows,
        "NQ": graph.tensors[op.inputs[0]].shape[-2] if op.has_mask else 1,
        "HAS_MASK": int(op.has_mask),
        "XW": tx.width,
        "XS": _sign(tx),
        "EW": te.width,
        "EF": te.frac,
        "ES": _sign(te),
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
        "OUT_DEPTH": _out_depth(g),
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
        timing.RowTwoStage(rows, g, _out_depth(g), mask_rows),
        consts,
        multipliers=mults,
        info={"lanes": lanes, "row_cycles": g},
    )


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
    return inv, ti.width, _sign(ti)


def render_layernorm(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    t = op.types
    geo = op.geometry
    assert geo is not None and op.table_raw is not None
    rows, d = _rows(graph, op.inputs[0])
    where = _where(op)
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
        "XS": _sign(tx),
        "SUMW": tsum.width + 1,
        "SCW": tsc.width,
        "SC_F": op.c_frac,
        "SC_RAW": f"{tsc.width}'d{op.c_raw}",
        "MW": tm.width,
        "MF": tm.frac,
        "MS": _sign(tm),
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
        "NS": _sign(tn),
        "N_RND": cast_params("N", tn)["N_RND"],
        "N_OVF": cast_params("N", tn)["N_OVF"],
        "GW": tg.width,
        "GF": tg.frac,
        "GS": _sign(tg),
        "G_INIT": consts[1].name,
        "BW": tb.width,
        "BF": tb.frac,
        "BS": _sign(tb),
        "B_INIT": consts[2].name,
        "ZW": tz.width + 1,
        "ZF": tz.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": _out_depth(g),
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_layernorm",
        params,
        {"in": op.inputs[0]},
        op.outputs[0],
        timing.RowTwoStage(rows, g, _out_depth(g)),
        consts,
        multipliers=3 * lanes + 2,
        info={"lanes": lanes, "row_cycles": g},
    )


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
    tq, tk = op._shapes(graph)
    h = op.num_heads
    r_dim = rope[0] if rope else 0
    where = _where(op)
    if op.scale_is_shift:
        src = op.types["shifted"]
        acc_f = src.frac
    else:
        src = mul_type(ta, op.types["scale"])
        acc_f = src.frac
    check_cast(src, ty, where)
    dt = dk + r_dim
    macs = h * tq * tk * dt
    par = requested_par(op, macs, opts, tk * dt)
    simd, pe = factor(par, dt, tk)
    r = -(-tk // pe) * -(-dt // simd)
    sc_w = max(op.scale_raw.bit_length(), 1)
    params: dict[str, int | str] = {
        "TQ": tq,
        "TK": tk,
        "H": h,
        "HKV": hk,
        "DK": dk,
        "PE": pe,
        "SIMD": simd,
        "QW": tq_t.width,
        "QS": _sign(tq_t),
        "KW": tk_t.width,
        "KS": _sign(tk_t),
        "SCALE_MUL": int(not op.scale_is_shift),
        "SC_W": sc_w,
        "SC_RAW": f"{sc_w}'d{op.scale_raw}",
        "ACC_F": acc_f,
        **cast_params("Y", ty),
        "OUT_DEPTH": _out_depth(r),
    }
    if rope:
        _, tqr, tkr, sh = rope
        params.update(
            R=r_dim,
            QRW=tqr.width,
            QRS=_sign(tqr),
            KRW=tkr.width,
            KRS=_sign(tkr),
            QASH=sh[("a", "q")],
            KASH=sh[("a", "k")],
            QRSH=sh[("r", "q")],
            KRSH=sh[("r", "k")],
        )
    return Block(
        op.name,
        op.kind,
        "hlsgen_scores",
        params,
        inputs or {"q": op.inputs[0], "k": op.inputs[1]},
        op.outputs[0],
        timing.ScoresModel(tq, tk, h, r, _out_depth(r), rope=bool(rope)),
        multipliers=simd * pe + (0 if op.scale_is_shift else pe),
        info={"par": simd * pe, "simd": simd, "pe": pe, "row_cycles": r, "macs": macs},
    )


def render_context(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    tp, tv, ta, ty = op.types["p"], op.types["v"], op.types["accum"], op.types["y"]
    tq, tk = op._shapes(graph)
    h, hk, dv = op.num_heads, op.num_kv_heads, op.value_dim
    check_cast(ta, ty, _where(op))
    macs = h * tq * tk * dv
    par = requested_par(op, macs, opts, tk * dv)
    simd, pe = factor(par, tk, dv)
    r = -(-dv // pe) * -(-tk // simd)
    # the rows of a sequence leave in a burst with its last head: room for all of them, so that the
    # engine goes on with the next sequence while a slower reader drains them
    depth = max(_out_depth(r), tq)
    params: dict[str, int | str] = {
        "TQ": tq,
        "TK": tk,
        "H": h,
        "HKV": hk,
        "DV": dv,
        "PE": pe,
        "SIMD": simd,
        "PW_": tp.width,
        "PS": _sign(tp),
        "VW": tv.width,
        "VS": _sign(tv),
        "ACC_F": ta.frac,
        **cast_params("Y", ty),
        "OUT_DEPTH": depth,
    }
    return Block(
        op.name,
        op.kind,
        "hlsgen_context",
        params,
        {"p": op.inputs[0], "v": op.inputs[1]},
        op.outputs[0],
        timing.ContextModel(tq, tk, h, r, depth),
        multipliers=simd * pe,
        info={"par": simd * pe, "simd": simd, "pe": pe, "row_cycles": r, "macs": macs},
    )


def render_kv_cache(op: Op, graph: Graph, opts: RtlOptions) -> Block:
    """A decode cache (key, value, latent or RoPE key rows): hlsgen_kv_cache, fed by the decode top's
    position stream."""
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
    where = _where(op)
    rows, width = op._width(graph)
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
        "XS": _sign(tx),
        "TW": tt.width,
        "TS": _sign(tt),
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


#: op kind -> renderer (None: the op needs no hardware)
RENDERERS: dict[str, Callable[[Op, Graph, RtlOptions], Block | None]] = {
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
}


def render_op(op: Op, graph: Graph, opts: RtlOptions) -> Block | None:
    """The block of ``op`` (None when the op is a pure re-labelling of a stream)."""
    fn = RENDERERS.get(op.kind)
    if fn is None:
        raise NotImplementedError(
            f"{_where(op)}: the RTL backend has no implementation of {op.kind!r} "
            f"(it renders {', '.join(sorted(RENDERERS))})"
        )
    return fn(op, graph, opts)


_ = math

__all__ = ["RENDERERS", "Block", "Const", "RtlOptions", "factor", "pack", "render_op", "requested_par", "rom"]
