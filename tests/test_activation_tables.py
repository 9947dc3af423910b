"""Accuracy defaults: activation tables over the calibrated range (configurable like softmax's), calibrated
types that saturate, and the warning for tensors that wrap on the calibration data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from hlsgen.config import ActivationConfig, Config
from hlsgen.fixed import FixedType, Overflow
from hlsgen.ir.graph import Graph
from hlsgen.ir.ops import Activation, Linear, TableInput
from hlsgen.project import quantize_graph


def _gelu_graph(seed: int = 0) -> tuple[Graph, np.ndarray]:
    """x -> Linear(16) -> table input cast -> gelu -> Linear(4); inputs so that gelu sees about +-4."""
    rng = np.random.default_rng(seed)
    g = Graph("gelu_mlp")
    x = g.add_tensor("x", (8,))
    h, hi, a, y = (g.add_tensor(n, s) for n, s in (("h", (16,)), ("h_in", (16,)), ("a", (16,)), ("y", (4,))))
    g.inputs, g.outputs = [x], [y]
    g.add_op(
        Linear(
            "fc1", [x], [h], origin="fc1", kernel=rng.normal(size=(8, 16)) / 2, bias=rng.normal(size=16) * 0.1
        )
    )
    g.add_op(TableInput("fc1_gelu_in", [h], [hi], origin="fc1"))
    g.add_op(Activation("fc1_gelu", [hi], [a], origin="fc1", function="gelu"))
    g.add_op(Linear("fc2", [a], [y], origin="fc2", kernel=rng.normal(size=(16, 4)) / 4))
    return g, rng.normal(size=(400, 8))


def _rel_error(g: Graph, cfg: Config, x: np.ndarray, calibrate: bool = True) -> float:
    qg = quantize_graph(g, cfg, calibration=x if calibrate else None)
    got = qg.predict([x])[0]
    ref = g.run_float([x])["y"]
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def test_agreement_does_not_fall_as_the_width_grows() -> None:
    g, x = _gelu_graph()
    errs = {
        p: _rel_error(g, Config(default_precision=p), x)
        for p in ("ap_fixed<18,8>", "ap_fixed<24,10>", "ap_fixed<32,12>")
    }
    assert errs["ap_fixed<32,12>"] <= errs["ap_fixed<24,10>"] * 1.05 + 1e-6, errs
    assert errs["ap_fixed<24,10>"] <= errs["ap_fixed<18,8>"] * 1.05 + 1e-6, errs
    assert errs["ap_fixed<32,12>"] < 0.01, errs
    # the old behaviour, a table over the input type's whole range (12 integer bits), is far worse
    wide_range = Config.from_dict({"default_precision": "ap_fixed<32,12>", "activation": {"range_bits": 12}})
    assert _rel_error(g, wide_range, x) > 5 * errs["ap_fixed<32,12>"]


def test_table_follows_the_configured_size_and_range() -> None:
    g, x = _gelu_graph()
    cfg = Config.from_dict(
        {
            "default_precision": "ap_fixed<24,10>",
            "layers": {"fc1": {"activation": {"table_bits": 12, "range_bits": 4}}},
        }
    )
    qg = quantize_graph(g, cfg, calibration=x)
    addr = qg.tensors["h_in"].type
    assert (addr.width, addr.integer, addr.overflow) == (12, 4, Overflow.SAT)
    act = qg.op("fc1_gelu")
    assert act.table_bits == 12 and act.table_raw.size == 4096
    # 12 address bits over [-8, 8) beat the default 10 over the calibrated range (which is as wide)
    assert _rel_error(g, cfg, x) < _rel_error(g, Config(default_precision="ap_fixed<24,10>"), x)
    # without calibration the range is the input type's
    qn = quantize_graph(g, Config(default_precision="ap_fixed<24,10>"))
    assert qn.tensors["h_in"].type.integer == 10


def test_activation_config_round_trips_yaml(tmp_path: Path) -> None:
    cfg = Config.from_dict(
        {"activation": {"table_bits": 12}, "layers": {"fc1": {"activation": {"range_bits": 3}}}}
    )
    (tmp_path / "c.yml").write_text(cfg.to_yaml())
    back = Config.from_yaml(tmp_path / "c.yml")
    assert back.activation == ActivationConfig(table_bits=12)
    assert back.layers["fc1"].activation == ActivationConfig(range_bits=3)
    with pytest.raises(ValueError, match="table_bits"):
        Config.from_dict({"activation": {"table_bits": -1}})
    with pytest.raises(ValueError, match="calibration_overflow"):
        Config.from_dict({"calibration_overflow": "AP_NOPE"})


def test_calibrated_types_saturate_past_the_calibration_range() -> None:
    g, x = _gelu_graph()
    sat = quantize_graph(g, Config(default_precision="ap_fixed<16,6>"), calibration=x)
    wrap = quantize_graph(
        g, Config(default_precision="ap_fixed<16,6>", calibration_overflow=""), calibration=x
    )
    assert sat.tensors["h"].type.overflow is Overflow.SAT and wrap.tensors["h"].type.overflow is Overflow.WRAP
    far = x * 3  # past the calibration range
    ref = g.run_float([far], keep=True)["h"]
    env_s, env_w = sat.run_raw([far], keep=True), wrap.run_raw([far], keep=True)
    t = sat.tensors["h"].type
    hs = env_s["h"] * 2.0**-t.frac
    hw = env_w["h"] * 2.0**-t.frac
    big = np.abs(ref) > t.max
    assert big.any()
    assert np.all(np.sign(hs[big]) == np.sign(ref[big]))  # saturated: the sign kept
    assert np.any(np.sign(hw[big]) != np.sign(ref[big]))  # wrapped: some flip


def test_convert_warns_about_tensors_that_wrap() -> None:
    tf = pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.convert import WrapWarning

    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(3, name="narrow")(inputs))
    model.layers[-1].set_weights([np.full((4, 3), 2.0, np.float32), np.zeros(3, np.float32)])
    x = np.ones((8, 4), np.float32)  # the output is 8
    with pytest.warns(WrapWarning, match=r"narrow.*8.*ap_fixed<8,2>"):
        hlsgen.convert(model, {"layers": {"narrow": {"result": "ap_fixed<8,2>"}}}, calibration_data=x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", WrapWarning)
        hlsgen.convert(
            model, {"layers": {"narrow": {"result": "ap_fixed<8,2,AP_RND,AP_SAT>"}}}, calibration_data=x
        )
    assert FixedType.parse("ap_fixed<8,2>").max < 8


def test_loaded_project_keeps_the_calibrated_table_address(tmp_path: Path) -> None:
    """A layer override that widens a Dense's result past its calibrated range: the swish table's address
    keeps the calibrated integer bits, which the project written and loaded back (no calibration data)
    must take from its config, not from the input type (fuzz seed 3205)."""
    tf = pytest.importorskip("tensorflow")
    import hlsgen

    rng = np.random.default_rng(3205)
    inputs = tf.keras.Input((4,))
    h = tf.keras.layers.Dense(1, activation="swish", name="ffn")(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2, activation="sigmoid", name="head")(h))
    model.layers[1].set_weights(
        [np.array([[1.0], [-0.5], [0.25], [0.5]], np.float32), np.zeros(1, np.float32)]
    )
    model.layers[2].set_weights([np.array([[1.5, -0.75]], np.float32), np.array([0.1, 0.2], np.float32)])
    x = rng.uniform(-1.0, 1.0, size=(16, 4)).astype(np.float32)
    path = tmp_path / "model.keras"
    model.save(path)
    cfg = {
        "default_precision": "ap_fixed<7,4,AP_RND_CONV,AP_SAT>",
        "layers": {"ffn": {"result": "ap_fixed<18,4,AP_TRN_ZERO,AP_WRAP>"}},
    }
    proj = hlsgen.convert(str(path), cfg, calibration_data=x)
    assert proj.graph.op("ffn_swish_in").types["y"].integer < 4  # the calibrated range, not ffn's type
    loaded = hlsgen.Project.load(proj.write(tmp_path / "prj", model_source=path))
    for a, b in zip(proj.graph.ops, loaded.graph.ops, strict=True):
        assert a.types == b.types, a.name
    np.testing.assert_array_equal(loaded.predict_raw(x)[0], proj.predict_raw(x)[0])
