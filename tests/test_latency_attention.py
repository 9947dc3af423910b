"""Attention in the ``latency`` strategy (hlsgen.backends.rtl.latency_attention): a Keras
MultiHeadAttention converted with ``strategy: latency`` becomes one II = 1 pipeline (projections, scores,
a static causal mask, softmax, context, output projection), planned by the delay model and bit-exact
against the reference in co-simulation. Softmax settings it cannot build are refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import assert_ii1_junit
from test_rtl import needs_verilator

from hlsgen.backends.rtl.latency import build_latency_design, cosim_latency, plan_graph
from hlsgen.fixed.cmm import digit_product_luts
from hlsgen.ir.graph import input_raw

#: narrow softmax tables and types, as a trigger design would set them
SOFTMAX = {
    "exp_type": "ap_ufixed<8,1,AP_RND,AP_SAT>",
    "sum_type": "ap_ufixed<12,5,AP_RND,AP_SAT>",  # every sum of 4 exponentials exactly: no cast
    "inv_bits": 6,
    "inv_type": "ap_ufixed<8,1,AP_RND,AP_SAT>",
    "latency_table_bits": 6,
    "latency_exp_type": "ap_ufixed<10,4,AP_RND,AP_SAT>",
}


def _mha(tokens: int = 4, heads: int = 2, key_dim: int = 4, causal: bool = True, seed: int = 0):
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = L.Input((tokens, 3), name="x")
    y = L.MultiHeadAttention(num_heads=heads, key_dim=key_dim, name="mha")(inp, inp, use_causal_mask=causal)
    return tf.keras.Model(inp, y)


def _cfg(multiplier: str = "lut", variant: str = "stable", **kw: object) -> dict:
    return {
        "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
        "strategy": "latency",
        "clock_period": 3.333,
        "multiplier": multiplier,
        "softmax": {**SOFTMAX, "variant": variant},
        "layers": {"mha": {"probability": "ap_ufixed<8,0,AP_RND,AP_SAT>"}},
        **kw,
    }


@pytest.mark.tensorflow
def test_attention_plan_products_and_balance() -> None:
    """The plan: every op of the MHA in one net, stages within the clock, branches delay-matched; LUT
    products use no DSP, DSP products one per data-dependent product, auto by the LUT cost rule."""
    import hlsgen

    model = _mha()
    proj = hlsgen.convert(model, _cfg("lut"))
    kinds = [op.kind for op in proj.graph.ops]
    assert {"scores", "mask", "softmax", "context"} <= set(kinds)
    u = plan_graph(proj.graph, proj.config)
    assert u.latency == u.stages + 1 and u.worst_stage_ns <= 3.333 and u.multipliers == 0
    for v in u.values:
        for a in v.args:
            assert u.values[a].stage <= v.stage
    assert u.extra["multipliers"]["mha_scores"] == "lut"
    # dsp for the attention products only (the projections stay shift-adds): scores 2 heads x 4 x 4 x
    # key_dim 4; causal: 10 of 16 entries a head kept, each one product in softmax and 4 in context
    layers = {"mha_scores": "dsp", "mha_probs": "dsp", "mha_context": "dsp"}
    cfg = _cfg("lut")
    cfg["layers"] = {**cfg["layers"], **{n: {"multiplier": m} for n, m in layers.items()}}
    ud = plan_graph(hlsgen.convert(model, cfg).graph, hlsgen.convert(model, cfg).config)
    assert ud.multipliers == 2 * 16 * 4 + 2 * 10 + 2 * 10 * 4
    # auto: an 8 x 8 bit LUT product is cheaper than a DSP, a 16 x 16 one is not
    assert (
        digit_product_luts(-128, 127, -128, 127)
        <= 100
        < digit_product_luts(-(2**15), 2**15 - 1, -(2**15), 2**15)
    )
    ua = plan_graph(hlsgen.convert(model, _cfg("auto")).graph, hlsgen.convert(model, _cfg("auto")).config)
    assert ua.extra["multipliers"]["mha_scores"] == "lut"


@pytest.mark.tensorflow
@pytest.mark.gxx
@pytest.mark.verilator
@needs_verilator
def test_attention_cosim_exact_at_ii_1(tmp_path: Path) -> None:
    """The check's cosim stage (``python -m hlsgen.commands.check PRJ --stages cosim``, which builds a
    latency project's II = 1 design as ``hlsgen cosim`` does) of a causal 2-head MHA (key_dim 3: the scale
    1/sqrt(3) as shift-adds), stable softmax, LUT products: every run bit-exact, II = 1, latency == the
    plan."""
    import hlsgen
    from hlsgen.commands.check import main

    model = _mha(key_dim=3)
    rng = np.random.default_rng(2)
    xs = (rng.normal(size=(32, 4, 3)) * 2).astype(np.float32)
    proj = hlsgen.convert(model, _cfg("lut"))
    assert not proj.graph.ops[[op.kind for op in proj.graph.ops].index("scores")].scale_is_shift
    model_file = tmp_path / "mha.keras"
    model.save(model_file)
    prj = tmp_path / "prj"
    proj.write(prj, tb_data=xs, model_source=model_file)
    design = build_latency_design(proj.graph, proj.config, proj.name)
    assert design.core.multipliers == 0
    assert main([str(prj), "--stages", "cosim"]) == 0
    assert_ii1_junit(prj, design.latency, len(xs))


@pytest.mark.tensorflow
@pytest.mark.verilator
@needs_verilator
def test_attention_dsp_and_latency_softmax_cosim(tmp_path: Path) -> None:
    """The other forms: DSP products, the latency-variant softmax (exp of the input's top bits, the
    zero-sum gate, the sum cast to sum_type), no mask, one head: bit-exact, II = 1, latency == the plan."""
    import hlsgen

    model = _mha(tokens=3, heads=1, key_dim=4, causal=False, seed=1)
    sm = {**SOFTMAX, "variant": "latency", "sum_type": "ap_ufixed<10,4,AP_RND,AP_SAT>"}  # a rounding cast
    proj = hlsgen.convert(model, _cfg("dsp", "latency", softmax=sm))
    xs = np.random.default_rng(3).normal(size=(24, 3, 3)) * 2
    name = proj.graph.inputs[0]
    raw = {name: input_raw(xs, proj.graph.tensors[name].type)}
    res = cosim_latency(proj.graph, proj.config, "mhadsp", raw, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    u = plan_graph(proj.graph, proj.config)
    assert u.multipliers > 0 and res.ii == 1.0 and res.latency == u.latency


@pytest.mark.tensorflow
@pytest.mark.verilator
@needs_verilator
def test_rounding_half_ored_into_the_adder_tree_cosim(tmp_path: Path) -> None:
    """key_dim 4 (the scale a shift), LUT products: each score's AP_RND half is OR-ed into the zero LSBs
    of a shifted adder operand of its tree, each context sum's half rides in a row of its first product
    (the value's multiples plus the half), so their casts truncate; bit-exact, II = 1, latency == plan."""
    import hlsgen

    model = _mha(tokens=3, heads=1, key_dim=4, causal=False, seed=4)
    proj = hlsgen.convert(model, _cfg("lut"))
    u = plan_graph(proj.graph, proj.config)
    scores = [v for v in u.values if v.name.startswith("mha_scores_s")]
    ored = [v for v in scores if v.kind == "add" and (v.get("ora") or v.get("orb"))]
    casts = [v for v in scores if v.kind == "cast"]
    assert len(ored) == len(casts) == 9 and all(v.attr("Y_RND") == 0 for v in casts)
    context = [v for v in u.values if v.name.startswith("mha_context_s") and v.kind == "cast"]
    assert len(context) == 12 and all(v.attr("Y_RND") == 0 for v in context)
    xs = np.random.default_rng(5).normal(size=(24, 3, 3)) * 2
    name = proj.graph.inputs[0]
    raw = {name: input_raw(xs, proj.graph.tensors[name].type)}
    res = cosim_latency(proj.graph, proj.config, "mhaor", raw, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == u.latency


@pytest.mark.tensorflow
def test_softmax_the_latency_strategy_cannot_build_is_refused_by_name(tmp_path: Path) -> None:
    import hlsgen

    model = _mha(causal=False)
    wide = {"strategy": "latency"}  # 16-bit scores at the default 14-bit tables: a 32k-entry exp ROM
    cases = [
        (
            wide,
            r"^softmax 'mha_probs' \(layer mha\): .*exponential ROM would have 15 address bits .*exp_lo_bits",
        ),
        (_cfg(softmax={**SOFTMAX, "inv_bits": 14}), r"^softmax 'mha_probs' .*inv_bits 14"),
    ]
    out = tmp_path / "prj"
    for cfg, msg in cases:
        with pytest.raises(NotImplementedError, match=msg):
            hlsgen.convert(model, cfg, output_dir=out)
        assert not out.exists()


@pytest.mark.torch
@pytest.mark.gxx
@pytest.mark.verilator
@needs_verilator
def test_torch_tagger_cosim_at_ii_1(tmp_path: Path) -> None:
    """A PyTorch jet tagger (per-particle Linear + ReLU, one-head ``nn.MultiheadAttention``, a residual
    add, mean pooling, a Linear head) under the latency strategy: csim == predict, and the II = 1 design's
    cosim is bit-exact with II = 1 and the latency of the plan, every stage within the clock."""
    torch = pytest.importorskip("torch")
    import hlsgen

    nn = torch.nn
    torch.manual_seed(0)

    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.phi = nn.Linear(3, 4)
            self.att = nn.MultiheadAttention(4, 1, batch_first=True)
            self.out = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.phi(x))
            a, _ = self.att(h, h, h, need_weights=False)
            return self.out((h + a).mean(dim=1))

    x = torch.randn(48, 4, 3)
    cfg = {**_cfg("lut"), "layers": {}}
    proj = hlsgen.convert(Tagger().eval(), cfg, example_input=x[:1], calibration_data=x)
    assert {"scores", "softmax", "context"} <= {op.kind for op in proj.graph.ops}
    xs = x.numpy()
    np.testing.assert_array_equal(proj.csim(xs), proj.predict(xs))
    u = plan_graph(proj.graph, proj.config)
    assert u.worst_stage_ns <= proj.config.clock_period
    raw = {proj.graph.inputs[0]: input_raw(xs, proj.graph.tensors[proj.graph.inputs[0]].type)}
    res = cosim_latency(proj.graph, proj.config, "torch_tagger", raw, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == u.latency


def _row_maximum_graph(keys: int = 16):
    """A stable softmax over ``keys`` keys behind a saturating cast (a ``linear`` activation 14 -> 8
    bits), so that the cast and the first selects' comparators fill a stage and the next stage holds a
    select of the row maximum, the last select's comparators (a carry chain reading it) and the select
    of the differences ``max - x``: the layout of the 16-particle tagger's stages 9-10."""
    from hlsgen.config import Config
    from hlsgen.ir.graph import Graph
    from hlsgen.ir.ops import Activation, Softmax
    from hlsgen.project import quantize_graph

    g = Graph("rowmax")
    x = g.add_tensor("x", (1, 1, keys))
    h = g.add_tensor("h", (1, 1, keys))
    p = g.add_tensor("p", (1, 1, keys))
    g.inputs, g.outputs = [x], [p]
    g.add_op(Activation("lin", [x], [h], function="linear"))
    g.add_op(Softmax("softmax", [h], [p]))
    cfg = Config.from_dict(
        {
            **_cfg(),
            "layers": {
                "x": {"result": "ap_fixed<14,6>"},
                "lin": {"result": "ap_fixed<8,3,AP_TRN,AP_SAT>"},
                "softmax": {"probability": "ap_ufixed<8,0,AP_RND,AP_SAT>"},
            },
        }
    )
    return quantize_graph(g, cfg), cfg


def _max_stage(u) -> int:
    """The stage of the row maximum's last select (its index ``softmax_max0_s4``)."""
    return next(v.stage for v in u.values if v.name == "softmax_max0_s4")


def test_row_maximum_selects_are_index_muxes() -> None:
    """The row maximum's 4-way selects are muxes on the index bits (one LUT level where a comparator reads
    them in the same stage); the differences' select stays the AND-OR that ``opt_share`` cannot fold.

    Yosys of this stage depends on its surroundings (ABC maps the AND-OR select in one LUT level when the
    stage is synthesised alone, in two inside the 16-particle tagger's part of stages 8-10): the README's
    "Trigger latency" gives the tagger's part figures and the command."""
    g, cfg = _row_maximum_graph()
    u = plan_graph(g, cfg)
    by = {v.name: v for v in u.values}
    st = _max_stage(u)
    # the tagger's layout: a first-level select, the last comparators and the differences' select share
    # the stage, planned at 3.0 ns
    assert by["softmax_max0_0"].stage == st == by["softmax_d0_0"].stage
    assert by["softmax_max0_s0"].stage == st - 1
    for k in range(5):
        text = str(by[f"softmax_max0_{k}"].attr("expr"))
        assert text.startswith("@4[1] ? (@4[0] ? ") and "==" not in text
    assert "{9{@4 == 2'd0}}" in str(by["softmax_d0_0"].attr("expr"))


@pytest.mark.verilator
@needs_verilator
def test_row_maximum_of_sixteen_keys_cosim(tmp_path: Path) -> None:
    """The 16-key softmax with the mux selects: bit-exact (ties, the maximum at every position, random
    rows), II = 1, latency == the plan."""
    g, cfg = _row_maximum_graph()
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 13), 1 << 13, size=(96, 1, 1, 16))
    x[:16, 0, 0, :] = rng.integers(-300, 300, size=(16, 16))  # within the cast: ties and near values
    for j in range(16):
        x[16 + j, 0, 0, j] = (1 << 13) - 1  # the maximum at key j
    res = cosim_latency(g, cfg, "rowmax", {"x": x}, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == plan_graph(g, cfg).latency


@pytest.mark.verilator
@needs_verilator
def test_trigger_tables_tagger_cosim(tmp_path: Path) -> None:
    """bench_trigger's attention tagger at 4 particles with its trigger tables (probabilities
    ap_ufixed<4,0>: two digit rows a context product; exp / 1/sum entries ap_ufixed<6,1>): bit-exact,
    II = 1, latency == the plan."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_trigger", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_trigger.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    g, cfg = bench.attention_tagger(4, 3.333)
    assert str(g.tensors["p"].type).startswith("ap_ufixed<4,0")
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, size=(64, 4, 3))
    res = cosim_latency(g, cfg, "trigger4", {"x": x}, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == plan_graph(g, cfg).latency


def test_exponential_rom_charged_as_yosys_maps_it() -> None:
    """The planner charges the softmax's 256-entry exponential ROM one LUT level above
    :func:`table_delay` (Yosys mapped it in 5 levels inside the 16-particle narrow tagger: 3.37 ns with the
    sum's first adder behind it in one stage), so the sum's first adders start the next stage, and the
    reciprocal's priority-mux address 5 levels, its ROM in the next stage; the bench's 16-particle tagger
    takes 29 cycles (28 before), every stage within the 3.333 ns target."""
    import importlib.util

    from hlsgen.backends.rtl.latency_attention import (
        EXP_ROM_EXTRA,
        exp_rom_delay,
        inv_rom_delay,
        table_delay,
    )
    from hlsgen.backends.rtl.logic_depth import DELAYS, NET
    from hlsgen.backends.rtl.unrolled import adder_delay

    assert exp_rom_delay(8) == pytest.approx(table_delay(8) + EXP_ROM_EXTRA)
    assert exp_rom_delay(6) == table_delay(6)
    # ROM and an 8-bit adder together no longer fit a 3.333 ns stage (they did by table_delay)
    fit = 3.333 - DELAYS["setup"] - DELAYS["ff_tco"]
    assert table_delay(8) + adder_delay(8) <= fit < exp_rom_delay(8) + adder_delay(8)

    def check(u) -> None:
        roms = {i for i, v in enumerate(u.values) if v.kind == "rom" and v.attr("table") == "softmax_exp"}
        assert roms
        for i in roms:
            assert u.values[i].delay == pytest.approx(exp_rom_delay(8))
        readers = [v for v in u.values if set(v.args) & roms]
        assert any(v.kind == "add" for v in readers)  # the sum's first adders (and the products' rows)
        for v in readers:
            assert v.stage > max(u.values[a].stage for a in v.args if a in roms)
        assert u.worst_stage_ns <= 3.333

    g, cfg = _row_maximum_graph()
    u = plan_graph(g, cfg)
    check(u)
    # the reciprocal's address (a priority mux over the 13-bit sum) at 5 LUT levels, as Yosys mapped it
    # behind the sum's last adder (3.37 ns): the two no longer share a stage
    by = {v.name: v for v in u.values}
    idx = by["softmax_idx0"]
    assert idx.delay == pytest.approx(5 * (NET + DELAYS["lut"]))
    assert idx.stage > max(v.stage for v in u.values if v.name.startswith("softmax_t0a"))
    # the reciprocal ROM, which Yosys merges with the priority mux into one deeper cone, in the next stage
    inv = by["softmax_inv0"]
    assert inv.delay == pytest.approx(inv_rom_delay(6)) and inv.stage == idx.stage + 1
    spec = importlib.util.spec_from_file_location(
        "bench_trigger", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_trigger.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    g, cfg = bench.attention_tagger(16, 3.333)
    u = plan_graph(g, cfg)
    check(u)
    assert u.latency == 29
