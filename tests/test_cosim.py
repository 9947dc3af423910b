"""RTL co-simulation (cocotb + Verilator): the RTL equals the NumPy reference bit for bit on the digits
models and on MHA variants (cross attention with a padding mask, causal, no bias, a scale that is not a
power of two, grouped-query attention) plus table activations, layer norm, pooling and the latency
softmax, and on multi-head latent attention (prefill with and without RoPE; the ops of an absorbed decode
step), and on rotary position embedding (prefill, also inside GQA; decode with a position stream), under
idle input cycles and output back-pressure; measured latency and II are within 10% of the estimate; the
first mismatch is named; the CLI and a written project's one-command check work.

Every design is built once per session (the builds are cached under HLSGEN_CACHE, one folder each);
tests that share a build share an xdist group.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import Level, check_level, run_cli
from test_rtl import cast_graph, needs_verilator

from hlsgen.backends.rtl import RtlOptions, build_design, source_order, write_rtl
from hlsgen.backends.rtl.cosim import CosimResult, cosim_graph, samples_estimate
from hlsgen.ir.graph import Graph, input_raw

pytestmark = [pytest.mark.verilator, needs_verilator]

REPO = Path(__file__).resolve().parent.parent
DIGITS = REPO / "examples" / "digits"


def _raw(g: Graph, data: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {k: input_raw(v, g.tensors[k].type) for k, v in zip(g.inputs, data, strict=True)}


def _lint(rtl: Path, design) -> None:
    from hlsgen.backends.rtl.lint import lint

    r = lint(rtl, source_order(design), design.top)
    assert r.clean, "\n".join(r.messages)


def _check(res: CosimResult, design, label: str) -> None:
    assert len(res.runs) == 4 and {(r.idle, r.backpressure) for r in res.runs} == {
        (False, False), (False, True), (True, False), (True, True)
    }  # fmt: skip
    assert res.passed, res.failure_message()
    plain = res._plain()
    assert plain is not None
    # the estimate of as many samples as were driven (design.estimate's II is the steady state's, which a
    # short run can miss where the input runs ahead: printed beside); a decode top's, its first steps
    decode = getattr(design, "decode", None) is not None
    est = design.estimate if decode else samples_estimate(design, plain.samples)
    print(
        f"{label}: latency {res.latency} cycles (estimate {est.latency}), II {res.ii:.1f} cycles over "
        f"{plain.samples} samples (estimate {est.ii:.1f}; steady state {design.estimate.ii:.1f}, bound "
        f"{est.bound}); build {res.build_seconds:.1f} s, sim {res.sim_seconds:.1f} s"
    )
    # the estimate is exact (issue 5 asked for 10 %): latency and II equal the measured cycles
    assert (res.latency, res.ii) == (est.latency, est.ii), (label, res.latency, res.ii, est.latency, est.ii)


# ---------------------------------------------------------------------------------------------------
@pytest.mark.xdist_group("rtl_golden")
def test_golden_vector_on_the_ports(tmp_path: Path) -> None:
    """The TDATA words on the AXI4-Stream ports, pinned by hand: ap_fixed<6,2> tokens (1.5, -0.25, 0.75)
    and (-2, 1.9375, 0) in, the same values as ap_fixed<8,3> out."""
    g = cast_graph("ap_fixed<6,2>", "ap_fixed<8,3>", (2, 3))
    x = np.array([[[1.5, -0.25, 0.75], [-2.0, 1.9375, 0.0]]])
    res = cosim_graph(g, "golden", _raw(g, [x]), tmp_path)
    assert res.passed, res.failure_message()
    plain = next(r for r in res.runs if not r.idle and not r.backpressure)
    assert plain.tokens is not None
    # 6-bit raw 24, -4, 12 | -32, 31, 0; element 0 in the LSBs; 18 bits padded to 24
    assert plain.tokens["x"] == [[0x00CF18, 0x0007E0]]
    # 8-bit raw 48, -8, 24 | -64, 62, 0
    assert plain.tokens["y"] == [[0x18F830, 0x003EC0]]


@pytest.mark.xdist_group("rtl_audit")
def test_event_driven_handshakes_equal_an_edge_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's sources and sinks (sim/hlsgen_axis.py) wake only where a beat can move and time each
    handshake from the simulation time; HLSGEN_COSIM_AUDIT=1 also counts every accepted beat edge by edge
    and fails a run whose cycles differ. A Linear at 2 multipliers (its input TREADY falls between rows) and
    several samples, in every run (idle cycles x back-pressure); the audit's comparison fails on a
    difference."""
    from test_rtl import dense_graph

    from hlsgen.resources import resource_dir

    monkeypatch.setenv("HLSGEN_COSIM_AUDIT", "1")
    g = dense_graph(6, 5, 3, "ap_fixed<12,4>")
    x = np.random.default_rng(3).uniform(-2, 2, size=(4, 3, 6))
    res = cosim_graph(g, "audit", _raw(g, [x]), tmp_path, RtlOptions(par={"fc": 2}))
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4 and all(r.ii and r.ii > 1 for r in res.runs)

    monkeypatch.syspath_prepend(str(resource_dir("sim")))
    from hlsgen_cosim_bench import EdgeAudit  # type: ignore[import-not-found]

    audit = EdgeAudit.__new__(EdgeAudit)
    audit.cycles = {"x": [1, 2, 5]}
    audit.compare({"x": [1, 2, 5]})
    with pytest.raises(AssertionError, match="port x: 3 beats timed by the bench, 3 counted edge by edge; first "
                       "difference at beat 2"):  # fmt: skip
        audit.compare({"x": [1, 2, 6]})


@pytest.mark.xdist_group("rtl_golden")
def test_first_mismatch_is_named(tmp_path: Path) -> None:
    """RTL that rounds differently from the reference fails every run, naming output, sample, token and
    element; the JUnit XML has one failing test case per run."""
    g = cast_graph("ap_fixed<12,4>", "ap_fixed<6,2,AP_RND>", (3, 4))
    d = build_design(g, "golden_bad")
    rtl = write_rtl(d, tmp_path / "rtl")
    top = rtl / "golden_bad.sv"
    text = top.read_text()
    assert ".Y_RND(2)" in text
    top.write_text(text.replace(".Y_RND(2)", ".Y_RND(0)"))  # AP_TRN instead of AP_RND
    x = np.random.default_rng(1).uniform(-2, 2, size=(3, 3, 4))
    res = cosim_graph(g, "golden_bad", _raw(g, [x]), tmp_path / "work", rtl_dir=rtl)
    assert not res.passed and all(not r.passed for r in res.runs)
    msg = res.failure_message()
    assert "output y:" in msg and "first at sample 0, token 0, element" in msg, msg
    f = res.first_mismatch
    assert f is not None and f["got"] == f["want"] - 1  # truncation is one LSB below rounding
    junit = res.junit()
    assert junit.count("<failure") == 4 and "sample 0, token 0" in junit


@pytest.mark.xdist_group("rtl_golden")
def test_runner_command_lines_stay_out_of_the_terminal(tmp_path: Path) -> None:
    """With a handler on the root logger (absl puts one there once TensorFlow is imported, as a QKeras
    project's cosim does), the cocotb runner's INFO lines (every Verilator and simulator command line) no
    longer reach it; the run passes as before."""
    import io
    import logging

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        g = cast_graph("ap_fixed<6,2>", "ap_fixed<8,3>", (2, 3))
        x = np.array([[[1.5, -0.25, 0.75], [-2.0, 1.9375, 0.0]]])
        res = cosim_graph(g, "golden", _raw(g, [x]), tmp_path)
    finally:
        logging.getLogger().removeHandler(handler)
    assert res.passed, res.failure_message()
    assert "Running command" not in stream.getvalue(), stream.getvalue()[:300]


# ---------------------------------------------------------------------------------------------------
@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_digits_float")
def test_digits_float(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.demo import FLOAT_PRECISION

    sys.path.insert(0, str(DIGITS))
    from data import load_digits_tokens  # type: ignore[import-not-found]

    x_tr, _, x_te, _ = load_digits_tokens()
    cfg = {"project_name": "digits_float", "default_precision": FLOAT_PRECISION}
    proj = hlsgen.convert(DIGITS / "digits_float.keras", cfg, calibration_data=x_tr)
    opts = RtlOptions(max_par=16)
    design = build_design(proj.graph, proj.name, opts)
    res = check_level(Level.COSIM, proj, [x_te[:6]], tmp_path, options=opts)
    _check(res, design, "digits_float (PAR 16)")
    _lint(tmp_path / "rtl", design)


def variants_model():
    """Small attention variants in one model, plus the other ops of the RTL library: self attention;
    cross attention with a padding mask, key_dim 3 (a scale that is no power of two), value_dim 2 and no
    bias; causal attention; grouped-query attention (4 query heads on 2 key/value heads); a residual add,
    a tanh table, layer norm over 6 values, relu, pooling and a latency softmax."""
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention

    t, d = 4, 4
    tf.keras.utils.set_random_seed(11)
    x = tf.keras.Input((t, d), name="tokens")
    mem = tf.keras.Input((t + 1, d), name="memory")
    mask = tf.keras.Input((t, t + 1), name="pad_mask")
    a = tf.keras.layers.MultiHeadAttention(2, 2, name="self_attn")(x, x)
    b = tf.keras.layers.MultiHeadAttention(2, 3, value_dim=2, use_bias=False, name="cross_attn")(
        a, mem, attention_mask=mask
    )
    c = tf.keras.layers.MultiHeadAttention(1, 4, name="causal_attn")(b, b, use_causal_mask=True)
    h = GroupedQueryAttention(4, 2, 2, name="gqa")(c)
    h = tf.keras.layers.Add(name="residual")([h, x])
    h = tf.keras.layers.Dense(6, activation="tanh", name="ffn")(h)
    h = tf.keras.layers.LayerNormalization(name="norm")(h)
    h = tf.keras.layers.Dense(6, activation="relu", name="ffn2")(h)
    h = tf.keras.layers.GlobalAveragePooling1D(name="pool")(h)
    h = tf.keras.layers.Dense(3, name="head")(h)
    out = tf.keras.layers.Activation("softmax", name="probs")(h)
    model = tf.keras.Model([x, mem, mask], out, name="variants")
    rng = np.random.default_rng(0)
    n = 5
    pm = (rng.random((n, t, t + 1)) > 0.4).astype(np.float64)
    pm[:, :, 0] = 1.0
    return model, [rng.normal(size=(n, t, d)), rng.normal(size=(n, t + 1, d)), pm]


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_variants")
@pytest.mark.parametrize("ram_min_rows", [32, 1])
def test_attention_variants(tmp_path: Path, ram_min_rows: int) -> None:
    """Every variant bit-exact with cycles as estimated; at ram_min_rows 1 with every bank and row of
    the attention engines in memories (the softmax's with a padding mask and a causal one)."""
    pytest.importorskip("tensorflow")
    import hlsgen

    model, data = variants_model()
    cfg = {
        "default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>",
        "project_name": "variants",
        "layers": {"probs": {"softmax": {"variant": "latency", "latency_table_bits": 8}}},
    }
    proj = hlsgen.convert(model, cfg)
    kinds = {op.kind for op in proj.graph.ops}
    assert {
        "scores",
        "mask",
        "softmax",
        "context",
        "layernorm",
        "global_avg_pool",
        "activation",
        "add",
    } <= kinds
    assert any(op.kind == "scores" and op.num_kv_heads < op.num_heads for op in proj.graph.ops)
    opts = RtlOptions(max_par=4, ram_min_rows=ram_min_rows)
    design = build_design(proj.graph, proj.name, opts)
    sm = [b for b in design.blocks if b.module == "hlsgen_softmax"]
    assert len(sm) == 5 and {b.params["RAM"] for b in sm} == {int(ram_min_rows == 1)}
    # the causal attention's Q / K / V projections take their rows in step: 1-row fork registers, under
    # back-pressure and idle cycles too; the tokens also feed the residual add: whole-tensor FIFOs
    forks = {f.source.signal: [depth for _, depth in f.branches] for f in design.forks}
    assert forks["s_cross_attn_result"] == [1, 1, 1]
    assert min(forks["s_tokens"]) > 4 and max(forks["s_tokens"]) > 16
    res = check_level(Level.COSIM, proj, data, tmp_path, options=opts)
    _check(res, design, f"attention variants (PAR 4, ram_min_rows {ram_min_rows})")
    _lint(tmp_path / "rtl", design)


# ---------------------------------------------------------------------------------------------------
@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_digits_qat")
def test_project_cosim_cli_and_one_command_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hlsgen convert --tb-data writes a project with a Makefile and CI workflows; hlsgen cosim and the
    one-command check (csim + cosim against tb_data/) pass and write JUnit XML."""
    pytest.importorskip("tensorflow")
    sys.path.insert(0, str(DIGITS))
    from data import load_digits_tokens  # type: ignore[import-not-found]

    _, _, x_te, _ = load_digits_tokens()
    np.save(tmp_path / "x.npy", x_te[:4])
    prj = tmp_path / "prj"
    # every command in this process (helpers.run_cli: a new Python imported TensorFlow and hlsgen again,
    # ~10 s at load 4); the `python -m hlsgen.cli convert` entry runs in fuzz/test_bad_input's SIGINT test
    code, out, err = run_cli(
        capsys, "convert", str(DIGITS / "digits_qat.keras"), "-o", str(prj), "--name", "digits_qat",
        "--tb-data", str(tmp_path / "x.npy"),
    )  # fmt: skip
    assert code == 0, out + err
    for f in ("Makefile", ".github/workflows/hlsgen.yml", ".gitlab-ci.yml"):
        text = (prj / f).read_text()
        assert text.startswith("# Generated by hlsgen"), f
    assert "hlsgen.commands.check . --junit-dir reports/junit" in (prj / "Makefile").read_text()
    assert "junit" in (prj / ".gitlab-ci.yml").read_text()

    code, out, err = run_cli(capsys, "cosim", str(prj))
    print(out)
    assert code == 0, out + err
    assert "bit-exact against the reference in every run" in out and "estimate: latency" in out
    assert (prj / "reports" / "junit" / "cosim.xml").is_file()

    junit = str(tmp_path / "junit")
    code, out, err = run_cli(capsys, str(prj), "--junit-dir", junit, module="hlsgen.commands.check")
    print(out)
    assert code == 0, out + err
    assert "csim of digits_qat: 4 samples, bit-exact" in out and "cosim of digits_qat" in out
    assert {p.name for p in (tmp_path / "junit").iterdir()} == {"csim.xml", "cosim.xml"}

    # a project's RTL exported elsewhere (the Vitis HLS route): same interface, --rtl DIR
    design_dir = next((prj / "cosim").glob("rtl"))
    code, out, err = run_cli(capsys, "cosim", str(prj), "--rtl", str(design_dir), "--samples", "2")
    assert code == 0, out + err


def one_head_block():
    """A Keras MultiHeadAttention of 1 head of 3 over 5 tokens of 6 features (self-attention), seeded:
    its value branch reaches the context long before the queries (the steady-state tests below)."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(4)
    x = tf.keras.Input((5, 6))
    return tf.keras.Model(x, tf.keras.layers.MultiHeadAttention(1, 3, name="mha")(x, x))


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_cli_samples")
def test_cli_estimate_is_of_the_samples_it_simulates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hlsgen cosim`` compares the measured cycles with the estimate of as many samples as it simulated.
    A 1-head block of 5 tokens lets its input run 5 samples ahead before the V path's back-pressure
    reaches it (gaps 6, 6, 6, 6, 31, ...); a 5-sample estimate says II 6.0 where 8 samples measure 10.2 (the
    CLI printed -41 %). Now the printed estimate equals the measurement, and the steady state's II (the
    design's estimate: 11.0) is named in a note. (With the fork FIFOs as sized before design.deepen_forks,
    which now takes this design to 6.0 from the first sample: test_estimate_is_the_steady_state.)"""
    from hlsgen.backends.rtl import design as rtl_design

    monkeypatch.setattr(rtl_design, "deepen_forks", lambda d: None)
    model = one_head_block()
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(4).normal(size=(8, 5, 6)).astype(np.float32))
    prj = tmp_path / "prj"
    code, out, err = run_cli(
        capsys, "convert", str(tmp_path / "m.keras"), "-o", str(prj), "--precision", "ap_fixed<16,6>",
        "--calibration", str(tmp_path / "x.npy"), "--tb-data", str(tmp_path / "x.npy"),
    )  # fmt: skip
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "cosim", str(prj))
    print(out)
    assert code == 0, out + err
    plain = re.search(
        r"cosim\[idle=0,backpressure=0\]: bit-exact, latency (\d+) cycles, II ([\d.]+) cycles", out
    )
    est = re.search(
        r"estimate: latency (\d+) cycles \(\+0\.0% of the measured (\d+)\), II ([\d.]+) cycles", out
    )
    assert plain and est, out
    assert (est.group(1), est.group(3)) == plain.groups() == ("73", "10.2"), out
    assert "in steady state (the design's estimate) the II is 11.0 cycles; over 8 samples it is 10.2" in out


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_cli_samples")
@pytest.mark.parametrize("deepen", [False, True])
def test_estimate_is_the_steady_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deepen: bool) -> None:
    """The design's estimate gives the steady state's II, not that of the first 5 samples. The 1-head block
    of 5 tokens above with the fork FIFOs of the input as sized by their first-pass occupancy (6 rows):
    gaps 6, 6, 6, 6, 31 repeating, 11.0 cycles a sample in steady state, where a 5-sample run says 6.0;
    the V branch cannot hold the values for the queries' latency, so the input stops. With
    design.deepen_forks (the default) the branches hold what the estimate with unbounded fork FIFOs
    holds (V: 46 rows), and the steady state is 6.0 (the bound, 5, + 1). Co-simulated over 32 samples
    back to back (no idle cycles, no back-pressure, bit-exact): the same II as the estimate."""
    import hlsgen
    from hlsgen.backends.rtl import design as rtl_design
    from hlsgen.backends.rtl.design import estimate

    if not deepen:
        monkeypatch.setattr(rtl_design, "deepen_forks", lambda d: None)
    model = one_head_block()
    data = np.random.default_rng(4).normal(size=(32, 5, 6))
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<16,6>"}, calibration_data=data[:8])
    g = proj.graph
    design = build_design(g, proj.name, RtlOptions())
    (fork,) = design.forks
    assert [depth for _, depth in fork.branches] == ([6, 6, 46] if deepen else [6, 6, 6])
    assert design.estimate.bound == 5 and design.estimate.ii == (6.0 if deepen else 11.0)
    assert estimate(design, 5).ii == 6.0
    res = cosim_graph(g, proj.name, _raw(g, [data]), tmp_path, RtlOptions(), plain_only=True)
    assert res.passed, res.failure_message()
    est = samples_estimate(design, 32)
    assert (res.latency, res.ii) == (est.latency, est.ii) == (design.estimate.latency, design.estimate.ii)


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_cli_samples")
def test_cli_cosim_of_one_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``hlsgen cosim --samples 1``: one sample has a latency and no II; the command passes and records the
    latency (it raised TypeError rounding the missing II: "internal error ... a bug in hlsgen")."""
    from hlsgen.report.measurements import load_measurements

    model = one_head_block()
    model.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", np.random.default_rng(4).normal(size=(2, 5, 6)).astype(np.float32))
    prj = tmp_path / "prj"
    code, out, err = run_cli(
        capsys, "convert", str(tmp_path / "m.keras"), "-o", str(prj), "--precision", "ap_fixed<16,6>",
        "--tb-data", str(tmp_path / "x.npy"),
    )  # fmt: skip
    assert code == 0, out + err
    code, out, err = run_cli(capsys, "cosim", str(prj), "--samples", "1")
    assert code == 0, out + err
    assert "cosim[idle=0,backpressure=0]: bit-exact" in out and "bit-exact against the reference" in out
    m = next(m for m in load_measurements(prj) if m.source.value == "cosim")
    assert m.latency_cycles == 73 and m.interval_cycles is None


# ---------------------------------------------------------------------------------------------------
def mla_model():
    """Multi-head latent attention (prefill): a layer without RoPE (value_dim 3 != head_dim 4, a
    power-of-two scale) and a layer with a decoupled RoPE query and key (scale 1/sqrt(4 + 2), no power of
    two); the exact up-projections (exact_linear) and the two-part scores (latent_scores)."""
    import tensorflow as tf

    from hlsgen.layers import MultiHeadLatentAttention

    t, d = 4, 8
    tf.keras.utils.set_random_seed(5)
    x = tf.keras.Input((t, d), name="tokens")
    h = MultiHeadLatentAttention(2, 4, 6, value_dim=3, name="mla_plain")(x)
    h = MultiHeadLatentAttention(2, 4, 3, rope_dim=2, name="mla_rope")(h)
    model = tf.keras.Model(x, h, name="mla")
    return model, [np.random.default_rng(0).normal(size=(4, t, d))]


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_mla")
def test_mla_prefill(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    import hlsgen

    model, data = mla_model()
    cfg = {"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>", "project_name": "mla"}
    proj = hlsgen.convert(model, cfg)
    kinds = [op.kind for op in proj.graph.ops]
    assert kinds.count("exact_linear") == 4 and kinds.count("latent_scores") == 2 and "rope" in kinds
    opts = RtlOptions(max_par=4)
    design = build_design(proj.graph, proj.name, opts)
    scores = {op.name: op for op in proj.graph.ops if op.kind == "latent_scores"}
    assert [op.rope_dim for op in scores.values()] == [0, 2]
    assert [op.scale_is_shift for op in scores.values()] == [True, False]
    for b in design.blocks:  # both parts of a score on the same multipliers, no idle lane
        if b.kind == "latent_scores":
            # the scale product: one DSP a key, two where the sum (here widened by the RoPE shifts) is too
            # wide for one (SC_SPLIT)
            scale = 0 if scores[b.op].scale_is_shift else b.info["pe"] * (1 + b.params["SC_SPLIT"])
            assert b.multipliers == b.info["par"] + scale
            assert b.info["macs"] == b.info["par"] * b.info["row_cycles"] * 2 * 4  # H * Tq rows
    res = check_level(Level.COSIM, proj, data, tmp_path, options=opts)
    _check(res, design, "MLA prefill (PAR 4)")
    _lint(tmp_path / "rtl", design)


def absorbed_mla_graph(
    h: int = 2, hd: int = 5, dc: int = 2, vd: int = 5, rd: int = 2, length: int = 5
) -> Graph:
    """The attention of one decode step of absorbed MLA, built as hlsgen.quant.decode_pass builds it (the
    caches and the position mask, the lead's RTL, are inputs here): the absorbed query q W_UK^T (exact,
    block diagonal), latent scores over the latent and the RoPE key (one key head), the decode mask,
    softmax, the exact latent context P C and W_UV per head (block diagonal, cast to the context type).
    Block sizes 5 x 2 and 2 x 5 at 4 multipliers pad both the inputs (SIMD 2) and the outputs (PE 2) of
    the blocks."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.quant.passes import quantize_graph

    rng = np.random.default_rng(3)
    up_k = ops.ExactLinear("uk", [], [], kernel=rng.normal(size=(dc, h * hd)) / 2, num_heads=h, head_dim=hd)
    up_v = ops.ExactLinear("uv", [], [], kernel=rng.normal(size=(dc, h * vd)) / 2, num_heads=h, head_dim=vd)
    g = Graph("mla_absorbed")
    shapes = {
        "q_nope": (1, h * hd),
        "latent": (length, dc),
        "q_rope": (1, h * rd),
        "k_rope": (length, rd),
        "valid": (1, length),
        "q_absorbed": (1, h * dc),
        "scores": (h, 1, length),
        "mask": (1, length),
        "probs": (h, 1, length),
        "context_latent": (1, h * dc),
        "context": (1, h * vd),
    }
    for name, shape in shapes.items():
        g.add_tensor(name, shape)
    g.inputs, g.outputs = ["q_nope", "latent", "q_rope", "k_rope", "valid"], ["scores", "context"]
    g.add_op(
        ops.ExactLinear(
            "uk_absorbed", ["q_nope"], ["q_absorbed"], kernel=up_k.absorbed_query_kernel(), num_heads=h,
            head_dim=dc, blocks=h,
        )
    )  # fmt: skip
    g.add_op(
        ops.LatentScores(
            "latent_scores", ["q_absorbed", "latent", "q_rope", "k_rope"], ["scores"], num_heads=h, a_dim=dc,
            a_kv_heads=1, rope_dim=rd, scale_dim=hd + rd,
        )
    )  # fmt: skip
    g.add_op(ops.Mask("decode_mask", ["valid"], ["mask"], causal=False))
    g.add_op(ops.Softmax("softmax", ["scores", "mask"], ["probs"]))
    g.add_op(
        ops.ExactContext(
            "context_latent", ["probs", "latent"], ["context_latent"], num_heads=h, num_kv_heads=1,
            value_dim=dc,
        )
    )  # fmt: skip
    g.add_op(
        ops.BlockLinear(
            "uv_absorbed", ["context_latent"], ["context"], kernel=up_v.absorbed_value_kernel(), role="context",
            blocks=h,
        )
    )  # fmt: skip
    return quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))


@pytest.mark.xdist_group("rtl_mla_absorbed")
def test_mla_absorbed_decode_ops(tmp_path: Path) -> None:
    """block_linear, exact_linear with blocks, latent_scores with one key head and exact_context, as a
    decode step of absorbed MLA uses them (one row per sequence): bit-exact, cycles as estimated, the
    zero blocks neither stored nor multiplied."""
    g = absorbed_mla_graph()
    t = {op.name: op.types for op in g.ops}
    assert t["uk_absorbed"]["y"] == t["uk_absorbed"]["accum"]  # exact
    assert t["context_latent"]["y"] == t["context_latent"]["accum"]
    assert t["latent_scores"]["qa"].frac + t["latent_scores"]["ka"].frac != (
        t["latent_scores"]["qr"].frac + t["latent_scores"]["kr"].frac
    )  # the two parts' products are aligned in hardware
    opts = RtlOptions(max_par=4)
    design = build_design(g, "mla_absorbed", opts)
    blk = {b.op: b for b in design.blocks}
    for op in g.ops[0], g.ops[-1]:
        b = blk[op.name]
        assert b.params["BLOCKS"] == 2 and (b.info["simd"], b.info["pe"]) == (2, 2)
        assert len(b.consts[0].words) * 4 < op.n_in * op.n_out  # the zero blocks are not in the ROM
        assert b.info["macs"] == op.n_in * op.n_out // 2 == 20
    rng = np.random.default_rng(4)
    n = 5
    valid = rng.random((n, 1, 5)) > 0.3
    valid[:, :, 0] = True  # the token itself
    shapes = [g.tensors[k].shape for k in g.inputs[:4]]
    data = [rng.normal(size=(n, *s)) for s in shapes] + [valid]
    res = cosim_graph(g, "mla_absorbed", _raw(g, data), tmp_path, opts)
    _check(res, design, "MLA absorbed decode ops (PAR 4)")
    _lint(tmp_path / "rtl", design)


# ---------------------------------------------------------------------------------------------------
def rope_model():
    """Rotary position embedding on its own (2 heads of 4, rope_dim 2: half of each head passes through;
    a 10-bit table from the layer's quantizer) and inside grouped-query attention (2 query heads on 1
    key/value head, rope_dim 2 of 4; the config's 18-bit table), over 5 tokens."""
    import tensorflow as tf

    from hlsgen.layers import GroupedQueryAttention, RotaryEmbedding

    t, d = 5, 8
    tf.keras.utils.set_random_seed(31)
    x = tf.keras.Input((t, d), name="tokens")
    h = RotaryEmbedding(4, rope_dim=2, table_quantizer="quantized_bits(10,1,alpha=1)", name="rope")(x)
    h = GroupedQueryAttention(2, 1, 4, rope_dim=2, name="gqa")(h)
    model = tf.keras.Model(x, h, name="rope_gqa")
    return model, [np.random.default_rng(3).normal(size=(5, t, d))]


@pytest.mark.tensorflow
@pytest.mark.xdist_group("rtl_rope")
def test_rope_prefill(tmp_path: Path) -> None:
    """Prefill RoPE (hlsgen_rope, a row's position its index): bit-exact, cycles as estimated."""
    pytest.importorskip("tensorflow")
    import hlsgen

    model, data = rope_model()
    cfg = {"default_precision": "ap_fixed<12,4,AP_RND_CONV,AP_SAT>", "project_name": "rope_gqa"}
    proj = hlsgen.convert(model, cfg)
    ropes = [op for op in proj.graph.ops if op.kind == "rope"]
    assert len(ropes) == 3 and all(op.rope_dim < op.head_dim and not op.decode for op in ropes)
    assert {op.types["table"].width for op in ropes} == {10, 18}
    opts = RtlOptions(max_par=8, par={"rope": 1})  # the standalone RoPE: one pair a cycle, 2 cycles a row
    design = build_design(proj.graph, proj.name, opts)
    assert {b.op: b.info["row_cycles"] for b in design.blocks if b.module == "hlsgen_rope"} == {
        "rope": 2, "gqa_query_rope": 1, "gqa_key_rope": 1
    }  # fmt: skip
    res = check_level(Level.COSIM, proj, data, tmp_path, options=opts)
    _check(res, design, "RoPE + GQA with RoPE (PAR 8)")
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_rope_decode")
def test_rope_decode(tmp_path: Path) -> None:
    """Decode RoPE (a table of L = 12 positions; each x row comes with a row of the position stream,
    random positions 0 .. L-1): bit-exact with a rounding, saturating output type, 4 pairs a row in 2
    groups of 3 lanes (the last one partial), cycles as estimated."""
    from test_rtl import rope_graph

    L = 12
    g = rope_graph(1, 2, 6, 4, "ap_fixed<10,3>", out="ap_fixed<8,2,AP_RND,AP_SAT>", decode_length=L)
    assert g.inputs == ["x", "pos"] and g.ops[0].decode and g.ops[0].n_positions == L
    opts = RtlOptions(par={"rope": 3})
    design = build_design(g, "rope_decode", opts)
    assert design.blocks[0].info["row_cycles"] == 2
    rng = np.random.default_rng(7)
    n = 8
    pos = rng.integers(0, L, size=(n, 1))
    pos[:2, 0] = [0, L - 1]
    raw = {"x": input_raw(rng.uniform(-4, 4, size=(n, 1, 12)), g.tensors["x"].type), "pos": pos}
    res = cosim_graph(g, "rope_decode", raw, tmp_path, opts)
    _check(res, design, "RoPE decode (3 lanes)")
    _lint(tmp_path / "rtl", design)


# ---------------------------------------------------------------------------------------------------
def chain_graph(rows: int = 3, n: int = 6) -> Graph:
    """Linear -> layer norm -> softmax over rows of ``n`` values (the pipelined row engines)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    rng = np.random.default_rng(7)
    g = Graph("chain")
    x, h, z, y = (g.add_tensor(k, (rows, n)) for k in ("x", "h", "z", "y"))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Linear("fc", [x], [h], kernel=rng.normal(size=(n, n)) / 2, bias=rng.normal(size=n)))
    g.add_op(ops.LayerNorm("ln", [h], [z], gamma=rng.normal(size=n), beta=rng.normal(size=n)))
    g.add_op(ops.Softmax("sm", [z], [y]))
    return quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))


def pool_graph(t: int, d: int, precision: str) -> Graph:
    """A [T, D] input averaged over its T rows (GlobalAveragePooling1D)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    g = Graph("pool")
    x, y = g.add_tensor("x", (t, d)), g.add_tensor("y", (d,))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.GlobalAvgPool("pool", [x], [y]))
    return quantize_graph(g, Config.from_dict({"default_precision": precision}))


@pytest.mark.xdist_group("rtl_pipeline")
@pytest.mark.parametrize(
    ("t", "precision"), [(1, "ap_fixed<18,8>"), (2, "ap_fixed<8,3>"), (5, "ap_fixed<16,6>")]
)
def test_average_pool_stages_are_exact(tmp_path: Path, t: int, precision: str) -> None:
    """hlsgen_avgpool's three stages after the sum (the two half products, their sum, the cast), which
    move only while the output register is free or being emptied: bit-exact and exactly as estimated
    under idle cycles and back-pressure, with sequences of 1 and 2 rows (a result still in the stages
    when the next one's last row arrives) and a sum wider than one DSP's 17 bits (16- and 18-bit data)."""
    g = pool_graph(t, 6, precision)
    pool = next(op for op in g.ops if op.kind == "global_avg_pool")
    assert (pool.types["sum"].width + 1 > 17) == (precision != "ap_fixed<8,3>")
    design = build_design(g, "pool", RtlOptions())
    x = np.random.default_rng(t).normal(size=(7, t, 6)) * 8
    res = cosim_graph(g, "pool", _raw(g, [x]), tmp_path, RtlOptions())
    _check(res, design, f"average pool T {t} ({precision})")
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_pipeline")
@pytest.mark.parametrize("levels", [0, 1])
def test_pipeline_depth_is_exact(tmp_path: Path, levels: int) -> None:
    """The tree_levels knob (registers in the row sums and maxima and in the MAC's SIMD sum): bit-exact at
    both settings, latency and II exactly as estimated, and the deeper pipeline costs cycles of latency
    only where a tree has more levels than one stage."""
    g = chain_graph()
    opts = RtlOptions(par={"fc": 4, "ln": 4, "sm": 2}, tree_levels=levels)
    design = build_design(g, "chain", opts)
    x = np.random.default_rng(2).normal(size=(5, 3, 6)) * 2
    res = cosim_graph(g, "chain", _raw(g, [x]), tmp_path, opts)
    _check(res, design, f"chain (tree_levels {levels})")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    ln = next(b for b in design.blocks if b.op == "ln")
    assert ln.params["LV"] == levels
    if levels:
        flat = build_design(g, "chain", RtlOptions(par=opts.par, tree_levels=0)).estimate.latency
        assert design.estimate.latency > flat
    _lint(tmp_path / "rtl", design)


def linear_pair_graph(concat: bool) -> Graph:
    """Two Linears of 8 -> 8 and 8 -> 4 values over 6 rows: in a chain (x -> fa -> fb), or side by side
    on one input into a row concat that takes all of fa's rows before fb's (``concat``)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    rng = np.random.default_rng(11)
    g = Graph("pair")
    x = g.add_tensor("x", (6, 8))
    a = g.add_tensor("a", (6, 8))
    if concat:
        b, y = g.add_tensor("b", (6, 8)), g.add_tensor("y", (12, 8))
        g.add_op(ops.Linear("fa", [x], [a], kernel=rng.uniform(-1, 1, (8, 8)), bias=rng.uniform(-1, 1, 8)))
        g.add_op(ops.Linear("fb", [x], [b], kernel=rng.uniform(-1, 1, (8, 8)), bias=None))
        g.add_op(ops.Concat("cat", [a, b], [y], axis=0))
    else:
        y = g.add_tensor("y", (6, 4))
        g.add_op(ops.Linear("fa", [x], [a], kernel=rng.uniform(-1, 1, (8, 8)), bias=rng.uniform(-1, 1, 8)))
        g.add_op(ops.Linear("fb", [a], [y], kernel=rng.uniform(-1, 1, (8, 4)), bias=None))
    g.inputs, g.outputs = [x], [y]
    return quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<8,3>"}))


@pytest.mark.xdist_group("rtl_pipeline")
@pytest.mark.parametrize("concat", [False, True])
def test_linear_output_fifo_of_one_row_is_exact(tmp_path: Path, concat: bool) -> None:
    """hlsgen_linear takes a row's credit with the issue that completes it, so a 1-row output FIFO
    (registers) keeps its rate where the reader takes each row at once (design.shallow_outputs): in the
    chain both Linears get one slot, the same cycles as with two; beside a concat that holds fb's rows
    until fa's are all taken, fa gets one slot and fb keeps two (one would cost cycles: the estimate says
    so). Bit-exact and exactly as estimated under idle cycles and back-pressure (a full slot holds the
    last issue of the next row)."""
    from hlsgen.backends.rtl.design import estimate

    g = linear_pair_graph(concat)
    opts = RtlOptions(par={"fa": 2, "fb": 1})
    design = build_design(g, "pair", opts)
    fa, fb = (next(b for b in design.blocks if b.op == op) for op in ("fa", "fb"))
    assert all(b.model.r >= b.model.stages + 2 for b in (fa, fb))  # one slot is enough for a row alone
    assert (fa.params["OUT_DEPTH"], fb.params["OUT_DEPTH"]) == ((1, 2) if concat else (1, 1))
    trial = [fb] if concat else [fa, fb]  # fb at 1 (concat), both at 2 (chain)
    for b in trial:
        b.params["OUT_DEPTH"] = b.model.depth = 3 - b.model.depth
    other = estimate(design)
    for b in trial:
        b.params["OUT_DEPTH"] = b.model.depth = 3 - b.model.depth
    if concat:
        assert other.ii > design.estimate.ii
    else:
        assert (other.ii, other.latency) == (design.estimate.ii, design.estimate.latency)
    x = np.random.default_rng(4).normal(size=(5, 6, 8)) * 2
    res = cosim_graph(g, "pair", _raw(g, [x]), tmp_path, opts)
    _check(res, design, f"Linear pair ({'concat' if concat else 'chain'})")
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_pipeline")
def test_linear_sums_as_wide_as_the_weights_need(tmp_path: Path) -> None:
    """hlsgen_linear's weight ROM entries, products and partial sums are as wide as the actual weights
    need (WW; PN, ACW: the reference's exact bound) and no wider, and rows that reach the bound (every
    product at its largest, one sign) come out bit-exact: one bit less would wrap them."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    n_in, n_out, rows = 6, 4, 3
    kernel = np.full((n_in, n_out), 0.5)  # raw 16 at 5 fractional bits
    kernel[:, 1] *= -1
    kernel[::2, 2] *= -1
    kernel[:, 3] = np.linspace(-0.25, 0.25, n_in)
    g = Graph("wide")
    x, y = g.add_tensor("x", (rows, n_in)), g.add_tensor("y", (rows, n_out))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Linear("fc", [x], [y], kernel=kernel, bias=np.array([0.25, -0.25, 0.0, 0.125])))
    cfg = {
        "default_precision": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>",
        "layers": {"fc": {"result": "ap_fixed<24,10>"}},
    }
    g = quantize_graph(g, Config.from_dict(cfg))
    opts = RtlOptions(par={"fc": 6})
    design = build_design(g, "wide", opts)
    fc = design.blocks[0]
    # |x| <= 128, |w| <= 16 (raw): a product within 2^11, a row of 6 within 6 * 2^11: 13 and 15 signed bits
    assert (fc.params["PN"], fc.params["ACW"]) == (13, 15)
    assert fc.params["WW"] == 6  # the ROM holds raw -16 ... 16, not the 8 bits of the weight type
    assert fc.params["SIMD"] > 1  # the products go through the sum tree
    w_sign = np.sign(kernel[:, 0])
    xs = np.stack([-4.0 * w_sign, 4.0 * w_sign, np.full(n_in, -4.0)])  # +bound, -bound (saturated 4), mixed
    data = np.stack([xs, -xs, np.random.default_rng(3).uniform(-4, 4, size=(rows, n_in))])
    res = cosim_graph(g, "wide", _raw(g, [data]), tmp_path, opts)
    _check(res, design, "Linear at its accumulator bound")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_attention_pipeline")
@pytest.mark.parametrize(("dk", "par_sc", "par_cx"), [(8, 16, 25), (4, 64, 10)])
def test_attention_ram_banks_are_exact(tmp_path: Path, dk: int, par_sc: int, par_cx: int) -> None:
    """The Q, K and V banks, the context's output rows, the softmax's rows of exponentials and the
    scores' and softmax's output rows as memories (hlsgen_ram, registered reads; hlsgen_rowout RAM;
    forced with ram_min_rows 1 on the 3-query, 5-key attention): bit-exact over 4 sequences (the
    ping-pong), latency and II as estimated; dk 8: a last key group of V partly beyond TK (V on 3
    lanes); dk 4: two output groups a row written on consecutive cycles (the write-first read)."""
    g = attention_graph(dk)
    opts = RtlOptions(par={"sc": par_sc, "cx": par_cx, "sm": 2}, ram_min_rows=1)
    design = build_design(g, "attn", opts)
    sc = next(b for b in design.blocks if b.op == "sc")
    cx = next(b for b in design.blocks if b.op == "cx")
    sm = next(b for b in design.blocks if b.op == "sm")
    banks = (sc.params["QRAM"], sc.params["KRAM"], sc.params["ORAM"], cx.params["VRAM"], cx.params["ORAM"])
    assert banks == (1,) * 5
    assert (sm.params["RAM"], sm.info["row_cycles"]) == (1, 3)  # 5 exponentials a row in 3 words of 2
    assert (5 % int(cx.params["SIMD"]) != 0) == (dk == 8)
    assert (cx.params["PE"] < dk and cx.info["row_cycles"] == 2) == (dk == 4)
    rng = np.random.default_rng(4)
    x = [rng.normal(size=(4, *g.tensors[t].shape)) * 1.5 for t in g.inputs]
    res = cosim_graph(g, "attn", _raw(g, x), tmp_path, opts)
    _check(res, design, f"attention in RAM banks (dk {dk}, par {par_sc} / {par_cx})")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_attention_pipeline")
def test_softmax_lanes_keep_pace_with_the_attention_engines(tmp_path: Path) -> None:
    """Where the softmax's row lives in memories, its default lanes are the fewest whose cycles a row keep
    pace with the scores producing the rows and the context consuming them (render_norm.softmax_lanes):
    here 3 lanes (2 cycles a row, as the scores; the context takes 3) instead of 5; bit-exact over 4
    sequences, latency and II as estimated, the II that of the 5-lane design. A context whose SIMD is at
    least that many lanes sets them (it then reads the rows in place); a per-op override and short rows
    keep their lanes."""
    g = attention_graph(4)
    opts = RtlOptions(par={"sc": 16, "cx": 8}, ram_min_rows=1)
    design = build_design(g, "attn", opts)
    rates = {b.op: b.info["row_cycles"] for b in design.blocks}
    sm = next(b for b in design.blocks if b.op == "sm")
    assert rates == {"sc": 2, "sm": 2, "cx": 3} and sm.params["L"] == 3 and "GOUT" not in sm.params
    wide = build_design(g, "attn", RtlOptions(par={**opts.par, "sm": 5}, ram_min_rows=1))
    assert next(b for b in wide.blocks if b.op == "sm").params["L"] == 5
    assert design.estimate.ii == wide.estimate.ii
    short = build_design(g, "attn", RtlOptions(par=opts.par, ram_min_rows=32))
    assert next(b for b in short.blocks if b.op == "sm").params["L"] == 5  # rows of 5 in registers
    simd5 = build_design(g, "attn", RtlOptions(par={"sc": 16, "cx": 10}, ram_min_rows=1))
    sm5, cx5 = (next(b for b in simd5.blocks if b.op == o) for o in ("sm", "cx"))
    assert (sm5.params["L"], cx5.params["SIMD"], sm5.params["GOUT"]) == (5, 5, 1)
    rng = np.random.default_rng(5)
    x = [rng.normal(size=(4, *g.tensors[t].shape)) * 1.5 for t in g.inputs]
    res = cosim_graph(g, "attn", _raw(g, x), tmp_path, opts)
    _check(res, design, "attention, softmax lanes at the engines' row rate")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_attention_pipeline")
@pytest.mark.parametrize(("par_cx", "lanes"), [(8, 2), (4, 1)])
def test_context_reads_probabilities_in_place(tmp_path: Path, par_cx: int, lanes: int) -> None:
    """Where the softmax's rows are in memories and its lanes equal the context's SIMD, the context reads
    each probability row in place from the softmax's output memory, a key group a cycle
    (design.link_probabilities: hlsgen_softmax GOUT, hlsgen_context PGRP; no row stream, no pcur): 3
    groups of 2 (the last half beyond TK) and 5 of 1; bit-exact over 4 sequences, latency and II as
    estimated and as the same design with the row stream (SIMD != lanes is never linked)."""
    g = attention_graph(4)
    opts = RtlOptions(par={"sc": 16, "cx": par_cx, "sm": lanes}, ram_min_rows=1)
    design = build_design(g, "attn", opts)
    sm = next(b for b in design.blocks if b.op == "sm")
    cx = next(b for b in design.blocks if b.op == "cx")
    assert (sm.params["L"], cx.params["SIMD"], sm.params.get("GOUT"), cx.params.get("PGRP")) == (
        lanes,
        lanes,
        1,
        1,
    )
    other = build_design(g, "attn", RtlOptions(par={**opts.par, "sm": 5}, ram_min_rows=1))
    assert "GOUT" not in next(b for b in other.blocks if b.op == "sm").params
    rng = np.random.default_rng(6)
    x = [rng.normal(size=(4, *g.tensors[t].shape)) * 1.5 for t in g.inputs]
    res = cosim_graph(g, "attn", _raw(g, x), tmp_path, opts)
    _check(res, design, f"context reading the softmax's rows in place (SIMD {lanes})")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)


def attention_graph(dk: int) -> Graph:
    """Scores -> softmax -> context of 3 queries over 5 keys, 4 query heads on 2 key/value heads of dk
    (dk 8: a scale that is not a power of two, one multiplier; dk 4: a shift)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    tq, tk, h, hkv = 3, 5, 4, 2
    g = Graph("attn")
    q = g.add_tensor("q", (tq, h * dk))
    k = g.add_tensor("k", (tk, hkv * dk))
    v = g.add_tensor("v", (tk, hkv * dk))
    s = g.add_tensor("s", (h, tq, tk))
    p = g.add_tensor("p", (h, tq, tk))
    c = g.add_tensor("c", (tq, h * dk))
    g.inputs, g.outputs = [q, k, v], [c]
    g.add_op(ops.Scores("sc", [q, k], [s], num_heads=h, num_kv_heads=hkv, key_dim=dk))
    g.add_op(ops.Softmax("sm", [s], [p]))
    g.add_op(ops.Context("cx", [p, v], [c], num_heads=h, num_kv_heads=hkv, value_dim=dk))
    return quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))


@pytest.mark.xdist_group("rtl_attention_pipeline")
@pytest.mark.parametrize(("levels", "dk", "par"), [(0, 8, 8), (1, 8, 16), (2, 4, 64)])
def test_attention_pipeline_is_exact(tmp_path: Path, levels: int, dk: int, par: int) -> None:
    """The scores and context engines' pipeline (the SIMD sum tree at tree_levels, the scale product and
    the cast registered): bit-exact, latency and II exactly as estimated, at several SIMD x PE shapes."""
    g = attention_graph(dk)
    opts = RtlOptions(par={"sc": par, "cx": par, "sm": 2}, tree_levels=levels)
    design = build_design(g, "attn", opts)
    sc = next(b for b in design.blocks if b.op == "sc")
    assert sc.params["LV"] == levels and sc.params["SCALE_MUL"] == int(dk == 8)
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(4, *g.tensors[t].shape)) * 1.5 for t in g.inputs]
    res = cosim_graph(g, "attn", _raw(g, x), tmp_path, opts)
    _check(res, design, f"attention (tree_levels {levels}, dk {dk}, par {par})")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)


def softmax_graph(rows: int, n: int) -> Graph:
    """One softmax over ``rows`` rows of ``n`` values (10-bit data)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    g = Graph("smx")
    x, y = g.add_tensor("x", (rows, n)), g.add_tensor("y", (rows, n))
    g.inputs, g.outputs = [x], [y]
    g.add_op(ops.Softmax("sm", [x], [y]))
    return quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))


@pytest.mark.xdist_group("rtl_pipeline")
@pytest.mark.parametrize("ram_min_rows", [1, None])
def test_softmax_group_select_stages_are_exact(tmp_path: Path, ram_min_rows: int | None) -> None:
    """Long rows in few lanes: 37 values in 19 groups of 2, so E's 19:1 group multiplexer (5 levels) is
    registered after level 4 and after level 5 (render_norm.softmax_select_stages: 2 stages, the second
    selecting by the group index of a cycle before), the last group half padding; the row read in place
    from its memory (ram_min_rows 1) or from E's row register (None). Bit-exact over 4 sequences, latency
    and II exactly as estimated, lint clean."""
    from hlsgen.backends.rtl.render_norm import softmax_select_stages

    g = softmax_graph(3, 37)
    opts = RtlOptions(par={"sm": 2}, ram_min_rows=ram_min_rows)
    design = build_design(g, "smx", opts)
    sm = design.blocks[0]
    assert (sm.params["L"], sm.info["row_cycles"], sm.params["RAM"]) == (2, 19, int(ram_min_rows == 1))
    assert softmax_select_stages(19) == 2 and softmax_select_stages(16) == 1 and softmax_select_stages(1) == 0
    x = np.random.default_rng(8).normal(size=(4, 3, 37)) * 2
    res = cosim_graph(g, "smx", _raw(g, [x]), tmp_path, opts)
    _check(res, design, f"softmax, 19 groups of 2 (ram_min_rows {ram_min_rows})")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)


@pytest.mark.xdist_group("rtl_pipeline")
def test_softmax_scans_masked_rows_a_group_a_cycle(tmp_path: Path) -> None:
    """The stable softmax's row maximum, scanned 3 lanes a cycle from the row held on its input (M): 2
    heads of 13 x 13 scores in 5 groups (the last one padded), under a causal mask ANDed with an explicit
    one that masks a whole row, so that groups and rows with nothing kept occur (row 0 keeps one key; the
    row of nothing kept gives zeros). Bit-exact over 4 sequences with idle cycles and back-pressure,
    latency and II exactly as estimated (the row is taken with its last group: rp counts from there),
    lint clean; no tree over the row's 13 values (the maximum's tree has 3 lanes)."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    h, t = 2, 13
    g = Graph("smm")
    for name, shape in (("x", (h, t, t)), ("pad", (t, t)), ("m", (t, t)), ("y", (h, t, t))):
        g.add_tensor(name, shape)
    g.inputs, g.outputs = ["x", "pad"], ["y"]
    g.add_op(ops.Mask("mk", ["pad"], ["m"], causal=True))
    g.add_op(ops.Softmax("sm", ["x", "m"], ["y"]))
    g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))
    opts = RtlOptions(par={"sm": 3})
    design = build_design(g, "smm", opts)
    sm = next(b for b in design.blocks if b.module == "hlsgen_softmax")
    assert (sm.params["L"], sm.info["row_cycles"], sm.params["HAS_MASK"]) == (3, 5, 1)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, h, t, t)) * 2
    pad = (rng.random((4, t, t)) < 0.7).astype(float)
    pad[:, 6, :] = 0  # a row with nothing kept
    pad[:, 9, 3:9] = 0  # groups 1 and 2 of row 9 masked whole
    res = cosim_graph(g, "smm", _raw(g, [x, pad]), tmp_path, opts)
    _check(res, design, "masked softmax, 5 groups of 3")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)
    _lint(tmp_path / "rtl", design)
    text = (tmp_path / "rtl" / "hlsgen_softmax.sv").read_text()
    # the maximum's tree is L lanes wide, and no tree of the module spans the row's N values
    trees = re.findall(r"hlsgen_tree #\(\s*\.N\((\w+)\)", text)
    assert trees and set(trees) == {"L"}, trees


@pytest.mark.xdist_group("rtl_attention_pipeline")
def test_scores_keep_pace_with_a_scanning_softmax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The softmax scans a row at the head of the scores' output FIFO for its 6 cycles, so the scores,
    as fast as the softmax (48 keys, 4 heads of 8: 6 cycles a row each), get one more output slot
    (design.hold_rows_for_scans): the estimate's fixpoint converges at II = bound + 1, and the design is
    bit-exact with latency and II as estimated. Without that slot the scores wait a credit on most rows
    and the estimate's fixpoint does not converge within its passes."""
    from hlsgen.backends.rtl import design as rtl_design
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    t, h, dk = 48, 4, 8
    g = Graph("scan")
    for name, shape in (("q", (t, h * dk)), ("k", (t, h * dk)), ("v", (t, h * dk))):
        g.add_tensor(name, shape)
    for name in ("s", "p"):
        g.add_tensor(name, (h, t, t))
    g.add_tensor("c", (t, h * dk))
    g.inputs, g.outputs = ["q", "k", "v"], ["c"]
    g.add_op(ops.Scores("sc", ["q", "k"], ["s"], num_heads=h, num_kv_heads=h, key_dim=dk))
    g.add_op(ops.Softmax("sm", ["s"], ["p"]))
    g.add_op(ops.Context("cx", ["p", "v"], ["c"], num_heads=h, num_kv_heads=h, value_dim=dk))
    g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))
    opts = RtlOptions()
    design = build_design(g, "scan", opts)
    sc, sm = (next(b for b in design.blocks if b.op == o) for o in ("sc", "sm"))
    assert sc.info["row_cycles"] == sm.info["row_cycles"] == 6 and sc.info["scan_slots"].endswith("for sm")
    est = design.estimate
    assert est.converged and est.passes < 10 and est.ii == est.bound + 1
    with monkeypatch.context() as m, pytest.warns(RuntimeWarning, match="did not converge in 200 passes"):
        m.setattr(rtl_design, "hold_rows_for_scans", lambda *a: None)
        tight = build_design(g, "scan", opts).estimate
    assert not tight.converged and tight.passes == 200 and tight.latency > est.latency
    rng = np.random.default_rng(12)
    x = [rng.normal(size=(4, *g.tensors[name].shape)) * 1.5 for name in g.inputs]
    res = cosim_graph(g, "scan", _raw(g, x), tmp_path, opts)
    _check(res, design, "scores as fast as the softmax's scan")
    assert (res.latency, res.ii) == (est.latency, est.ii)


def test_a_register_between_the_scores_and_the_scan_is_slack_enough() -> None:
    """A one-register block between the scores and a scanning softmax (an additive bias, hlsgen_binary)
    holds the next row while the scan reads one: the scores, as fast as the softmax at 48 to 192 keys,
    get no slot more (design.hold_rows_for_scans walks no further than the softmax's direct producer) and
    the estimate's fixpoint still converges at II = bound + 1. (At 48 keys cosim measured the same
    latency and II, bit-exact, when this was written.)"""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    h, dk = 4, 8
    for t in (48, 192):
        g = Graph("biased")
        for name, shape in (("q", (t, h * dk)), ("k", (t, h * dk)), ("v", (t, h * dk)), ("b", (h, t, t))):
            g.add_tensor(name, shape)
        for name in ("s", "sb", "p"):
            g.add_tensor(name, (h, t, t))
        g.add_tensor("c", (t, h * dk))
        g.inputs, g.outputs = ["q", "k", "v", "b"], ["c"]
        g.add_op(ops.Scores("sc", ["q", "k"], ["s"], num_heads=h, num_kv_heads=h, key_dim=dk))
        g.add_op(ops.Add("bias", ["s", "b"], ["sb"]))
        g.add_op(ops.Softmax("sm", ["sb"], ["p"]))
        g.add_op(ops.Context("cx", ["p", "v"], ["c"], num_heads=h, num_kv_heads=h, value_dim=dk))
        g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}))
        design = build_design(g, "biased", RtlOptions())
        sc, bias, sm = (next(b for b in design.blocks if b.op == o) for o in ("sc", "bias", "sm"))
        assert bias.module == "hlsgen_binary" and sm.info["scan"] > 1
        assert sc.info["row_cycles"] == sm.info["row_cycles"] and "scan_slots" not in sc.info
        est = design.estimate
        assert est.converged and est.passes < 10 and est.ii == est.bound + 1, (t, est)


@pytest.mark.xdist_group("rtl_attention_pipeline")
def test_one_group_rows_every_cycle_are_exact(tmp_path: Path) -> None:
    """Softmax and layer norm rows of one group (lanes = row length) arriving every cycle, as in the
    b-tagging block at 1024 multipliers an engine: their FIFO between E and N (F1) is then full, so its
    depth in the RTL (RE + 2) must be the model's (re + 2) exactly; one row short, a bubble a sequence
    (II 32 against 31) showed only there when the lanes gained a stage. Latency and II equal the
    estimate, bit-exact."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    t, h, dk = 15, 2, 32
    rng = np.random.default_rng(4)
    g = Graph("onegroup")
    for name in ("q", "k", "v", "c", "y"):
        g.add_tensor(name, (t, h * dk))
    for name in ("s", "p"):
        g.add_tensor(name, (h, t, t))
    g.inputs, g.outputs = ["q", "k", "v"], ["y"]
    g.add_op(ops.Scores("sc", ["q", "k"], ["s"], num_heads=h, num_kv_heads=h, key_dim=dk))
    g.add_op(ops.Softmax("sm", ["s"], ["p"]))
    g.add_op(ops.Context("cx", ["p", "v"], ["c"], num_heads=h, num_kv_heads=h, value_dim=dk))
    g.add_op(ops.LayerNorm("ln", ["c"], ["y"], gamma=rng.normal(size=h * dk), beta=rng.normal(size=h * dk)))
    g = quantize_graph(g, Config.from_dict({"default_precision": "ap_fixed<16,6,AP_RND_CONV,AP_SAT>"}))
    opts = RtlOptions(max_par=1024)
    design = build_design(g, "onegroup", opts)
    sm, ln = (next(b for b in design.blocks if b.op == o) for o in ("sm", "ln"))
    assert sm.params["L"] == t and sm.info["row_cycles"] == 1 and ln.info["row_cycles"] == 1
    x = [rng.normal(size=(4, *g.tensors[name].shape)) for name in g.inputs]
    res = cosim_graph(g, "onegroup", _raw(g, x), tmp_path, opts)
    _check(res, design, "one-group rows every cycle")
    assert (res.latency, res.ii) == (design.estimate.latency, design.estimate.ii)


@pytest.mark.verilator
@needs_verilator
def test_builds_read_verilator_headers_precompiled(tmp_path: Path) -> None:
    """A cosim build's model compiles behind the precompiled Verilator headers of the cache, and g++
    accepts them: the build's own compile command, re-run with -H, reads the .gch (a header that no longer
    matched Verilator's make flags would be silently re-parsed and the builds slower)."""
    from hlsgen.backends.rtl import cosim

    rtl = tmp_path / "rtl"
    rtl.mkdir()
    (rtl / "pchtop.sv").write_text(
        "module pchtop(input logic ap_clk, input logic [3:0] a, output logic [3:0] y);\n"
        "  always_ff @(posedge ap_clk) y <= a + 4'd1;\nendmodule\n"
    )
    bdir, _ = cosim.build(rtl, ["pchtop.sv"], "pchtop")
    log = (bdir / "build.log").read_text().splitlines()
    line = next(ln for ln in log if "-o Vtop__ALL.o" in ln)
    assert "-include" in line, line
    probe = line.replace("-o Vtop__ALL.o", f"-o {tmp_path / 'probe.o'}") + " -H -Winvalid-pch"
    r = subprocess.run(probe, shell=True, cwd=bdir / "obj", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    used = [ln for ln in r.stderr.splitlines() if ln.startswith("! ") and ln.endswith(".gch")]
    assert used, r.stderr[:2000]


@pytest.mark.xdist_group("rtl_pipeline")
def test_wide_scale_product_in_halves_is_exact(tmp_path: Path) -> None:
    """Scores of 16-bit Q and K over 32 values (the b-tagging block's heads): the exact sum (39 bits) times
    1/sqrt(32) is wider than one DSP48E2, so hlsgen_scores multiplies its halves apart and adds them a
    cycle later (SC_SPLIT); bit-exact and exactly as estimated, under idle cycles and back-pressure. The
    8-bit block's sum (21 bits) keeps one product."""
    from helpers import scores_graph

    from hlsgen.config import Config
    from hlsgen.project import quantize_graph

    def design(precision: str):
        g = quantize_graph(scores_graph(3, 4, 2, 2, 32), Config.from_dict({"default_precision": precision}))
        return g, build_design(g, "wide_scores", RtlOptions(par={"sc": 16}))

    _, narrow = design("ap_fixed<8,3>")
    assert next(b for b in narrow.blocks if b.op == "sc").params["SC_SPLIT"] == 0
    g, d = design("ap_fixed<16,6,AP_RND_CONV,AP_SAT>")
    sc = next(b for b in d.blocks if b.op == "sc")
    assert sc.params["SCALE_MUL"] == 1 and sc.params["SC_SPLIT"] == 1
    rng = np.random.default_rng(5)
    data = [rng.normal(size=(4, 3, 64)) * 4, rng.normal(size=(4, 4, 64)) * 4]
    res = cosim_graph(g, "wide_scores", _raw(g, data), tmp_path, RtlOptions(par={"sc": 16}))
    _check(res, d, "16-bit scores, scale product in halves")
    _lint(tmp_path / "rtl", d)


def layernorm_graph(rows: int, n: int, precision: str) -> Graph:
    """One layer norm over rows of ``n`` values (random gamma and beta), typed at ``precision``."""
    from hlsgen.config import Config
    from hlsgen.ir import ops
    from hlsgen.project import quantize_graph

    rng = np.random.default_rng(11)
    g = Graph("ln")
    x, z = g.add_tensor("x", (rows, n)), g.add_tensor("z", (rows, n))
    g.inputs, g.outputs = [x], [z]
    g.add_op(ops.LayerNorm("ln", [x], [z], gamma=rng.normal(size=n), beta=rng.normal(size=n)))
    return quantize_graph(g, Config.from_dict({"default_precision": precision}))


@pytest.mark.xdist_group("rtl_pipeline")
def test_wide_layer_norm_products_in_halves_are_exact(tmp_path: Path) -> None:
    """A layer norm at 16 bits (the b-tagging block's type): its centred values (23 bits) make the square
    and N's product with the 1/sqrt wider than one DSP48E2, so both go in halves (hlsgen_mul2), one stage
    more each (re, rn; the module checks re); bit-exact and exactly as estimated under idle cycles and
    back-pressure, one group a row and three."""
    g = layernorm_graph(3, 8, "ap_fixed<16,6,AP_RND_CONV,AP_SAT>")
    data = [np.random.default_rng(11).normal(size=(5, 3, 8)) * 4]
    for lanes in (8, 3):
        opts = RtlOptions(par={"ln": lanes})
        d = build_design(g, "ln16", opts)
        ln = next(b for b in d.blocks if b.op == "ln")
        assert ln.params["DW"] > 18 and ln.params["TW"] + 1 > 18, ln.params
        res = cosim_graph(g, "ln16", _raw(g, data), tmp_path / f"l{lanes}", opts)
        _check(res, d, f"16-bit layer norm, {lanes} lanes")
        _lint(tmp_path / f"l{lanes}" / "rtl", d)
