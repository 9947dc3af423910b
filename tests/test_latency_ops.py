"""Layer norm and the tensor ops under the ``latency`` strategy (hlsgen.backends.rtl.latency_ops): each op
unrolled into the one pipeline at II = 1, bit-exact with its ``execute`` in cosim, latency == the plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_rtl import needs_verilator

from hlsgen.backends.rtl.latency import check_graph, cosim_latency, plan_graph
from hlsgen.backends.rtl.latency_ops import scaled_inv_sqrt_table
from hlsgen.config import Config
from hlsgen.ir.graph import Graph, input_raw
from hlsgen.ir.ops import Activation, Linear
from hlsgen.ir.ops.conv import Conv1D
from hlsgen.ir.ops.tensor import (
    BatchNorm,
    Binary,
    Concat,
    Constant,
    Embedding,
    GlobalMaxPool,
    Slice,
    Transpose,
)
from hlsgen.project import quantize_graph

#: a trigger-sized layer norm: a 1/sqrt table of 8 x 32 entries, narrow variance and norm
LAYERNORM = {
    "table_bits": 5,
    "var_type": "ap_ufixed<12,4,AP_RND,AP_SAT>",
    "inv_sqrt_type": "ap_ufixed<10,1,AP_RND,AP_SAT>",
    "norm_type": "ap_fixed<10,4,AP_RND,AP_SAT>",
}


def _config(**layers: object) -> Config:
    return Config.from_dict(
        {
            "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
            "strategy": "latency",
            "multiplier": "lut",
            "clock_period": 3.333,
            "layernorm": LAYERNORM,
            "layers": {
                "catf": {"result": "ap_fixed<9,4,AP_TRN,AP_WRAP>"},
                "relu": {"result": "ap_ufixed<7,3,AP_RND,AP_SAT>"},
                **layers,
            },
        }
    )


def _tensor_ops(rng: np.random.Generator, rows: int = 4, feat: int = 3, d: int = 4) -> Graph:
    """Features joined with a slice of themselves (concat on the last axis, cast to a wider type), a
    class token (constant) concatenated in front, a product by a constant vector (broadcast over the
    rows), a column added to every feature (broadcast over the last axis), a constant minus a tensor, a
    batchnorm, a kernel-3 Conv1D (same padding), a transpose, an unsigned ReLU, max pooling, token 0
    (x[:, 0]), a tensor - tensor and a tensor * tensor (a variable product)."""
    g = Graph("tensor_ops")
    x = g.add_tensor("x", (rows, feat))
    g.inputs = [x]
    a = g.add_tensor("a", (rows, d))
    g.add_op(Linear("d1", [x], [a], kernel=rng.normal(size=(feat, d)), bias=rng.normal(size=d)))
    a2 = g.add_tensor("a2", (rows, 2))
    g.add_op(Slice("cols", [a], [a2], axis=1, start=1, stop=3))
    h = d + 2
    af = g.add_tensor("af", (rows, h))
    g.add_op(Concat("catf", [a, a2], [af], axis=-1))
    c = g.add_tensor("cls", (1, h))
    g.add_op(Constant("cls", [], [c], value=rng.normal(size=(1, h))))
    cc = g.add_tensor("cc", (rows + 1, h))
    g.add_op(Concat("cat", [c, af], [cc], axis=0))
    k = g.add_tensor("k", (h,))
    g.add_op(Constant("k", [], [k], value=rng.normal(size=(h,))))
    m0 = g.add_tensor("m0", (rows + 1, h))
    g.add_op(Binary("scale", [cc, k], [m0], operation="mul"))
    col = g.add_tensor("col", (rows + 1, 1))
    g.add_op(Slice("col", [cc], [col], axis=1, start=0, stop=1))
    m1 = g.add_tensor("m1", (rows + 1, h))
    g.add_op(Binary("addcol", [m0, col], [m1], operation="add"))
    m = g.add_tensor("m", (rows + 1, h))
    g.add_op(Binary("rsub", [k, m1], [m], operation="sub"))
    bn = g.add_tensor("bn", (rows + 1, h))
    g.add_op(BatchNorm("bn", [m], [bn], scale=rng.normal(size=h), shift=rng.normal(size=h)))
    cv = g.add_tensor("cv", (rows + 1, 4))
    g.add_op(
        Conv1D(
            "conv",
            [bn],
            [cv],
            kernel=rng.normal(size=(3 * h, 4)),
            bias=rng.normal(size=4),
            kernel_size=3,
            padding="same",
        )
    )
    ct = g.add_tensor("ct", (4, rows + 1))
    g.add_op(Transpose("tr", [cv], [ct], perm=(1, 0)))
    cr = g.add_tensor("cr", (4, rows + 1))
    g.add_op(Activation("relu", [ct], [cr], function="relu"))
    mx = g.add_tensor("mx", (rows + 1,))
    g.add_op(GlobalMaxPool("mx", [cr], [mx]))  # per token, the max over the conv's channels
    sl = g.add_tensor("sl", (h,))
    g.add_op(Slice("tok0", [bn], [sl], axis=0, start=0, stop=1, squeeze=True))
    d2 = g.add_tensor("d2", (rows + 1,))
    g.add_op(Linear("d2", [sl], [d2], kernel=rng.normal(size=(h, rows + 1))))
    s = g.add_tensor("s", (rows + 1,))
    g.add_op(Binary("sub", [d2, mx], [s], operation="sub"))
    o = g.add_tensor("o", (rows + 1,))
    g.add_op(Binary("prod", [s, mx], [o], operation="mul"))
    g.outputs = [o]
    return g


def test_plan_of_tensor_ops_settles_constants_and_counts_products() -> None:
    cfg = _config(prod={"multiplier": "dsp"})
    g = quantize_graph(_tensor_ops(np.random.default_rng(0)), cfg)
    u = plan_graph(g, cfg)
    assert u.worst_stage_ns <= cfg.clock_period and u.latency == u.stages + 1
    assert u.multipliers == 5  # the 5 tensor * tensor products on DSPs; every constant product shift-adds
    kinds = {v.kind for v in u.values}
    assert {"vmul", "selmax"} <= kinds and "vpp" not in kinds
    # no register carries a constant: each is placed in the stage that reads it
    consts = {v.name for v in u.values if v.kind == "acc" and not v.args}
    assert consts and not {n for n, src, _ in u.registers_of() if src in consts}
    # the same products on LUTs (bound when the graph is typed): partial products, no DSP
    lut = plan_graph(quantize_graph(_tensor_ops(np.random.default_rng(0)), _config()), _config())
    assert lut.multipliers == 0 and "vppadd" in {v.kind for v in lut.values}


@pytest.mark.gxx
def test_tensor_products_are_bound_alike_in_rtl_and_hls() -> None:
    """A tensor * tensor product is bound at typing (``Binary.binding``: the layer's ``multiplier``,
    ``auto`` by the gated-product rule over the operand types), a product by a constant tensor is
    shift-adds (lut) whatever the setting; the RTL builds what the binding says and the HLS config names
    the same policy (BIND_OP); csim == predict under each."""
    import re

    from hlsgen.backends.hls.writer import project_files
    from hlsgen.config import Multiplier
    from hlsgen.project import Project

    rng = np.random.default_rng(6)
    g0 = _tensor_ops(rng)
    xs = rng.normal(size=(16, 4, 3)) * 2.5
    for setting, want in (("dsp", "dsp"), ("lut", "lut"), ("auto", None)):
        cfg = _config(prod={"multiplier": setting}, scale={"multiplier": setting})
        proj = Project(quantize_graph(g0, cfg), cfg)
        ops = {op.name: op for op in proj.graph.ops}
        assert ops["scale"].binding is Multiplier.LUT  # a constant operand: shifts and adds
        if want is not None:
            assert ops["prod"].binding.value == want
        u = plan_graph(proj.graph, cfg)
        assert u.extra["multipliers"]["prod"] == ops["prod"].binding.value  # what the RTL built
        assert (u.multipliers > 0) == (ops["prod"].binding is Multiplier.DSP)
        text = project_files(proj.graph, cfg)["firmware/parameters.h"]
        for name in ("prod", "scale"):
            struct = re.search(rf"struct config_{name} {{(.*?)}};", text, re.S)
            assert struct is not None
            policy = re.search(r"typedef hlsgen::product_(\w+) product_t;", struct.group(1)).group(1)
            assert policy == ops[name].binding.value
        np.testing.assert_array_equal(proj.csim(xs), proj.predict(xs))


def test_the_rom_of_the_layernorm_is_its_table_pre_shifted() -> None:
    """entry' * 2^-K == entry * 2^-k at every address: the ROM replaces the reference's variable shift."""
    from hlsgen.ir.ops.layernorm import LayerNorm

    cfg = _config()
    g = Graph("ln")
    x = g.add_tensor("x", (2, 5))
    g.inputs = [x]
    y = g.add_tensor("y", (2, 5))
    g.add_op(LayerNorm("ln", [x], [y], gamma=np.ones(5), beta=np.zeros(5)))
    g.outputs = [y]
    op = quantize_graph(g, cfg).ops[0]
    rom, big_k = scaled_inv_sqrt_table(op)
    geo = op.geometry
    m = geo.mant_bits
    for addr, e in enumerate(np.asarray(op.table_raw).tolist()):
        seg, mant = addr >> m, addr & ((1 << m) - 1)
        var = (((1 << m) | mant) << (seg - 1)) if seg else mant  # a variance with this address
        entry, k = op.lookup(np.array([var]))
        assert int(entry[0]) == e and rom[addr] == e << (big_k - int(k[0]))


def test_an_op_without_a_latency_form_names_itself() -> None:
    g = Graph("emb")
    ids = g.add_tensor("ids", (4,))
    g.inputs = [ids]
    y = g.add_tensor("y", (4, 3))
    g.add_op(Embedding("tokens", [ids], [y], origin="tok_embed", table=np.zeros((8, 3))))
    g.outputs = [y]
    with pytest.raises(
        NotImplementedError, match=r"^embedding 'tokens' \(layer tok_embed\): .*no II = 1 form"
    ):
        check_graph(g, _config())


@needs_verilator
@pytest.mark.verilator
def test_cosim_of_the_tensor_ops_is_exact_at_ii_1(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cfg = _config(prod={"multiplier": "dsp"})
    g = quantize_graph(_tensor_ops(rng), cfg)
    tx = g.tensors["x"].type
    xs = rng.normal(size=(40, 4, 3)) * 2.5
    xs[0], xs[1] = tx.min, tx.max
    res = cosim_latency(g, cfg, "tensor_ops", {"x": input_raw(xs, tx)}, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == plan_graph(g, cfg).latency


def _layernorm_tagger(particles: int = 6, features: int = 3) -> Any:
    """Embed each particle, a class token in front, layer norm, a per-particle FFN with a residual Add,
    token 0 (class-token pooling) into a Dense head."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers

    class ClassToken(L.Layer):
        def build(self, input_shape: Any) -> None:
            self.cls = self.add_weight(name="cls", shape=(1, 1, input_shape[-1]), initializer="random_normal")

        def call(self, x: Any) -> Any:
            return tf.concat([tf.broadcast_to(self.cls, [tf.shape(x)[0], 1, x.shape[-1]]), x], axis=1)

    inp = L.Input((particles, features), name="particles")
    x = L.Dense(8, name="embed")(inp)
    x = ClassToken(name="cls")(x)
    h = L.LayerNormalization(name="norm")(x)
    h = L.Dense(8, activation="relu", name="ffn")(h)
    x = L.Add(name="res")([x, h])
    out = L.Dense(3, name="head")(x[:, 0])
    return tf.keras.Model(inp, out)


@pytest.mark.tensorflow
@pytest.mark.verilator
@needs_verilator
def test_keras_layernorm_tagger_cosim_is_exact_at_ii_1(tmp_path: Path) -> None:
    """Back-to-back samples, idle gaps and output back-pressure: bit-exact; II = 1, latency == the plan."""
    import hlsgen

    model = _layernorm_tagger()
    cfg = {
        "default_precision": "ap_fixed<8,3,AP_RND,AP_SAT>",
        "strategy": "latency",
        "multiplier": "lut",
        "clock_period": 3.333,
        "layernorm": LAYERNORM,
    }
    proj = hlsgen.convert(model, cfg)
    kinds = {op.kind for op in proj.graph.ops}
    assert {"layernorm", "constant", "concat", "slice", "add", "linear"} <= kinds
    u = plan_graph(proj.graph, proj.config)
    assert u.multipliers == 0
    rng = np.random.default_rng(4)
    xs = rng.normal(size=(32, 6, 3)) * np.exp2(
        rng.uniform(-5, 2, size=(32, 1, 1))
    )  # variances of every octave
    name = proj.graph.inputs[0]
    raw = {name: input_raw(xs, proj.graph.tensors[name].type)}
    res = cosim_latency(proj.graph, proj.config, "lntagger", raw, tmp_path)
    assert res.passed, res.failure_message()
    assert len(res.runs) == 4
    assert res.ii == 1.0 and res.latency == u.latency
