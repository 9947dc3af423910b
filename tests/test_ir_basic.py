"""Dense / activation / add / pooling / reshape primitives: reference against float and csim against reference."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Level, check_level, dense_block, levels, project_of

from hlsgen.config import Config
from hlsgen.fixed import FixedType, quantize
from hlsgen.ir.graph import Graph, c_identifier
from hlsgen.ir.ops import Linear
from hlsgen.project import Project
from hlsgen.quant.passes import quantize_graph


def _graph(rng: np.random.Generator, tokens: int = 5, feat: int = 8, act: str = "tanh") -> Graph:
    return dense_block(rng, tokens, feat, act)


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


@pytest.mark.parametrize("level", levels(Level.CSIM))
@pytest.mark.parametrize(
    ("prec", "scale", "calibrate", "seed", "act"),
    [
        pytest.param("ap_fixed<16,6,AP_RND,AP_SAT>", 2, True, 3, "tanh", id="rounding-saturating"),
        # overflow in the default AP_WRAP mode must wrap identically in C++ and in the reference
        pytest.param("ap_fixed<8,3>", 8, False, 4, "sigmoid", id="wrapping-narrow"),
    ],
)
def test_levels_equal_reference(
    level: Level, prec: str, scale: float, calibrate: bool, seed: int, act: str
) -> None:
    rng = np.random.default_rng(seed)
    g = _graph(rng, act=act)
    X = rng.normal(size=(200 if calibrate else 100, 5, 8)) * scale
    name = "basic" if calibrate else "narrow"
    proj = project_of(g, {"default_precision": prec, "project_name": name}, X[:20] if calibrate else None)
    check_level(level, proj, X)


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
