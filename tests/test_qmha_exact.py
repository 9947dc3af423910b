"""The front end reads QMultiHeadAttention exactly: with the firmware's softmax in the layer, hlsgen's
emulation equals the layer's own quantized forward pass bit for bit; before the softmax it always does."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import hlsgen  # noqa: E402
from hlsgen.fixed import quantize  # noqa: E402
from hlsgen.layers import QMultiHeadAttention, use_hardware_softmax  # noqa: E402

T, D = 6, 8
IN_TYPE = "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"  # = quantized_bits(8,2,alpha=1)


def _model(causal: bool, key_dim: int, value_dim: int | None, use_bias: bool) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(3)
    x = tf.keras.Input((T, D), name="x")
    y = QMultiHeadAttention(
        2,
        key_dim,
        value_dim=value_dim,
        use_bias=use_bias,
        kernel_quantizer="quantized_bits(8,0,alpha=1)",
        bias_quantizer="quantized_bits(8,0,alpha=1)",
        query_output_quantizer="quantized_bits(10,3,alpha=1)",
        key_output_quantizer="quantized_bits(10,3,alpha=1)",
        value_output_quantizer="quantized_bits(10,3,alpha=1)",
        score_quantizer="quantized_bits(12,4,alpha=1)",
        probability_quantizer="quantized_bits(10,1,alpha=1)",
        context_quantizer="quantized_bits(10,3,alpha=1)",
        output_quantizer="quantized_bits(12,4,alpha=1)",
        name="qmha",
    )(x, x, use_causal_mask=causal)
    return tf.keras.Model(x, y)


@pytest.mark.parametrize(
    ("causal", "key_dim", "value_dim", "use_bias"),
    [(False, 4, None, True), (True, 8, 6, True), (True, 3, None, False)],
)
def test_emulation_equals_layer_forward(
    causal: bool, key_dim: int, value_dim: int | None, use_bias: bool
) -> None:
    model = _model(causal, key_dim, value_dim, use_bias)
    # train one step so weights are not the initial ones
    rng = np.random.default_rng(0)
    x = quantize(rng.normal(size=(128, T, D)) * 1.5, IN_TYPE)
    model.compile("adam", "mse")
    model.fit(x, rng.normal(size=(128, T, D)), epochs=1, verbose=0)
    cfg = {"default_precision": "ap_fixed<24,8>", "layers": {"x": {"result": IN_TYPE}}}
    proj = hlsgen.convert(model, cfg)
    assert use_hardware_softmax(model, cfg) == ["qmha"]
    want = model.predict(x, verbose=0).astype(np.float64)
    np.testing.assert_array_equal(proj.predict(x), want)


def test_hardware_softmax_needs_quantizers() -> None:
    x = tf.keras.Input((T, D))
    model = tf.keras.Model(x, QMultiHeadAttention(2, 4, name="plain")(x, x))
    with pytest.raises(ValueError, match="plain.*score and a probability quantizer"):
        use_hardware_softmax(model)
