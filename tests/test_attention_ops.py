"""Attention primitives (Scores, Mask, Context): reference against float64 and exact integers, GQA head
mapping, scale folding, masks, and csim against the reference bit for bit."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from helpers import Level, check_level, context_graph, levels, scores_graph

from hlsgen.backends.hls.ops import hls_call
from hlsgen.backends.hls.writer import project_files
from hlsgen.config import Config
from hlsgen.fixed import FixedType, from_raw, quantize, to_raw
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Activation, Context, Linear, Mask, Scores, attention_scale
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph
from hlsgen.resources import resource_dir

#: the full MHA graph needs Softmax and its header; until both exist a plain cast stands in for it
HAVE_SOFTMAX = (
    importlib.util.find_spec("hlsgen.ir.ops.softmax") is not None
    and (resource_dir("templates") / "hls" / "firmware" / "hlsgen" / "hlsgen_softmax.h").is_file()
)


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------
_scores_graph = scores_graph
_context_graph = context_graph


def _types(a: str, b: str, out: str, op: str, role: str, names: tuple[str, str]) -> Config:
    return Config.from_dict(
        {"layers": {names[0]: {"result": a}, names[1]: {"result": b}, op: {role: out}}},
    )


def _uniform(rng: np.random.Generator, t: FixedType, shape: tuple[int, ...]) -> np.ndarray:
    """Values spread over the whole range of ``t`` (its extremes included)."""
    x = rng.uniform(t.min, t.max, size=shape)
    x.flat[0], x.flat[-1] = t.min, t.max
    return x


def _exact_cast(values: list[Fraction], t: FixedType) -> np.ndarray:
    """Raw integers of ``t`` for exact rationals; AP_RND/AP_TRN with AP_SAT/AP_WRAP only (independent of
    hlsgen.fixed, for the wide-type checks)."""
    out = []
    for v in values:
        scaled = v * (1 << t.frac) if t.frac >= 0 else v / (1 << -t.frac)
        r = math.floor(scaled + Fraction(1, 2)) if t.rounding.value == "AP_RND" else math.floor(scaled)
        if t.overflow.value == "AP_SAT":
            r = min(max(r, t.raw_min), t.raw_max)
        else:
            assert t.overflow.value == "AP_WRAP" and t.signed
            r = (r + (1 << (t.width - 1))) % (1 << t.width) - (1 << (t.width - 1))
        out.append(r)
    return np.array(out, dtype=object)


# ---------------------------------------------------------------------------------------------------
# the scale
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dk", [1, 4, 16, 64, 256])
def test_scale_is_an_exact_power_of_two_for_powers_of_four(dk: int) -> None:
    value, raw, frac = attention_scale(dk)
    assert raw == 1 and value == 1.0 / math.sqrt(dk) == 2.0**-frac


@pytest.mark.parametrize("dk", [2, 3, 8, 12, 32, 48, 100])
@pytest.mark.parametrize("bits", [8, 18])
def test_scale_is_rounded_to_ufixed_otherwise(dk: int, bits: int) -> None:
    value, raw, frac = attention_scale(dk, bits)
    assert value == raw * 2.0**-frac
    assert value == float(quantize(1.0 / math.sqrt(dk), f"ap_ufixed<{bits},0,AP_RND>"))
    assert raw % 2 == 1 and frac <= bits


def test_scale_rejects_bad_arguments() -> None:
    for dk in (0, -4, 2.0, True):
        with pytest.raises(ValueError, match="key_dim"):
            attention_scale(dk)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bits"):
        attention_scale(8, 0)


def test_scale_module_does_not_import_tensorflow() -> None:
    code = "import sys, hlsgen.ir.ops.attention as a; a.attention_scale(8); sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ---------------------------------------------------------------------------------------------------
# Scores: reference against float64 and exact integers
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dk", [4, 8, 12, 16])
@pytest.mark.parametrize(
    ("tin", "tout"),
    [
        ("ap_fixed<8,3>", "ap_fixed<12,4,AP_RND,AP_SAT>"),
        ("ap_ufixed<6,2,AP_RND>", "ap_fixed<10,5>"),  # unsigned inputs, wrapping output
        ("ap_fixed<16,6,AP_RND,AP_SAT>", "ap_fixed<18,8,AP_RND_CONV,AP_SAT_SYM>"),
    ],
)
def test_scores_equal_one_rounding_of_the_exact_float64_value(dk: int, tin: str, tout: str) -> None:
    # the quantized inputs have at most 16 significant bits: every product has at most 32, every sum of
    # dk <= 16 of them at most 36, and the product with the (at most 18-bit) scale at most 54 -- but the
    # scale's raw value times the sum stays below 2^53 here, so float64 computes the scaled dot product
    # exactly; the reference must then equal that value cast once to the output type.
    rng = np.random.default_rng(dk)
    tq, tk, h, hkv = 3, 5, 2, 1
    g = _scores_graph(tq, tk, h, hkv, dk)
    cfg = _types(tin, tin, tout, "sc", "score", ("q", "k"))
    qg = quantize_graph(g, cfg)
    ti = FixedType.parse(tin)
    Q = quantize(_uniform(rng, ti, (20, tq, h * dk)), ti)
    K = quantize(_uniform(rng, ti, (20, tk, hkv * dk)), ti)
    op = qg.ops[0]
    assert op.scale_is_shift == (dk in (4, 16))
    exact = op.forward_float(Q, K)[0]
    bits = max(abs(int(v)) for v in (exact * 2.0 ** (2 * ti.frac + op.scale_frac)).flat).bit_length()
    assert bits <= 53
    got = qg.run_raw([Q, K])["s"]
    np.testing.assert_array_equal(got, to_raw(exact, tout))


@pytest.mark.parametrize(
    ("tin", "dk", "path"),
    [
        ("ap_fixed<28,10>", 8, "int64"),  # sums up to 2^57: past float64, within int64
        ("ap_fixed<32,12>", 16, "object"),  # sums up to 2^66: Python integers
        ("ap_fixed<32,12>", 12, "object"),
    ],
)
@pytest.mark.parametrize("tout", ["ap_fixed<32,12,AP_RND,AP_SAT>", "ap_fixed<24,4>"])
def test_scores_wide_types_are_exact_beyond_float64(tin: str, dk: int, path: str, tout: str) -> None:
    rng = np.random.default_rng(7)
    tq, tk, h, hkv = 2, 3, 2, 2
    g = _scores_graph(tq, tk, h, hkv, dk)
    qg = quantize_graph(g, _types(tin, tin, tout, "sc", "score", ("q", "k")))
    ti, to = FixedType.parse(tin), FixedType.parse(tout)
    Q = _uniform(rng, ti, (3, tq, h * dk))
    K = _uniform(rng, ti, (3, tk, hkv * dk))
    op = qg.ops[0]
    qr, kr = to_raw(Q, ti), to_raw(K, ti)
    acc = op.accumulate(qr, kr)
    assert (acc.dtype == object) == (path == "object")
    # independent exact computation: Python integers and fractions
    scale = Fraction(op.scale_raw, 1 << op.scale_frac)
    want = []
    for b in range(3):
        for hh in range(h):
            for i in range(tq):
                for j in range(tk):
                    s = sum(int(qr[b, i, hh * dk + d]) * int(kr[b, j, hh * dk + d]) for d in range(dk))
                    want.append(Fraction(s, 1 << (2 * ti.frac)) * scale)
    got = qg.run_raw([Q, K])["s"]
    np.testing.assert_array_equal(np.asarray(got, dtype=object).reshape(-1), _exact_cast(want, to))


def test_scores_follow_the_float_model_within_the_stated_bound() -> None:
    # inputs rounded to nearest (AP_RND): |dq| <= lsb_q/2, |dk| <= lsb_k/2, so
    # |S_hw - S_float| <= scale * sum_d (|q_d| lsb_k/2 + |k_d| lsb_q/2 + lsb_q lsb_k/4) + lsb_s/2,
    # the last term being the output rounding (AP_RND); the scale is the same float on both sides.
    rng = np.random.default_rng(11)
    tq, tk, h, hkv, dk = 4, 6, 4, 2, 8
    tin, tout = "ap_fixed<10,3,AP_RND,AP_SAT>", "ap_fixed<16,5,AP_RND,AP_SAT>"
    g = _scores_graph(tq, tk, h, hkv, dk)
    qg = quantize_graph(g, _types(tin, tin, tout, "sc", "score", ("q", "k")))
    Q = np.clip(rng.normal(size=(30, tq, h * dk)), -3.9, 3.9)  # inside the range: no saturation
    K = np.clip(rng.normal(size=(30, tk, hkv * dk)), -3.9, 3.9)
    op = qg.ops[0]
    got = qg.predict([Q, K])[0]
    want = op.forward_float(Q, K)[0]
    lq = lk = FixedType.parse(tin).lsb
    sum_q = op.forward_float(np.abs(Q), np.ones_like(K))[0] / op.scale  # sum_d |q_d| per score
    sum_k = op.forward_float(np.ones_like(Q), np.abs(K))[0] / op.scale
    bound = op.scale * (sum_q * lk / 2 + sum_k * lq / 2 + dk * lq * lk / 4) + FixedType.parse(tout).lsb / 2
    assert np.all(np.abs(got - want) <= bound + 1e-12)


# ---------------------------------------------------------------------------------------------------
# grouped-query head mapping
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hkv", [1, 2, 4])
def test_gqa_head_mapping(hkv: int) -> None:
    rng = np.random.default_rng(hkv)
    h, tq, tk, dk, dv = 4, 3, 4, 2, 3
    # scores: head h of Q against key head h // (H // Hkv)
    gs = quantize_graph(_scores_graph(tq, tk, h, hkv, dk), Config())
    Q, K = rng.normal(size=(5, tq, h * dk)), rng.normal(size=(5, tk, hkv * dk))
    s = gs.predict([Q, K])[0]
    qq, kq = quantize(Q, "ap_fixed<16,6>"), quantize(K, "ap_fixed<16,6>")
    group = h // hkv
    for hh in range(h):
        gg = hh // group
        qh, kg = qq[:, :, hh * dk : (hh + 1) * dk], kq[:, :, gg * dk : (gg + 1) * dk]
        want = qh @ kg.transpose(0, 2, 1) * attention_scale(dk)[0]  # exact in float64: few bits
        np.testing.assert_array_equal(s[:, hh], quantize(want, "ap_fixed<16,6>"))
    # context: column block h of C is P_h times value head h // (H // Hkv)
    gc = quantize_graph(_context_graph(tq, tk, h, hkv, dv), Config())
    P, V = rng.uniform(0, 1, size=(5, h, tq, tk)), rng.normal(size=(5, tk, hkv * dv))
    c = gc.predict([P, V])[0]
    pq, vq = quantize(P, "ap_fixed<16,6>"), quantize(V, "ap_fixed<16,6>")
    for hh in range(h):
        gg = hh // group
        want = pq[:, hh] @ vq[:, :, gg * dv : (gg + 1) * dv]
        np.testing.assert_array_equal(c[:, :, hh * dv : (hh + 1) * dv], quantize(want, "ap_fixed<16,6>"))


def test_heads_must_divide() -> None:
    with pytest.raises(ValueError, match="layer mha.*multiple of num_kv_heads"):
        Scores("s", ["q", "k"], ["s"], origin="mha", num_heads=4, num_kv_heads=3, key_dim=4)
    with pytest.raises(ValueError, match="layer ctx.*multiple of num_kv_heads"):
        Context("ctx", ["p", "v"], ["c"], num_heads=6, num_kv_heads=4, value_dim=4)


def test_shape_errors_name_the_layer() -> None:
    g = _scores_graph(3, 4, 2, 1, 4)
    g.ops[0].key_dim = 8
    with pytest.raises(ValueError, match="layer sc: query shape"):
        quantize_graph(g, Config())
    g = _context_graph(3, 4, 2, 1, 4)
    g.ops[0].value_dim = 3
    with pytest.raises(ValueError, match="layer ctx: value shape"):
        quantize_graph(g, Config())


# ---------------------------------------------------------------------------------------------------
# Context: reference against float64
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tp", "tv", "tout"),
    [
        ("ap_ufixed<8,0,AP_RND,AP_SAT>", "ap_fixed<8,3>", "ap_fixed<12,4,AP_RND,AP_SAT>"),
        ("ap_ufixed<18,1>", "ap_fixed<16,6,AP_RND,AP_SAT>", "ap_fixed<16,6>"),
    ],
)
def test_context_equals_one_rounding_of_the_exact_float64_value(tp: str, tv: str, tout: str) -> None:
    # at most 18 + 16 significant bits per product and 3 more for the sum of Tk = 7: exact in float64
    rng = np.random.default_rng(5)
    tq, tk, h, hkv, dv = 3, 7, 4, 2, 5
    qg = quantize_graph(
        _context_graph(tq, tk, h, hkv, dv), _types(tp, tv, tout, "ctx", "context", ("p", "v"))
    )
    P = quantize(_uniform(rng, FixedType.parse(tp), (10, h, tq, tk)), tp)
    V = quantize(_uniform(rng, FixedType.parse(tv), (10, tk, hkv * dv)), tv)
    exact = qg.ops[0].forward_float(P, V)[0]
    np.testing.assert_array_equal(qg.run_raw([P, V])["c"], to_raw(exact, tout))


def test_context_wide_types_are_exact() -> None:
    rng = np.random.default_rng(9)
    t = "ap_fixed<32,12>"
    tq, tk, h, hkv, dv = 2, 4, 2, 1, 2
    qg = quantize_graph(_context_graph(tq, tk, h, hkv, dv), _types(t, t, t, "ctx", "context", ("p", "v")))
    ti = FixedType.parse(t)
    P, V = _uniform(rng, ti, (2, h, tq, tk)), _uniform(rng, ti, (2, tk, hkv * dv))
    pr, vr = to_raw(P, ti), to_raw(V, ti)
    assert qg.ops[0].accumulate(pr, vr).dtype == object
    want = []
    for b in range(2):
        for i in range(tq):
            for hh in range(h):
                for d in range(dv):
                    s = sum(int(pr[b, hh, i, j]) * int(vr[b, j, d]) for j in range(tk))
                    want.append(Fraction(s, 1 << (2 * ti.frac)))
    got = np.asarray(qg.run_raw([P, V])["c"], dtype=object).reshape(-1)
    np.testing.assert_array_equal(got, _exact_cast(want, ti))


# ---------------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------------
def _mask_graph(tq: int, tk: int, causal: bool, explicit: bool, offset: int | None = None) -> Graph:
    g = Graph("mask")
    m = g.add_tensor("m", (tq, tk))
    ins = []
    if explicit:
        ins = [g.add_tensor("x", (tq, tk))]
    g.inputs, g.outputs = ins, [m]
    g.add_op(Mask("mk", ins, [m], causal=causal, offset=offset, shape=(tq, tk)))
    return g


@pytest.mark.parametrize(("tq", "tk"), [(4, 4), (3, 5), (1, 6), (5, 3)])
def test_causal_mask(tq: int, tk: int) -> None:
    g = quantize_graph(_mask_graph(tq, tk, True, False), Config())
    m = g.run_raw([])["m"]
    assert m.shape == (1, tq, tk) and g.tensors["m"].type == FixedType.parse("ap_uint<1>")
    # query i is token (tk - tq + i) of the key sequence: it sees keys 0..tk-tq+i
    want = np.array([[int(j <= tk - tq + i) for j in range(tk)] for i in range(tq)])
    np.testing.assert_array_equal(m[0], want)
    if tq == tk:
        np.testing.assert_array_equal(m[0], np.tril(np.ones((tq, tk), dtype=np.int64)))
    np.testing.assert_array_equal(g.run_float([])["m"][0], want)


def test_causal_mask_offset_override() -> None:
    g = quantize_graph(_mask_graph(3, 5, True, False, offset=0), Config())
    np.testing.assert_array_equal(g.run_raw([])["m"][0], np.tril(np.ones((3, 5), dtype=np.int64)))


@pytest.mark.parametrize("causal", [True, False])
def test_explicit_mask_and_causal(causal: bool) -> None:
    rng = np.random.default_rng(3)
    tq, tk = 3, 5
    g = quantize_graph(_mask_graph(tq, tk, causal, True), Config())
    assert g.tensors["x"].type == FixedType.parse("ap_uint<1>")
    X = rng.integers(0, 2, size=(8, tq, tk)).astype(np.float64)
    got = g.run_raw([X])["m"]
    want = X.astype(bool)
    if causal:
        want = want & (np.arange(tk)[None, :] <= np.arange(tq)[:, None] + tk - tq)
    np.testing.assert_array_equal(got, want.astype(np.int64))
    # the op itself reads any nonzero raw value as "attend"
    op = g.ops[0]
    raw = np.array([[[2, -1, 0, 5, 0]] * tq])
    np.testing.assert_array_equal(
        op.execute(raw)[0], (raw != 0) & (op.causal_mask(tq, tk) if causal else True)
    )


def test_mask_errors() -> None:
    with pytest.raises(ValueError, match="neither causal nor explicit"):
        Mask("m", [], ["m"], causal=False)
    g = _mask_graph(3, 5, True, False)
    g.ops[0].shape = (3, 4)
    with pytest.raises(ValueError, match="differs"):
        quantize_graph(g, Config())


# ---------------------------------------------------------------------------------------------------
# scale folding vs multiplication, cost, rendering
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dk", "shift"), [(1, True), (4, True), (16, True), (2, False), (8, False), (12, False)]
)
def test_scale_folded_or_multiplied(dk: int, shift: bool) -> None:
    tq, tk, h = 3, 4, 2
    cfg = Config.from_dict({"reuse_factor": 4})
    qg = quantize_graph(_scores_graph(tq, tk, h, 1, dk), cfg)
    op = qg.ops[0]
    ta = op.types["accum"]
    assert op.scale_is_shift == shift
    cfg_fields = {name: value for _, name, value in hls_call(op, qg).config}
    assert cfg_fields["scale_is_shift"] == int(shift)
    assert cfg_fields["accum_width"] == ta.width
    macs = h * tq * tk * dk
    cost = op.cost(qg)
    assert cost.macs == macs
    if shift:
        # the same bits, read with log4(dk) more fractional bits: no multiplier for the scale
        assert op.types["shifted"].width == ta.width
        assert op.types["shifted"].frac == ta.frac + int(round(math.log(dk, 4)))
        assert cost.multipliers == -(-macs // 4)
    else:
        assert cost.multipliers == -(-(macs + h * tq * tk) // 4)
        assert op.types["scale"] == FixedType(
            op.scale_raw.bit_length(), op.scale_raw.bit_length() - op.scale_frac, False
        )


def test_accumulators_are_exact_by_construction() -> None:
    qg = quantize_graph(
        _scores_graph(2, 3, 2, 1, 8),
        _types("ap_fixed<8,3>", "ap_ufixed<6,2>", "ap_fixed<16,6>", "sc", "score", ("q", "k")),
    )
    ta = qg.ops[0].types["accum"]
    # |sum| <= 8 * 2^7 * (2^6 - 1) raw units of 2^-(5+4)
    assert ta.frac == 9 and ta.raw_max >= 8 * 128 * 63 and ta.raw_min <= -8 * 128 * 63
    qc = quantize_graph(_context_graph(2, 5, 2, 1, 3), Config())
    tc = qc.ops[0].types["accum"]
    assert tc.frac == 20 and tc.raw_min <= -5 * 2**30


def test_project_renders_attention_header_and_configs() -> None:
    g = Graph("attn")
    q = g.add_tensor("q", (3, 8))
    k = g.add_tensor("k", (5, 4))
    v = g.add_tensor("v", (5, 4))
    s = g.add_tensor("s", (2, 3, 5))
    m = g.add_tensor("m", (3, 5))
    c = g.add_tensor("c", (3, 8))
    g.inputs, g.outputs = [q, k, v], [s, m, c]
    g.add_op(Scores("sc", [q, k], [s], num_heads=2, num_kv_heads=1, key_dim=4))
    g.add_op(Mask("mk", [], [m], shape=(3, 5)))
    g.add_op(Context("ctx", [s, v], [c], num_heads=2, num_kv_heads=1, value_dim=4))
    files = project_files(quantize_graph(g, Config()), Config())
    assert "firmware/hlsgen/hlsgen_attention.h" in files
    cpp = files["firmware/myproject.cpp"]
    assert "hlsgen::scores<q_t, k_t, s_t, config_sc>(q, k, s)" in cpp
    assert "hlsgen::mask_causal<m_t, config_mk>(m)" in cpp
    assert "hlsgen::context<s_t, v_t, c_t, config_ctx>(s, v, c)" in cpp
    par = files["firmware/parameters.h"]
    assert "static const int offset = 2;" in par and "static const int scale_is_shift = 1;" in par


# ---------------------------------------------------------------------------------------------------
# csim == reference, bit for bit
# ---------------------------------------------------------------------------------------------------
def _attention_block(
    g: Graph,
    rng: np.random.Generator,
    name: str,
    x: str,
    mem: str,
    h: int,
    hkv: int,
    dk: int,
    dv: int,
    causal: bool,
    mask_input: str | None,
) -> dict[str, str]:
    """q/k/v projections -> Scores -> Mask -> probabilities -> Context -> output projection."""
    tq, d = g.tensors[x].shape
    tk, dm = g.tensors[mem].shape

    def lin(tag: str, src: str, rows: int, n_in: int, n_out: int, role: str) -> str:
        out = g.add_tensor(f"{name}_{tag}", (rows, n_out))
        k = rng.normal(size=(n_in, n_out)) / math.sqrt(n_in)
        g.add_op(
            Linear(f"{name}_{tag}_proj", [src], [out], kernel=k, bias=rng.normal(size=n_out) * 0.1, role=role)
        )
        return out

    q = lin("q", x, tq, d, h * dk, "query")
    k = lin("k", mem, tk, dm, hkv * dk, "key")
    v = lin("v", mem, tk, dm, hkv * dv, "value")
    s = g.add_tensor(f"{name}_s", (h, tq, tk))
    g.add_op(Scores(f"{name}_scores", [q, k], [s], num_heads=h, num_kv_heads=hkv, key_dim=dk))
    m = g.add_tensor(f"{name}_m", (tq, tk))
    g.add_op(Mask(f"{name}_mask", [mask_input] if mask_input else [], [m], causal=causal, shape=(tq, tk)))
    p = g.add_tensor(f"{name}_p", (h, tq, tk))
    if HAVE_SOFTMAX:
        from hlsgen.ir.ops.softmax import Softmax

        g.add_op(Softmax(f"{name}_softmax", [s, m], [p]))
    else:  # a plain cast stands in for softmax until it exists
        g.add_op(Activation(f"{name}_prob", [s], [p], function="linear"))
    c = g.add_tensor(f"{name}_c", (tq, h * dv))
    g.add_op(Context(f"{name}_context", [p, v], [c], num_heads=h, num_kv_heads=hkv, value_dim=dv))
    o = lin("o", c, tq, h * dv, d, "result")
    return {"s": s, "m": m, "p": p, "c": c, "o": o}


#: name -> (query input, key/value input, H, Hkv, dk, dv, causal, explicit mask input)
_BLOCKS = {
    "self": ("x", "x", 4, 2, 4, 3, True, None),  # GQA, dk = 4: folded scale, causal only
    "cross": ("x", "mem", 4, 1, 8, 2, True, "xm"),  # MQA, dk = 8: multiplied scale, Tq != Tk, AND
    "mha": ("x", "x", 4, 4, 2, 2, False, "xa"),  # MHA, dk = 2, explicit mask only
}


def _attention_model(rng: np.random.Generator, blocks: tuple[str, ...]) -> tuple[Graph, list[np.ndarray]]:
    """Attention blocks of :data:`_BLOCKS` side by side in one graph (one csim build)."""
    g = Graph("attn")
    shapes = {"x": (4, 8), "mem": (6, 6), "xm": (4, 6), "xa": (4, 4)}
    used = [n for n in shapes if any(n in _BLOCKS[b][:2] or n == _BLOCKS[b][7] for b in blocks)]
    g.inputs = [g.add_tensor(n, shapes[n]) for n in used]
    g.outputs = []
    for b in blocks:
        q, kv, h, hkv, dk, dv, causal, m = _BLOCKS[b]
        t = _attention_block(g, rng, b, q, kv, h, hkv, dk, dv, causal, m)
        g.outputs += [t["s"], t["m"], t["p"], t["c"], t["o"]]
    n = 64
    xs = []
    for name in used:
        if name in ("x", "mem"):
            xs.append(rng.normal(size=(n, *shapes[name])))
        else:
            xs.append(rng.integers(0, 2, size=(n, *shapes[name])).astype(np.float64))
            xs[-1][:, :, 0] = 1.0  # every query attends at least one key
    return g, xs


@pytest.mark.parametrize("level", levels(Level.CSIM))
@pytest.mark.parametrize(
    ("config", "blocks"),
    [
        pytest.param(
            {
                "default_precision": "ap_fixed<12,4,AP_RND,AP_SAT>",
                "reuse_factor": 2,
                "layers": {
                    "self_scores": {"score": "ap_fixed<8,3>"},  # narrow and wrapping
                    "cross_scores": {"score": "ap_fixed<10,3,AP_RND_CONV,AP_SAT_SYM>"},
                    "mha_context": {"context": "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT>"},
                    "self_q_proj": {"query": "ap_ufixed<8,2,AP_RND,AP_SAT>"},
                },
            },
            ("self", "cross", "mha"),
            id="narrow",
        ),
        pytest.param(
            {"default_precision": "ap_fixed<32,12,AP_RND,AP_SAT>"}, ("self", "cross"), id="wide-32-12"
        ),
    ],
)
def test_levels_equal_reference(level: Level, config: dict[str, Any], blocks: tuple[str, ...]) -> None:
    # two builds cover every case: GQA / MQA / MHA, folded and multiplied scales, causal / explicit /
    # both masks with Tq == Tk and Tq != Tk, narrow wrapping and saturating types, and ap_fixed<32,12>
    rng = np.random.default_rng(21)
    g, xs = _attention_model(rng, blocks)
    cfg = Config.from_dict({**config, "project_name": "attn"})
    proj = Project(quantize_graph(g, cfg), cfg)
    ops = {op.name: op for op in proj.graph.ops}
    assert ops["self_scores"].scale_is_shift and not ops["cross_scores"].scale_is_shift
    if "32,12" in config["default_precision"]:
        # per-sample magnitudes: 8 samples near the top of the range push the dot products of the batch
        # past 2^62 (the reference's Python-integer path) and saturate; the others stay meaningful
        n = xs[0].shape[0]
        mag = np.concatenate([2.0 ** np.linspace(-3, 4, n - 8), 2.0 ** np.linspace(8, 10, 8)])[:, None, None]
        for x in xs[:2]:
            x *= mag
        env = proj.graph.run_raw(xs, keep=True)
        for name in ("self_scores", "cross_scores"):
            op = ops[name]
            assert op.accumulate(*(env[t] for t in op.inputs)).dtype == object, name
        # the other samples follow the float model closely (20 fractional bits everywhere, no saturation)
        want = g.run_float(xs)
        for k in ("self_s", "cross_s"):
            got = from_raw(np.asarray(env[k], dtype=object)[: n - 8], proj.graph.tensors[k].type)
            ref = want[k][: n - 8]
            assert np.all(np.abs(got - ref) <= 1e-3 * np.maximum(1.0, np.abs(ref))), k
    check_level(level, proj, xs)
