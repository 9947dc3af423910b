"""hlsgen.layers: QMultiHeadAttention shapes, masks, equality with Keras MHA, training, saving, exactness."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow

tf = pytest.importorskip("tensorflow")
qk = pytest.importorskip("qkeras")

from hlsgen.fixed import FixedType, quantize  # noqa: E402
from hlsgen.layers import ATTENTION_SCALE_TYPE, QMultiHeadAttention, attention_scale, custom_objects  # noqa: E402
from hlsgen.layers._quantize import quantize_tf, quantize_with  # noqa: E402
from hlsgen.quant import apply, quantizer_to_type  # noqa: E402

QB8 = "quantized_bits(8,0,alpha=1)"
QUANTIZED = dict(
    kernel_quantizer=QB8,
    bias_quantizer="quantized_bits(8,2,alpha=1)",
    query_output_quantizer="quantized_bits(10,3,alpha=1)",
    key_output_quantizer="quantized_bits(10,3,alpha=1)",
    value_output_quantizer="quantized_bits(10,3,alpha=1)",
    score_quantizer="quantized_bits(12,4,alpha=1)",
    probability_quantizer="quantized_relu(9,0)",
    context_quantizer="quantized_bits(12,3,alpha=1)",
    output_quantizer="quantized_bits(16,5,alpha=1)",
)


def rand(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------------
# the scale constant and the exact quantization
# ---------------------------------------------------------------------------------------------------
def test_attention_scale() -> None:
    assert [attention_scale(4**n) for n in range(8)] == [2.0**-n for n in range(8)]
    for k in range(1, 4097):
        s = attention_scale(k)
        if k & (k - 1) == 0 and (k.bit_length() - 1) % 2 == 0:
            continue
        assert s == quantize(1 / math.sqrt(k), ATTENTION_SCALE_TYPE)
        # the correctly rounded real 1/sqrt(k) on 18 fractional bits, half up (AP_RND)
        raw = (math.isqrt((1 << 38) // k) + 1) // 2
        assert s == raw * 2.0**-18, k
    assert QMultiHeadAttention(2, 6).scale == attention_scale(6)


@pytest.mark.parametrize(
    "t",
    [
        "ap_fixed<8,1,AP_RND_CONV,AP_SAT>",
        "ap_fixed<12,4,AP_RND_CONV,AP_SAT_SYM>",
        "ap_ufixed<9,0,AP_RND_CONV,AP_SAT>",
        "ap_fixed<6,2,AP_RND_INF,AP_SAT_SYM>",
        "ap_fixed<30,10,AP_RND_CONV,AP_SAT>",
    ],
)
def test_quantize_tf_equals_fixed(t: str) -> None:
    t = FixedType.parse(t)
    rng = np.random.default_rng(1)
    k = rng.integers(-3 * 2**t.width, 3 * 2**t.width, 5000)
    x = np.concatenate(
        [
            rng.normal(size=5000) * t.max,  # 53-bit values
            (k + 0.5) * t.lsb,  # exact ties
            (k + 0.5) * t.lsb + 2.0**-40,  # just above / below ties: > 24 significant bits
            (k + 0.5) * t.lsb - 2.0**-40,
        ]
    )
    np.testing.assert_array_equal(quantize_tf(tf.constant(x), t).numpy(), quantize(x, t))


def test_layer_quantizes_the_exact_accumulator() -> None:
    """QKeras casts to float32 first and so rounds (k+0.5) LSB + 2**-40 to a tie; the layer does not."""
    q = qk.quantized_bits(8, 0, alpha=1)
    spec = quantizer_to_type(q)
    lsb = spec.type.lsb
    x = np.array([(2 * j + 0.5) * lsb + 2.0**-40 for j in range(-40, 40)])  # ties would round to even 2j
    qkeras = q(tf.constant(x)).numpy().astype(np.float64)
    ours = quantize_with(q, spec, tf.constant(x)).numpy()
    np.testing.assert_array_equal(ours, quantize(x, spec.type))
    assert np.all(ours == qkeras + lsb)


# ---------------------------------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case, heads, key_dim, value_dim, use_bias, out_dim, tq, tv, dq, dk, dv",
    [
        ("self", 2, 4, None, True, None, 5, 5, 8, 8, 8),
        ("cross", 3, 4, None, True, None, 5, 7, 8, 6, 6),
        ("key!=value", 2, 4, None, True, None, 4, 6, 8, 3, 5),
        ("value_dim", 2, 4, 6, True, None, 5, 5, 8, 8, 8),
        ("no_bias", 2, 3, 5, False, None, 5, 6, 8, 4, 4),
        ("output_shape", 2, 4, 2, True, 11, 5, 6, 8, 7, 9),
    ],
)
def test_shapes(case, heads, key_dim, value_dim, use_bias, out_dim, tq, tv, dq, dk, dv) -> None:
    rng = np.random.default_rng(0)
    layer = QMultiHeadAttention(
        heads, key_dim, value_dim, use_bias=use_bias, output_shape=out_dim, **QUANTIZED
    )
    query, key, value = rand(rng, 2, tq, dq), rand(rng, 2, tv, dk), rand(rng, 2, tv, dv)
    key_arg = key if dk != dv else None  # key defaults to value
    out, probs = layer(query, value, key=key_arg, return_attention_scores=True)
    vd = value_dim or key_dim
    od = out_dim or dq
    assert out.shape == (2, tq, od) and out.dtype == tf.float32
    assert probs.shape == (2, heads, tq, tv)
    assert tuple(layer.compute_output_shape((2, tq, dq), (2, tv, dv), (2, tv, dk))) == (2, tq, od)
    expected = {
        "query_kernel": (dq, heads, key_dim),
        "query_bias": (heads, key_dim),
        "key_kernel": (dk, heads, key_dim),
        "key_bias": (heads, key_dim),
        "value_kernel": (dv, heads, vd),
        "value_bias": (heads, vd),
        "output_kernel": (heads, vd, od),
        "output_bias": (od,),
    }
    if not use_bias:
        expected = {k: v for k, v in expected.items() if not k.endswith("bias")}
    got = {w.name.split("/")[-1].split(":")[0]: tuple(w.shape) for w in layer.weights}
    assert got == expected and list(got) == list(expected)  # names, shapes and Keras MHA's order
    assert {k: v.shape for k, v in layer.quantized_weights().items()} == expected
    inter = layer.intermediates(query, value, key_arg)
    assert inter["context"].shape == (2, tq, heads * vd)


# ---------------------------------------------------------------------------------------------------
# masks
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("quantized", [False, True])
def test_masks_give_exact_zeros(quantized: bool) -> None:
    rng = np.random.default_rng(2)
    B, T, D = 3, 6, 8
    layer = QMultiHeadAttention(2, 4, **(QUANTIZED if quantized else {}))
    x = rand(rng, B, T, D) * 4
    _, p = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    p = p.numpy()
    upper = np.triu(np.ones((T, T), bool), 1)
    assert np.all(p[:, :, upper] == 0)
    if not quantized:  # (quantized, small probabilities may round to 0 as well)
        assert np.all(p[:, :, ~upper] > 0)
    # padding: batch item 1 has 2 padded keys, item 2 has query row 0 fully masked
    pad = np.ones((B, T, T), np.float32)
    pad[1, :, -2:] = 0
    pad[2, 0, :] = 0
    _, p = layer(x, x, attention_mask=pad, return_attention_scores=True)
    p = p.numpy()
    assert np.all(p[np.broadcast_to(pad[:, None] == 0, p.shape)] == 0)
    assert np.all(p[2, :, 0, :] == 0)  # a fully masked row: all-zero probabilities
    inter = layer.intermediates(x, x, attention_mask=pad)
    assert np.all(inter["context"][2, 0] == 0)
    if not quantized:
        rows = p.sum(-1)
        np.testing.assert_allclose(np.delete(rows[2], 0, axis=-1), 1, rtol=1e-6)
        np.testing.assert_allclose(rows[:2], 1, rtol=1e-6)
    # both together
    _, p = layer(x, x, attention_mask=pad, use_causal_mask=True, return_attention_scores=True)
    assert np.all(p.numpy()[:, :, upper] == 0) and np.all(p.numpy()[1, :, :, -2:] == 0)


def test_keras_padding_mask() -> None:
    """Keras masks (Embedding mask_zero) are merged in like Keras MHA does."""
    tokens = tf.keras.Input((6,), dtype="int32")
    emb = tf.keras.layers.Embedding(10, 8, mask_zero=True)(tokens)
    out, p = QMultiHeadAttention(2, 4)(emb, emb, return_attention_scores=True)
    model = tf.keras.Model(tokens, p)
    ids = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 9]])
    p = model.predict(ids, verbose=0)
    assert np.all(p[0, :, :, 3:] == 0) and np.all(p[0, :, 3:, :] == 0) and np.all(p[1] > 0)


def test_softmax_hook() -> None:
    rng = np.random.default_rng(3)
    layer = QMultiHeadAttention(2, 4)
    x = rand(rng, 2, 5, 8)
    seen = {}

    def uniform(scores, mask):
        seen["dtypes"] = (scores.dtype, None if mask is None else mask.dtype)
        return tf.ones_like(scores) / tf.cast(tf.shape(scores)[-1], scores.dtype)

    layer.softmax_fn = uniform
    _, p = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    assert seen["dtypes"] == (tf.float64, tf.float64)
    np.testing.assert_array_equal(p.numpy()[0, 0], (np.tril(np.ones((5, 5))) / 5).astype(np.float32))


# ---------------------------------------------------------------------------------------------------
# without quantizers it is Keras MHA
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key_dim, value_dim, out_dim", [(4, None, None), (16, 8, 12), (1, 3, None)])
def test_equals_keras_mha(key_dim, value_dim, out_dim) -> None:
    """key_dim a power of 4: Keras's 1/sqrt(key_dim) and ours are the same power of two.

    Keras computes in float32, the layer in float64: outputs agree to float32 rounding of sums of ~50
    terms of size ~1 (|diff| <= 1e-5 + 1e-5 |ref|).
    """
    rng = np.random.default_rng(4)
    B, Tq, Tv, Dq, Dv = 2, 5, 7, 8, 6
    query, value, key = rand(rng, B, Tq, Dq), rand(rng, B, Tv, Dv), rand(rng, B, Tv, 3)
    mask = rng.random((B, Tq, Tv)) > 0.3
    mask[:, :, 0] = True
    keras = tf.keras.layers.MultiHeadAttention(
        2, key_dim, value_dim, output_shape=out_dim, bias_initializer="random_normal"
    )
    ours = QMultiHeadAttention(2, key_dim, value_dim, output_shape=out_dim)
    ref_out, ref_p = keras(query, value, key, attention_mask=mask, return_attention_scores=True)
    ours(query, value, key)
    ours.set_weights(keras.get_weights())
    assert attention_scale(key_dim) == 1 / math.sqrt(key_dim)
    for causal in (False, True):
        ref_out, ref_p = keras(
            query, value, key, attention_mask=mask, use_causal_mask=causal, return_attention_scores=True
        )
        out, p = ours(
            query, value, key, attention_mask=mask, use_causal_mask=causal, return_attention_scores=True
        )
        np.testing.assert_allclose(out.numpy(), ref_out.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(p.numpy(), ref_p.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------
# exactness: every stage on its quantizer's grid
# ---------------------------------------------------------------------------------------------------
def test_stages_on_the_grid() -> None:
    rng = np.random.default_rng(5)
    cfg = dict(
        QUANTIZED, kernel_quantizer=None, query_kernel_quantizer="quantized_bits(6,0,alpha='auto_po2')"
    )
    cfg["key_kernel_quantizer"] = qk.quantized_bits(8, 0, alpha="auto_po2")
    cfg["value_kernel_quantizer"] = QB8
    cfg["output_kernel_quantizer"] = "quantized_bits(8,1,1,alpha=1)"
    layer = QMultiHeadAttention(2, 4, value_dim=3, **cfg)
    x = np.round(rand(rng, 2, 6, 8) * 64) / 64  # inputs on a 2^-6 grid, like a fixed-point input
    layer(x, x)
    inter = layer.intermediates(x, x, use_causal_mask=True)
    qs = layer.quantizers
    for stage, slot in [
        ("query", "query_output"),
        ("key", "key_output"),
        ("value", "value_output"),
        ("scores", "score"),
        ("probabilities", "probability"),
        ("context", "context"),
        ("output", "output"),
    ]:
        t = quantizer_to_type(qs[slot]).type
        v = inter[stage]
        np.testing.assert_array_equal(quantize(v, t), v, err_msg=stage)
        assert len(np.unique(v)) > 8, stage  # not trivially zero / saturated
    weights = {w.name.split("/")[-1].split(":")[0]: w.numpy() for w in layer.weights}
    for name, v in layer.quantized_weights().items():
        spec = quantizer_to_type(qs[name], weights=weights[name])
        np.testing.assert_array_equal(apply(spec, weights[name]), v, err_msg=name)
    assert quantizer_to_type(qs["query_kernel"], weights=weights["query_kernel"]).shift.shape == (1, 1, 4)
    # the call's float32 output is the float64 output, exactly (16-bit output type)
    np.testing.assert_array_equal(layer(x, x, use_causal_mask=True).numpy(), inter["output"])


def test_unmappable_quantizer_warns() -> None:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        QMultiHeadAttention(2, 4, score_quantizer="quantized_po2(4)")
    assert any("quantized_po2" in str(x.message) for x in w)


# ---------------------------------------------------------------------------------------------------
# training and saving
# ---------------------------------------------------------------------------------------------------
def small_model(seed: int = 0) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input((6, 8))
    att = QMultiHeadAttention(2, 4, name="mha", **QUANTIZED)(inp, inp, use_causal_mask=True)
    out = tf.keras.layers.Dense(1)(tf.keras.layers.GlobalAveragePooling1D()(att))
    return tf.keras.Model(inp, out)


def test_trains() -> None:
    rng = np.random.default_rng(6)
    x = rand(rng, 128, 6, 8)
    y = (x[:, :, 0].mean(axis=1, keepdims=True) > 0).astype(np.float32)
    model = small_model()
    model.compile(tf.keras.optimizers.Adam(1e-2), "binary_crossentropy")
    hist = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history["loss"]
    assert hist[-1] < hist[0], hist
    assert all(np.isfinite(hist))


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_save_load_round_trip(tmp_path, fmt: str) -> None:
    rng = np.random.default_rng(7)
    model = small_model()
    model.compile("adam", "mse")
    x = rand(rng, 4, 6, 8)
    want = model(x).numpy()  # eager calls: no tracing, same values
    path = tmp_path / f"model.{fmt}"
    model.save(path)
    for kwargs in ({"custom_objects": custom_objects()}, {}):  # registered: loads without them too
        loaded = tf.keras.models.load_model(path, **kwargs)
        np.testing.assert_array_equal(loaded(x).numpy(), want)
        layer = loaded.get_layer("mha")
        assert isinstance(layer, QMultiHeadAttention)
        for slot, q in model.get_layer("mha").quantizers.items():
            assert str(layer.quantizers[slot]) == str(q), slot


def test_config_round_trip_keeps_quantizer_options() -> None:
    q = qk.quantized_bits(8, 1, alpha="auto_po2", scale_axis=0)
    layer = QMultiHeadAttention(
        2, 4, query_kernel_quantizer=q, output_quantizer=qk.quantized_relu(8, 2, is_quantized_clip=False)
    )
    clone = QMultiHeadAttention.from_config(layer.get_config())
    assert clone.quantizers["query_kernel"].scale_axis == 0
    assert clone.quantizers["output"].is_quantized_clip is False
    assert clone.quantizers["query_kernel"] is not q  # each slot has its own object
