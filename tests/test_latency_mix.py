"""``strategy: latency`` per layer inside a resource model (hlsgen.backends.rtl.render_latency): a Dense and a
Conv1D layer become unrolled engines (a row a cycle) in the row-streaming RTL, beside a shared
hlsgen_linear. The reference is the oracle for g++ csim and for cosim (bit-exact under idle cycles and
back-pressure; the cycle estimate equals the measurement). A resource layer inside a latency model, a
per-layer latency entry with no engine and a latency layer's reuse factor are refused by name. ``multiplier:
auto`` is resolved once, when the graph is typed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_rtl import needs_verilator

from hlsgen.backends.rtl import RtlOptions, build_design
from hlsgen.config import Config, Multiplier, Strategy
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import Activation, Conv1D, Linear
from hlsgen.project import Project, _check_latency_strategy, quantize_graph

PRECISION = "ap_fixed<8,3,AP_RND,AP_SAT>"
ROWS = 4


def _mixed(rng: np.random.Generator) -> Graph:
    """[4, 3] tokens: Dense 3 -> 6 (per row), ReLU, Conv1D k 3 same 6 -> 4, Dense 4 -> 2."""
    g = Graph("mix")
    x = g.add_tensor("x", (ROWS, 3))
    g.inputs = [x]
    h = g.add_tensor("h", (ROWS, 6))
    g.add_op(Linear("fc1", [x], [h], kernel=rng.normal(size=(3, 6)), bias=rng.normal(size=6)))
    r = g.add_tensor("r", (ROWS, 6))
    g.add_op(Activation("act", [h], [r], function="relu"))
    c = g.add_tensor("c", (ROWS, 4))
    g.add_op(Conv1D("conv", [r], [c], kernel=rng.normal(size=(18, 4)) / 2, kernel_size=3, padding="same"))
    y = g.add_tensor("y", (ROWS, 2))
    g.add_op(Linear("fc2", [c], [y], kernel=rng.normal(size=(4, 2)), bias=rng.normal(size=2)))
    g.outputs = [y]
    return g


def _config(**kw: object) -> Config:
    layers = {"fc1": {"strategy": "latency", "multiplier": "lut"}, "conv": {"strategy": "latency"}}
    return Config.from_dict(
        {"default_precision": PRECISION, "clock_period": 3.0, "reuse_factor": 2, "layers": layers, **kw}
    )


def _project(seed: int = 0, **kw: object) -> Project:
    cfg = _config(**kw)
    g = quantize_graph(_mixed(np.random.default_rng(seed)), cfg)
    _check_latency_strategy(cfg, g)
    return Project(g, cfg)


def test_auto_is_resolved_once_when_typed() -> None:
    """``auto`` becomes lut or dsp in ``Linear.binding`` (the cost model's choice), the adder graph is
    computed once and cached on the op, and the HLS product policy reads the binding."""
    from hlsgen.backends.hls.ops import product_binding
    from hlsgen.backends.rtl.unrolled import linear_graph
    from hlsgen.fixed.cmm import prefers_luts

    ops = {op.name: op for op in _project().graph.ops}
    assert ops["fc1"].binding is Multiplier.LUT  # the layer's own setting
    conv = ops["conv"]
    graph = conv.adder_graph()
    assert conv.binding is (Multiplier.LUT if prefers_luts(graph) else Multiplier.DSP)  # auto, resolved
    assert conv.adder_graph() is graph  # cached: the RTL reads the same graph
    mult, used = linear_graph(conv, conv.binding)
    assert mult is conv.binding and (used is graph or conv.binding is Multiplier.DSP)
    assert ops["fc2"].binding is None and ops["fc2"].reuse_factor == 2  # resource: Vitis HLS chooses
    assert {n: product_binding(op) for n, op in ops.items() if n != "act"} == {
        "fc1": "lut",
        "conv": conv.binding.value,
        "fc2": "auto",
    }
    assert ops["fc1"].reuse_factor == ops["conv"].reuse_factor == 1  # a latency layer: a row every cycle
    assert (ops["fc1"].engine, ops["conv"].engine, ops["fc2"].engine) == (True, True, False)


def test_plan_shows_each_layer_strategy() -> None:
    from hlsgen.plan import project_plan

    plan = project_plan(_project())
    by = {x.name: x for x in plan.layers}
    assert by["fc1"].strategy is Strategy.LATENCY and by["fc1"].strategy_label == "latency lut"
    assert by["fc1"].dsp == 0
    assert by["fc2"].strategy_label == by["act"].strategy_label == "resource"
    assert by["conv"].strategy_label.startswith("latency ")
    text = plan.format()
    assert "STRATEGY" in text and "latency lut" in text
    assert plan.to_dict()["layers"][0]["strategy"] == "latency lut"


def test_global_latency_row_design_has_no_engines() -> None:
    """Under the global latency strategy every Linear has a binding but none is a per-layer engine: the
    row-streaming design (``hlsgen check``'s other stages, fuzz, Yosys) shares hlsgen_linear as a resource
    model does; the II = 1 design is hlsgen.backends.rtl.latency's."""
    cfg = Config.from_dict({"default_precision": PRECISION, "strategy": "latency", "multiplier": "lut"})
    g = quantize_graph(_mixed(np.random.default_rng(0)), cfg)
    assert all(op.binding is Multiplier.LUT and not op.engine for op in g.ops if isinstance(op, Linear))
    d = build_design(g, "mix", RtlOptions(clock_ns=3.0))
    assert not d.generated and {b.module for b in d.blocks if b.op in ("fc1", "fc2")} == {"hlsgen_linear"}


@pytest.mark.gxx
def test_mix_csim_equals_predict() -> None:
    rng = np.random.default_rng(5)
    proj = _project()
    xs = rng.normal(size=(16, ROWS, 3)) * 2.5
    np.testing.assert_array_equal(proj.csim(xs), proj.predict(xs))


def test_rtl_has_engines_for_the_latency_layers() -> None:
    proj = _project()
    d = build_design(proj.graph, "mix", RtlOptions(clock_ns=3.0))
    mods = {b.op: b.module for b in d.blocks}
    assert mods["fc1"] == "fc1_engine" and mods["conv"] == "conv_engine" and mods["fc2"] == "hlsgen_linear"
    fc1 = next(b for b in d.blocks if b.op == "fc1")
    assert fc1.info["strategy"] == "latency" and fc1.info["row_cycles"] == 1 and fc1.multipliers == 0
    assert fc1.info["worst_stage_ns"] <= 3.0
    assert "hlsgen_credit" in d.modules and "fc1_pipe.sv" in d.generated


@needs_verilator
@pytest.mark.verilator
def test_mix_cosim_is_exact_and_matches_the_estimate(tmp_path: Path) -> None:
    """Two engines (a Dense on LUTs, a Conv1D behind its window) and a shared hlsgen_linear at reuse 2:
    bit-exact in the four runs (idle cycles x back-pressure); latency and II equal the estimate."""
    from hlsgen.backends.rtl.cosim import cosim_graph

    rng = np.random.default_rng(2)
    proj = _project()
    g = proj.graph
    tx = g.tensors["x"].type
    xs = rng.normal(size=(8, ROWS, 3)) * 2.5
    xs[0], xs[1] = tx.min, tx.max
    opts = RtlOptions(clock_ns=3.0)
    res = cosim_graph(g, "mix", {"x": input_raw(xs, tx)}, tmp_path, opts)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4
    est = build_design(g, "mix", opts).estimate
    assert est is not None
    assert (res.latency, res.ii) == (est.latency, est.ii)


def test_resource_layer_in_a_latency_model_is_refused() -> None:
    cfg = Config.from_dict(
        {"default_precision": PRECISION, "strategy": "latency", "layers": {"fc2": {"strategy": "resource"}}}
    )
    with pytest.raises(
        NotImplementedError, match=r"layers\.fc2\.strategy: 'resource' inside a model of strategy"
    ):
        _check_latency_strategy(cfg)  # before the model is read


def test_per_layer_latency_without_an_engine_is_refused() -> None:
    cfg = Config.from_dict({"default_precision": PRECISION, "layers": {"act": {"strategy": "latency"}}})
    g = quantize_graph(_mixed(np.random.default_rng(0)), cfg)
    with pytest.raises(
        NotImplementedError, match=r"layers\.act\.strategy: 'latency' per layer .* activation 'act'"
    ):
        _check_latency_strategy(cfg, g)


def test_per_layer_latency_with_a_reuse_factor_is_refused() -> None:
    cfg = _config(layers={"fc1": {"strategy": "latency", "reuse_factor": 3}})
    g = quantize_graph(_mixed(np.random.default_rng(0)), cfg)
    with pytest.raises(ValueError, match=r"linear 'fc1': reuse_factor 3 with strategy latency"):
        _check_latency_strategy(cfg, g)


@pytest.mark.tensorflow
def test_per_layer_latency_on_attention_unrolls_the_projections_only() -> None:
    """``layers.mha.strategy: latency`` in a resource model: the MHA's projections become engines (reuse 1,
    bound); its scores, softmax and context have no per-layer latency form and stay shared at the model's
    reuse factor with no binding (HLS: Vitis chooses; plan: resource), and a warning names them."""
    from test_latency_attention import _mha

    import hlsgen
    from hlsgen.backends.hls.writer import project_files
    from hlsgen.plan import project_plan
    from hlsgen.project import LatencyLayerWarning

    cfg = {"default_precision": PRECISION, "reuse_factor": 2, "layers": {"mha": {"strategy": "latency"}}}
    with pytest.warns(
        LatencyLayerWarning, match=r"scores 'mha_scores'.*context 'mha_context'.* stay resource"
    ):
        proj = hlsgen.convert(_mha(), cfg)
    ops = [op for op in proj.graph.ops if op.origin == "mha"]
    lin = [op for op in ops if isinstance(op, Linear)]
    assert len(lin) == 4 and all(op.engine and op.reuse_factor == 1 and op.binding for op in lin)
    rest = {op.kind: op for op in ops if not isinstance(op, Linear)}
    assert rest["scores"].binding is None and rest["context"].binding is None
    assert rest["scores"].reuse_factor == rest["context"].reuse_factor == 2
    by = {x.name: x for x in project_plan(proj).layers}
    assert {by[op.name].strategy for op in lin} == {Strategy.LATENCY}
    assert {by[op.name].strategy_label for op in rest.values()} == {"resource"}
    params = project_files(proj.graph, proj.config)["firmware/parameters.h"]
    assert "typedef hlsgen::product_auto product_t;" in params.split("struct config_mha_scores")[1]
    d = build_design(proj.graph, proj.name, RtlOptions(clock_ns=5.0))
    engines = {b.op for b in d.blocks if b.sources}
    assert engines == {op.name for op in lin}


@needs_verilator
@pytest.mark.verilator
def test_latency_dense_takes_a_row_every_cycle(tmp_path: Path) -> None:
    """A lone per-layer latency Dense over 16 rows: its engine takes a row every cycle, so the measured II
    is the 16 rows (bit-exact in the four runs; latency and II equal the estimate)."""
    from hlsgen.backends.rtl.cosim import cosim_graph

    rows = 16
    rng = np.random.default_rng(4)
    g = Graph("rows16")
    x = g.add_tensor("x", (rows, 3))
    g.inputs = [x]
    y = g.add_tensor("y", (rows, 2))
    g.add_op(Linear("fc", [x], [y], kernel=rng.normal(size=(3, 2)), bias=rng.normal(size=2)))
    g.outputs = [y]
    cfg = Config.from_dict({"default_precision": PRECISION, "layers": {"fc": {"strategy": "latency"}}})
    g = quantize_graph(g, cfg)
    _check_latency_strategy(cfg, g)
    xs = rng.normal(size=(6, rows, 3)) * 2.5
    opts = RtlOptions(clock_ns=3.0)
    res = cosim_graph(g, "rows16", {"x": input_raw(xs, g.tensors["x"].type)}, tmp_path, opts)
    assert res.passed, res.failure_message()
    est = build_design(g, "rows16", opts).estimate
    assert est is not None
    assert res.ii == rows and (res.latency, res.ii) == (est.latency, est.ii)
