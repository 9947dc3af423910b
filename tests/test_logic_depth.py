"""Logic depth of Yosys netlists (hlsgen.backends.rtl.logic_depth): the delay model on hand-built
netlists (exact sums of the stated delays), then on real Yosys runs of small circuits whose depth is
known, and ``hlsgen report --yosys`` printing the figure for a project.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_rtl import needs_yosys

from hlsgen.backends.rtl.logic_depth import DELAYS, NET, analyse


def _cell(typ: str, ins: dict[str, list[object]], outs: dict[str, list[object]], **params: str) -> dict:
    return {
        "type": typ,
        "parameters": params,
        "port_directions": {**{p: "input" for p in ins}, **{p: "output" for p in outs}},
        "connections": {**ins, **outs},
    }


def _netlist(
    cells: dict[str, dict], nets: dict[str, list[int]], ports: dict[str, dict] | None = None
) -> dict:
    return {
        "modules": {
            "top": {
                "ports": ports or {},
                "cells": cells,
                "netnames": {n: {"bits": b, "hide_name": 0} for n, b in nets.items()},
            }
        }
    }


def test_register_to_register_path_sums_the_model() -> None:
    """FF -> LUT6 -> CARRY4 -> CARRY4 (chain) -> INV -> LUT2 -> FF in block u_a; a BRAM read through one
    LUT into u_b; an unregistered DSP48E2 between two registers in u_c."""
    cells = {
        "$ff0": _cell("FDRE", {"C": [1], "D": [90]}, {"Q": [2]}),
        "$l6": _cell("LUT6", {"I0": [2], "I1": [2], "I2": ["0"], "I3": [2], "I4": [2], "I5": [2]}, {"O": [3]}),
        "$c0": _cell("CARRY4", {"CI": ["0"], "S": [3, 3], "DI": ["0"]}, {"CO": [4], "O": [5]}),
        "$c1": _cell("CARRY4", {"CI": [4], "S": ["0"], "DI": ["0"]}, {"CO": [6], "O": [7]}),
        "$inv": _cell("INV", {"I": [7]}, {"O": [8]}),
        "$l2": _cell("LUT2", {"I0": [8], "I1": [5]}, {"O": [9]}),
        "$ff1": _cell("FDRE", {"C": [1], "D": [9]}, {"Q": [10]}),
        "u_b.rom": _cell("RAMB18E2", {"CLKARDCLK": [1], "ADDRARDADDR": [10]}, {"DOUTADOUT": [20]}, DOA_REG="0"),
        "$l1": _cell("LUT1", {"I0": [20]}, {"O": [21]}),
        "$ff2": _cell("FDRE", {"C": [1], "D": [21]}, {"Q": [22]}),
        "$dsp": _cell("DSP48E2", {"A": [22], "B": [10], "C": ["0"]}, {"P": [30]}, AREG="0", BREG="0", MREG="0", PREG="0"),
        "$ff3": _cell("FDRE", {"C": [1], "D": [30]}, {"Q": [31]}),
    }  # fmt: skip
    nets = {"clk": [1], "u_a.src": [2], "u_a.acc": [10], "u_b.q": [22], "u_c.p": [31], "x": [90]}
    d = analyse(_netlist(cells, nets), "top")
    tco, setup = DELAYS["ff_tco"], DELAYS["setup"]
    lut = NET + DELAYS["lut"]
    a = tco + lut + (NET + DELAYS["carry_in"]) + DELAYS["carry_chain"] + 0.0 + lut + setup
    b = DELAYS["bram_tco"] + lut + setup
    c = tco + NET + DELAYS["dsp_mult"] + DELAYS["dsp_alu"] + setup
    wa, da = d.by_instance["u_a"]
    assert (da.lut_levels, da.cells, da.start, da.end) == (2, 4, "u_a.src", "u_a.acc")
    assert da.through == "LUT6 > CARRY4*2 > INV > LUT2"
    assert wa.delay == pytest.approx(a)
    assert d.by_instance["u_b"][0].delay == pytest.approx(b)
    assert d.by_instance["u_b"][1].lut_levels == 1
    wc, dc = d.by_instance["u_c"]
    assert wc.delay == pytest.approx(c) and dc.lut_levels == 0
    assert d.worst == max((wa, wc, d.by_instance["u_b"][0]), key=lambda p: p.delay)
    assert d.deepest.lut_levels == 2
    assert d.fmax_mhz == pytest.approx(1000.0 / d.worst.delay)
    assert "estimate" in d.summary() and "2 LUT levels" in d.summary()


def test_paths_over_a_depth_are_listed_with_their_nets() -> None:
    """``over``: every register reached by a path deeper than K levels, its bits together (the deepest
    bit's path), deepest first, with the named nets along it; none without ``over``."""
    cells = {
        "$ff0": _cell("FDRE", {"C": [1], "D": ["0"]}, {"Q": [2]}),
        "$l0": _cell("LUT2", {"I0": [2], "I1": [2]}, {"O": [3]}),
        "$l1": _cell("LUT2", {"I0": [3], "I1": [2]}, {"O": [4]}),
        "$l2": _cell("LUT2", {"I0": [4], "I1": [2]}, {"O": [5]}),
        "$ffa0": _cell("FDRE", {"C": [1], "D": [5]}, {"Q": [6]}),
        "$ffa1": _cell("FDRE", {"C": [1], "D": [4]}, {"Q": [7]}),
        "$ffb": _cell("FDRE", {"C": [1], "D": [4]}, {"Q": [8]}),
        "$ffc": _cell("FDRE", {"C": [1], "D": [3]}, {"Q": [9]}),
    }  # fmt: skip
    nets = {
        "clk": [1],
        "u_x.src": [2],
        "u_x.mid": [3],
        "$auto": [4],
        "u_x.a": [6, 7],
        "u_x.b": [8],
        "u_x.c": [9],
    }
    found = analyse(_netlist(cells, nets), "top", over=1).over
    assert [(p.end, p.lut_levels) for p in found] == [("u_x.a", 3), ("u_x.b", 2)]
    assert found[0].start == "u_x.src" and found[0].through == "LUT2*3"
    assert found[0].nets == ("u_x.src", "u_x.mid", "$auto")
    assert analyse(_netlist(cells, nets), "top").over == []


def test_glue_paths_name_the_top_module() -> None:
    """A path in the generated glue (a net of no ``u_`` instance) is the instance ``top``, and its row of
    ``Depth.table()`` names the top module (it was empty: ``hlsgen report --yosys`` printed ``yosys top: :
    4 LUT levels`` for a design synthesised in one piece)."""
    cells = {
        "$ff0": _cell("FDRE", {"C": [1], "D": ["0"]}, {"Q": [2]}),
        "$l0": _cell("LUT2", {"I0": [2], "I1": [2]}, {"O": [3]}),
        "$ff1": _cell("FDRE", {"C": [1], "D": [3]}, {"Q": [4]}),
    }  # fmt: skip
    net = _netlist(cells, {"clk": [1], "src": [2], "dst": [4]})
    net["modules"] = {"mytop": net["modules"]["top"]}
    rows = analyse(net, "mytop").table()
    assert [(r["instance"], r["module"], r["lut_levels"]) for r in rows] == [("top", "mytop", 1)]


def test_an_instance_without_a_timed_path_has_no_row() -> None:
    """An instance where only paths of no delay end (an input port wired to an output port, as a flat
    netlist left a residual add) gets no row in ``Depth.table()``: it printed ``u_add: hlsgen_binary: 0
    LUT levels, 0 cells, estimated Fmax 1000000 MHz (end )``."""
    cells = {
        "$ff0": _cell("FDRE", {"C": [1], "D": [5]}, {"Q": [2]}),
        "$l0": _cell("LUT2", {"I0": [2], "I1": [2]}, {"O": [3]}),
        "$ff1": _cell("FDRE", {"C": [1], "D": [3]}, {"Q": [4]}),
    }  # fmt: skip
    ports = {"x": {"direction": "input", "bits": [5]}, "u_add.y": {"direction": "output", "bits": [5]}}
    d = analyse(_netlist(cells, {"clk": [1], "x": [5], "u_r.a": [2], "u_r.b": [4]}, ports), "top")
    assert "u_add" in d.by_instance
    assert [(r["instance"], r["lut_levels"]) for r in d.table()] == [("u_r", 1)]


def test_dsp_registers_and_lutram_cut_paths() -> None:
    """A DSP48E2 with MREG and PREG: no path goes through it; a LUT-RAM write port ends a path and its read
    address is one LUT level."""
    cells = {
        "$ff0": _cell("FDRE", {"C": [1], "D": ["0"]}, {"Q": [2]}),
        "$l": _cell("LUT3", {"I0": [2], "I1": [2], "I2": [2]}, {"O": [3]}),
        "$dsp": _cell("DSP48E2", {"A": [3], "B": [2]}, {"P": [4]}, AREG="0", BREG="0", MREG="1", PREG="1"),
        "$l2": _cell("LUT2", {"I0": [4], "I1": [4]}, {"O": [5]}),
        "u_m.ram": _cell("RAM64M", {"ADDRA": [5], "ADDRD": [2], "DIA": [3], "WE": [2], "WCLK": [1]}, {"DOA": [6]}),
        "$ff1": _cell("FDRE", {"C": [1], "D": [6]}, {"Q": [7]}),
    }  # fmt: skip
    d = analyse(_netlist(cells, {"clk": [1], "u_m.q": [7], "u_m.r": [2]}), "top")
    w, deep = d.by_instance["u_m"]
    # DSP P register -> LUT2 -> LUT-RAM read -> FF: 2 levels; the DSP's input side ends at its M register
    assert deep.lut_levels == 2 and deep.through == "LUT2 > RAM64M"
    assert w.delay == pytest.approx(DELAYS["dsp_tco"] + 2 * NET + DELAYS["lut"] + DELAYS["lutram_read"] + 0.1)
    into_dsp = DELAYS["ff_tco"] + NET + DELAYS["lut"] + NET + DELAYS["dsp_mult"] + DELAYS["setup"]
    assert d.worst.delay == pytest.approx(max(into_dsp, w.delay))


# ---------------------------------------------------------------------------------------------------
PARITY = """module par #(parameter int N = 6, parameter bit MID = 0) (
    input logic clk, input logic [N-1:0] d, output logic q);
  logic [N-1:0] r;
  logic [1:0] h;
  always_ff @(posedge clk) begin
    r <= d;
    h <= {^r[N-1:N/2], ^r[N/2-1:0]};
    q <= MID ? ^h : ^r;
  end
endmodule
"""


#: the parity trees of test_yosys_parity_trees: (N, MID) of each instance of par
TREES = ((6, 0), (72, 0), (72, 1))


@pytest.mark.yosys
@needs_yosys
def test_yosys_parity_trees(tmp_path: Path) -> None:
    """Parity of N registered bits, on real synth_xilinx: 6 bits are one LUT6 between registers; wider
    trees are deeper; a register in the middle of the tree (MID) shortens the path. The trees are
    instances of one top in one Yosys run (a run's fixed cost is ~6 CPU s; three runs before), whose
    output is the XOR of the trees' registered outputs, so that every tree's paths end at its own
    registers (a bit is named by its first net name in sorted order: a port or wire of the top named
    before ``u_`` would take over the name of the register driving it). The MID tree measured 3 LUT
    levels beside the 6-bit tree alone as beside both: ABC's area recovery up to the run's deepest path
    (4 levels, the 72-bit tree) does not deepen it."""
    from hlsgen.backends.rtl.yosys import synthesize

    ports, insts = ["input logic clk", "output logic y"], []
    for n, mid in TREES:
        ports.append(f"input logic [{n - 1}:0] d{n}_{mid}")
        insts.append(f"  logic z{n}_{mid};")
        insts.append(f"  par #(.N({n}), .MID({mid})) u_p{n}_{mid} (.clk, .d(d{n}_{mid}), .q(z{n}_{mid}));")
    xor = " ^ ".join(f"z{n}_{mid}" for n, mid in TREES)
    text = (
        f"module trees (\n  {', '.join(ports)}\n);\n"
        + "\n".join(insts)
        + f"\n  assign y = {xor};\nendmodule\n"
    )
    (tmp_path / "par.sv").write_text(PARITY)
    (tmp_path / "trees.sv").write_text(text)
    c = synthesize(tmp_path, ["par.sv", "trees.sv"], "trees", depth=True)
    assert c.depth is not None
    levels = {t: c.depth.by_instance[f"u_p{t[0]}_{t[1]}"][1].lut_levels for t in TREES}
    print(f"parity trees: LUT levels {levels}")
    worst6 = c.depth.by_instance["u_p6_0"][0]
    assert worst6.delay == pytest.approx(DELAYS["ff_tco"] + NET + DELAYS["lut"] + DELAYS["setup"])
    assert worst6.end == "u_p6_0.q", worst6
    assert levels[6, 0] == 1
    assert levels[72, 0] >= 3
    assert levels[72, 1] < levels[72, 0]


@pytest.mark.yosys
@pytest.mark.tensorflow
@needs_yosys
def test_report_yosys_prints_depth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hlsgen report --yosys`` on a one-layer project: the design's LUT levels and estimated Fmax, and
    one line per block; both kept as measurements and shown in report.md; with ``--max-par`` (as ``hlsgen
    cosim`` takes it) the design of that parallelism."""
    tf = pytest.importorskip("tensorflow")
    from hlsgen.cli import main
    from hlsgen.report.measurements import load_measurements

    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([tf.keras.Input((2, 3)), tf.keras.layers.Dense(2, name="fc")])
    model.compile(loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 2, 3)), rng.normal(size=(32, 2, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    d = tmp_path / "prj"
    assert main(["convert", str(tmp_path / "m.keras"), "-o", str(d), "--precision", "ap_fixed<8,3>"]) == 0
    capsys.readouterr()
    assert main(["report", str(d), "--yosys"]) == 0
    out = capsys.readouterr().out
    assert "yosys design:" in out and "LUT levels" in out and "estimated Fmax" in out, out
    assert "yosys u_fc: hlsgen_linear:" in out, out
    ms = [m for m in load_measurements(d) if m.source.value == "yosys"]
    design = next(m for m in ms if m.scope == "design")
    assert design.clock_ns and design.clock_ns > 0 and design.resources["lut"] > 0
    assert any(m.scope == "u_fc" and m.stage == "depth" for m in ms)
    assert "Logic depth between registers" in (d / "report" / "report.md").read_text()
    # the RTL settings of hlsgen cosim: Yosys counts the design that was co-simulated (one multiplier)
    assert design.resources["dsp"] == 6 and "max_par 64," in design.note
    assert main(["report", str(d), "--yosys", "--max-par", "1"]) == 0
    one = [m for m in load_measurements(d) if m.source.value == "yosys" and m.scope == "design"][-1]
    assert one.resources["dsp"] == 1 and "max_par 1," in one.note, one.note


@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
def test_pipelined_engines_depth(tmp_path: Path) -> None:
    """The pipelined Linear, layer norm and softmax of a small chain (10-bit data) on real synth_xilinx:
    a regression bound at what they measure (4 / 5 / 7 LUT levels between registers, with the Linear's
    first / last group flags registered, the leading ones in two steps (hlsgen_lead) and the deep casts
    split by a register (hlsgen_castreg); the softmax's 7 is its stable exp table address, m - x rounded
    into the fine table, not yet registered). Before: 7 / 10 / 9; unpipelined 9 / 32 / 69."""
    from test_cosim import chain_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    d = build_design(chain_graph(), "chain", RtlOptions(par={"fc": 4, "ln": 6, "sm": 6}))
    c = synthesize(write_rtl(d, tmp_path / "rtl"), source_order(d), d.top, depth=True)
    assert c.depth is not None
    levels = {k: c.depth.by_instance[f"u_{k}"][1].lut_levels for k in ("fc", "ln", "sm")}
    print(f"chain: LUT levels {levels}; {c.depth.summary()}")
    assert levels["fc"] <= 6 and levels["ln"] <= 6, levels
    assert levels["sm"] <= 7, levels
    # every multiplier of the Linear and the softmax behind a register, none beside a memory read, a
    # multiplexer or a carry chain in its cycle: the 300 MHz class by the delay model (3.5 / 4.3 ns before,
    # at 8 bits). The layer norm's too: at 10 bits its variance product (the sum of squares times 1/D) is
    # wider than a DSP48E2, so it is two registered half products and their registered sum (4.47 ns as
    # one product: two DSPs and the carry chain joining them)
    slowest = {k: (round(w.delay, 2), w.start, w.end, w.through) for k, (w, _) in c.depth.by_instance.items()}
    assert all(slowest[k][0] <= 3.34 for k in ("u_fc", "u_ln", "u_sm")), slowest


@pytest.mark.yosys
@needs_yosys
def test_wide_layer_norm_depth(tmp_path: Path) -> None:
    """A 16-bit layer norm (8 values, 8 lanes: the b-tagging block's type): its square and N's product
    are wider than one DSP48E2 and go in halves (hlsgen_mul2); the slowest path stays in the 300 MHz class
    (4.47 ns as single products: two DSPs and the carry chain joining them)."""
    from test_cosim import layernorm_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    g = layernorm_graph(3, 8, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>")
    d = build_design(g, "ln16", RtlOptions(par={"ln": 8}))
    c = synthesize(write_rtl(d, tmp_path / "rtl"), source_order(d), d.top, depth=True)
    assert c.depth is not None
    assert c.depth.worst.delay <= 3.34 and c.depth.deepest.lut_levels <= 6, c.depth.summary()


@pytest.mark.yosys
@needs_yosys
def test_average_pool_depth(tmp_path: Path) -> None:
    """hlsgen_avgpool at 16 bits over 15 rows (the b-tagging block's pool, 8 features): the sum times 1/T
    is wider than one DSP48E2, so two registered half products, their registered sum and the cast each
    take a cycle (7.22 ns here, 7.49 ns in the b-tagging block's part, when sum, product and cast shared
    one)."""
    from test_cosim import pool_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    d = build_design(pool_graph(15, 8, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"), "pool", RtlOptions())
    c = synthesize(write_rtl(d, tmp_path / "rtl"), source_order(d), d.top, depth=True)
    assert c.depth is not None and c.dsp == 16
    # the whole design: the pool's output register is the top's output signal (7.22 ns, 139 MHz before)
    assert c.depth.worst.delay <= 3.34 and c.depth.deepest.lut_levels <= 6, c.depth.summary()


@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
@pytest.mark.parametrize("kind", ["scores", "context"])
def test_attention_engines_depth(tmp_path: Path, kind: str) -> None:
    """The attention engines of a 16-token block of 4 heads of 8 (8-bit data, default settings: 64
    multipliers) on real synth_xilinx: a regression bound at what they measure, 5 LUT levels each
    (benchmarks/bench_rtl_depth.py sc / cx; 8 and 7 before the end-of-sequence flags, the SIMD sum tree
    and the registered scale product and cast). The context's design holds a second context of 64
    tokens (its output rows in memories, as the T 64 MHA block's): 4 and 4 levels, 7 and 6 before the
    head flags of hlsgen_headseq and a row end independent of the output room (the head count compared
    with H - 1 on the way to issue, p_ready and cur_valid; README "Scaling with sequence length"). That
    the same RTL synthesised in parts adds up to the flat run, the engines no deeper in parts, is checked
    on two small contexts (tests/test_parts.py::test_report_yosys_of_an_engine_project_in_parts: the
    parity is the cut's, not the engines' size; here it took 28 s of parts on the idle machine)."""
    from helpers import contexts_graph, project_of, scores_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    # contexts of 16 and 64 tokens, 4 heads of 8
    g = scores_graph(16, 16, 4, 4, 8) if kind == "scores" else contexts_graph((16, 64), 4, 8)
    proj = project_of(g, {"default_precision": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"})
    d = build_design(proj.graph, kind, RtlOptions())
    assert [
        (b.params["SIMD"], b.params["PE"], b.params["LV"], b.params.get("ORAM", 0)) for b in d.blocks
    ] == ([(8, 8, 1, 0)] if kind == "scores" else [(8, 8, 1, 0), (8, 8, 1, 1)])
    rtl = write_rtl(d, tmp_path / "rtl")
    c = synthesize(rtl, source_order(d), d.top, depth=True, over=5)
    assert c.depth is not None
    levels = {b.instance: c.depth.by_instance[b.instance][1].lut_levels for b in d.blocks}
    print(f"{kind}: LUT levels {levels}; {c.depth.summary()}")
    over = [(p.lut_levels, p.start, p.end, p.through) for p in c.depth.over]
    assert all(n <= 5 for n in levels.values()), (levels, over)
    # the 300 MHz class by the delay model: a register in front of every multiplier (hlsgen_mac OREG), so
    # that no bank or ROM read and no multiplexer shares a cycle with a DSP (4.37 ns at T 1024 without it)
    slowest = {i: (round(w.delay, 2), w.start, w.end, w.through) for i, (w, _) in c.depth.by_instance.items()}
    assert all(w[0] <= 3.34 for w in slowest.values()), slowest


@pytest.mark.yosys
@needs_yosys
@pytest.mark.parametrize("engine", ["scores", "linear", "context"])
def test_engines_pick_groups_without_a_multiplier(tmp_path: Path, engine: str) -> None:
    """6-bit data, so that a group's width is no power of two: hlsgen_scores' head and group picks (2
    heads of 6: a head of Q is 36 bits), hlsgen_linear's bias of the output group (PE biases of 6 bits)
    and hlsgen_context's head group and output group of a V row (heads of 6 values of 6 bits) read arrays
    of groups (hlsgen_pick), so no variable index is multiplied by a width. Before, Yosys built
    qrow[qh_sel*DK*QW +: DK*QW], B_INIT[o3*PE*BW +: PE*BW] and vrow[gsel*DV*VW +: DV*VW] as multipliers:
    6 LUT levels, 5.8 ns and 2 DSP48E2s more (the scores), a DSP48E2 more and 6 levels, 6.87 ns (the
    Linear), 6 levels, 5.80 ns (the context); 7 levels in outside models at ap_fixed<6,2> and <12,4>."""
    from helpers import context_graph, project_of, scores_graph
    from test_rtl import dense_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    opts = RtlOptions()
    if engine == "linear":
        g, opts = dense_graph(6, 30, 4, "ap_fixed<6,2>"), RtlOptions(par={"fc": 30})  # PE 5, SIMD 6
    else:
        graph = (scores_graph if engine == "scores" else context_graph)(7, 7, 2, 2, 6)
        g = project_of(graph, {"default_precision": "ap_fixed<6,2>"}).graph
    d = build_design(g, engine, opts)
    (b,) = d.blocks
    if engine == "linear":
        assert (
            b.params["PE"] * b.params["BW"] not in (1, 2, 4, 8, 16, 32, 64)
            and b.params["N_OUT"] > b.params["PE"]
        )
    c = synthesize(write_rtl(d, tmp_path / "rtl"), source_order(d), d.top, depth=True, over=5)
    assert c.depth is not None
    w, deepest = c.depth.by_instance[b.instance]
    over = [(p.lut_levels, p.start, p.end, p.through) for p in c.depth.over]
    print(f"{engine}: {deepest.lut_levels} LUT levels, {w.delay:.2f} ns, {c.resources()}; {over}")
    assert deepest.lut_levels <= 5 and w.delay <= 3.34, (w.through, w.start, w.end, over)
    assert c.resources()["dsp"] == b.multipliers


@pytest.mark.yosys
@needs_yosys
def test_long_row_softmax_depth(tmp_path: Path) -> None:
    """A softmax of the long-sequence structure in small (rows of 64 values in 32 groups of 2, the row in
    LUTRAM read in place, E's group picked by a 32:1 multiplexer, as the T 256 block's 256 values in 32
    groups of 8) on real synth_xilinx: at most 6 LUT levels between registers, the 300 MHz class (8
    before the multiplexer and the exp table address were registered: README "Scaling with sequence
    length")."""
    from test_cosim import softmax_graph

    from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
    from hlsgen.backends.rtl.yosys import synthesize

    d = build_design(softmax_graph(2, 64), "smx", RtlOptions(par={"sm": 2}))
    b = d.blocks[0]
    assert (b.params["RAM"], b.info["row_cycles"], b.params["SEL_LV"]) == (1, 32, 4)
    c = synthesize(write_rtl(d, tmp_path / "rtl"), source_order(d), d.top, depth=True, over=6)
    assert c.depth is not None
    w, deep = c.depth.by_instance[b.instance]
    print(f"softmax N 64 L 2: {deep.lut_levels} LUT levels ({deep.through}); {c.depth.summary()}")
    assert deep.lut_levels <= 6, [(p.lut_levels, p.start, p.end, p.through) for p in c.depth.over]
    # and the 300 MHz class by the delay model: E's product and N's operands registered (no memory read,
    # multiplexer or carry chain beside a multiplier; 4.32 ns before)
    assert w.delay <= 3.34, (w.delay, w.start, w.end, w.through)
