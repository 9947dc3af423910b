"""Explicit masks and wide-input stable softmax in the ``latency`` strategy
(hlsgen.backends.rtl.latency_attention): a Keras MultiHeadAttention with an ``attention_mask`` model input
(the padding mask of a variable particle count) becomes one II = 1 pipeline whose second input port
carries the mask beside the features, bit-exact against the reference (fully masked rows included); a
stable softmax over inputs wider than 12 bits reads an exponential ROM of at most 12 address bits,
addressed by the saturated difference ``max - x``, equal to the reference for every difference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import assert_ii1_junit
from test_latency_attention import _cfg
from test_rtl import needs_verilator

from hlsgen.backends.rtl.latency import build_latency_design, cosim_latency, plan_graph
from hlsgen.backends.rtl.latency_attention import ROM_BITS_MAX, exp_rom
from hlsgen.ir.graph import input_raw

#: narrow reciprocal and output types for the softmax-only models (the exponential settings vary)
SM_TAIL = {
    "sum_type": "ap_ufixed<12,3,AP_RND,AP_SAT>",
    "inv_bits": 6,
    "inv_type": "ap_ufixed<8,1,AP_RND,AP_SAT>",
}

#: (input type, exponential settings): a 12-bit input whose differences saturate (more integer bits
#: than the exponential's underflow range, no bits dropped), a 16-bit one with 3 bits dropped (rounded)
WIDE = {
    "sat12": ("ap_fixed<12,8,AP_RND,AP_SAT>", {"exp_type": "ap_ufixed<8,1,AP_RND,AP_SAT>"}),
    "drop16": ("ap_fixed<16,6,AP_RND,AP_SAT>", {"exp_hi_bits": 5, "exp_lo_bits": 6}),
}


def _masked_mha(tokens: int = 4, causal: bool = False, mask: bool = True, seed: int = 0):
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    x = L.Input((tokens, 3), name="x")
    m = L.Input((tokens, tokens), name="pad")
    mha = L.MultiHeadAttention(num_heads=1, key_dim=2, name="mha")
    if not mask:
        return tf.keras.Model(x, mha(x, x, use_causal_mask=causal))
    return tf.keras.Model([x, m], mha(x, x, attention_mask=m, use_causal_mask=causal))


def _dsp_attention() -> dict:
    """LUT projections, DSP attention products (one per data-dependent product: countable)."""
    cfg = _cfg("lut")
    ops = {n: {"multiplier": "dsp"} for n in ("mha_scores", "mha_probs", "mha_context")}
    cfg["layers"] = {**cfg["layers"], **ops}
    return cfg


def _particles(n: int, tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and the padding mask of ``n`` jets of 0..tokens particles (query i attends key j when
    both are real particles: a jet of 0 particles masks every row), plus random masks."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, tokens, 3)) * 2
    count = rng.integers(0, tokens + 1, size=n)
    real = np.arange(tokens)[None, :] < count[:, None]
    masks = (real[:, :, None] & real[:, None, :]).astype(np.float64)
    masks[1::3] = rng.random((len(masks[1::3]), tokens, tokens)) > 0.4  # any pattern, not only padding
    return xs, masks


@pytest.mark.tensorflow
def test_mask_plan_counts_the_mask_logic() -> None:
    """The run-time mask is a second input of the same beat; its selects and gates are counted; keys the
    causal mask drops stay constants (no products), only the others read the mask input."""
    import hlsgen

    model = _masked_mha()
    proj = hlsgen.convert(model, _dsp_attention())
    assert proj.graph.inputs == ["x", "pad"]
    u = plan_graph(proj.graph, proj.config)
    assert u.in_width == 4 * 3 * 8 + 4 * 4 and u.latency == u.stages + 1
    names = [v.name for v in u.values]
    assert sum(n.startswith("pad_in_") for n in names) == 16
    assert sum(n.startswith("mha_probs_xm") for n in names) == 16  # a key's place in the row maximum
    assert sum(n.startswith("mha_probs_eg") for n in names) == 16  # its exponential gated
    plain = hlsgen.convert(_masked_mha(mask=False), _dsp_attention())
    nomask = plan_graph(plain.graph, plain.config)
    # the same products (a key masked at run time still has its score and its share of the context), the
    # selects and gates on top
    assert u.multipliers == nomask.multipliers == 16 * 2 + 16 + 16 * 2
    assert u.lut_estimate > nomask.lut_estimate
    causal = hlsgen.convert(_masked_mha(causal=True), _dsp_attention())
    uc = plan_graph(causal.graph, causal.config)
    # causal: 10 of 16 keys can be kept: 10 probabilities x (1 + value_dim 2) products, 16 x 2 scores
    assert uc.multipliers == 16 * 2 + 10 + 10 * 2
    assert sum(v.name.startswith("mha_probs_eg") for v in uc.values) == 10


@pytest.mark.tensorflow
@pytest.mark.gxx
@pytest.mark.verilator
@needs_verilator
def test_mask_input_cosim_exact_at_ii_1(tmp_path: Path) -> None:
    """``hlsgen cosim PRJ`` of an MHA over 4 particles with a padding mask input (jets of 0 to 4
    particles: fully masked rows, whose probabilities are 0) and random masks: the bench drives both
    inputs, each sample's beats joined; every run bit-exact, II = 1, latency == the plan."""
    import hlsgen
    from hlsgen.cli import main

    model = _masked_mha()
    xs, masks = _particles(36, 4, seed=3)
    proj = hlsgen.convert(model, _cfg("lut"))
    ref = proj.graph.run_raw(
        [input_raw(xs, proj.graph.tensors["x"].type), input_raw(masks, proj.graph.tensors["pad"].type)],
        keep=True,
    )
    probs = np.asarray(ref["mha_probs"])
    empty = ~masks.astype(bool).any(axis=-1)
    assert empty.any() and (probs[np.broadcast_to(empty[:, None], probs.shape[:-1])] == 0).all()
    model_file = tmp_path / "mha.keras"
    model.save(model_file)
    prj = tmp_path / "prj"
    proj.write(prj, tb_data=[xs.astype(np.float32), masks.astype(np.float32)], model_source=model_file)
    design = build_latency_design(proj.graph, proj.config, proj.name)
    assert [p["name"] for p in design.ports() if p["direction"] == "in"] == ["x", "pad"]
    assert main(["cosim", str(prj)]) == 0
    assert_ii1_junit(prj, design.latency, len(xs))


def _softmax_model(keys: int = 3):
    tf = pytest.importorskip("tensorflow")
    L = tf.keras.layers
    x = L.Input((keys,), name="x")
    return tf.keras.Model(x, L.Activation("softmax", name="sm")(x))


def _wide_cfg(case: str) -> dict:
    prec, sm = WIDE[case]
    return {
        "default_precision": prec,
        "strategy": "latency",
        "clock_period": 3.333,
        "multiplier": "lut",
        "softmax": {**SM_TAIL, **sm},
        "layers": {"sm": {"probability": "ap_ufixed<8,0,AP_RND,AP_SAT>"}},
    }


@pytest.mark.tensorflow
@pytest.mark.parametrize("case", sorted(WIDE))
def test_wide_softmax_rom_equals_the_reference_for_every_difference(case: str) -> None:
    """The ROM read at ``min(d >> q, 2^k - 1)`` equals the reference's exponential for every difference
    ``0 <= d < 2^W`` (rows ``[max, max - d]``), with at most 12 address bits although W > k."""
    import hlsgen

    proj = hlsgen.convert(_softmax_model(2), _wide_cfg(case))
    op = proj.graph.ops[-1]
    tx = op.types["x"]
    q, k, entries = exp_rom(tx, op.plan, op._joint_exp_table())
    assert k <= ROM_BITS_MAX and q + k < tx.width  # the difference is saturated
    d = np.arange(1 << tx.width, dtype=np.int64)
    rows = np.stack([np.full_like(d, tx.raw_max), tx.raw_max - d], axis=-1)
    want = op.exponentials(rows, None)[:, 1]
    assert want[0] > 0 and want[-1] == 0  # exp(0) and an underflow: both ends covered
    np.testing.assert_array_equal(entries[np.minimum(d >> q, (1 << k) - 1)], want)


@pytest.mark.tensorflow
@pytest.mark.verilator
@needs_verilator
@pytest.mark.parametrize("case", sorted(WIDE))
def test_wide_softmax_cosim_every_difference(case: str, tmp_path: Path) -> None:
    """The RTL of a 5-key stable softmax over 12- / 16-bit inputs: every difference of the 12-bit input
    (each row ``[max, max - d1, ..., max - d4]``), the 16-bit one's near 0, around the saturation point
    and random, some rows reversed: bit-exact, II = 1, latency == the plan."""
    import hlsgen

    proj = hlsgen.convert(_softmax_model(5), _wide_cfg(case))
    op = proj.graph.ops[-1]
    tx = op.types["x"]
    q, k, _ = exp_rom(tx, op.plan, op._joint_exp_table())
    top = tx.raw_max
    if tx.width <= 12:
        d = np.arange(1 << tx.width, dtype=np.int64)
    else:
        edge = ((1 << k) - 1) << q  # the first saturated difference
        rng = np.random.default_rng(5)
        d = np.concatenate(
            [np.arange(1024), np.arange(edge - 512, edge + 512), rng.integers(0, 1 << tx.width, 1024)]
        )
        d = np.clip(d, 0, (1 << tx.width) - 1)
    rows = np.concatenate([np.full((len(d) // 4, 1), top), top - d.reshape(-1, 4)], axis=-1)
    rows = np.concatenate([rows, rows[:64, ::-1]])  # the maximum last, too
    u = plan_graph(proj.graph, proj.config)
    # every stage fits the 3.333 ns clock: the 16-bit case's 12-bit ROM (k = 12, 8 LUT levels) is read as
    # two 11-bit sub-ROMs and a select in the next stage
    assert u.worst_stage_ns <= proj.config.clock_period
    roms = {v.attr("bits") for v in u.values if v.kind == "rom" and v.attr("table").endswith("exp")}
    split = {v.attr("bits") for v in u.values if v.kind == "rom" and "exp_p" in str(v.attr("table"))}
    assert (roms, split) == (({k}, set()) if k <= 11 else (set(), {k - 1}))
    res = cosim_latency(proj.graph, proj.config, f"sm{case}", {"x": rows}, tmp_path, plain_only=True)
    assert res.passed, res.failure_message()
    assert res.ii == 1.0 and res.latency == u.latency


@pytest.mark.tensorflow
def test_exponential_rom_over_12_bits_is_refused_naming_the_tables() -> None:
    import hlsgen

    cfg = _wide_cfg("drop16")
    cfg["softmax"] = {**cfg["softmax"], "exp_hi_bits": 6, "exp_lo_bits": 6}  # 13 address bits
    with pytest.raises(NotImplementedError, match=r"^softmax 'sm' .*13 address bits.* = 12.* at most 11"):
        hlsgen.convert(_softmax_model(), cfg)


def _norm_mha(seed: int = 0):
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    x = L.Input((4, 3), name="x")
    m = L.Input((4, 4), name="pad")
    h = L.LayerNormalization(name="norm")(L.Dense(4, name="embed")(x))
    y = L.MultiHeadAttention(num_heads=1, key_dim=2, name="mha")(h, h, attention_mask=m)
    return tf.keras.Model([x, m], y)


@pytest.mark.tensorflow
@pytest.mark.gxx
def test_hls_side_binds_variable_products_as_each_layer_multiplier_says() -> None:
    """The latency strategy's HLS C++ binds the data-dependent products (scores Q K^T, the softmax's
    exponential x 1/sum, context P V, the layer norm's squares and its product by 1/sqrt) by each layer's
    ``multiplier``: ``lut`` BIND_OP
    fabric, ``dsp`` a DSP slice, ``auto`` by the rule the RTL applies to the same op; the resource
    strategy leaves them to Vitis HLS. csim == predict (masks included) with LUT and with DSP bindings."""
    import re

    import hlsgen
    from hlsgen.backends.hls.writer import project_files

    model = _norm_mha()
    xs, masks = _particles(16, 4, seed=4)
    policies = {
        "mha_scores": ["product_t"],
        "mha_probs": ["product_t"],
        "mha_context": ["product_t"],
        "norm": ["square_t", "scale_product_t"],
    }

    def bindings(cfg: dict) -> tuple[object, dict[str, list[str]]]:
        proj = hlsgen.convert(model, cfg)
        text = project_files(proj.graph, proj.config)["firmware/parameters.h"]
        found = {}
        for name, fields in policies.items():
            struct = re.search(rf"struct config_{name} {{(.*?)}};", text, re.S)
            assert struct is not None, name
            found[name] = [
                re.search(rf"typedef hlsgen::product_(\w+) {f};", struct.group(1)).group(1) for f in fields
            ]
        return proj, found

    for setting in ("lut", "dsp"):
        proj, found = bindings(_cfg(setting))
        assert all(v == [setting] * len(v) for v in found.values()), found
        np.testing.assert_array_equal(proj.csim([xs, masks]), proj.predict([xs, masks]))
    mixed = _cfg("lut")
    mixed["layers"] = {**mixed["layers"], "mha_context": {"multiplier": "dsp"}, "norm": {"multiplier": "dsp"}}
    mixed["layers"]["mha_probs"] = {"multiplier": "dsp"}
    assert bindings(mixed)[1] == {
        "mha_scores": ["lut"],
        "mha_probs": ["dsp"],
        "mha_context": ["dsp"],
        "norm": ["dsp", "dsp"],
    }
    # auto: what the RTL builds for the same op (its recorded choice; the layer norm's first row's square
    # and scale product: a DSP is one vmul, LUTs end in an acc)
    proj, auto = bindings(_cfg("auto"))
    u = plan_graph(proj.graph, proj.config)
    kinds = {v.name: v.kind for v in u.values}
    built = {n: [u.extra["multipliers"][n]] for n in ("mha_scores", "mha_probs", "mha_context")}
    built["norm"] = [{"vmul": "dsp", "acc": "lut"}[kinds[f"norm_r0_{v}0"]] for v in ("sq", "pn")]
    assert auto == built
    assert auto["mha_scores"] == ["lut"] and "dsp" in auto["norm"]  # 8 x 8 bits on LUTs; 17-bit 1/sqrt: a DSP
    header = project_files(proj.graph, proj.config)["firmware/hlsgen/hlsgen_common.h"]
    for name, impl in (("lut", "fabric"), ("dsp", "dsp")):
        body = re.search(rf"struct product_{name} {{(.*?)\n}};", header, re.S)
        assert body is not None and f"BIND_OP variable = p op = mul impl = {impl}" in body.group(1)
    resource = {k: v for k, v in _cfg("lut").items() if k not in ("strategy", "multiplier")}
    assert all(v == ["auto"] * len(v) for v in bindings(resource)[1].values())
