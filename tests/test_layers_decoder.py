"""hlsgen.layers decoder layers: GroupedQueryAttention, MultiHeadLatentAttention, RotaryEmbedding.

The math against Keras MHA and NumPy, causality, saving and loading, errors naming the layer, and the
quantized layers equal to hlsgen's bit-exact emulation (with the hardware softmax).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tensorflow

tf = pytest.importorskip("tensorflow")
pytest.importorskip("qkeras")

import hlsgen  # noqa: E402
from hlsgen.fixed import FixedType, quantize  # noqa: E402
from hlsgen.ir.ops.decode import rope_tables  # noqa: E402
from hlsgen.layers import (  # noqa: E402
    GroupedQueryAttention,
    MultiHeadLatentAttention,
    RotaryEmbedding,
    hardware_softmax_fn,
)

T, D = 6, 16


def _x(seed: int = 0, n: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, T, D)).astype(np.float32)


def _softmax_causal(s: np.ndarray) -> np.ndarray:
    t = s.shape[-1]
    s = np.where(np.tril(np.ones((t, t), bool)), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_gqa_with_all_heads_equals_keras_causal_mha() -> None:
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((T, D))
    mha = tf.keras.layers.MultiHeadAttention(4, 4, name="mha")
    y = mha(x, x, use_causal_mask=True)
    keras_model = tf.keras.Model(x, y)
    gqa = GroupedQueryAttention(4, 4, 4, name="gqa")
    gqa(tf.zeros((1, T, D)))
    w = {v.name.split("/")[-2] + "/" + v.name.split("/")[-1].split(":")[0]: v.numpy() for v in mha.weights}
    for part in ("query", "key", "value"):
        getattr(gqa, f"{part}_kernel").assign(w[f"{part}/kernel"].reshape(D, -1))
        getattr(gqa, f"{part}_bias").assign(w[f"{part}/bias"].reshape(-1))
    gqa.output_kernel.assign(w["attention_output/kernel"].reshape(-1, D))
    gqa.output_bias.assign(w["attention_output/bias"])
    xs = _x()
    np.testing.assert_allclose(gqa(xs).numpy(), keras_model.predict(xs, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kv_heads", [1, 2])
def test_gqa_equals_mha_with_repeated_kv_heads(kv_heads: int) -> None:
    tf.keras.utils.set_random_seed(4)
    H, hd = 4, 4
    gqa = GroupedQueryAttention(H, kv_heads, hd, rope_dim=2, name="gqa")
    mha = GroupedQueryAttention(H, H, hd, rope_dim=2, name="mha")
    xs = _x(1)
    gqa(xs), mha(xs)
    idx = np.arange(H) // (H // kv_heads)
    for part in ("key", "value"):
        k = getattr(gqa, f"{part}_kernel").numpy().reshape(D, kv_heads, hd)[:, idx].reshape(D, -1)
        b = getattr(gqa, f"{part}_bias").numpy().reshape(kv_heads, hd)[idx].reshape(-1)
        getattr(mha, f"{part}_kernel").assign(k)
        getattr(mha, f"{part}_bias").assign(b)
    for v in ("query_kernel", "query_bias", "output_kernel", "output_bias"):
        getattr(mha, v).assign(getattr(gqa, v))
    np.testing.assert_allclose(gqa(xs).numpy(), mha(xs).numpy(), rtol=1e-6, atol=1e-6)


def test_mla_equals_numpy() -> None:
    tf.keras.utils.set_random_seed(5)
    H, hd, dc, dq, dr = 4, 4, 8, 6, 4
    layer = MultiHeadLatentAttention(H, hd, dc, q_latent_dim=dq, rope_dim=dr, use_bias=True, name="mla")
    xs = _x(2).astype(np.float64)
    got = layer(xs).numpy()
    w = {v.name.split("/")[-1].split(":")[0]: v.numpy().astype(np.float64) for v in layer.weights}
    cos, sin = rope_tables(T, dr)

    def rope(a: np.ndarray) -> np.ndarray:  # [B, T, h, dr]
        r = dr // 2
        c, s = cos[None, :, None], sin[None, :, None]
        return np.concatenate([a[..., :r] * c - a[..., r:] * s, a[..., r:] * c + a[..., :r] * s], -1)

    c = xs @ w["kv_latent_kernel"] + w["kv_latent_bias"]
    src = xs @ w["q_latent_kernel"] + w["q_latent_bias"]
    q = (src @ w["query_kernel"] + w["query_bias"]).reshape(3, T, H, hd)
    qr = rope((src @ w["query_rope_kernel"] + w["query_rope_bias"]).reshape(3, T, H, dr))
    kr = rope((xs @ w["key_rope_kernel"] + w["key_rope_bias"]).reshape(3, T, 1, dr))[:, :, 0]
    k = (c @ w["key_kernel"]).reshape(3, T, H, hd)
    v = (c @ w["value_kernel"]).reshape(3, T, H, hd)
    s = (np.einsum("bqhd,bkhd->bhqk", q, k) + np.einsum("bqhd,bkd->bhqk", qr, kr)) / np.sqrt(hd + dr)
    ctx = np.einsum("bhqk,bkhd->bqhd", _softmax_causal(s), v).reshape(3, T, -1)
    want = ctx @ w["output_kernel"] + w["output_bias"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert layer.cache_values_per_token() == dc + dr
    assert MultiHeadLatentAttention(8, 8, 16, rope_dim=4).cache_values_per_token() == 20
    assert MultiHeadLatentAttention(8, 8, 16, rope_dim=4).mha_cache_values_per_token() == 128


def test_layers_are_causal() -> None:
    tf.keras.utils.set_random_seed(6)
    x = tf.keras.Input((T, D))
    h = RotaryEmbedding(8, name="rope")(x)
    h = GroupedQueryAttention(4, 2, 4, rope_dim=4, name="gqa")(h)
    h = MultiHeadLatentAttention(2, 4, 6, rope_dim=2, q_latent_dim=5, name="mla")(h)
    model = tf.keras.Model(x, h)
    xs = _x(3)
    y = model.predict(xs, verbose=0)
    xs2 = xs.copy()
    xs2[:, 3:] += 1.0
    y2 = model.predict(xs2, verbose=0)
    np.testing.assert_array_equal(y[:, :3], y2[:, :3])
    assert np.abs(y[:, 3:] - y2[:, 3:]).max() > 1e-3


def test_rotary_embedding() -> None:
    layer = RotaryEmbedding(8, rope_dim=4, name="rope")
    xs = _x(4)
    y = layer(xs).numpy().astype(np.float64)
    h, hy = xs.reshape(3, T, 2, 8).astype(np.float64), y.reshape(3, T, 2, 8)
    # a rotation: the norm of every pair is kept, the dimensions past rope_dim pass through
    np.testing.assert_allclose(
        np.linalg.norm(hy[..., :4], axis=-1), np.linalg.norm(h[..., :4], axis=-1), rtol=1e-5
    )
    np.testing.assert_array_equal(hy[..., 4:], h[..., 4:])
    np.testing.assert_array_equal(hy[:, 0], h[:, 0])  # position 0: no rotation
    # relative positions: <rope(q, m), rope(k, n)> depends on m - n only
    q = np.ones((1, T, 1, 4))
    rq = RotaryEmbedding(4, name="r4")(q.reshape(1, T, 4)).numpy().astype(np.float64)
    dots = [rq[0, m] @ rq[0, m - 1] for m in range(1, T)]
    np.testing.assert_allclose(dots, dots[0], rtol=1e-5)
    # a table quantizer puts cos/sin on its grid; the hardware reads the same entries
    qt = RotaryEmbedding(4, table_quantizer="quantized_bits(10,1,alpha=1)", name="rq")
    got = qt(q.reshape(1, T, 4)).numpy()
    cos, sin = rope_tables(T, 4)
    t10 = FixedType.parse("ap_fixed<10,2,AP_RND_CONV,AP_SAT>")
    c, s = quantize(cos, t10), quantize(sin, t10)
    np.testing.assert_allclose(got[0, :, :2], c - s, atol=1e-7)
    np.testing.assert_allclose(got[0, :, 2:], c + s, atol=1e-7)


def test_save_load_and_config_round_trip(tmp_path: Path) -> None:
    tf.keras.utils.set_random_seed(7)
    x = tf.keras.Input((T, D))
    h = RotaryEmbedding(8, rope_dim=4, output_quantizer="quantized_bits(12,3,alpha=1)", name="rope")(x)
    h = GroupedQueryAttention(
        4,
        1,
        4,
        rope_dim=2,
        kernel_quantizer="quantized_bits(8,0,alpha=1)",
        rope_table_quantizer="quantized_bits(16,1,alpha=1)",
        name="mqa",
    )(h)
    h = MultiHeadLatentAttention(
        2,
        4,
        6,
        q_latent_dim=5,
        rope_dim=2,
        kv_latent_output_quantizer="quantized_bits(12,3,alpha=1)",
        name="mla",
    )(h)
    model = tf.keras.Model(x, h)
    xs = _x(5)
    want = model.predict(xs, verbose=0)
    for layer in model.layers[1:]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    for suffix in (".keras", ".h5"):
        p = tmp_path / f"m{suffix}"
        model.save(p)
        np.testing.assert_array_equal(tf.keras.models.load_model(p).predict(xs, verbose=0), want)
        # hlsgen reads the file without custom_objects
        assert hlsgen.convert(p).predict(xs).shape == want.shape


def test_errors_name_the_layer() -> None:
    with pytest.raises(ValueError, match=r"g1: num_heads \(6\) must be a multiple of num_kv_heads \(4\)"):
        GroupedQueryAttention(6, 4, 8, name="g1")
    with pytest.raises(ValueError, match=r"g2: num_kv_heads must be a positive integer, got 0"):
        GroupedQueryAttention(4, 0, 8, name="g2")
    with pytest.raises(ValueError, match=r"m1: kv_latent_dim must be >= 1"):
        MultiHeadLatentAttention(4, 8, 0, name="m1")
    with pytest.raises(ValueError, match=r"m2: head_dim must be a positive integer"):
        MultiHeadLatentAttention(4, 0, 8, name="m2")
    with pytest.raises(
        ValueError, match=r"m3: rope_dim must be 0 \(no RoPE\) or a positive even integer, got 3"
    ):
        MultiHeadLatentAttention(4, 8, 8, rope_dim=3, name="m3")
    with pytest.raises(ValueError, match=r"m4: q_latent_dim must be 0"):
        MultiHeadLatentAttention(4, 8, 8, q_latent_dim=-1, name="m4")
    with pytest.raises(ValueError, match=r"g3: rope_dim \(8\) must not exceed head_dim \(4\)"):
        GroupedQueryAttention(2, 1, 4, rope_dim=8, name="g3")
    with pytest.raises(ValueError, match=r"r1: input features \(10\) are not a multiple of head_dim \(4\)"):
        RotaryEmbedding(4, name="r1")(tf.zeros((1, T, 10)))
    with pytest.raises(ValueError, match=r"g4: the input must be \[batch, time, features\]"):
        GroupedQueryAttention(2, 1, 4, name="g4")(tf.zeros((1, 10)))


def test_training_updates_weights() -> None:
    tf.keras.utils.set_random_seed(8)
    x = tf.keras.Input((T, D))
    h = GroupedQueryAttention(
        4, 2, 4, rope_dim=4, kernel_quantizer="quantized_bits(8,0,alpha=1)", name="gqa"
    )(x)
    h = MultiHeadLatentAttention(
        2, 4, 6, rope_dim=2, kernel_quantizer="quantized_bits(8,0,alpha=1)", name="mla"
    )(h)
    model = tf.keras.Model(x, h)
    before = [w.numpy().copy() for w in model.trainable_weights]
    model.compile(tf.keras.optimizers.Adam(1e-2), "mse")
    model.fit(_x(9), _x(10), epochs=2, verbose=0)
    after = [w.numpy() for w in model.trainable_weights]
    assert all(np.any(a != b) for a, b in zip(after, before, strict=True))


A = "quantized_bits(12,3,alpha=1)"
W8 = "quantized_bits(8,0,alpha=1)"


def _quantized_model() -> tuple[tf.keras.Model, np.ndarray]:
    from qkeras import QActivation

    tf.keras.utils.set_random_seed(11)
    common = dict(
        kernel_quantizer=W8,
        bias_quantizer=W8,
        score_quantizer="quantized_bits(14,4,alpha=1)",
        probability_quantizer="quantized_bits(10,1,alpha=1)",
        context_quantizer=A,
        output_quantizer=A,
        rope_table_quantizer="quantized_bits(14,1,alpha=1)",
    )
    x = tf.keras.Input((T, D))
    h = QActivation(A, name="in_q")(x)
    h = GroupedQueryAttention(
        4,
        2,
        4,
        rope_dim=4,
        query_output_quantizer=A,
        key_output_quantizer=A,
        value_output_quantizer=A,
        name="gqa",
        **common,
    )(h)
    h = MultiHeadLatentAttention(
        4,
        4,
        8,
        q_latent_dim=6,
        rope_dim=2,
        use_bias=True,
        kv_latent_output_quantizer=A,
        key_rope_output_quantizer=A,
        q_latent_output_quantizer=A,
        query_output_quantizer=A,
        query_rope_output_quantizer=A,
        name="mla",
        **common,
    )(h)
    model = tf.keras.Model(x, h)
    for layer in model.layers:
        if isinstance(layer, GroupedQueryAttention | MultiHeadLatentAttention):
            ts = FixedType.parse("ap_fixed<14,5,AP_RND_CONV,AP_SAT>")
            tp = FixedType.parse("ap_fixed<10,2,AP_RND_CONV,AP_SAT>")
            layer.softmax_fn = hardware_softmax_fn(ts, tp)
    xs = np.round(_x(12, 4) * 64) / 64  # on the input type's grid
    return model, xs


def test_quantized_layers_equal_emulation() -> None:
    """With every value quantized and the hardware softmax, the Keras layers are the hardware."""
    model, xs = _quantized_model()
    want = model.predict(xs, verbose=0).astype(np.float64)
    proj = hlsgen.convert(model, {"default_precision": "ap_fixed<16,6>"})
    np.testing.assert_array_equal(proj.predict(xs), want)
    dec = proj.decoder()
    np.testing.assert_array_equal(dec.run(xs), want)
