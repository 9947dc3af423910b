"""An engine design cut into Yosys parts (hlsgen.backends.rtl.parts): every engine alone, and the top
without its engines. The parts' Yosys counts against one flat run are checked on two small contexts
(test_report_yosys_of_an_engine_project_in_parts)."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import contexts_graph, dense_block, project_of
from test_rtl import needs_verilator, needs_yosys

from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl, yosys_synthesis
from hlsgen.backends.rtl.design import Design
from hlsgen.backends.rtl.lint import lint
from hlsgen.backends.rtl.parts import (
    PARTS_MIN_MULTIPLIERS,
    REST,
    engine_ports,
    engine_top,
    plan_engine_parts,
    rest_top,
    rest_view,
    synthesize_engines,
    wants_parts,
)
from hlsgen.backends.rtl.yosys import YosysCounts
from hlsgen.backends.templating import banner
from hlsgen.ir import ops
from hlsgen.ir.graph import Graph


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


def test_an_engine_alone_is_its_instance_in_the_top(block_rtl) -> None:
    """Each engine's part holds its instance as the top has it (both rendered by templates/rtl/engine.sv.j2),
    under the hlsgen banner; the rest is the top's template under the banner too."""
    design, rtl = block_rtl
    top = (rtl / f"{design.top}.sv").read_text()
    for b in design.blocks:
        text = (rtl / f"{engine_top(rtl, design, b)}.sv").read_text()
        assert text.startswith(banner("//")), text[:200]
        inst = text[text.index(f"    // {b.op} (") : text.index("\n    );\n") + len("\n    );")]
        assert f"{b.instance} (" in inst and top.count(inst) == 1, inst
    assert (rtl / f"{rest_top(rtl, design)}.sv").read_text().startswith(banner("//"))


def _linked_design():
    """Scores -> softmax -> context where the context reads the softmax's rows in place: a side channel
    (address and read enable from the context, data from the softmax) between two engines."""
    from test_cosim import attention_graph

    design = build_design(
        attention_graph(4), "attn", RtlOptions(par={"sc": 16, "cx": 8, "sm": 2}, ram_min_rows=1)
    )
    sm, cx = (next(b for b in design.blocks if b.op == o) for o in ("sm", "cx"))
    assert sm.params.get("GOUT") == cx.params.get("PGRP") == 1
    return design, sm, cx


def test_side_channels_are_ports_of_both_engines_and_not_of_the_rest(tmp_path: Path) -> None:
    """A side channel's directions come from the blocks (Block.drives, set where they are linked): the
    softmax's part drives the data and reads the address and enable, the context's the reverse; the rest
    neither declares nor exposes them, nor the streams between two engines."""
    design, sm, cx = _linked_design()
    addr, re_, data = (f"g_{sm.op}_{x}" for x in ("addr", "re", "data"))
    dirs = {b.op: {p.name: p.direction for p in engine_ports(design, b)} for b in (sm, cx)}
    assert [dirs[sm.op][s] for s in (addr, re_, data)] == ["input", "input", "output"]
    assert [dirs[cx.op][s] for s in (addr, re_, data)] == ["output", "output", "input"]
    view = rest_view(design)
    names = {p.name[2:] for p in view.ports}
    assert not {addr, re_, data, "s_s_valid", "s_p_valid"} & names, names
    assert {"s_s", "s_p"}.isdisjoint(view.signals)
    rtl = write_rtl(design, tmp_path / "rtl")
    rest = (rtl / f"{rest_top(rtl, design)}.sv").read_text()
    assert addr not in rest and "s_s_data" not in rest
    sm.drives = ()  # the softmax no longer said to drive its data: no one does
    with pytest.raises(ValueError, match=rf"side channel {data} is driven by 0 blocks"):
        engine_top(rtl, design, cx)


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize("which", ["forks", "side channel"])
def test_parts_elaborate(block_rtl, tmp_path: Path, which: str) -> None:
    """Every part lints with no warning but the package's constants of the other engines (UNUSEDPARAM,
    one per constant the part does not use): no port width or direction mismatch, nothing read that is
    not driven, no signal left unused (the rest declares no stream between two engines)."""
    design, rtl = block_rtl if which == "forks" else (d := _linked_design()[0], write_rtl(d, tmp_path / "l"))
    consts = {c.name for c in design.consts if not c.is_file}
    for p in plan_engine_parts(rtl, design):
        r = lint(rtl, [*source_order(design)[:-1], f"{p.top}.sv"], p.top)
        unused = [m for m in r.messages if m.startswith("%Warning-UNUSEDPARAM")]
        bad = [m for m in r.messages if m not in unused and not m.startswith("%Error: Exiting due to")]
        assert bad == [], (p, r.output[-2000:])
        named = {m.rsplit("'", 2)[-2] for m in unused}
        assert all(m.startswith(f"%Warning-UNUSEDPARAM: {design.package}.sv:") for m in unused), unused
        assert named <= consts, (p, named - consts)


def _children() -> list[int]:
    """Process ids of this process's living children (from /proc)."""
    me, found = os.getpid(), []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.yosys
@needs_yosys
def test_ctrl_c_kills_the_running_parts(block_rtl) -> None:
    """Ctrl-C (SIGINT to the main thread) while the parts run: KeyboardInterrupt comes back within
    seconds, the Yosys processes that ran are killed (no child left), the waiting parts never start."""
    design, rtl = block_rtl
    # a suite started in the background of a non-interactive shell ignores SIGINT: take Python's handler
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    lines: list[str] = []
    main = threading.get_ident()
    killed: list[float] = []
    timer = threading.Timer(
        3.0, lambda: (killed.append(time.perf_counter()), signal.pthread_kill(main, signal.SIGINT))
    )
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            synthesize_engines(rtl, design, depth=False, jobs=2, log=lines.append)
        back = time.perf_counter() - killed[0]
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
    print(f"back {back:.2f} s after SIGINT; parts done: {lines}")
    assert len(lines) < len(design.blocks) + 1, lines  # interrupted before the last part
    assert _children() == [], _children()
    assert back < 2.0  # the running parts killed, not waited for (each takes several seconds)


def _two_linears(n: int = 4) -> Graph:
    """x -> fc1 -> fc2 over 2 rows of ``n`` values: two small engines."""
    rng = np.random.default_rng(7)
    g = Graph("two")
    x, h, y = g.add_tensor("x", (2, n)), g.add_tensor("h", (2, n)), g.add_tensor("y", (2, n))
    g.inputs, g.outputs = [x], [y]
    for name, a, b in (("fc1", x, h), ("fc2", h, y)):
        g.add_op(ops.Linear(name, [a], [b], kernel=rng.normal(size=(n, n)) / 2, bias=rng.normal(size=n)))
    return g


def test_large_engine_designs_go_in_parts_by_default() -> None:
    """The default of ``hlsgen report --yosys``: in parts from two engines and PARTS_MIN_MULTIPLIERS
    multipliers; one engine, however large, in one piece (its part would be the whole design)."""
    proj = project_of(_two_linears(16), {"default_precision": "ap_fixed<8,3>"})
    for par, many in ((PARTS_MIN_MULTIPLIERS // 2, True), (PARTS_MIN_MULTIPLIERS // 2 - 1, False)):
        d = build_design(proj.graph, "two", RtlOptions(max_par=None, par={"fc1": par, "fc2": par}))
        assert (d.multipliers >= PARTS_MIN_MULTIPLIERS, wants_parts(d)) == (many, many), d.multipliers
    one = build_design(proj.graph, "two", RtlOptions(max_par=None))
    one.blocks = one.blocks[:1]
    assert one.multipliers >= PARTS_MIN_MULTIPLIERS and not wants_parts(one)


@pytest.mark.yosys
@needs_yosys
def test_report_yosys_of_an_engine_project_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``yosys_synthesis`` (what ``hlsgen report --yosys`` runs) of an engine project with
    ``HLSGEN_YOSYS_PARTS`` > 1 synthesises it in parts (each engine alone, the rest of the top): the
    counts are the sums of the parts', a depth row per part, and the report's note says how it was
    synthesised. A bad value is a clear error; small designs go flat by default.

    The parts add up to a flat run of the same RTL (:func:`_parts_add_up`). The design is two small
    contexts (the second's output rows in memories: ``ram_min_rows`` 4), the smallest with every part
    kind: the parity is a property of the cut, not of the engines' size (it was checked on contexts of
    16 and 64 tokens of 4 heads of 8, 12,720 LUT, in tests/test_logic_depth.py: 8 LUT fewer in parts)."""
    from hlsgen.backends.rtl.yosys import synthesize
    from hlsgen.report.render import synthesis_split_note

    proj = project_of(contexts_graph((2, 4), 1, 2), {"default_precision": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"})
    opts = RtlOptions(ram_min_rows=4)
    design = build_design(proj.graph, proj.name, opts)
    assert [b.params["ORAM"] for b in design.blocks] == [0, 1]
    assert len(design.blocks) == 2 and not wants_parts(design)  # flat unless asked
    monkeypatch.setenv("HLSGEN_YOSYS_PARTS", "two")
    with pytest.raises(ValueError, match="HLSGEN_YOSYS_PARTS must be an integer >= 1, got 'two'"):
        yosys_synthesis(proj, opts)
    monkeypatch.setenv("HLSGEN_YOSYS_PARTS", "2")
    found = yosys_synthesis(proj, opts)
    parts = {"u_ctxa", "u_ctxb", REST}
    assert found.engine_parts == 3 and set(found.instances) == parts
    assert found.lut > 0 and found.depth is not None
    for k in ("lut", "lutram", "ff", "dsp", "bram18"):
        assert getattr(found, k) == sum(getattr(c, k) for c in found.instances.values()), k
    assert {row["instance"] for row in found.depth.table()} == parts
    note = synthesis_split_note(found)
    assert "in 3 parts, each engine alone and the rest of the top" in note, note
    assert "cells summed" in note and "paths end at the parts' ports" in note, note
    rtl = write_rtl(design, tmp_path / "rtl")
    _parts_add_up(found, design, synthesize(rtl, source_order(design), design.top, depth=True))


def _parts_add_up(parts: YosysCounts, design: Design, flat: YosysCounts) -> None:
    """A design synthesised in parts (:func:`synthesize_engines`: each engine alone, the top without them)
    adds up to the flat run of its RTL: DSP, LUTRAM and BRAM equal, LUT and FF within 1% of it. A flat run
    optimises across the engines' boundaries (a constant or an unread bit of a stream between two
    engines, a register after a block RAM read folded into the BRAM: 6% at the T 256 MHA block), the parts
    cannot: here every engine port is a port of the top, so only ABC's mapping differs (measured: 1 LUT
    more in parts of 475, FF and LUTRAM equal). The engines' depth in parts is held to the bound of the
    attention engines' flat runs (tests/test_logic_depth.py: 5 LUT levels; 4 and 4 measured here, as
    flat)."""
    assert parts.depth is not None and flat.depth is not None
    print(f"parts: {parts.resources()} LUTRAM {parts.lutram}; flat: {flat.resources()} LUTRAM {flat.lutram}")
    assert (parts.dsp, parts.lutram, parts.bram18) == (flat.dsp, flat.lutram, flat.bram18)
    assert abs(parts.lut - flat.lut) <= 0.01 * flat.lut and abs(parts.ff - flat.ff) <= 0.01 * flat.ff
    assert all(parts.depth.by_instance[b.instance][1].lut_levels <= 5 for b in design.blocks)
    assert all(flat.depth.by_instance[b.instance][1].lut_levels <= 5 for b in design.blocks)
