"""Dense / activation / add / pooling / reshape primitives: reference against float and csim against reference."""

from __future__ import annotations

import numpy as np
import pytest

from hlsgen.config import Config
from hlsgen.fixed import FixedType, quantize
from hlsgen.ir.graph import Graph, c_identifier
from hlsgen.ir.ops import Activation, Add, GlobalAvgPool, Linear, Reshape
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph


def _graph(rng: np.random.Generator, tokens: int = 5, feat: int = 8, act: str = "tanh") -> Graph:
    g = Graph("basic")
    x = g.add_tensor("x", (tokens, feat))
    g.inputs = [x]
    h = g.add_tensor("h", (tokens, 12))
    g.add_op(Linear("d1", [x], [h], kernel=rng.normal(size=(feat, 12)), bias=rng.normal(size=12)))
    r = g.add_tensor("r", (tokens, 12))
    g.add_op(Activation("a1", [h], [r], function="relu"))
    t = g.add_tensor("t", (tokens, 12))
    g.add_op(Activation("a2", [r], [t], function=act))
    s = g.add_tensor("s", (tokens, 12))
    g.add_op(Add("res", [t, h], [s]))
    p = g.add_tensor("p", (12,))
    g.add_op(GlobalAvgPool("pool", [s], [p]))
    f = g.add_tensor("f", (tokens * 12,))
    g.add_op(Reshape("flat", [s], [f], out_shape=(tokens * 12,)))
    o = g.add_tensor("o", (3,))
    g.add_op(Linear("d2", [p], [o], kernel=rng.normal(size=(12, 3))))
    o2 = g.add_tensor("o2", (2,))
    g.add_op(Linear("d3", [f], [o2], kernel=rng.normal(size=(tokens * 12, 2)) * 0.1, bias=np.zeros(2)))
    g.outputs = [o, o2]
    return g


def test_linear_accumulator_is_exact_and_only_the_output_rounds() -> None:
    rng = np.random.default_rng(1)
    g = Graph("lin")
    x = g.add_tensor("x", (3, 4))
    y = g.add_tensor("y", (3, 5))
    g.inputs, g.outputs = [x], [y]
    g.add_op(Linear("d", [x], [y], kernel=rng.normal(size=(4, 5)), bias=rng.normal(size=5)))
    cfg = Config.from_dict({"default_precision": "ap_fixed<12,4,AP_RND,AP_SAT>"})
    q = quantize_graph(g, cfg)
    op = q.ops[0]
    tw, tb, ty = op.types["weight"], op.types["bias"], op.types["y"]
    X = rng.normal(size=(50, 3, 4))
    xq = quantize(X, q.tensors["x"].type)
    wq = quantize(op.kernel, tw)
    bq = quantize(op.bias, tb)
    exact = xq @ wq + bq  # exact in float64: few significant bits
    np.testing.assert_array_equal(Project(q, cfg).predict(X), quantize(exact, ty))


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "gelu"])
def test_reference_follows_float(act: str) -> None:
    rng = np.random.default_rng(2)
    g = _graph(rng, act=act)
    X = rng.normal(size=(64, 5, 8))
    cfg = Config.from_dict({"default_precision": "ap_fixed<24,10,AP_RND,AP_SAT>"})
    proj = Project(quantize_graph(g, cfg, calibration=X), cfg)
    got = proj.predict(X)
    want = g.run_float([X])
    for y, k in zip(got, g.outputs, strict=True):
        ref = want[k]
        # tables have 1024 entries over the input's range: the activation's error is bounded by its slope
        # (<= 1) times half a bucket of the calibrated type, far below 2% of the output's magnitude
        assert np.max(np.abs(y - ref)) <= 0.02 * np.max(np.abs(ref))


@pytest.mark.gxx
def test_csim_equals_reference() -> None:
    rng = np.random.default_rng(3)
    g = _graph(rng)
    X = rng.normal(size=(200, 5, 8)) * 2
    for prec in ("ap_fixed<16,6,AP_RND,AP_SAT>",):
        cfg = Config.from_dict({"default_precision": prec, "project_name": "basic"})
        proj = Project(quantize_graph(g, cfg, calibration=X[:20]), cfg)
        for a, b in zip(proj.predict_raw(X), proj.csim_raw(X), strict=True):
            np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b)


@pytest.mark.gxx
def test_csim_wrap_and_narrow_types() -> None:
    """Overflow in the default AP_WRAP mode must wrap identically in C++ and in the reference."""
    rng = np.random.default_rng(4)
    g = _graph(rng, act="sigmoid")
    X = rng.normal(size=(100, 5, 8)) * 8
    cfg = Config.from_dict({"default_precision": "ap_fixed<8,3>", "project_name": "narrow"})
    proj = Project(quantize_graph(g, cfg), cfg)
    for a, b in zip(proj.predict_raw(X), proj.csim_raw(X), strict=True):
        np.testing.assert_array_equal(np.asarray(a).reshape(b.shape), b)


def test_identifiers_are_safe_and_deterministic() -> None:
    assert c_identifier("dense/1-x") == "dense_1_x"
    assert c_identifier("1st") == "l_1st"
    assert c_identifier("int") == "l_int"
    g = Graph("g")
    a = g.add_tensor("a.b", (1,))
    b = g.add_tensor("a/b", (1,))
    assert (a, b) == ("a_b", "a_b_1")


def test_untyped_graph_is_refused() -> None:
    g = _graph(np.random.default_rng(0))
    with pytest.raises(ValueError, match="not quantized"):
        g.run_raw([np.zeros((1, 5, 8))])


def test_input_shape_mismatch_names_both_shapes() -> None:
    g = _graph(np.random.default_rng(0))
    cfg = Config()
    proj = Project(quantize_graph(g, cfg), cfg)
    with pytest.raises(
        ValueError, match=r"shape \(2, 4, 8\) does not match the model input 'x' of shape \(batch, 5, 8\)"
    ):
        proj.predict(np.zeros((2, 4, 8)))


def test_types_are_set_everywhere() -> None:
    g = _graph(np.random.default_rng(0))
    q = quantize_graph(g, Config())
    assert all(isinstance(t.type, FixedType) for t in q.tensors.values())
