"""Token-by-token decode: caches, GQA/MQA/MHA, MLA absorbed and recompute, RoPE; reference, csim, errors.

One model holds every variant (RotaryEmbedding on its own; GQA with 2 groups and RoPE; Keras causal MHA;
MQA with QKeras quantizers; GQA as MHA with partial RoPE; MLA with query latent and RoPE; MLA without
either), so that a few g++ builds cover them all: decoding token by token equals prefill bit for bit in
the reference and in csim at every step.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

import hlsgen  # noqa: E402
from hlsgen.decode import DecodeOverflowError, cache_report, decode_design  # noqa: E402
from hlsgen.layers import GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding  # noqa: E402
from hlsgen.quant.decode_pass import NotDecodableError  # noqa: E402

T, D = 6, 16
W8 = "quantized_bits(8,0,alpha=1)"


def _model() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(21)
    x = tf.keras.Input((T, D), name="tokens")
    h = RotaryEmbedding(8, rope_dim=4, name="rope")(x)
    h = tf.keras.layers.Dense(D, name="embed")(h)
    a = GroupedQueryAttention(4, 2, 4, rope_dim=4, name="gqa2")(h)
    h = tf.keras.layers.Add(name="res1")([h, a])
    h = tf.keras.layers.MultiHeadAttention(2, 8, name="mha")(h, h, use_causal_mask=True)
    h = GroupedQueryAttention(
        4,
        1,
        4,
        kernel_quantizer=W8,
        bias_quantizer=W8,
        score_quantizer="quantized_bits(14,5,alpha=1)",
        name="mqa",
    )(h)
    h = GroupedQueryAttention(2, 2, 8, rope_dim=4, name="gqa_as_mha")(h)
    h = tf.keras.layers.LayerNormalization(name="norm")(h)
    h = MultiHeadLatentAttention(4, 4, 8, q_latent_dim=6, rope_dim=2, name="mla_rope")(h)
    h = MultiHeadLatentAttention(2, 4, 6, value_dim=3, name="mla_plain")(h)
    y = tf.keras.layers.Dense(8, activation="relu", name="head")(h)
    return tf.keras.Model(x, y, name="variants")


@pytest.fixture(scope="module")
def model() -> tf.keras.Model:
    return _model()


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(22).normal(size=(3, T, D)).astype(np.float32)


def test_graph_holds_every_variant(model) -> None:
    proj = hlsgen.convert(model)
    kinds = [op.kind for op in proj.graph.ops]
    assert kinds.count("rope") == 7 and kinds.count("latent_scores") == 2 and kinds.count("scores") == 4
    d = decode_design(proj, max_length=10)
    caches = {op.name: (op.kind, op.content.value, op.max_length) for op in d.caches}
    assert sum(k == "latent_cache" for k, _, _ in caches.values()) == 3  # two latents, one RoPE key
    assert sum(k == "kv_cache" for k, _, _ in caches.values()) == 8
    assert {n for _, _, n in caches.values()} == {10}


@pytest.mark.parametrize("prec", ["ap_fixed<16,6>", "ap_fixed<10,4,AP_RND,AP_SAT>"])
def test_decode_equals_prefill_in_the_reference(model, data, prec: str) -> None:
    proj = hlsgen.convert(model, {"default_precision": prec})
    want = proj.predict_raw(data)[0]
    for form in ("absorbed", "recompute"):
        dec = proj.decoder(form=form, max_length=T + 3)
        got = dec.run_raw(data)[0]
        np.testing.assert_array_equal(got, np.asarray(want).reshape(got.shape))
        assert dec.position == T
        # step by step, the outputs as float values
        dec.reset()
        for t in range(T):
            np.testing.assert_array_equal(dec.step(data[:, t]), proj.predict(data)[:, t])


def test_float_model_and_wide_emulation_agree(model, data) -> None:
    want = model.predict(data, verbose=0)
    cfg = {
        "default_precision": "ap_fixed<32,12>",
        "decode": {"rope_table_type": "ap_fixed<24,2,AP_RND_CONV,AP_SAT>"},
    }
    proj = hlsgen.convert(model, cfg)
    scale = np.max(np.abs(want))
    # the bound: 2% of the output magnitude (softmax tables of 18 bits dominate what is left)
    assert np.max(np.abs(proj.predict(data) - want)) < 0.02 * scale
    assert np.max(np.abs(proj.decoder().run(data) - want)) < 0.02 * scale


def test_overflow_and_reset_in_the_reference(model, data) -> None:
    proj = hlsgen.convert(model)
    dec = proj.decoder(max_length=T)
    first = dec.step(data[:, 0])
    for t in range(1, T):
        dec.step(data[:, t])
    with pytest.raises(
        DecodeOverflowError, match=r"decoder of variants \(emulation\): the sequence is full \(6 tokens"
    ):
        dec.step(data[:, 0])
    assert dec.position == T
    dec.reset()
    assert dec.position == 0
    np.testing.assert_array_equal(dec.step(data[:, 0]), first)
    with pytest.raises(ValueError, match=r"a token is \[16\]"):
        dec.step(np.zeros(5))
    with pytest.raises(ValueError, match="this sequence has batch 3, got 1"):
        dec.step(data[0, 1])


@pytest.mark.gxx
def test_csim_equals_reference_at_every_step(model, data) -> None:
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<16,6>", "project_name": "variants"})
    want = proj.predict_raw(data)[0]
    np.testing.assert_array_equal(proj.csim_raw(data)[0], want)  # prefill
    L = T + 1
    for form in ("absorbed", "recompute"):
        dec = proj.decoder("csim", form=form, max_length=L)
        ref = proj.decoder(form=form, max_length=L)
        for b in range(data.shape[0]):
            dec.reset()
            for t in range(T):
                got = dec.step_raw(data[b, t])[0]
                np.testing.assert_array_equal(got[0], np.asarray(want[b, t]).reshape(-1))
        # decode the reference alongside past the prefill length, then overflow
        ref.reset()
        ref.run_raw(data[-1:, :T])  # the sequence csim holds now
        x = data[0, 0]
        np.testing.assert_array_equal(dec.step_raw(x)[0], ref.step_raw(x[None])[0])
        assert dec.last_status == (T, 0)
        with pytest.raises(DecodeOverflowError, match=r"\(csim\): the sequence is full"):
            dec.step(x)
        assert dec.last_status == (L, 1) and dec.position == L
        dec.reset()
        assert dec.last_status == (0, 0)
        np.testing.assert_array_equal(dec.step_raw(data[1, 0])[0][0], np.asarray(want[1, 0]).reshape(-1))
        with pytest.raises(ValueError, match="one sequence at a time"):
            dec.step(data[:2, 0])


def _small() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(31)
    x = tf.keras.Input((4, 8), name="tokens")
    h = tf.keras.layers.Dense(8, name="embed")(x)
    h = GroupedQueryAttention(2, 1, 4, rope_dim=2, name="mqa")(h)
    h = MultiHeadLatentAttention(2, 4, 4, rope_dim=2, name="mla")(h)
    return tf.keras.Model(x, h, name="small")


@pytest.mark.gxx
def test_written_decode_project_replays_a_session(tmp_path: Path) -> None:
    from hlsgen import tools

    proj = hlsgen.convert(_small(), {"project_name": "small", "decode": {"cache_memory": "uram"}})
    seq = np.random.default_rng(3).normal(size=(4, 8))
    out = proj.write_decoder(tmp_path / "prj", tb_tokens=seq)
    top = (out / "firmware" / "small_decode.cpp").read_text()
    assert top.startswith("// Generated by hlsgen")
    assert (
        top.count("#pragma HLS BIND_STORAGE") == 4 and "impl = uram" in top
    )  # MQA K, V; MLA latent, RoPE key
    assert "static ap_fixed<16,6> hlsgen_mla_kv_latent_cache[4][4]; // latent cache of mla" in top
    # the attention reads the caches in place: one memory word per row, no register copy of the rows
    assert top.count("#pragma HLS ARRAY_RESHAPE variable = hlsgen_") == 4
    assert "complete dim = 2" in top and "dim = 1" not in top
    assert "hlsgen::cached_scores<" in top and "hlsgen::cached_context<" in top
    assert "hlsgen::cached_latent_scores<" in top  # absorbed (the default form)
    assert "_cache_t mla_kv_latent_cache[" not in top  # the cache output is never declared
    exe = tmp_path / "tb"
    cmd = [
        tools.cxx(),
        "-std=c++14",
        "-O1",
        "-w",
        "-DHLSGEN_CSIM_RAW_WEIGHTS",
        f"-I{tools.ap_types_include()}",
        f"-I{out / 'firmware'}",
        f"-I{out / 'firmware' / 'hlsgen'}",
        str(out / "small_decode_test.cpp"),
        str(out / "firmware" / "small_decode.cpp"),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    r = subprocess.run([str(exe), str(out / "tb_data")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "4 tokens, 0 mismatches" in r.stdout


def test_cache_report_against_mha() -> None:
    x = tf.keras.Input((4, 64))
    h = MultiHeadLatentAttention(8, 8, 16, rope_dim=4, name="mla")(x)
    h = GroupedQueryAttention(8, 2, 8, name="gqa")(h)
    h = GroupedQueryAttention(8, 1, 8, name="mqa")(h)
    h = tf.keras.layers.MultiHeadAttention(8, 8, name="mha")(h, h, use_causal_mask=True)
    proj = hlsgen.convert(tf.keras.Model(x, h), {"decode": {"max_length": 512}})
    rep = proj.cache_report()
    rows = {r.layer: r for r in rep.rows}
    # the example: d_model 64, 8 heads, head_dim 8, kv_latent 16, rope 4
    assert (rows["mla"].values_per_token, rows["mla"].mha_values_per_token) == (20, 128)
    assert [rows[k].values_per_token for k in ("gqa", "mqa", "mha")] == [32, 16, 128]
    assert rows["mla"].kind == "MLA" and rows["gqa"].kind == "GQA" and rows["mqa"].kind == "MQA"
    assert rows["mla"].bits_per_token == 20 * 16
    # 512 x 16 latents of 16 bits: 8192 words, 8 BRAM18 (18 x 1024) or 2 URAM (72 x 4096)
    assert rows["mla"].contents.startswith("latent 16 x ap_fixed<16,6>")
    # one word per cached row: latent 16 x 16 = 256 bits wide (8 BRAM18 of 36 bits, 4 URAM of 72 bits),
    # RoPE key 4 x 16 = 64 bits (2 BRAM18, 1 URAM); max_length fits one block deep
    assert rows["mla"].bram18 == 8 + 2 and rows["mla"].uram == 4 + 1
    text = rep.table()
    assert "max_length 512" in text and "MLA" in text and "cache / MHA cache" in text
    # the same figures whatever form decode uses (the caches are the same)
    assert cache_report(decode_design(proj, form="recompute")).rows == rep.rows


def test_models_that_cannot_decode_are_refused() -> None:
    x = tf.keras.Input((T, D))
    h = tf.keras.layers.MultiHeadAttention(2, 4, name="bidirectional")(x, x)
    with pytest.raises(NotDecodableError, match=r"bidirectional \(scores\): attention is not causal"):
        hlsgen.convert(tf.keras.Model(x, h)).decoder()
    h = GroupedQueryAttention(2, 1, 4, name="gqa")(x)
    h = tf.keras.layers.GlobalAveragePooling1D(name="pool")(h)
    with pytest.raises(NotDecodableError, match=r"pool \(global_avg_pool\): mixes tokens"):
        hlsgen.convert(tf.keras.Model(x, h)).decoder()
    m = tf.keras.Input((T, T))
    h = tf.keras.layers.MultiHeadAttention(2, 4, name="masked")(x, x, attention_mask=m, use_causal_mask=True)
    with pytest.raises(NotDecodableError, match="needs exactly one input"):
        hlsgen.convert(tf.keras.Model([x, m], h)).decoder()
    with pytest.raises(ValueError, match="decode.max_length must be a non-negative integer"):
        hlsgen.convert(tf.keras.Model(x, x), {"decode": {"max_length": -1}})
    with pytest.raises(ValueError, match="'absorbed'"):
        hlsgen.convert(tf.keras.Model(x, x), {"decode": {"mla_form": "folded"}})


def test_resolved_config_rebuilds_the_same_decoder(model, data) -> None:
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<14,6>"}, calibration_data=data)
    again = hlsgen.convert(model, proj.resolved_config())
    want = proj.decoder().run_raw(data)[0]
    np.testing.assert_array_equal(again.decoder().run_raw(data)[0], want)
    lc = proj.resolved_config().layers
    assert lc["mla_rope_kv_latent_proj"].latent and lc["mla_rope_key_rot"].key_rope
