"""The Keras reader on the forms the issue lists, beyond the three trained models of test_keras_forms:
QKeras layers read exactly, nested Sequential / functional models, subclassed layers, class attention,
constant tables, layout ops and pooling. The float IR must equal Keras (float32 round-off aside)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen.frontend.keras import UnsupportedModelError, read_keras  # noqa: E402

pytestmark = pytest.mark.tensorflow
L = tf.keras.layers
#: float32 Keras against the float64 IR: relative to the output's largest magnitude
FLOAT_TOL = 1e-5


def _same_as_keras(model: Any, x: Any, kinds: set[str] | None = None) -> Any:
    g = read_keras(model)
    xs = x if isinstance(x, list) else [x]
    got = g.run_float(xs)[g.outputs[0]]
    ref = model.predict(x, verbose=0)
    np.testing.assert_allclose(got, ref, atol=FLOAT_TOL * max(1.0, float(np.abs(ref).max())))
    if kinds:
        assert kinds <= {op.kind for op in g.ops}, {op.kind for op in g.ops}
    return g


def _rng() -> np.random.Generator:
    tf.keras.utils.set_random_seed(3)
    return np.random.default_rng(3)


# ---------------------------------------------------------------------------------------------------
def test_qkeras_layers_read_exactly() -> None:
    qk = pytest.importorskip("qkeras")
    rng = _rng()
    wq = "quantized_bits(6,0,alpha=1)"
    inputs = L.Input((8, 4))
    x = qk.QConv1D(6, 1, kernel_quantizer=wq, bias_quantizer=wq, name="qconv")(inputs)
    x = qk.QActivation("quantized_relu(8,3)", name="qrelu")(x)
    x = qk.QDense(4, kernel_quantizer=wq, bias_quantizer=wq, name="qdense")(x)
    x = qk.QActivation("quantized_bits(8,3,alpha=1)", name="qact")(x)
    x = L.GlobalAveragePooling1D()(x)
    x = qk.QDense(2, kernel_quantizer=wq, bias_quantizer=wq, name="qout")(x)
    out = qk.QActivation("quantized_bits(12,4,alpha=1)", name="qout_act")(x)
    model = tf.keras.Model(inputs, out)
    xs = (rng.integers(-64, 64, size=(64, 8, 4)) / 16).astype(np.float32)  # exact in the input type
    proj = hlsgen.convert(
        model, {"default_precision": "ap_fixed<32,12>", "layers": {"input_1": {"result": "ap_fixed<12,4>"}}}
    )
    assert not any(op.kind == "conv1d" for op in proj.graph.ops)  # kernel 1 is a Linear
    assert str(proj.graph.tensors["qrelu"].type).startswith("ap_ufixed<8,3")
    np.testing.assert_array_equal(proj.predict(xs), model.predict(xs, verbose=0))


def test_nested_models_are_inlined() -> None:
    rng = _rng()
    inner_in = L.Input((6, 4))
    h = L.Dense(5, activation="relu")(inner_in)
    inner = tf.keras.Model(inner_in, L.LayerNormalization()(h + L.Dense(5)(inner_in)), name="inner")
    ffn = tf.keras.Sequential([L.Dense(7, activation="gelu"), L.Dense(5)], name="ffn")
    inputs = L.Input((6, 4))
    x = inner(inputs)
    x = x + ffn(x)
    model = tf.keras.Model(inputs, L.GlobalMaxPooling1D()(x))
    _same_as_keras(model, rng.normal(size=(16, 6, 4)).astype(np.float32), {"global_max_pool", "layernorm"})
    seq = tf.keras.Sequential([L.Input((6, 4)), L.Dense(3), L.Flatten(), L.Dense(2)])
    _same_as_keras(seq, rng.normal(size=(4, 6, 4)).astype(np.float32))


class ClassAttention(L.Layer):
    """Queries from the class token only (CaiT / ParT class attention)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.att = L.MultiHeadAttention(num_heads=2, key_dim=4)
        self.norm = L.LayerNormalization(epsilon=1e-6)

    def call(self, x: Any) -> Any:
        cls = x[:, :1]
        return self.norm(cls + self.att(cls, x))


class LearnedPositions(L.Layer):
    """A trainable position table added in a layer."""

    def build(self, input_shape: Any) -> None:
        self.pos = self.add_weight(name="pos", shape=(1, *input_shape[1:]), initializer="random_normal")

    def call(self, x: Any) -> Any:
        return x + self.pos


class SinePositions(L.Layer):
    """A constant sinusoidal table added with ``+``."""

    def call(self, x: Any) -> Any:
        t, d = x.shape[1], x.shape[2]
        pos = np.arange(t)[:, None] / np.power(10000.0, 2 * (np.arange(d)[None] // 2) / d)
        table = np.where(np.arange(d) % 2 == 0, np.sin(pos), np.cos(pos)).astype(np.float32)
        return x + table


def test_subclassed_layers_class_token_and_constants() -> None:
    rng = _rng()
    inputs = L.Input((6, 8))
    x = LearnedPositions()(SinePositions()(inputs))
    cls = L.Embedding(1, 8)(tf.zeros((1, 1), tf.int32))  # a learned token, folded to a constant
    x = L.Concatenate(axis=1)([tf.broadcast_to(cls, [tf.shape(x)[0], 1, 8]), x])
    x = ClassAttention()(x)
    x = L.Lambda(lambda t: t[:, 0] * 2.0)(x)  # a Lambda layer is traced like a custom layer
    out = L.Dense(3)(x)
    model = tf.keras.Model(inputs, out)
    g = _same_as_keras(model, rng.normal(size=(16, 6, 8)).astype(np.float32), {"concat", "slice", "constant"})
    scores = next(op for op in g.ops if op.kind == "scores")
    assert g.tensors[scores.outputs[0]].shape == (2, 1, 7)  # one query (the class token), 7 keys


def test_layout_and_arithmetic_ops() -> None:
    rng = _rng()
    inputs = L.Input((8, 6))
    x = L.Permute((2, 1))(inputs)  # [6, 8]
    x = tf.transpose(x, [0, 2, 1]) * 0.5 - inputs / 4.0  # back to [8, 6]
    y = tf.reshape(x, (-1, 4, 12))
    y = tf.concat([y[:, 1:3], y[:, :2]], axis=1)
    z = L.Subtract()([L.Dense(12)(y), y])
    z = L.Multiply()([z, L.Dense(12, activation="sigmoid")(y)])
    z = tf.reduce_mean(z, axis=-1)  # mean over the features
    z = tf.nn.relu(z) + tf.nn.gelu(z, approximate=True) - tf.square(z)
    z = 1.0 - (-z) / 3.0
    model = tf.keras.Model(inputs, z)
    _same_as_keras(
        model, rng.normal(size=(16, 8, 6)).astype(np.float32), {"transpose", "binary", "slice", "concat"}
    )


def test_conv_pool_and_batchnorm_as_its_own_op() -> None:
    rng = _rng()
    inputs = L.Input((10, 3))
    x = L.Conv1D(4, 5, padding="valid", activation="relu")(inputs)
    x = L.BatchNormalization()(x)  # after the relu: not foldable, its own op
    x = L.Conv1D(4, 3, padding="same", use_bias=False)(x)
    x = L.BatchNormalization()(x)  # folded into the convolution before it
    a = L.GlobalAveragePooling1D(data_format="channels_first")(x)
    b = L.GlobalMaxPooling1D()(x)
    model = tf.keras.Model(inputs, L.Concatenate()([a, b]))
    bn = model.layers[2]
    bn.set_weights([w + rng.uniform(0.5, 1.5, size=w.shape).astype(np.float32) for w in bn.get_weights()])
    g = _same_as_keras(model, rng.normal(size=(16, 10, 3)).astype(np.float32), {"conv1d", "global_max_pool"})
    assert [op.kind for op in g.ops].count("batchnorm") == 1


def test_errors_name_the_layer_and_what_to_do() -> None:
    inputs = L.Input((4, 6))
    x = tf.math.cumsum(inputs, axis=1)
    x = L.Conv1D(2, 3, strides=2)(x)
    model = tf.keras.Model(inputs, L.LSTM(2)(x))
    with pytest.raises(UnsupportedModelError) as e:
        read_keras(model)
    msg = str(e.value)
    assert "3 unsupported" in msg
    assert "tf.math.cumsum" in msg and "strides=(2,)" in msg and "layer type LSTM" in msg
    tokens = L.Input((5,))
    emb = L.Embedding(10, 4)(tf.cast(tokens * 2, tf.int32))
    with pytest.raises(UnsupportedModelError, match="Embedding must read a model input of token ids"):
        read_keras(tf.keras.Model(tokens, emb))


def test_image_patches() -> None:
    rng = _rng()
    inputs = L.Input((8, 8, 2))
    p = tf.image.extract_patches(
        inputs, sizes=[1, 4, 2, 1], strides=[1, 4, 2, 1], rates=[1, 1, 1, 1], padding="VALID"
    )
    x = L.Dense(6)(L.Reshape((8, 16))(p))
    model = tf.keras.Model(inputs, L.GlobalAveragePooling1D()(x))
    _same_as_keras(model, rng.normal(size=(8, 8, 8, 2)).astype(np.float32), {"transpose"})
    bad = tf.image.extract_patches(
        inputs, sizes=[1, 4, 4, 1], strides=[1, 2, 2, 1], rates=[1, 1, 1, 1], padding="VALID"
    )
    with pytest.raises(UnsupportedModelError, match="non-overlapping"):
        read_keras(tf.keras.Model(inputs, bad))


def test_deep_graphs_and_refused_masks() -> None:
    import sys

    inputs = L.Input((4, 3))
    x = inputs
    for _ in range(60):
        x = x * 0.5 + x
    model = tf.keras.Model(inputs, x)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # 120 ops followed recursively need more frames than this
    try:
        g = read_keras(model)
    finally:
        sys.setrecursionlimit(limit)
    assert len(g.ops) == 180 and all(op.kind in ("binary", "constant", "add") for op in g.ops)
    tokens = L.Input((5,))
    h = L.Embedding(10, 4, mask_zero=True)(tokens)
    with pytest.raises(UnsupportedModelError, match="mask_zero=True"):
        read_keras(tf.keras.Model(tokens, L.MultiHeadAttention(1, 4)(h, h)))
    h = L.Input((5, 4))
    causal = np.tril(np.ones((5, 5), bool))[None]
    with pytest.raises(UnsupportedModelError, match="constant attention_mask"):
        read_keras(tf.keras.Model(h, L.MultiHeadAttention(1, 4)(h, h, attention_mask=causal)))
