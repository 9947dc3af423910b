"""A latency core cut at register ranks (hlsgen.backends.rtl.split): the split design simulates
bit-exact at II = 1 with the plan's latency, and Yosys of its parts sums to the one-piece synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_latency import _branchy, _config
from test_rtl import needs_verilator, needs_yosys

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
from hlsgen.project import quantize_graph


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
