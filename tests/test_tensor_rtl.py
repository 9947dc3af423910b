"""RTL of the Keras front door's ops that have modules (typed constants, embedding lookups, token/feature
transposes): co-simulation equals the NumPy reference bit for bit, under idle cycles and back-pressure,
with the measured cycles within 10% of the estimate; the ops without modules are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_rtl import needs_verilator

from hlsgen.backends.rtl import build_design, source_order
from hlsgen.backends.rtl.cosim import cosim_graph
from hlsgen.backends.rtl.lint import lint
from hlsgen.config import Config
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import Add, Constant, Embedding, GlobalAvgPool, Slice, Transpose, token_type
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


def test_ops_without_modules_are_named() -> None:
    g, _ = _graph()
    s = g.add_tensor("s", (D,))
    g.add_op(Slice("take0", [g.outputs[0]], [s], axis=0, start=0, stop=1, squeeze=True))
    g.outputs = [s]
    qg = quantize_graph(g, Config())
    with pytest.raises(NotImplementedError, match="no implementation of 'slice'"):
        build_design(qg, "tops_rtl")


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
