"""The ``latency`` strategy end to end (hlsgen.backends.rtl.latency): a model converted with
``strategy: latency`` becomes one unrolled pipeline behind an AXI4-Stream top (a sample a beat), and
``hlsgen cosim`` of the written project is bit-exact against the reference with II = 1 and the latency the
plan estimates. Ops without an II = 1 form are refused by name at convert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import assert_ii1_junit
from test_rtl import needs_verilator

from hlsgen.backends.rtl.latency import (
    build_latency_design,
    cosim_latency,
    plan_graph,
)
from hlsgen.config import Config
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import Activation, Add, GlobalAvgPool, Linear, Reshape
from hlsgen.project import quantize_graph

PRECISION = "ap_fixed<8,3,AP_RND,AP_SAT>"


def _branchy(rng: np.random.Generator, rows: int = 4, feat: int = 3) -> Graph:
    """Per-row Dense, ReLU, tanh (a table), a residual Add of the tanh and the Dense (branches of
    different depths),
    pooling over the rows, a flatten of the residual and a Dense head on the pooled features."""
    g = Graph("branchy")
    x = g.add_tensor("x", (rows, feat))
    g.inputs = [x]
    h = g.add_tensor("h", (rows, 6))
    g.add_op(Linear("d1", [x], [h], kernel=rng.normal(size=(feat, 6)), bias=rng.normal(size=6)))
    r = g.add_tensor("r", (rows, 6))
    g.add_op(Activation("a1", [h], [r], function="relu"))
    t = g.add_tensor("t", (rows, 6))
    g.add_op(Activation("a2", [r], [t], function="tanh", table_bits=6))
    s = g.add_tensor("s", (rows, 6))
    g.add_op(Add("res", [t, h], [s]))
    p = g.add_tensor("p", (6,))
    g.add_op(GlobalAvgPool("pool", [s], [p]))
    f = g.add_tensor("f", (6,))
    g.add_op(Reshape("flat", [p], [f], out_shape=(6,)))
    o = g.add_tensor("o", (3,))
    g.add_op(Linear("d2", [f], [o], kernel=rng.normal(size=(6, 3))))
    g.outputs = [o]
    return g


def _config(**kw: object) -> Config:
    return Config.from_dict(
        {"default_precision": PRECISION, "strategy": "latency", "clock_period": 3.0, **kw}
    )


def test_plan_of_a_graph_balances_branches_and_counts() -> None:
    g = quantize_graph(_branchy(np.random.default_rng(0)), _config())
    u = plan_graph(g, _config())
    assert u.latency == u.stages + 1 and u.worst_stage_ns <= 3.0
    assert u.multipliers == 0 and u.adders > 0  # multiplier auto: narrow weights are shift-adds
    assert u.n_in == 12 and u.n_out == 3 and u.enable
    # every value is read in its own stage or carried there by registers (the Add's operands are matched)
    regs = {name for name, _, _ in u.registers_of()}
    for v in u.values:
        for a in v.args:
            assert u.values[a].stage <= v.stage
            if u.values[a].stage < v.stage:
                assert u.ref(a, v.stage) in regs
    # a slower clock needs fewer stages
    assert plan_graph(g, _config(clock_period=10.0)).stages < u.stages


@needs_verilator
@pytest.mark.verilator
def test_cosim_of_a_graph_with_branches_is_exact_at_ii_1(tmp_path: Path) -> None:
    """Back-to-back samples, idle gaps and output back-pressure: every output bit-exact; II = 1 and the
    measured latency equals the plan's stages + 1."""
    rng = np.random.default_rng(1)
    cfg = _config()
    g = quantize_graph(_branchy(rng), cfg)
    tx = g.tensors["x"].type
    xs = rng.normal(size=(48, 4, 3)) * 2.5  # saturating inputs too
    xs[0], xs[1] = tx.min, tx.max
    res = cosim_latency(g, cfg, "branchy", {"x": input_raw(xs, tx)}, tmp_path)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4
    assert res.ii == 1.0
    assert res.latency == plan_graph(g, cfg).latency


@pytest.mark.gxx
def test_hls_side_binds_products_as_each_layer_multiplier_says() -> None:
    """The HLS project of a latency-strategy model: each Linear's config struct names the product policy of
    its ``multiplier`` (lut: fabric, dsp: a DSP slice; auto resolved per layer by the cost model the RTL
    backend uses); the resource strategy leaves the choice to Vitis HLS. csim == predict with LUT and DSP
    bindings (g++ compiles the policies); a reuse factor above 1 is refused by name."""
    import re

    from hlsgen.backends.hls.writer import project_files
    from hlsgen.backends.rtl.unrolled import choose_multiplier
    from hlsgen.project import Project

    rng = np.random.default_rng(3)
    g0 = _branchy(rng)
    xs = rng.normal(size=(24, 4, 3)) * 2.5

    def bindings(cfg: Config) -> tuple[Project, dict[str, str]]:
        proj = Project(quantize_graph(g0, cfg), cfg)
        text = project_files(proj.graph, cfg)["firmware/parameters.h"]
        found = {}
        for name in ("d1", "d2"):
            struct = re.search(rf"struct config_{name} {{(.*?)}};", text, re.S)
            assert struct is not None
            found[name] = re.search(r"typedef hlsgen::product_(\w+) product_t;", struct.group(1)).group(1)
        return proj, found

    # 32-bit weights make d2's shift-adds dearer than its DSPs: auto picks a DSP there, LUTs for d1
    wide = {"d2": {"weight": "ap_fixed<32,1>"}}
    proj, auto = bindings(_config(multiplier="auto", layers=wide))
    assert auto == {"d1": "lut", "d2": "dsp"}
    for op in proj.graph.ops:
        if op.kind == "linear":
            assert auto[op.name] == choose_multiplier(op).value
    assert bindings(_config(multiplier="lut", layers=wide))[1] == {"d1": "lut", "d2": "lut"}
    assert bindings(_config(layers={"d1": {"multiplier": "dsp"}}))[1] == {"d1": "dsp", "d2": "lut"}
    resource = Config.from_dict({"default_precision": PRECISION})
    assert bindings(resource)[1] == {"d1": "auto", "d2": "auto"}
    for setting in ("lut", "dsp"):
        proj = bindings(_config(multiplier=setting))[0]
        np.testing.assert_array_equal(proj.csim(xs), proj.predict(xs))

    from hlsgen.project import _check_latency_strategy

    slow = _config(layers={"d2": {"reuse_factor": 3}})
    with pytest.raises(ValueError, match=r"linear 'd2': reuse_factor 3 with strategy latency"):
        _check_latency_strategy(slow, quantize_graph(g0, slow))


#: the QKeras taggers' latency config: wide default types (the quantizers fix every value), LUT products
QKERAS_LATENCY = {
    "default_precision": "ap_fixed<32,12>",
    "strategy": "latency",
    "multiplier": "lut",
    "clock_period": 3.0,
    "layers": {"particles": {"result": "ap_fixed<10,4>"}},
}


def _jet_inputs(seed: int) -> np.ndarray:
    """40 jets of 4 particles x 3 features on the input type's grid (multiples of 1/16)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-64, 64, size=(40, 4, 3)) / 16).astype(np.float32)


def _jet_tagger(particles: int = 4, features: int = 3, hidden: int = 8, classes: int = 5, seed: int = 0):
    """A QKeras jet tagger of per-particle Dense + ReLU layers, pooled over the particles, a Dense head."""
    tf = pytest.importorskip("tensorflow")
    qk = pytest.importorskip("qkeras")
    tf.keras.utils.set_random_seed(seed)
    wq = "quantized_bits(6,0,alpha=1)"
    L = tf.keras.layers
    inputs = L.Input((particles, features), name="particles")
    x = qk.QDense(hidden, kernel_quantizer=wq, bias_quantizer=wq, name="phi1")(inputs)
    x = qk.QActivation("quantized_relu(8,3)", name="relu1")(x)
    x = qk.QDense(hidden, kernel_quantizer=wq, bias_quantizer=wq, name="phi2")(x)
    x = qk.QActivation("quantized_relu(8,3)", name="relu2")(x)
    x = L.GlobalAveragePooling1D(name="pool")(x)
    x = qk.QDense(classes, kernel_quantizer=wq, bias_quantizer=wq, name="head")(x)
    out = qk.QActivation("quantized_bits(10,4,alpha=1)", name="logits")(x)
    return tf.keras.Model(inputs, out)


@pytest.mark.tensorflow
@pytest.mark.gxx
@pytest.mark.verilator
@needs_verilator
def test_jet_tagger_converted_with_latency_strategy(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The whole path: convert (strategy latency), write with tb_data, predict == csim (the HLS side binds
    the products to LUTs), ``hlsgen cosim PRJ`` bit-exact in every run, II = 1, latency == the estimate."""
    import hlsgen
    from hlsgen.cli import main

    model = _jet_tagger()
    xs = _jet_inputs(2)
    cfg = QKERAS_LATENCY
    proj = hlsgen.convert(model, cfg)
    np.testing.assert_array_equal(proj.predict(xs), model.predict(xs, verbose=0))
    np.testing.assert_array_equal(proj.csim(xs), proj.predict(xs))
    model_file = tmp_path / "jet.keras"
    model.save(model_file)
    prj = tmp_path / "prj"
    proj.write(prj, tb_data=xs, model_source=model_file)
    design = build_latency_design(proj.graph, proj.config, proj.name)
    assert design.core.multipliers == 0
    assert main(["cosim", str(prj)]) == 0
    assert_ii1_junit(prj, design.latency, len(xs))
    capsys.readouterr()
    assert main(["plan", str(prj)]) == 0
    out = capsys.readouterr().out
    u = design.core
    assert (
        f"latency strategy (the RTL, hlsgen.backends.rtl.latency): {u.stages} stages, latency {u.latency} "
        "cycles" in out
    )
    assert f"LUT {u.lut_estimate}," in out
    from hlsgen.report.render import report_context

    rows = report_context(proj, prj)["design"]
    lat = next(r for r in rows if r["stage"] == "hlsgen.backends.rtl.latency")
    assert lat["latency"] == u.latency and lat["interval"] == 1 and lat["res"]["lut"] == u.lut_estimate
    measured = [r for r in rows if r["source"] == "cosim"]  # hlsgen cosim recorded its measurement
    assert measured and measured[0]["latency"] == u.latency and measured[0]["interval"] == 1


@pytest.mark.tensorflow
def test_ops_without_a_latency_form_are_refused_by_name(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")
    import hlsgen

    L = tf.keras.layers
    inp = L.Input((4, 3), name="x")
    h = L.Dense(5, activation="relu", name="dense1")(inp)
    ok = tf.keras.Model(inp, L.Dense(2, name="head")(L.Flatten(name="flat")(h)))
    assert hlsgen.convert(ok, {"strategy": "latency"}).graph.ops
    cases = [
        (L.Activation("softmax", name="sm")(h), r"^softmax '.*'.*exponential ROM would have 15 address bits"),
    ]
    out = tmp_path / "prj"
    for y, msg in cases:
        with pytest.raises(NotImplementedError, match=msg):
            hlsgen.convert(tf.keras.Model(inp, y), {"strategy": "latency"}, output_dir=out)
        assert not out.exists()
    mixed = [
        ({"layers": {"flat": {"strategy": "latency"}}}, r"^layers\.flat\.strategy: 'latency' per layer"),
        ({"strategy": "latency", "layers": {"head": {"strategy": "resource"}}}, r"layers\.head\.strategy"),
    ]
    for cfg, msg in mixed:
        with pytest.raises(NotImplementedError, match=msg):
            hlsgen.convert(ok, cfg)
    # a Dense layer per layer: an engine of the row-streaming design (tests/test_latency_mix.py)
    dense = hlsgen.convert(ok, {"layers": {"dense1": {"strategy": "latency"}}}).graph
    assert {op.name: op.binding for op in dense.ops if op.kind == "linear"}["dense1"] in ("lut", "dsp")


# The Yosys run of the small latency top (no DSP at multiplier "lut", LUTs, a flip-flop for every bit in
# and out, the slowest path within the clock) is the one-piece run of tests/test_split.py::
# test_yosys_of_the_parts_sums_to_the_one_piece_synthesis (the same design), checked there.


@pytest.mark.tensorflow
@pytest.mark.verilator
@needs_verilator
def test_keras_flatten_head_cosim(tmp_path: Path) -> None:
    """Flatten of (rows, features) then a Dense over all of it: the row-major wires of the reshape."""
    tf = pytest.importorskip("tensorflow")
    import hlsgen

    tf.keras.utils.set_random_seed(4)
    L = tf.keras.layers
    inp = L.Input((4, 3), name="x")
    h = L.Dense(5, activation="relu", name="dense1")(inp)
    model = tf.keras.Model(inp, L.Dense(2, name="head")(L.Flatten(name="flat")(h)))
    cfg = {"default_precision": PRECISION, "strategy": "latency", "clock_period": 3.0}
    proj = hlsgen.convert(model, cfg)
    assert [op.kind for op in proj.graph.ops].count("reshape") == 1
    xs = np.random.default_rng(5).normal(size=(24, 4, 3)) * 2
    name = proj.graph.inputs[0]
    raw = {name: input_raw(xs, proj.graph.tensors[name].type)}
    res = cosim_latency(proj.graph, proj.config, "flathead", raw, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == plan_graph(proj.graph, proj.config).latency


def _two_headed_tagger(particles: int = 4, features: int = 3, seed: int = 1):
    """A QKeras jet tagger with two outputs of different types and depths: class logits after a second
    Dense + ReLU, and a regression straight from the pooled features (its value waits for the logits)."""
    tf = pytest.importorskip("tensorflow")
    qk = pytest.importorskip("qkeras")
    tf.keras.utils.set_random_seed(seed)
    wq = "quantized_bits(6,0,alpha=1)"
    L = tf.keras.layers
    inputs = L.Input((particles, features), name="particles")
    x = qk.QDense(8, kernel_quantizer=wq, bias_quantizer=wq, name="phi")(inputs)
    x = qk.QActivation("quantized_relu(8,3)", name="relu")(x)
    pooled = L.GlobalAveragePooling1D(name="pool")(x)
    h = qk.QDense(8, kernel_quantizer=wq, bias_quantizer=wq, name="rho")(pooled)
    h = qk.QActivation("quantized_relu(8,3)", name="rho_relu")(h)
    logits = qk.QDense(3, kernel_quantizer=wq, bias_quantizer=wq, name="head")(h)
    logits = qk.QActivation("quantized_bits(10,4,alpha=1)", name="logits")(logits)
    reg = qk.QDense(1, kernel_quantizer=wq, bias_quantizer=wq, name="reg")(pooled)
    reg = qk.QActivation("quantized_bits(14,6,alpha=1)", name="pt")(reg)
    return tf.keras.Model(inputs, [logits, reg])


@pytest.mark.tensorflow
@pytest.mark.gxx
@pytest.mark.verilator
@needs_verilator
def test_two_outputs_leave_together_at_ii_1(tmp_path: Path) -> None:
    """A model of two outputs (different types, computed in different stages) under the latency strategy:
    one AXI4-Stream port each, a sample's beats on both in the same cycle; csim == predict == Keras;
    ``hlsgen cosim PRJ`` bit-exact on both ports in every run (back-pressure on each port alone: the
    other's beat is not offered twice), II = 1, latency == the estimate."""
    import hlsgen
    from hlsgen.cli import main

    model = _two_headed_tagger()
    xs = _jet_inputs(4)
    cfg = QKERAS_LATENCY
    proj = hlsgen.convert(model, cfg)
    want = model.predict(xs, verbose=0)
    got = proj.predict(xs)
    assert len(got) == 2
    for g_, w_ in zip(got, want, strict=True):
        np.testing.assert_array_equal(g_, w_)
    for c_, g_ in zip(proj.csim(xs), got, strict=True):
        np.testing.assert_array_equal(c_, g_)
    design = build_latency_design(proj.graph, proj.config, proj.name)
    outs = {name: str(t) for name, _, t in design.outputs}
    assert len(set(outs.values())) == 2, outs  # two types: each port packed at its own width
    widths = {p["name"]: p["tdata_width"] for p in design.ports() if p["direction"] == "out"}
    assert sorted(widths.values()) == [16, 32]  # 1 x 14 bits, 3 x 10 bits, padded to bytes
    model_file = tmp_path / "two.keras"
    model.save(model_file)
    prj = tmp_path / "prj"
    proj.write(prj, tb_data=xs, model_source=model_file)
    assert main(["cosim", str(prj)]) == 0
    assert_ii1_junit(prj, design.latency, len(xs))


def test_an_output_that_is_the_model_input_is_refused() -> None:
    g = _branchy(np.random.default_rng(0))
    g.outputs = [g.outputs[0], "x"]
    cfg = _config()
    with pytest.raises(NotImplementedError, match=r"design branchy: output x is the model input"):
        plan_graph(quantize_graph(g, cfg), cfg)
