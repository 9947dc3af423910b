"""The Keras front door's ops (Embedding, Constant, broadcast Binary, Concat, Slice, Transpose,
GlobalMaxPool, BatchNorm, Conv1D): the reference against exact float64, shape errors, and csim against
the reference bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hlsgen.config import Config
from hlsgen.fixed import FixedType, from_raw, quantize
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import (
    BatchNorm,
    Binary,
    Concat,
    Constant,
    Conv1D,
    Embedding,
    GlobalMaxPool,
    Reshape,
    Slice,
    Transpose,
    token_type,
)
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph

T, D, V = 6, 4, 13
NARROW = "ap_fixed<12,4,AP_RND,AP_SAT>"


def _model(seed: int = 3) -> tuple[Graph, list[np.ndarray]]:
    """Every new op in one graph (one csim build), fed by a token input and a float input."""
    rng = np.random.default_rng(seed)
    g = Graph("tensor_ops")
    tok = g.add_tensor("tok", (T,))
    x = g.add_tensor("x", (T, D))
    g.inputs = [tok, x]
    g.input_types[tok] = token_type(V)

    def t(name: str, shape: tuple[int, ...]) -> str:
        return g.add_tensor(name, shape)

    def const(name: str, shape: tuple[int, ...]) -> str:
        y = t(name, shape)
        g.add_op(Constant(f"{name}_op", [], [y], value=rng.uniform(-1.5, 1.5, size=shape)))
        return y

    e = t("e", (T, D))
    g.add_op(Embedding("emb", [tok], [e], table=rng.uniform(-2, 2, size=(V, D))))
    pos = const("pos", (T, D))
    vec, col, one, cls = const("vec", (D,)), const("col", (T, 1)), const("one", (1,)), const("cls", (1, D))
    h = [t(f"h{k}", (T, D)) for k in range(5)]
    g.add_op(Binary("add_pos", [e, pos], [h[0]], operation="add"))
    g.add_op(Binary("mul_x", [h[0], x], [h[1]], operation="mul"))
    g.add_op(Binary("sub_vec", [h[1], vec], [h[2]], operation="sub"))  # [D] over the tokens
    g.add_op(Binary("mul_col", [col, h[2]], [h[3]], operation="mul"))  # [T, 1] over the features
    g.add_op(Binary("add_one", [h[3], one], [h[4]], operation="add"))  # a scalar
    c = t("c", (T + 1, D))
    g.add_op(Concat("cat_tokens", [cls, h[4]], [c], axis=0))  # class token in front
    cf = t("cf", (T, 2 * D))
    g.add_op(Concat("cat_feat", [x, e], [cf], axis=-1))
    k3 = t("k3", (T, 5))
    g.add_op(
        Conv1D(
            "conv3",
            [cf],
            [k3],
            kernel=rng.uniform(-1, 1, size=(3 * 2 * D, 5)),
            bias=rng.uniform(-1, 1, size=5),
            kernel_size=3,
            padding="same",
        )
    )
    k5 = t("k5", (T - 4, 3))
    g.add_op(
        Conv1D("conv5", [x], [k5], kernel=rng.uniform(-1, 1, size=(5 * D, 3)), kernel_size=5, padding="valid")
    )
    tr = t("tr", (D, T + 1))
    g.add_op(Transpose("tr_op", [c], [tr], perm=(1, 0)))
    s0 = t("s0", (D,))
    g.add_op(Slice("take0", [c], [s0], axis=0, start=0, stop=1, squeeze=True))
    sl = t("sl", (D, 3))
    g.add_op(Slice("slice_cols", [tr], [sl], axis=-1, start=2, stop=5))
    mp = t("mp", (5,))
    g.add_op(GlobalMaxPool("maxpool", [k3], [mp]))
    bn = t("bn", (T, 5))
    g.add_op(
        BatchNorm("bn_op", [k3], [bn], scale=rng.uniform(0.5, 2, size=5), shift=rng.uniform(-1, 1, size=5))
    )
    p3 = t("p3", (2, 3, D))
    g.add_op(Reshape("patches", [x], [p3], out_shape=(2, 3, D)))
    pt = t("pt", (3, 2, D))
    g.add_op(Transpose("patches_t", [p3], [pt], perm=(1, 0, 2)))
    g.outputs = [e, h[0], h[1], h[2], h[3], h[4], c, cf, k3, k5, tr, s0, sl, mp, bn, pt]
    n = 48
    toks = rng.integers(0, 16, size=(n, T)).astype(np.float64)  # ids 13..15 lie outside the vocabulary
    xs = rng.uniform(-3, 3, size=(n, T, D))
    return g, [toks, xs]


def _exact_config(result: str) -> Config:
    """Weights, constants and the float input at 8 fractional bits; results at ``result``."""
    small = {"result": NARROW}
    layers = {k: small for k in ("x", "pos_op", "vec_op", "col_op", "one_op", "cls_op")}
    return Config.from_dict(
        {
            "default_precision": result,
            "default_weight_precision": NARROW,
            "layers": layers,
            "project_name": "tops",
        }
    )


def _with_quantized_params(g: Graph) -> Graph:
    """A float graph whose parameters are the typed graph's quantized values."""
    f = g.copy()
    for op in f.ops:
        if isinstance(op, Conv1D):
            op.kernel = from_raw(op.w_raw, op.types["weight"])
            op.bias = None if op.b_raw is None else from_raw(op.b_raw, op.types["bias"])
        elif isinstance(op, Embedding):
            op.table = from_raw(op.table_raw, op.types["weight"])
        elif isinstance(op, Constant):
            op.value = from_raw(op.raw, op.types["y"])
        elif isinstance(op, BatchNorm):
            op.scale = from_raw(op.scale_raw, op.types["weight"])
            op.shift = from_raw(op.shift_raw, op.types["bias"])
    return f


# ---------------------------------------------------------------------------------------------------
def test_reference_equals_exact_float64() -> None:
    # inputs, weights and constants carry 8 fractional bits and at most 12 bits; the deepest chain
    # (embedding + constant, times x, minus a constant, times a constant) needs 24 fractional bits and
    # 16 integer bits: every result type ap_fixed<48,16> holds each value exactly, and float64 computes
    # them exactly too, so the reference must equal the float model run on the quantized parameters.
    g, xs = _model()
    cfg = _exact_config("ap_fixed<48,16,AP_RND,AP_SAT>")
    qg = quantize_graph(g, cfg)
    assert str(qg.tensors["tok"].type) == "ap_uint<4>"
    xq = [xs[0], quantize(xs[1], FixedType.parse(NARROW))]
    got = Project(qg, cfg).predict(xq)
    want = _with_quantized_params(qg).run_float(xq)
    for k, v in zip(qg.outputs, got, strict=True):
        np.testing.assert_array_equal(v, np.broadcast_to(want[k], v.shape), err_msg=k)
    # out-of-vocabulary ids give rows of zeros, in-vocabulary ones the table's rows
    e = got[0]
    oov = xs[0] >= V
    assert oov.any() and np.all(e[oov] == 0)
    emb = next(op for op in qg.ops if isinstance(op, Embedding))
    ids = xs[0][~oov].astype(int)
    np.testing.assert_array_equal(e[~oov], from_raw(emb.table_raw, emb.types["weight"])[ids])


def test_ops_follow_numpy_semantics() -> None:
    g, xs = _model()
    out = g.run_float(xs, keep=True)
    e, x = out["e"], xs[1]
    np.testing.assert_array_equal(out["cf"], np.concatenate([x, e], axis=-1))
    np.testing.assert_array_equal(out["c"][:, 1:], out["h4"])
    np.testing.assert_array_equal(out["s0"], out["c"][:, 0])
    np.testing.assert_array_equal(out["tr"], out["c"].transpose(0, 2, 1))
    np.testing.assert_array_equal(out["sl"], out["tr"][:, :, 2:5])
    np.testing.assert_array_equal(out["mp"], out["k3"].max(axis=1))
    np.testing.assert_array_equal(out["pt"], x.reshape(-1, 2, 3, D).transpose(0, 2, 1, 3))
    # Conv1D 'same' against a direct sum over the taps
    conv = g.op("conv3")
    w = conv.kernel.reshape(3, 2 * D, 5)
    cf = np.pad(out["cf"], ((0, 0), (1, 1), (0, 0)))
    direct = sum(cf[:, k : k + T] @ w[k] for k in range(3)) + conv.bias
    np.testing.assert_allclose(out["k3"], direct, rtol=1e-12, atol=1e-12)
    assert g.op("conv5").out_tokens(T) == T - 4


def test_shape_and_type_errors_name_the_op() -> None:
    g = Graph("bad")
    a, b, y = g.add_tensor("a", (3, 4)), g.add_tensor("b", (2, 4)), g.add_tensor("y", (3, 4))
    g.inputs, g.outputs = [a, b], [y]
    g.add_op(Binary("bad_add", [a, b], [y], origin="my_layer"))
    with pytest.raises(ValueError, match="my_layer.*broadcast"):
        quantize_graph(g, Config())
    g = Graph("bad_tokens")
    tok, y = g.add_tensor("tok", (3,)), g.add_tensor("y", (3, 2))
    g.inputs, g.outputs = [tok], [y]
    g.add_op(Embedding("emb", [tok], [y], origin="token_emb", table=np.zeros((10, 2))))
    with pytest.raises(ValueError, match="token_emb.*ap_uint<4>"):
        quantize_graph(g, Config())  # no input type fixed: the default signed fixed type


def test_batchnorm_from_moments_is_keras_inference() -> None:
    rng = np.random.default_rng(0)
    gamma, beta, mean, var = (
        rng.uniform(0.5, 2, 3),
        rng.normal(size=3),
        rng.normal(size=3),
        rng.uniform(0.1, 2, 3),
    )
    op = BatchNorm.from_moments("bn", "x", "y", "bn", gamma, beta, mean, var, 1e-3)
    x = rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        op.forward_float(x)[0], gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12
    )


def test_costs_are_estimated() -> None:
    g, _ = _model()
    qg = quantize_graph(g, _exact_config("ap_fixed<24,10>"))
    costs = {op.name: op.cost(qg) for op in qg.ops}
    assert costs["conv3"].macs == T * 3 * 2 * D * 5
    assert costs["conv5"].macs == (T - 4) * 5 * D * 3
    assert costs["mul_x"].multipliers == T * D and costs["add_pos"].multipliers == 0
    assert costs["emb"].param_bits == V * D * 12
    assert costs["bn_op"].multipliers == T * 5


# ---------------------------------------------------------------------------------------------------
def _check_csim(proj: Project, xs: list[np.ndarray]) -> None:
    ref = proj.predict_raw(xs)
    sim = proj.csim_raw(xs)
    for k, r, s in zip(proj.graph.outputs, ref, sim, strict=True):
        np.testing.assert_array_equal(s, np.broadcast_to(np.asarray(r, dtype=np.int64), s.shape), err_msg=k)


#: ops typed wide, saturating and rounding (AP_RND_CONV) in the csim build; the others narrow and wrapping
_WIDE_OPS = ("mul_x", "mul_col", "cat_feat", "conv3", "bn_op", "emb", "pos_op", "cls_op")


@pytest.mark.gxx
def test_csim_equals_reference() -> None:
    # one build (its time counts in the test budget): ap_fixed<10,3> AP_TRN / AP_WRAP by default, so
    # that values wrap, and ap_fixed<32,12,AP_RND_CONV,AP_SAT> on the ops of _WIDE_OPS, so that rounding
    # and saturation are covered too; a reuse factor of 2 for the convolutions
    g, xs = _model()
    wide = {"result": "ap_fixed<32,12,AP_RND_CONV,AP_SAT>"}
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<10,3>",
            "reuse_factor": 2,
            "layers": {k: wide for k in _WIDE_OPS},
            "project_name": "tops",
        }
    )
    proj = Project(quantize_graph(g, cfg), cfg)
    got = dict(zip(g.outputs, proj.predict(xs), strict=True))
    f = g.run_float(xs)
    wrapped = [k for k in g.outputs if np.any((np.abs(f[k]) > 5) & (np.sign(got[k]) == -np.sign(f[k])))]
    assert len(wrapped) >= 2, wrapped  # the check covers wrap-around, not only exact values
    assert proj.graph.tensors["k3"].type.overflow.value == "AP_SAT"
    _check_csim(proj, xs)


@pytest.mark.gxx
def test_stream_csim_equals_reference() -> None:
    # io_stream: the ops run between hls::stream adapters (a constant has no input stream)
    g, xs = _model()
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<24,10,AP_RND,AP_SAT>",
            "io_type": "io_stream",
            "project_name": "tstream",
        }
    )
    _check_csim(Project(quantize_graph(g, cfg, calibration=xs), cfg), xs)
