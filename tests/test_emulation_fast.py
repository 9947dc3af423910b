"""The float64 fast paths of the emulation against the exact integer paths they stand in for.

Every op that runs in float64 BLAS (``_execute_float``) must equal its exact path (int64 / Python
integers) bit for bit, on random raw inputs spread over the whole input type with its extremes, and must
decline (None) where the 2^52 bound fails, so that the exact path runs. ``convert_float`` and the
``leading_one`` shortcut are held against ``convert`` and the bit loop for every rounding and overflow
mode.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hlsgen.config import Config
from hlsgen.fixed import FixedType, Overflow, Rounding, convert, from_raw, linalg
from hlsgen.fixed.arith import FLOAT_EXACT_BITS, convert_float
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Context, LayerNorm, Linear, Mask, Reshape, Scores, Softmax
from hlsgen.ir.ops.softmax import leading_one
from hlsgen.quant.passes import quantize_graph


def _raw(rng: np.random.Generator, t: FixedType, shape: tuple[int, ...]) -> np.ndarray:
    """Raw integers of ``t``: uniform over the type, a quarter of them at or next to its extremes."""
    r = rng.integers(t.raw_min, t.raw_max, size=shape, endpoint=True, dtype=np.int64)
    edges = np.array([t.raw_min, t.raw_min + 1, t.raw_max - 1, t.raw_max, 0, 1, -1], dtype=np.int64)
    edges = np.clip(edges, t.raw_min, t.raw_max)
    pick = rng.random(shape) < 0.25
    r[pick] = rng.choice(edges, size=int(pick.sum()))
    return r


# ---------------------------------------------------------------------------------------------------
# convert_float and leading_one
# ---------------------------------------------------------------------------------------------------
_MODES = [
    (r, o) for r in Rounding for o in (Overflow.SAT, Overflow.SAT_ZERO, Overflow.SAT_SYM, Overflow.WRAP)
]


@pytest.mark.parametrize(("rnd", "ovf"), _MODES)
@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("ap_fixed<35,8>", "ap_fixed<16,2>"),  # drops 19 bits
        ("ap_ufixed<43,2>", "ap_fixed<16,2>"),  # unsigned source
        ("ap_fixed<52,20>", "ap_fixed<12,20>"),  # drops 40 bits, exact fits
        ("ap_fixed<20,6>", "ap_fixed<30,4>"),  # gains 12 fractional bits: no rounding, overflow only
        ("ap_fixed<24,4>", "ap_ufixed<8,1>"),  # signed to unsigned
        ("ap_fixed<30,4>", "ap_fixed<30,4>"),  # same LSB
    ],
)
def test_convert_float_equals_convert(src: str, dst: str, rnd: Rounding, ovf: Overflow) -> None:
    ts = FixedType.parse(src)
    td = FixedType.parse(dst).with_modes(rnd, ovf)
    rng = np.random.default_rng(len(src) * 31 + len(dst))
    raw = _raw(rng, ts, (4000,))
    # ties and their neighbours at the destination LSB
    sh = ts.frac - td.frac
    if sh > 0:
        k = rng.integers(-(1 << 10), 1 << 10, size=600)
        ties = (k << sh) + np.repeat(np.array([-1, 0, 1]) + (1 << (sh - 1)), 200)
        raw = np.concatenate([raw, np.clip(ties, ts.raw_min, ts.raw_max)])
    bits = max(abs(ts.raw_min), ts.raw_max).bit_length()
    want = convert(raw, ts, td)
    got = convert_float(raw.astype(np.float64), ts, td, bits)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    f = raw.astype(np.float64)
    np.testing.assert_array_equal(convert_float(f, ts, td, bits, overwrite=True), want)


@pytest.mark.parametrize("scale", [1, 3, 46341])
def test_convert_float_scale_and_the_2_52_boundary(scale: int) -> None:
    # raw = v * scale up to 2^52 - 1 is rounded in float64; beyond (bits = 53) the int64 path takes it
    ts, td = FixedType(60, 30), FixedType(16, 4, True, Rounding.RND, Overflow.SAT)
    rng = np.random.default_rng(scale)
    for bits in (FLOAT_EXACT_BITS, FLOAT_EXACT_BITS + 1):
        top = (1 << bits) - 1
        v = rng.integers(-(top // scale), top // scale, size=3000, endpoint=True)
        v[:4] = [top // scale, -(top // scale), 0, 1]
        want = convert(v * scale, ts, td)
        np.testing.assert_array_equal(convert_float(v.astype(np.float64), ts, td, bits, scale=scale), want)


def test_convert_float_modes_outside_the_fast_path() -> None:
    # AP_WRAP_SM, saturation bits, ap_int from a fraction and 60-bit destinations go through convert
    rng = np.random.default_rng(3)
    ts = FixedType(40, 10)
    raw = _raw(rng, ts, (3000,))
    for dst in (
        "ap_fixed<12,3,AP_RND,AP_WRAP_SM>",
        "ap_fixed<12,3,AP_RND_CONV,AP_WRAP,2>",
        "ap_fixed<60,30,AP_RND,AP_SAT>",
        "ap_int<8>",
    ):
        np.testing.assert_array_equal(
            convert_float(raw.astype(np.float64), ts, dst, 40), convert(raw, ts, dst)
        )
    frac = FixedType(16, 0)
    r = _raw(rng, frac, (500,))
    np.testing.assert_array_equal(
        convert_float(r.astype(np.float64), frac, "ap_int<4>", 16), convert(r, frac, "ap_int<4>")
    )


@pytest.mark.parametrize("width", [1, 2, 8, 24, 52, 53])
def test_leading_one_equals_the_bit_loop(width: int) -> None:
    rng = np.random.default_rng(width)
    powers = np.array([1 << k for k in range(min(width + 2, 62))], dtype=np.int64)
    v = np.concatenate(
        [
            powers,
            powers - 1,
            powers + 1,
            [0, 1, 2, 3, -1, -(1 << 40), (1 << 62) - 1],
            rng.integers(0, 1 << width, size=2000, dtype=np.int64),
        ]
    )
    want = np.zeros(v.shape, dtype=np.int64)
    for b in range(1, width):
        want += (v >> b) > 0
    np.testing.assert_array_equal(leading_one(v, width), want)


def test_matmul_float_declines_at_2_52() -> None:
    # bound = n * max|a| * max|b|: 2^51 (52 bits) runs in float64, 2^52 (53 bits) does not
    a = np.full((2, 4), 1 << 25, dtype=np.int64)
    b = np.full((4, 3), 1 << 24, dtype=np.int64)
    r = linalg.matmul_float(a, b)
    assert r is not None and r[1] == FLOAT_EXACT_BITS
    np.testing.assert_array_equal(r[0].astype(np.int64), linalg.matmul(a, b))
    assert linalg.matmul_float(a, b * 2) is None
    assert linalg.matmul_float(a.astype(object), b) is None


# ---------------------------------------------------------------------------------------------------
# ops: the fast path equals the exact one, and declines where the bound fails
# ---------------------------------------------------------------------------------------------------
def _typed(g: Graph, cfg: dict) -> Graph:
    return quantize_graph(g, Config.from_dict(cfg))


def _linear(n_in: int, n_out: int, bias: bool, rng: np.random.Generator) -> Graph:
    g = Graph("lin")
    x, y = g.add_tensor("x", (5, n_in)), g.add_tensor("y", (5, n_out))
    g.inputs, g.outputs = [x], [y]
    b = rng.normal(0, 1, n_out) if bias else None
    g.add_op(Linear("fc", [x], [y], kernel=rng.normal(0, 1, (n_in, n_out)), bias=b))
    return g


@pytest.mark.parametrize(
    ("tx", "tw", "fast"),
    [
        ("ap_fixed<16,6,AP_RND,AP_SAT>", "ap_fixed<16,6>", True),
        ("ap_ufixed<8,2>", "ap_fixed<12,3,AP_RND_CONV,AP_SAT_SYM>", True),
        ("ap_fixed<30,10>", "ap_fixed<24,4>", False),  # sums past 2^52: int64
        ("ap_fixed<40,10>", "ap_fixed<30,4>", False),  # past 2^62: Python integers
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(tx: str, tw: str, fast: bool, bias: bool) -> None:
    rng = np.random.default_rng(11)
    cfg = {"default_precision": tx, "layers": {"fc": {"weight": tw, "bias": tw, "result": tx}}}
    op = _typed(_linear(24, 7, bias, rng), cfg).ops[0]
    x = _raw(rng, op.types["x"], (40, 5, 24))
    want = convert(op.accumulate(x), op.types["accum"], op.types["y"])
    assert (op._execute_float(x) is not None) == fast
    np.testing.assert_array_equal(op.execute(x)[0], want)


def _attention(kind: str, h: int, hkv: int, d: int, t: tuple[int, int]) -> Graph:
    g = Graph(kind)
    tq, tk = t
    if kind == "scores":
        a, b = g.add_tensor("q", (tq, h * d)), g.add_tensor("k", (tk, hkv * d))
        y = g.add_tensor("s", (h, tq, tk))
        op = Scores("op", [a, b], [y], num_heads=h, num_kv_heads=hkv, key_dim=d)
    else:
        a, b = g.add_tensor("p", (h, tq, tk)), g.add_tensor("v", (tk, hkv * d))
        y = g.add_tensor("c", (tq, h * d))
        op = Context("op", [a, b], [y], num_heads=h, num_kv_heads=hkv, value_dim=d)
    g.inputs, g.outputs = [a, b], [y]
    g.add_op(op)
    return g


@pytest.mark.parametrize(
    ("tin", "tout", "fast"),
    [
        ("ap_fixed<16,3>", "ap_fixed<16,2,AP_RND,AP_SAT>", True),
        ("ap_ufixed<10,2>", "ap_fixed<12,5,AP_RND_INF,AP_SAT_ZERO>", True),
        # sums in float64, the product with a non-power-of-two scale past 2^53: int64 for that step
        ("ap_fixed<22,6>", "ap_fixed<18,8,AP_RND_ZERO,AP_WRAP>", True),
        ("ap_fixed<26,6>", "ap_fixed<18,8,AP_RND,AP_SAT>", False),  # dot products past 2^52
    ],
)
@pytest.mark.parametrize(
    ("kind", "hkv", "d"),
    [("scores", 4, 8), ("scores", 2, 4), ("scores", 1, 12), ("context", 4, 8), ("context", 1, 5)],
)
def test_scores_and_context(kind: str, hkv: int, d: int, tin: str, tout: str, fast: bool) -> None:
    rng = np.random.default_rng(hkv * 7 + d)
    g = _attention(kind, 4, hkv, d, (6, 9) if kind == "scores" else (6, 7))
    role = "score" if kind == "scores" else "context"
    op = _typed(g, {"default_precision": tin, "layers": {"op": {role: tout}}}).ops[0]
    a = _raw(rng, FixedType.parse(tin), (30, *g.tensors[op.inputs[0]].shape))
    b = _raw(rng, FixedType.parse(tin), (30, *g.tensors[op.inputs[1]].shape))
    acc = op.accumulate(a, b)
    want = op._scale_cast(acc) if kind == "scores" else convert(acc, op.types["accum"], op.types["y"])
    assert (op._execute_float(a, b) is not None) == fast
    np.testing.assert_array_equal(op.execute(a, b)[0], want)


def _softmax(shape: tuple[int, ...], mask: bool) -> Graph:
    g = Graph("sm")
    x = g.add_tensor("x", shape)
    g.inputs = [x] + ([g.add_tensor("m", shape[-2:])] if mask else [])
    y = g.add_tensor("y", shape)
    g.add_op(Softmax("softmax", list(g.inputs), [y]))
    g.outputs = [y]
    return g


@pytest.mark.parametrize(
    ("tin", "softmax", "fast"),
    [
        ("ap_fixed<16,6>", {}, True),  # 16-bit input: the table indexed by the difference itself
        ("ap_fixed<8,3>", {}, True),
        ("ap_fixed<24,8>", {}, True),  # the joint table after rounding the difference
        ("ap_fixed<16,6>", {"variant": "latency"}, True),
        (
            "ap_fixed<16,6>",
            {"inv_type": "ap_ufixed<18,1,AP_TRN,AP_SAT>", "sum_type": "ap_ufixed<12,8>"},
            True,
        ),
        (
            "ap_fixed<16,6>",
            {"exp_type": "ap_ufixed<36,1,AP_RND,AP_SAT>", "inv_type": "ap_ufixed<24,1>"},
            False,
        ),
    ],
)
@pytest.mark.parametrize("mask", [False, True])
def test_softmax(tin: str, softmax: dict, fast: bool, mask: bool) -> None:
    rng = np.random.default_rng(5)
    shape = (3, 6, 7)
    g = _softmax(shape, mask)
    op = _typed(
        g, {"default_precision": tin, "softmax": softmax, "layers": {"softmax": {"probability": tin}}}
    ).ops[0]
    x = _raw(rng, op.types["x"], (50, *shape))
    x[:5] = op.types["x"].raw_min  # constant rows, and rows of the type's extremes
    x[5:10, ..., ::2] = op.types["x"].raw_max
    keep = None
    m = None
    if mask:
        m = (rng.random((50, 6, 7)) < 0.7).astype(np.int64)
        m[:3, 2] = 0  # fully masked rows give zeros
        keep = op._keep(x.shape, m)
    want = op.normalise(op.exponentials(x, keep))
    assert (op._execute_float(x, keep) is not None) == fast
    np.testing.assert_array_equal(op.execute(x, m)[0] if mask else op.execute(x)[0], want)


@pytest.mark.parametrize(
    ("tin", "layernorm", "fast"),
    [
        ("ap_fixed<16,4>", {}, True),
        ("ap_fixed<10,3>", {"norm_type": "ap_fixed<14,4,AP_RND_CONV,AP_SAT_SYM>"}, True),
        ("ap_fixed<12,4>", {"norm_type": "ap_fixed<8,1,AP_RND_INF,AP_WRAP>"}, True),  # wraps
        ("ap_fixed<24,8>", {}, False),  # squares past 2^52
    ],
)
@pytest.mark.parametrize("d", [8, 12])
def test_layernorm(tin: str, layernorm: dict, fast: bool, d: int) -> None:
    rng = np.random.default_rng(d)
    g = Graph("ln")
    x, y = g.add_tensor("x", (4, d)), g.add_tensor("y", (4, d))
    g.inputs, g.outputs = [x], [y]
    g.add_op(LayerNorm("ln", [x], [y], gamma=rng.normal(1, 0.3, d), beta=rng.normal(0, 0.3, d)))
    op = _typed(g, {"default_precision": tin, "layernorm": layernorm}).ops[0]
    xr = _raw(rng, op.types["x"], (60, 4, d))
    xr[:4] = xr[:4, :, :1]  # constant rows: variance 0
    assert (op._execute_float(xr) is not None) == fast
    np.testing.assert_array_equal(op.execute(xr)[0], op._execute_exact(xr))


def test_every_mode_of_the_probability_cast() -> None:
    # the softmax output cast (wide -> probability) in every rounding x overflow mode
    rng = np.random.default_rng(2)
    shape = (2, 5, 9)
    x = None
    for rnd, ovf in itertools.product(Rounding, (Overflow.SAT, Overflow.WRAP, Overflow.SAT_ZERO)):
        ty = FixedType(12, 1, True, rnd, ovf)
        g = _softmax(shape, False)
        op = _typed(
            g, {"default_precision": "ap_fixed<14,5>", "layers": {"softmax": {"probability": str(ty)}}}
        ).ops[0]
        if x is None:
            x = _raw(rng, op.types["x"], (40, *shape))
        assert op._execute_float(x, None) is not None
        np.testing.assert_array_equal(op.execute(x)[0], op.normalise(op.exponentials(x, None)))


# ---------------------------------------------------------------------------------------------------
# chunked runs
# ---------------------------------------------------------------------------------------------------
def _block(rng: np.random.Generator) -> Graph:
    """Linear -> softmax with a constant causal mask, and a second output straight from the linear."""
    g = Graph("blk")
    x = g.add_tensor("x", (6, 8))
    h = g.add_tensor("h", (6, 6))
    s = g.add_tensor("s", (1, 6, 6))
    m = g.add_tensor("m", (6, 6))
    p = g.add_tensor("p", (1, 6, 6))
    g.inputs, g.outputs = [x], [p, h]
    g.add_op(Linear("fc", [x], [h], kernel=rng.normal(0, 1, (8, 6)), bias=rng.normal(0, 1, 6)))
    g.add_op(Reshape("rs", [h], [s], out_shape=(1, 6, 6)))
    g.add_op(Mask("mk", [], [m], causal=True, shape=(6, 6)))
    g.add_op(Softmax("sm", [s, m], [p]))
    return g


@pytest.mark.parametrize("batch", [1, 7, 64, 100])
def test_chunked_runs_equal_one_pass(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import hlsgen.ir.graph as graph_module

    rng = np.random.default_rng(batch)
    g = _typed(_block(rng), {"default_precision": "ap_fixed<16,6,AP_RND,AP_SAT>"})
    x = rng.normal(0, 2, (batch, 6, 8))
    whole = g.run_raw([x], keep=True)  # keep: one pass
    monkeypatch.setattr(graph_module, "RUN_CHUNK_ELEMENTS", 48 * 3)  # 3 samples a chunk
    calls: list[int] = []
    one_pass = graph_module.Graph._run_raw

    def counted(self, xs, keep):  # type: ignore[no-untyped-def]
        calls.append(next(iter(xs.values())).shape[0])
        return one_pass(self, xs, keep)

    monkeypatch.setattr(graph_module.Graph, "_run_raw", counted)
    raw = g.run_raw([x])
    assert calls == ([batch] if batch <= 3 else [min(3, batch - i) for i in range(0, batch, 3)])
    for k in g.outputs:
        assert raw[k].shape == whole[k].shape and raw[k].dtype == whole[k].dtype
        np.testing.assert_array_equal(raw[k], whole[k])
    for y, k in zip(g.predict([x]), g.outputs, strict=True):
        np.testing.assert_array_equal(y, from_raw(whole[k], g.tensors[k].type))


def test_a_constant_output_runs_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import hlsgen.ir.graph as graph_module

    rng = np.random.default_rng(3)
    g = _block(rng)
    g.outputs = [*g.outputs, "m"]  # the causal mask: batch axis 1 whatever the batch
    g = _typed(g, {"default_precision": "ap_fixed<16,6,AP_RND,AP_SAT>"})
    x = rng.normal(0, 2, (10, 6, 8))
    monkeypatch.setattr(graph_module, "RUN_CHUNK_ELEMENTS", 48 * 3)
    raw = g.run_raw([x])
    assert raw["m"].shape == (1, 6, 6) and raw["p"].shape == (10, 1, 6, 6)
    np.testing.assert_array_equal(raw["p"], g.run_raw([x], keep=True)["p"])


# sums of 6 products up to 2^31, 2^53 (float64), 2^55 (int64), 2^63 and 2^81 (Python integers)
@pytest.mark.parametrize("bits", [16, 26, 27, 31, 40])
def test_matmul_equals_the_einsum_it_replaces(bits: int) -> None:
    # LatentScores: linalg.matmul over transposed views stands for einsum("bqhd,bkhd->bhqk")
    rng = np.random.default_rng(bits)
    lim = 1 << (bits - 1)
    q = rng.integers(-lim, lim, size=(3, 5, 4, 6), endpoint=True)
    k = rng.integers(-lim, lim, size=(3, 7, 4, 6), endpoint=True)
    q[0, 0], k[0, 0] = -lim, -lim
    if bits == 40:
        q, k = q.astype(object), k.astype(object)
    want = linalg.einsum("bqhd,bkhd->bhqk", q, k, 6)
    got = linalg.matmul(q.transpose(0, 2, 1, 3), k.transpose(0, 2, 3, 1))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
