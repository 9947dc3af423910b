"""An engine design cut into Yosys parts (hlsgen.backends.rtl.parts): every engine alone, and the top
without its engines. The parts' Yosys counts against one flat run are checked with the attention engines'
depth test (tests/test_logic_depth.py -k "attention_engines_depth and context")."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import dense_block, project_of
from test_rtl import needs_verilator

from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
from hlsgen.backends.rtl.lint import lint
from hlsgen.backends.rtl.parts import REST, plan_engine_parts


def _instances(text: str) -> list[str]:
    """Instance names of a SystemVerilog text (``) u_x (`` or ``module u_x (``)."""
    return re.findall(r"^\s*(?:\)|\w+)\s+(u_\w+)\s*\(", text, re.M)


@pytest.fixture()
def block_rtl(tmp_path: Path):
    """A block with two forks (h: to a ReLU and the residual add; s: to the pool and the reshape), a stream
    between two engines (r: ReLU to the table activation) and two outputs."""
    proj = project_of(dense_block(np.random.default_rng(3)), {"default_precision": "ap_fixed<10,4>"})
    design = build_design(proj.graph, "basic", RtlOptions())
    return design, write_rtl(design, tmp_path / "rtl")


def test_parts_hold_every_instance_of_the_top_once(block_rtl) -> None:
    """One part per engine, holding its instance only, and the rest holding the forks' FIFOs and no
    engine: together every instance of the top, each once."""
    design, rtl = block_rtl
    assert design.forks, "the block should have forks"
    parts = plan_engine_parts(rtl, design)
    assert sorted(p.name for p in parts) == sorted([b.instance for b in design.blocks] + [REST])
    assert parts == sorted(parts, key=lambda p: -p.bits)
    found = []
    for p in parts:
        text = (rtl / f"{p.top}.sv").read_text()
        assert re.search(rf"^module {p.top} \(", text, re.M), p
        inst = _instances(text)
        if p.name == REST:
            assert not set(inst) & {b.instance for b in design.blocks}, inst
            assert sum(i.startswith("u_fifo_") for i in inst) == sum(len(f.branches) for f in design.forks)
        else:
            assert inst == [p.name], (p, inst)
        found += inst
    assert sorted(found) == sorted(_instances((rtl / f"{design.top}.sv").read_text()))
    # the rest's ports: the fork branches the engines read, the engine outputs it reads; no stream
    # between two engines (r: a1 -> a2)
    rest = (rtl / f"rest_{design.top}.sv").read_text()
    head = rest[rest.index("module rest_") : rest.index("\n);\n")]
    ports = re.findall(r"logic \[\d+:0\] ([xy]_\w+)", head)
    assert "x_s_r_valid" not in ports and "y_s_r_valid" not in ports, ports
    assert {f"y_{s.signal}_data" for f in design.forks for s, _ in f.branches} <= set(ports), ports


@pytest.mark.verilator
@needs_verilator
def test_parts_elaborate(block_rtl) -> None:
    """Every part lints with no warning but the unused ones: the package's constants of the other
    engines, and in the rest the declarations of the streams between two engines (no port width
    mismatch, nothing read that is not driven)."""
    design, rtl = block_rtl
    for p in plan_engine_parts(rtl, design):
        r = lint(rtl, [*source_order(design)[:-1], f"{p.top}.sv"], p.top)
        bad = [
            m
            for m in r.messages
            if not m.startswith(("%Warning-UNUSEDPARAM", "%Warning-UNUSEDSIGNAL", "%Error: Exiting due to"))
        ]
        assert bad == [], (p, r.output[-2000:])
        assert r.messages, p  # the package's unused constants at least: -Wall did run
