"""RTL of the Keras front door's ops (typed constants, embedding lookups, transposes of rows and columns or
of leading axes, broadcast add/sub/mul, slices, concatenation, max pooling, BatchNorm, Conv1D with kernel
3 and 5, 'same' and 'valid'): co-simulation equals the NumPy reference bit for bit
(np.testing.assert_array_equal on the received words, and the bench's checker under idle cycles and
back-pressure), the estimate's latency and II equal the measured ones exactly, every design lints clean;
a setting without a module is refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_rtl import needs_verilator, needs_yosys

from hlsgen.backends.rtl import build_design, source_order
from hlsgen.backends.rtl.cosim import cosim_graph
from hlsgen.backends.rtl.lint import lint
from hlsgen.backends.rtl.packing import tokens_to_sample
from hlsgen.config import Config
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import (
    Add,
    BatchNorm,
    Binary,
    Concat,
    Constant,
    Conv1D,
    Embedding,
    GlobalAvgPool,
    GlobalMaxPool,
    Reshape,
    Slice,
    Transpose,
    token_type,
)
from hlsgen.project import quantize_graph

T, D, V = 5, 3, 11


def _graph() -> tuple[Graph, list[np.ndarray]]:
    """tokens -> Embedding + a constant position table -> transpose -> the mean over the features."""
    rng = np.random.default_rng(4)
    g = Graph("tops_rtl")
    tok = g.add_tensor("tok", (T,))
    g.inputs = [tok]
    g.input_types[tok] = token_type(V)
    e, pos, h, ht, m = (
        g.add_tensor(n, s)
        for n, s in (("e", (T, D)), ("pos", (T, D)), ("h", (T, D)), ("ht", (D, T)), ("m", (T,)))
    )
    g.add_op(Embedding("emb", [tok], [e], table=rng.uniform(-2, 2, size=(V, D))))
    g.add_op(Constant("pos_op", [], [pos], value=rng.uniform(-1, 1, size=(T, D))))
    g.add_op(Add("add_pos", [e, pos], [h]))
    g.add_op(Transpose("swap", [h], [ht], perm=(1, 0)))
    g.add_op(GlobalAvgPool("pool", [ht], [m]))
    g.outputs = [h, m]
    toks = rng.integers(0, 16, size=(6, T)).astype(np.float64)  # ids 11..15 lie outside the vocabulary
    return g, [toks]


@pytest.mark.verilator
@needs_verilator
def test_cosim_equals_reference(tmp_path: Path) -> None:
    g, xs = _graph()
    cfg = Config.from_dict({"default_precision": "ap_fixed<12,3,AP_RND,AP_SAT>", "project_name": "tops_rtl"})
    qg = quantize_graph(g, cfg)
    raw = {k: input_raw(v, qg.tensors[k].type) for k, v in zip(qg.inputs, xs, strict=True)}
    res = cosim_graph(qg, "tops_rtl", raw, tmp_path)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4  # idle cycles x back-pressure
    design = build_design(qg, "tops_rtl")
    r = lint(tmp_path / "rtl", source_order(design), design.top)
    assert r.clean, "\n".join(r.messages)
    est = design.estimate
    assert abs(est.latency - res.latency) <= 0.1 * res.latency
    assert abs(est.ii - res.ii) <= 0.1 * res.ii


def test_settings_without_modules_are_named() -> None:
    # a transpose that moves the last axis of a rank-3 tensor has no module: the error names the op
    g = Graph("perm_last")
    x = g.add_tensor("x", (2, 3, 4))
    y = g.add_tensor("y", (2, 4, 3))
    g.inputs, g.outputs = [x], [y]
    g.add_op(Transpose("swap_last", [x], [y], perm=(0, 2, 1)))
    with pytest.raises(NotImplementedError, match=r"op swap_last \(transpose\).*not perm \(0, 2, 1\)"):
        build_design(quantize_graph(g, Config()), "perm_last")


# ---------------------------------------------------------------------------------------------------
# one small graph per family of ops through cosim: received words == the reference, estimate == measured
# ---------------------------------------------------------------------------------------------------
def _cosim_exact(
    g: Graph,
    precision: str,
    xs: list[np.ndarray],
    tmp_path: Path,
    layers: dict[str, dict[str, str]] | None = None,
) -> None:
    """Quantize ``g`` at ``precision``, co-simulate it on ``xs`` and check: the bench passed every run, the
    received words of every output equal the reference (np.testing.assert_array_equal), the estimate's
    latency and II equal the measured ones, and the design lints clean."""
    cfg = Config.from_dict({"default_precision": precision, "project_name": g.name, "layers": layers or {}})
    qg = quantize_graph(g, cfg)
    for name, lc in (layers or {}).items():  # the per-layer types took effect
        assert str(qg.tensors[next(o for o in qg.ops if o.name == name).outputs[0]].type) == lc["result"]
    raw = {k: input_raw(v, qg.tensors[k].type) for k, v in zip(qg.inputs, xs, strict=True)}
    res = cosim_graph(qg, g.name, raw, tmp_path)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4  # idle cycles x back-pressure
    want = qg.run_raw(xs)
    for run in res.runs:
        assert run.tokens is not None, "a small run keeps its words"
        for name in qg.outputs:
            t = qg.tensors[name]
            got = np.stack([tokens_to_sample(w, t.shape, t.type) for w in run.tokens[name]])
            np.testing.assert_array_equal(got, np.broadcast_to(want[name], got.shape), err_msg=name)
    design = build_design(qg, g.name)
    est = design.estimate
    assert (res.latency, res.ii) == (est.latency, est.ii), (res.latency, res.ii, est.latency, est.ii)
    r = lint(tmp_path / "rtl", source_order(design), design.top)
    assert r.clean, "\n".join(r.messages)


def _binary_graph() -> tuple[Graph, list[np.ndarray]]:
    """x + a position table, times a per-feature scale (a constant row held over the rows), minus a
    [T, 1] input (one value broadcast over each row), and x minus its mean over the tokens (a computed
    row held over the rows)."""
    rng = np.random.default_rng(11)
    t, d = 5, 4
    g = Graph("binary_rtl")
    x, z = g.add_tensor("x", (t, d)), g.add_tensor("z", (t, 1))
    g.inputs = [x, z]
    pos, sc, h1, h2, h3, m, h4 = (
        g.add_tensor(n, s)
        for n, s in (("pos", (t, d)), ("sc", (d,)), ("h1", (t, d)), ("h2", (t, d)), ("h3", (t, d)))
        + (("m", (d,)), ("h4", (t, d)))
    )
    g.add_op(Constant("pos_op", [], [pos], value=rng.uniform(-2, 2, size=(t, d))))
    g.add_op(Constant("sc_op", [], [sc], value=np.array([1.75, -2.5, 0.375, 3.0])))
    g.add_op(Binary("plus_pos", [x, pos], [h1], operation="add"))
    g.add_op(Binary("times_sc", [h1, sc], [h2], operation="mul"))
    g.add_op(Binary("minus_z", [h2, z], [h3], operation="sub"))
    g.add_op(GlobalAvgPool("mean", [x], [m]))
    g.add_op(Binary("centre", [x, m], [h4], operation="sub"))
    g.outputs = [h3, h4]
    n = 4
    return g, [rng.uniform(-4, 4, size=(n, t, d)), rng.uniform(-3, 3, size=(n, t, 1))]


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize(
    ("precision", "layers"),
    [
        ("ap_fixed<8,3,AP_RND_CONV,AP_SAT>", {}),
        ("ap_fixed<12,5,AP_TRN,AP_WRAP>", {}),
        # unsigned operands (negative sums saturate to 0), an unsigned constant, a symmetric saturation
        (
            "ap_fixed<10,4,AP_RND_ZERO,AP_SAT_SYM>",
            {
                "plus_pos": {"result": "ap_ufixed<9,3,AP_RND,AP_SAT>"},
                "sc_op": {"result": "ap_ufixed<6,3>"},
                "mean": {"result": "ap_ufixed<7,2,AP_RND_INF,AP_SAT>"},
            },
        ),
    ],
    ids=["rnd_conv_sat", "trn_wrap", "unsigned"],
)
def test_binary_cosim(tmp_path: Path, precision: str, layers: dict[str, dict[str, str]]) -> None:
    g, xs = _binary_graph()
    _cosim_exact(g, precision, xs, tmp_path, layers)


def _token_graph() -> tuple[Graph, list[np.ndarray]]:
    """A class token concatenated in front, token 0 taken (x[:, 0]), features concatenated, a slice of
    the features, a slice along the middle axis of [A, B, D], one along its first axis and a
    concatenation along the middle axis."""
    rng = np.random.default_rng(12)
    t, d = 4, 3
    g = Graph("token_rtl")
    x, u = g.add_tensor("x", (t, d)), g.add_tensor("u", (2, 3, d))
    g.inputs = [x, u]
    cls, xc, c0, xx, fs, um, uf = (
        g.add_tensor(n, s)
        for n, s in (("cls", (1, d)), ("xc", (t + 1, d)), ("c0", (d,)), ("xx", (t, 2 * d)), ("fs", (t, 2)))
        + (("um", (2, 2, d)), ("uf", (3, d)))
    )
    g.add_op(Constant("cls_op", [], [cls], value=rng.uniform(-1, 1, size=(1, d))))
    g.add_op(Concat("with_cls", [cls, x], [xc], axis=0))
    g.add_op(Slice("take0", [xc], [c0], axis=0, start=0, stop=1, squeeze=True))
    g.add_op(Concat("side", [x, x], [xx], axis=-1))
    g.add_op(Slice("feat", [xx], [fs], axis=-1, start=2, stop=4))
    g.add_op(Slice("middle", [u], [um], axis=1, start=1, stop=3))
    g.add_op(Slice("first", [u], [uf], axis=0, start=1, stop=2, squeeze=True))
    uc = g.add_tensor("uc", (2, 5, d))
    g.add_op(Concat("middle_cat", [u, um], [uc], axis=1))  # groups of 3 rows of u, then 2 of um
    g.outputs = [c0, xc, fs, um, uf, uc]
    n = 4
    return g, [rng.uniform(-3, 3, size=(n, t, d)), rng.uniform(-3, 3, size=(n, 2, 3, d))]


@pytest.mark.verilator
@needs_verilator
def test_slice_concat_cosim(tmp_path: Path) -> None:
    g, xs = _token_graph()
    _cosim_exact(g, "ap_fixed<10,4,AP_RND,AP_SAT>", xs, tmp_path)


def _norm_pool_graph() -> tuple[Graph, list[np.ndarray]]:
    """BatchNorm (y = x * scale + shift per feature) and the maximum over the tokens."""
    rng = np.random.default_rng(13)
    t, d = 6, 4
    g = Graph("bnpool_rtl")
    x = g.add_tensor("x", (t, d))
    g.inputs = [x]
    y, mx, mb = g.add_tensor("y", (t, d)), g.add_tensor("mx", (d,)), g.add_tensor("mb", (d,))
    g.add_op(BatchNorm("bn", [x], [y], scale=np.array([1.5, -0.75, 2.25, 0.5]), shift=rng.uniform(-1, 1, d)))
    g.add_op(GlobalMaxPool("maxx", [x], [mx]))
    g.add_op(GlobalMaxPool("maxy", [y], [mb]))
    g.outputs = [y, mx, mb]
    return g, [rng.uniform(-5, 5, size=(4, t, d))]


@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize("precision", ["ap_fixed<8,3,AP_RND,AP_SAT>", "ap_fixed<14,6>"])
def test_batchnorm_maxpool_cosim(tmp_path: Path, precision: str) -> None:
    g, xs = _norm_pool_graph()
    _cosim_exact(g, precision, xs, tmp_path)


def _conv_graph() -> tuple[Graph, list[np.ndarray]]:
    """Conv1D with kernel 3 and 5, 'same' and 'valid', kernel 4 'same' (one zero before, two after) and
    kernel 1, side by side on one input."""
    rng = np.random.default_rng(14)
    t, c, f = 7, 2, 3
    g = Graph("conv_rtl")
    x = g.add_tensor("x", (t, c))
    g.inputs = [x]
    outs = []
    for k, pad in ((3, "same"), (3, "valid"), (5, "same"), (5, "valid"), (4, "same"), (1, "valid")):
        t_out = t if pad == "same" else t - k + 1
        y = g.add_tensor(f"y{k}{pad}", (t_out, f))
        kernel = rng.normal(size=(k * c, f)) * 0.5
        g.add_op(
            Conv1D(
                f"conv{k}{pad}", [x], [y], kernel=kernel, bias=rng.normal(size=f), kernel_size=k, padding=pad
            )
        )
        outs.append(y)
    g.outputs = outs
    return g, [rng.uniform(-3, 3, size=(3, t, c))]


@pytest.mark.verilator
@needs_verilator
def test_conv1d_cosim(tmp_path: Path) -> None:
    g, xs = _conv_graph()
    _cosim_exact(g, "ap_fixed<10,4,AP_RND,AP_SAT>", xs, tmp_path)


def _patch_graph() -> tuple[Graph, list[np.ndarray]]:
    """ViT patches: [8, 8] as [2, 4, 2, 4], the leading axes permuted (0, 2, 1), rows of 16."""
    rng = np.random.default_rng(15)
    g = Graph("patch_rtl")
    x = g.add_tensor("x", (8, 8))
    g.inputs = [x]
    r, p, q = g.add_tensor("r", (2, 4, 2, 4)), g.add_tensor("p", (2, 2, 4, 4)), g.add_tensor("q", (4, 16))
    g.add_op(Reshape("cut", [x], [r], out_shape=(2, 4, 2, 4)))
    g.add_op(Transpose("perm", [r], [p], perm=(0, 2, 1, 3)))
    g.add_op(Reshape("flat", [p], [q], out_shape=(4, 16)))
    g.outputs = [p, q]
    return g, [rng.uniform(-2, 2, size=(3, 8, 8))]


@pytest.mark.verilator
@needs_verilator
def test_rowperm_cosim(tmp_path: Path) -> None:
    g, xs = _patch_graph()
    _cosim_exact(g, "ap_fixed<8,3>", xs, tmp_path)


# ---------------------------------------------------------------------------------------------------
# logic depth: each op's design through Yosys keeps its paths shallow
# ---------------------------------------------------------------------------------------------------
#: the ops of the Yosys check and of benchmarks/bench_tensor_rtl.py
OPS = ["add", "mul", "concat", "slice", "maxpool", "batchnorm", "conv3", "rowperm"]


def one_op_graph(kind: str, rows: int = 16, n: int = 32, prec: str = "ap_fixed<16,6>") -> Graph:
    """A typed graph of one op of ``kind`` on a [rows, n] input."""
    from hlsgen.ir import ops

    rng = np.random.default_rng(0)
    g = Graph(f"tensor_{kind}")
    x = g.add_tensor("x", (rows, n))
    g.inputs = [x]
    if kind in ("add", "mul"):
        shape = (rows, n) if kind == "add" else (n,)
        c, y = g.add_tensor("c", shape), g.add_tensor("y", (rows, n))
        g.add_op(ops.Constant("table", [], [c], value=rng.uniform(-2, 2, size=shape)))
        g.add_op(ops.Binary(kind, [x, c], [y], operation=kind))
    elif kind == "concat":
        c, y = g.add_tensor("c", (1, n)), g.add_tensor("y", (rows + 1, n))
        g.add_op(ops.Constant("cls", [], [c], value=rng.uniform(-1, 1, size=(1, n))))
        g.add_op(ops.Concat(kind, [c, x], [y], axis=0))
    elif kind == "slice":
        y = g.add_tensor("y", (n,))
        g.add_op(ops.Slice(kind, [x], [y], axis=0, start=0, stop=1, squeeze=True))
    elif kind == "maxpool":
        y = g.add_tensor("y", (n,))
        g.add_op(ops.GlobalMaxPool(kind, [x], [y]))
    elif kind == "batchnorm":
        y = g.add_tensor("y", (rows, n))
        g.add_op(ops.BatchNorm(kind, [x], [y], scale=rng.uniform(0.5, 2, n), shift=rng.uniform(-1, 1, n)))
    elif kind == "conv3":
        y = g.add_tensor("y", (rows, n))
        w = rng.normal(size=(3 * n, n)) / 8
        g.add_op(ops.Conv1D(kind, [x], [y], kernel=w, bias=rng.normal(size=n), kernel_size=3, padding="same"))
    elif kind == "rowperm":
        x3, y = g.add_tensor("x3", (4, rows // 4, n)), g.add_tensor("y", (rows // 4, 4, n))
        g.add_op(ops.Reshape("split", [x], [x3], out_shape=(4, rows // 4, n)))
        g.add_op(ops.Transpose(kind, [x3], [y], perm=(1, 0, 2)))
    else:
        raise ValueError(f"unknown op {kind!r} (one of {', '.join(OPS)})")
    g.outputs = [y]
    return quantize_graph(g, Config.from_dict({"default_precision": prec}))


#: LUT levels of each op's design's deepest register-to-register path at 16 x 32 ap_fixed<16,6>, as
#: measured (benchmarks/bench_tensor_rtl.py prints them): a regression bound
MAX_LUT_LEVELS = {
    "add": 3,
    "mul": 1,
    "concat": 2,
    "slice": 2,
    "maxpool": 4,
    "batchnorm": 2,
    "conv3": 5,
    "rowperm": 2,
}


#: the ops of each Yosys run of test_logic_stays_shallow: ops of one bound (1 and 2 together). ABC maps a
#: run's paths off its deepest for area, up to that depth: the seven ops other than conv3 in one run
#: measured add 4 and slice 3 LUT levels (3 and 2 alone, as in the groups here)
SHALLOW_GROUPS = [["conv3"], ["maxpool"], ["add"], ["mul", "concat", "slice", "batchnorm", "rowperm"]]


@pytest.mark.yosys
@pytest.mark.slow
@needs_yosys
@pytest.mark.parametrize("kinds", SHALLOW_GROUPS, ids=["-".join(g) for g in SHALLOW_GROUPS])
def test_logic_stays_shallow(tmp_path: Path, kinds: list[str]) -> None:
    """The design of each op of :data:`OPS` (:func:`one_op_graph`) through real synth_xilinx: its deepest
    register-to-register path within its bound, and the DSPs of the ops that multiply. The designs of a
    group go through one Yosys run side by side (``helpers.side_by_side``: one run's fixed cost for
    several designs; eight runs of one design took ~4.5 CPU min of the suite, these four ~2.5)."""
    from helpers import side_by_side

    from hlsgen.backends.rtl.yosys import synthesize

    assert sorted(k for g in SHALLOW_GROUPS for k in g) == sorted(OPS)
    designs = [build_design(one_op_graph(kind), f"tensor_{kind}") for kind in kinds]
    sources, top = side_by_side(designs, tmp_path)
    c = synthesize(tmp_path, sources, top, depth=True)
    assert c.depth is not None
    levels = {k: c.depth.by_instance[f"u_tensor_{k}"][1].lut_levels for k in kinds}
    print(f"LUT levels per op: {levels}; {c.depth.summary()}")
    assert all(levels[k] <= MAX_LUT_LEVELS[k] for k in kinds), (levels, MAX_LUT_LEVELS)
    glue = c.depth.by_instance.get("top")  # paths between the wrapper's ports (through an op's handshake)
    assert glue is None or glue[1].lut_levels <= max(MAX_LUT_LEVELS[k] for k in kinds), glue
    assert c.dsp == sum({"mul": 32, "batchnorm": 32, "conv3": 64}.get(k, 0) for k in kinds)


@pytest.mark.verilator
@pytest.mark.tensorflow
@pytest.mark.slow
@needs_verilator
def test_bundled_text_classifier_cosim(tmp_path: Path) -> None:
    # the keras.io text classifier as written (token and position embeddings, a subclassed transformer
    # block): its RTL equals the reference bit for bit (about 30 s of Verilator build)
    pytest.importorskip("tensorflow")
    import hlsgen
    from hlsgen.backends.rtl import RtlOptions
    from hlsgen.demo import TEXT_PRECISION, _load_module
    from hlsgen.frontend.keras import load_model
    from hlsgen.resources import REPO_ROOT

    ex = REPO_ROOT / "examples" / "textcls"
    _load_module("textcls_model", ex / "model.py")
    x_tr, _, x_te, _ = _load_module("textcls_data", ex / "data.py").load_reviews()
    cfg = {"project_name": "textcls", "default_precision": TEXT_PRECISION}
    proj = hlsgen.convert(load_model(ex / "textcls.keras"), cfg, calibration_data=x_tr)
    g = proj.graph
    raw = {k: input_raw(v, g.tensors[k].type) for k, v in zip(g.inputs, [x_te[:3]], strict=True)}
    res = cosim_graph(g, "textcls", raw, tmp_path, RtlOptions(max_par=16))
    assert res.passed, res.failure_message()
