"""RotaryEmbedding: rotary position embedding as a Keras layer of its own.

The attention layers of hlsgen apply RoPE inside (``rope_dim``); this layer applies it to any tensor
``[B, T, n_heads * head_dim]``, e.g. to a model's embeddings. Token ``t`` is at position ``t``. The
tables come from :func:`hlsgen.ir.ops.decode.rope_tables` (the reference and the hardware use the same
entries); ``table_quantizer`` fixes their type (None: float tables in Keras, the config's
``decode.rope_table_type`` in hlsgen); ``output_quantizer`` types the rotated result.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from tensorflow.python.autograph.impl.api import autograph_artifact

from ._decoder import QuantizerSlots, apply_rope, check_positive, check_rope_dim, input_features

__all__ = ["RotaryEmbedding"]


@tf.keras.utils.register_keras_serializable(package="hlsgen")
class RotaryEmbedding(QuantizerSlots, tf.keras.layers.Layer):
    """Rotary position embedding over ``[B, T, n_heads * head_dim]``.

    Args:
        head_dim: width of one head; the input's last axis must be a multiple of it.
        rope_dim: rotated dimensions at the start of each head (even; default ``head_dim``): pairs
            ``(i, i + rope_dim/2)`` rotate by ``position * base**(-2i/rope_dim)`` (GPT-NeoX / Llama's
            half-split pairing); the rest of each head passes through.
        base: angle base.
        table_quantizer: QKeras quantizer giving the cos/sin table type (a ``quantized_bits``), or None.
        output_quantizer: QKeras quantizer of the result, or None.
    """

    _SLOTS = (
        ("rope_table", "table_quantizer", None),
        ("output", "output_quantizer", None),
    )
    _SHORTCUTS = ()

    def __init__(
        self,
        head_dim: int,
        rope_dim: int | None = None,
        base: float = 10000.0,
        table_quantizer: Any = None,
        output_quantizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._autocast = False
        check_positive(self.name, head_dim=head_dim)
        self.head_dim = int(head_dim)
        rd = self.head_dim if rope_dim is None else rope_dim
        if rd == 0:
            raise ValueError(f"{self.name}: rope_dim must be a positive even integer, got 0")
        self.rope_dim = check_rope_dim(self.name, rd, self.head_dim)
        self.base = float(base)
        self._init_quantizers(
            {"table_quantizer": table_quantizer, "output_quantizer": output_quantizer}, self.name
        )

    def build(self, input_shape: Any) -> None:
        _, d = input_features(self.name, input_shape)
        if d % self.head_dim:
            raise ValueError(
                f"{self.name}: input features ({d}) are not a multiple of head_dim ({self.head_dim})"
            )
        super().build(input_shape)

    @autograph_artifact
    def call(self, x: Any) -> tf.Tensor:
        x64 = tf.cast(x, tf.float64)
        n = x.shape[1]
        cos, sin = self.rope_constants(n, self.rope_dim, self.base)
        shape = tf.shape(x64)
        h = tf.reshape(x64, tf.concat([shape[:2], [-1, self.head_dim]], 0))
        y = tf.reshape(apply_rope(h, self.rope_dim, cos, sin), shape)
        return tf.cast(self._quant("output", y), self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        return tf.TensorShape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "rope_dim": self.rope_dim,
            "base": self.base,
            **self._quantizer_items(),
        }
