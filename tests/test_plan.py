"""Planning: the per-layer estimate, the 80 % / 100 % checks against a board, and --fit's reuse factors.

The model: a wider attention block than the digits example (8 tokens of 32 features, 4 heads), which
does not fit a PYNQ-Z2 at reuse factor 1 and fits it once --fit shares the multipliers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen import plan  # noqa: E402
from hlsgen.boards import Board, Family, load_board  # noqa: E402
from hlsgen.cli import main  # noqa: E402
from hlsgen.project import Project  # noqa: E402

T, D = 8, 32


def _wide_model() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(11)
    x = tf.keras.Input((T, D), name="tokens")
    h = tf.keras.layers.Dense(D, name="embed")(x)
    a = tf.keras.layers.MultiHeadAttention(4, 8, name="mha")(h, h)
    h = tf.keras.layers.LayerNormalization(name="norm")(tf.keras.layers.Add(name="residual")([h, a]))
    h = tf.keras.layers.Dense(D, activation="relu", name="ffn")(h)
    y = tf.keras.layers.Dense(10, activation="softmax", name="classifier")(
        tf.keras.layers.GlobalAveragePooling1D(name="pool")(h)
    )
    return tf.keras.Model(x, y, name="wide")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("wide") / "wide.keras"
    _wide_model().save(p)
    return p


@pytest.fixture(scope="module")
def wide(model_file: Path) -> Project:
    return hlsgen.convert(str(model_file), {"project_name": "wide"}, board="pynq-z2")


def test_dsp_mapping() -> None:
    """DSP48E1 (25 x 18) on 7 series, DSP48E2 (27 x 18) on UltraScale+, small products in LUTs."""
    assert plan.dsp_per_multiplier((16, 16), Family.ZYNQ7000) == 1
    assert plan.dsp_per_multiplier((18, 25), Family.ZYNQ7000) == 1
    assert plan.dsp_per_multiplier((27, 18), Family.ZYNQ7000) == 2
    assert plan.dsp_per_multiplier((27, 18), Family.ZYNQUPLUS) == 1
    assert plan.dsp_per_multiplier((30, 20), Family.ZYNQ7000) == 4
    assert plan.dsp_per_multiplier((8, 8), Family.ZYNQ7000) == 0
    assert plan.dsp_per_multiplier((24, 4), Family.ZYNQ7000) == 0
    assert plan.lut_per_multiplier((8, 8)) == 32


def test_estimate_covers_every_layer_and_the_shell(wide: Project) -> None:
    p = plan.project_plan(wide)
    assert [x.name for x in p.layers] == [op.name for op in wide.graph.ops]
    assert p.shell is not None and p.shell.latency_cycles == T * D + 10  # one cycle per word in and out
    assert p.totals["dsp"] == sum(x.dsp for x in p.rows)
    assert p.latency_cycles == sum(x.latency_cycles for x in p.rows)
    assert p.latency_ns == p.latency_cycles * 10.0  # the PYNQ-Z2's 100 MHz
    for x in p.layers:
        if x.kind in ("linear", "scores", "context"):
            assert x.dsp == x.multipliers  # 16-bit operands: one DSP48E1 each
    text = p.format()
    assert "pynq-z2 has" in text and "estimate" in text and "used" in text


def test_reuse_trades_resources_for_latency(wide: Project) -> None:
    """Along an op's reuse-factor candidates, multipliers and DSPs never grow and latency never drops."""
    g = wide.graph
    for op in g.ops:
        cands = plan.reuse_candidates(op, g)
        if not cands:
            continue
        assert cands[0] == 1
        ests = [plan.estimate_op(plan._with_reuse(op, rf), g, Family.ZYNQ7000) for rf in cands]
        for a, b in zip(ests, ests[1:], strict=False):
            assert b.multipliers <= a.multipliers and b.dsp <= a.dsp, op.name
            assert b.latency_cycles >= a.latency_cycles, op.name
        assert ests[-1].multipliers == 1


def test_does_not_fit_at_reuse_factor_1_and_fits_with_fit(wide: Project) -> None:
    before = plan.project_plan(wide)
    assert before.status is plan.Status.OVER
    with pytest.raises(plan.DoesNotFit, match=r"does not fit the pynq-z2:\n(.*\n)*  DSP: \d+ of 220 "):
        plan.check(before)
    assert any("forced" in w for w in plan.check(before, force=True))
    res = plan.fit(wide.graph, wide.board, project="wide")
    assert res.plan.status is plan.Status.FITS
    assert max(res.plan.utilisation().values()) <= plan.WARN_FRACTION
    assert res.plan.latency_cycles > before.latency_cycles
    assert any(rf > 1 for rf in res.reuse.values())
    text = res.format()
    assert "reuse factor" in text and "latency" in text and "estimate" in text
    # the chosen reuse factors, applied to the project, give that plan, the config records them, the
    # generated C++ uses them, and the numbers computed do not change
    fitted = plan.apply_reuse(wide, res.reuse)
    assert plan.project_plan(fitted).totals == res.plan.totals
    for name, rf in res.reuse.items():
        assert fitted.config.layers[name].reuse_factor == rf
    params = fitted.files()["firmware/parameters.h"]
    for name, rf in res.reuse.items():
        block = re.search(rf"struct config_{name} \{{(.*?)\}};", params, re.S).group(1)
        assert re.search(rf"reuse_factor = {rf};", block), name
    x = np.random.default_rng(0).normal(size=(4, T, D))
    for a, b in zip(wide.predict_raw(x), fitted.predict_raw(x), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_keeps_reuse_factor_1_where_the_design_fits(wide: Project) -> None:
    res = plan.fit(wide.graph, _board_like("xcvu13p", dsp=20000))
    assert set(res.reuse.values()) == {1}
    assert res.steps == ["every layer fits at reuse factor 1: nothing to share"]


def _board_like(name: str, **resources: int) -> Board:
    """A board ``name`` with other resource totals, called ``tiny``."""
    base = load_board(name).to_dict()
    base.pop("clock_mhz")
    base.update(name="tiny", resources={**base["resources"], **resources})
    return Board.from_dict(base)


def test_fit_fails_clearly_when_sharing_cannot_help(wide: Project) -> None:
    board = _board_like("pynq-z2", bram18=4)  # the softmax and layer-norm tables alone need more
    with pytest.raises(
        plan.DoesNotFit, match=r"cannot fit the tiny by reuse factors alone: BRAM18 needs at least \d+"
    ):
        plan.fit(wide.graph, board)


def test_warning_past_80_percent(wide: Project) -> None:
    res = plan.fit(wide.graph, wide.board)
    dsp = res.plan.totals["dsp"]
    board = _board_like("pynq-z2", dsp=math.ceil(dsp / 0.9))  # 90 % used
    p = plan.estimate(plan._graph_with(wide.graph, res.reuse), board)
    assert p.status is plan.Status.TIGHT
    (warning,) = plan.check(p)
    assert warning.startswith("warning: DSP:") and "(90%; estimate)" in warning


def test_cli_plan_and_fit(model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(model_file), "--board", "pynq-z2"]) == 1
    out = capsys.readouterr()
    assert "pynq-z2 has" in out.out and "does not fit" in out.err
    assert main(["plan", str(model_file), "--board", "pynq-z2", "--fit"]) == 0
    out = capsys.readouterr().out
    assert "fit for pynq-z2" in out and "reuse factor" in out
    prj = tmp_path / "prj"
    assert main(["convert", str(model_file), "-o", str(prj), "--board", "pynq-z2", "--fit"]) == 0
    capsys.readouterr()
    cfg = yaml.safe_load((prj / "hlsgen_config.yml").read_text())
    reloaded = Project.load(prj)
    assert plan.project_plan(reloaded).status is plan.Status.FITS
    assert {n: lc["reuse_factor"] for n, lc in cfg["layers"].items() if "reuse_factor" in lc}
    # a plan with no board: the estimate alone
    assert main(["plan", str(prj)]) == 0
    assert "total (estimate)" in capsys.readouterr().out
    assert main(["plan", str(model_file), "--fit"]) == 2
    assert "--fit needs a board" in capsys.readouterr().err


@pytest.mark.parametrize("setting", ["lut", "dsp", "auto"])
def test_plan_and_report_of_a_latency_attention_and_layer_norm_model(setting: str) -> None:
    """A latency model with a layer norm and an MHA (mask input): the plan and the report's layer rows
    build under every ``multiplier``; each op's STRATEGY is latency, with its products' bindings (the layer
    norm's two, ``auto`` resolved at typing); a ``lut`` op counts no DSP."""
    from test_latency_mask import _cfg, _norm_mha

    from hlsgen.config import Multiplier, Strategy
    from hlsgen.report.render import _layer_rows

    proj = hlsgen.convert(_norm_mha(), _cfg(setting))
    p = plan.project_plan(proj)
    by = {x.name: x for x in p.layers}
    assert {x.strategy for x in p.layers} == {Strategy.LATENCY}
    norm = next(op for op in proj.graph.ops if op.kind == "layernorm")
    want = {setting} if setting != "auto" else {norm.binding.value, norm.scale_binding.value}
    assert by["norm"].strategy_label == f"latency {'/'.join(sorted(want))}"
    for name in ("mha_scores", "mha_probs", "mha_context"):  # the softmax: its exp x 1/sum products
        op = next(o for o in proj.graph.ops if o.name == name)
        assert op.binding in (Multiplier.LUT, Multiplier.DSP) and (setting == "auto" or op.binding == setting)
        assert by[name].strategy_label == f"latency {op.binding.value}"
        assert (by[name].dsp == 0) == (op.binding is Multiplier.LUT)
    assert "latency" in p.format()
    rows = {r.name: r for r in _layer_rows(proj, p, [])}
    assert rows["norm"].kind == f"layernorm ({by['norm'].strategy_label})"
