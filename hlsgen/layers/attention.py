"""QMultiHeadAttention: multi-head attention for quantization-aware training, QKeras style.

The layer holds the same weights as ``tf.keras.layers.MultiHeadAttention`` (same shapes, same order) and
computes, per head ``h``::

    Q = query_output_q(query @ query_kernel_q(Wq) + query_bias_q(bq))      # [B, Tq, H, key_dim]
    K = key_output_q(key @ key_kernel_q(Wk) + key_bias_q(bk))              # [B, Tv, H, key_dim]
    V = value_output_q(value @ value_kernel_q(Wv) + value_bias_q(bv))      # [B, Tv, H, value_dim]
    S = score_q((Q_h . K_h^T) * attention_scale(key_dim))                   # [B, H, Tq, Tv]
    P = probability_q(softmax(S) * mask)                                    # masked entries exactly 0
    C = context_q(concat_h(P_h . V_h))                                      # [B, Tq, H*value_dim], index h*value_dim+j
    out = output_q(C @ Wo + bo)                                             # [B, Tq, out_dim]

Every step runs in float64: quantized values and their products and sums are exact there while they stay
below 2**53 (e.g. a 16-bit input times an 8-bit weight summed over 2**20 terms), so the layer's numbers
are the ones the fixed-point hardware computes, up to the softmax, which is float unless ``softmax_fn``
replaces it. Quantizers that hlsgen maps (:func:`hlsgen.quant.quantizer_to_type`) give their exact value
on the float64 input (QKeras itself would round it to float32 first); the straight-through gradients are
QKeras's own. Weights quantized with ``alpha="auto_po2"`` take QKeras's value, exact because the weights
are float32 and the quantized values have at most 24 significant bits (``bits <= 24``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.autograph.impl.api import autograph_artifact

from hlsgen.fixed import FixedType
from hlsgen.ir.ops.attention import attention_scale as _ir_attention_scale

from ._decoder import (
    ATTENTION_SLOTS,
    QuantizerSlots,
    initializer,
    masked_probabilities,
    merge_heads,
    projection_slots,
)

__all__ = ["ATTENTION_SCALE_TYPE", "QMultiHeadAttention", "attention_scale"]

#: The type of the 1/sqrt(key_dim) constant when key_dim is not a power of 4 (the hardware uses the same).
ATTENTION_SCALE_TYPE = FixedType.parse("ap_ufixed<18,0,AP_RND>")


def attention_scale(key_dim: int) -> float:
    """The score scale 1/sqrt(key_dim) as the hardware uses it (see :func:`hlsgen.ir.ops.attention.attention_scale`):
    exactly ``2**-n`` when ``key_dim == 4**n``, otherwise rounded to 18 fractional bits."""
    if isinstance(key_dim, bool) or not isinstance(key_dim, int | np.integer) or key_dim < 1:
        raise ValueError(f"key_dim must be a positive integer, got {key_dim!r}")
    return _ir_attention_scale(int(key_dim))[0]


#: Quantizer slots: (slot, constructor argument, shortcut argument used when the specific one is None).
_SLOTS: tuple[tuple[str, str, str | None], ...] = (
    *projection_slots("query"),
    *projection_slots("key"),
    *projection_slots("value"),
    *ATTENTION_SLOTS,
)


def _maybe_init_scope(layer: tf.keras.layers.Layer):
    """What Keras MHA uses to create variables from inside ``call`` (keras utils' maybe_init_scope)."""
    if tf.compat.v1.executing_eagerly_outside_functions():
        return tf.init_scope()
    import contextlib

    return contextlib.nullcontext()


@tf.keras.utils.register_keras_serializable(package="hlsgen")
class QMultiHeadAttention(QuantizerSlots, tf.keras.layers.Layer):
    """Multi-head attention with QKeras quantizers on weights, projections, scores, probabilities and context.

    Args:
        num_heads: number of heads H.
        key_dim: size of each query/key head.
        value_dim: size of each value head (default ``key_dim``).
        use_bias: whether the four projections have biases.
        output_shape: size of the output's last axis (default: the query's).
        kernel_initializer, bias_initializer: as in Keras.
        kernel_quantizer, bias_quantizer: used for every kernel / bias whose own quantizer is None.
        query_kernel_quantizer ... output_quantizer: QKeras quantizer objects or strings; None = float.
        score_quantizer: applied to the scaled scores entering the softmax.
        probability_quantizer: applied to the softmax output.
        context_quantizer: applied to P . V before the output projection.

    Call arguments follow ``tf.keras.layers.MultiHeadAttention``: ``query [B, Tq, Dq]``,
    ``value [B, Tv, Dv]``, ``key [B, Tv, Dk]`` (defaults to ``value``), ``attention_mask [B, Tq, Tv]``
    (1/True = attend), ``use_causal_mask``, ``return_attention_scores`` (then the probabilities P
    ``[B, H, Tq, Tv]`` are returned as well). Keras masks of query/key/value are merged in like Keras MHA.
    A masked position gets probability exactly 0; a row with every position masked gets all-zero
    probabilities (and so a zero context).

    Attribute ``softmax_fn``: None (float ``tf.nn.softmax``) or a callable ``(scores, mask) -> probs`` on
    float64 tensors, ``scores [B, H, Tq, Tv]`` (quantized, not masked) and ``mask`` (float64 0/1
    broadcastable to the scores, or None). The layer multiplies its result by the mask, then applies the
    probability quantizer. It is not serialised.

    Quantizer slots (:attr:`quantizers`): query_kernel, query_bias, query_output, key_*, value_*, score,
    probability, context, output_kernel, output_bias, output.
    """

    _SLOTS = _SLOTS
    _WEIGHT_SLOTS = tuple(s for s, _, _ in _SLOTS if s.endswith(("_kernel", "_bias")))

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        use_bias: bool = True,
        output_shape: int | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_quantizer: Any = None,
        bias_quantizer: Any = None,
        query_kernel_quantizer: Any = None,
        query_bias_quantizer: Any = None,
        query_output_quantizer: Any = None,
        key_kernel_quantizer: Any = None,
        key_bias_quantizer: Any = None,
        key_output_quantizer: Any = None,
        value_kernel_quantizer: Any = None,
        value_bias_quantizer: Any = None,
        value_output_quantizer: Any = None,
        score_quantizer: Any = None,
        probability_quantizer: Any = None,
        context_quantizer: Any = None,
        output_kernel_quantizer: Any = None,
        output_bias_quantizer: Any = None,
        output_quantizer: Any = None,
        **kwargs: Any,
    ) -> None:
        args = locals()
        given = {k: args[k] for k in self.quantizer_args()}  # the quantizer arguments as given
        super().__init__(**kwargs)
        self.supports_masking = True
        # float64 inputs keep their precision (Keras would otherwise cast them to the layer's float32)
        self._autocast = False
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.use_bias = bool(use_bias)
        if output_shape is not None and not isinstance(output_shape, int | np.integer):
            if isinstance(output_shape, list | tuple) and len(output_shape) == 1:
                output_shape = output_shape[0]
            else:
                raise ValueError(
                    f"output_shape must be an int (the output's last axis), got {output_shape!r}"
                )
        self.output_dim = int(output_shape) if output_shape else None
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.scale = attention_scale(self.key_dim)
        self.softmax_fn: Callable[[tf.Tensor, tf.Tensor | None], tf.Tensor] | None = None
        self._init_quantizers(given, self.name)
        self._built_from_signature = False
        self._query_shape = self._key_shape = self._value_shape = None

    def _has_weights(self) -> bool:
        return self._built_from_signature

    # -- building -------------------------------------------------------------------------------------
    def _build_from_signature(self, query: Any, value: Any, key: Any = None) -> None:
        def shape(t: Any) -> tf.TensorShape:
            return tf.TensorShape(t.shape if hasattr(t, "shape") else t)

        q_shape, v_shape = shape(query), shape(value)
        k_shape = v_shape if key is None else shape(key)
        for what, s in (("query", q_shape), ("value", v_shape), ("key", k_shape)):
            if s.rank != 3 or s[-1] is None:
                raise ValueError(
                    f"{self.name}: {what} must be [batch, time, features] with known features, got {s}"
                )
        self._query_shape, self._value_shape, self._key_shape = q_shape, v_shape, k_shape
        self._built_from_signature = True
        H, kd, vd = self.num_heads, self.key_dim, self.value_dim
        out_dim = self.output_dim or int(q_shape[-1])

        with _maybe_init_scope(self):
            for name, d_in, d_head in (
                ("query", int(q_shape[-1]), kd),
                ("key", int(k_shape[-1]), kd),
                ("value", int(v_shape[-1]), vd),
            ):
                k = self.add_weight(
                    name=f"{name}_kernel",
                    shape=(d_in, H, d_head),
                    initializer=initializer(self.kernel_initializer),
                )
                setattr(self, f"{name}_kernel", k)
                b = None
                if self.use_bias:
                    b = self.add_weight(
                        name=f"{name}_bias", shape=(H, d_head), initializer=initializer(self.bias_initializer)
                    )
                setattr(self, f"{name}_bias", b)
            self.output_kernel = self.add_weight(
                name="output_kernel", shape=(H, vd, out_dim), initializer=initializer(self.kernel_initializer)
            )
            self.output_bias = None
            if self.use_bias:
                self.output_bias = self.add_weight(
                    name="output_bias", shape=(out_dim,), initializer=initializer(self.bias_initializer)
                )

    # -- the computation ------------------------------------------------------------------------------
    def _project(self, name: str, x: tf.Tensor) -> tf.Tensor:
        y = tf.einsum("btd,dhk->bthk", x, self._weight(f"{name}_kernel"))
        if self.use_bias:
            y = y + self._weight(f"{name}_bias")
        return self._quant(f"{name}_output", y)

    def _forward(self, query: Any, value: Any, key: Any, mask: tf.Tensor | None) -> dict[str, tf.Tensor]:
        f64 = tf.float64
        xq, xk, xv = (tf.cast(t, f64) for t in (query, key, value))
        q = self._project("query", xq)
        k = self._project("key", xk)
        v = self._project("value", xv)
        scores = tf.einsum("bqhk,bvhk->bhqv", q, k) * tf.constant(self.scale, f64)
        scores = self._quant("score", scores)
        m = None if mask is None else tf.cast(mask, f64)[:, tf.newaxis]  # [B or 1, 1, Tq, Tv]
        probs = self._quant("probability", masked_probabilities(scores, m, self.softmax_fn))
        context = tf.einsum("bhqv,bvhd->bqhd", probs, v)
        context = self._quant("context", merge_heads(context, self.num_heads * self.value_dim))
        wo = self._weight("output_kernel")
        out = tf.einsum("bqc,co->bqo", context, tf.reshape(wo, (self.num_heads * self.value_dim, -1)))
        if self.use_bias:
            out = out + self._weight("output_bias")
        out = self._quant("output", out)
        return {
            "query": q,
            "key": k,
            "value": v,
            "scores": scores,
            "probabilities": probs,
            "context": context,
            "output": out,
        }

    def _compute_attention_mask(
        self, query: Any, value: Any, key: Any, attention_mask: Any, use_causal_mask: bool
    ) -> tf.Tensor | None:
        """Keras MHA's merge of the query/value/key Keras masks, the causal mask and ``attention_mask``."""
        mask = None

        def merge(a: tf.Tensor | None, b: tf.Tensor) -> tf.Tensor:
            return b if a is None else tf.logical_and(a, b)

        qm = getattr(query, "_keras_mask", None)
        vm = getattr(value, "_keras_mask", None)
        km = None if key is value else getattr(key, "_keras_mask", None)
        if qm is not None:
            mask = merge(mask, tf.cast(qm, tf.bool)[:, :, tf.newaxis])
        if vm is not None:
            mask = merge(mask, tf.cast(vm, tf.bool)[:, tf.newaxis, :])
        if km is not None:
            mask = merge(mask, tf.cast(km, tf.bool)[:, tf.newaxis, :])
        if use_causal_mask:
            tq, tv = tf.shape(query)[1], tf.shape(value)[1]
            mask = merge(mask, tf.linalg.band_part(tf.ones((1, tq, tv), tf.bool), -1, 0))
        if attention_mask is not None:
            mask = merge(mask, tf.cast(attention_mask, tf.bool))
        return mask

    # call() has Python control flow on static values only. Keras runs subclassed layers through
    # autograph, which here only slows tracing down (by seconds); marked as an autograph artifact, the
    # function is left alone while Keras still reads its signature (do_not_convert would hide it).
    @autograph_artifact
    def call(
        self,
        query: Any,
        value: Any,
        key: Any = None,
        attention_mask: Any = None,
        return_attention_scores: bool = False,
        training: Any = None,
        use_causal_mask: bool = False,
    ) -> Any:
        if not self._built_from_signature:
            self._build_from_signature(query, value, key)
        if key is None:
            key = value
        mask = self._compute_attention_mask(query, value, key, attention_mask, use_causal_mask)
        t = self._forward(query, value, key, mask)
        out = tf.cast(t["output"], self.compute_dtype)
        if return_attention_scores:
            return out, tf.cast(t["probabilities"], self.compute_dtype)
        return out

    def intermediates(
        self,
        query: Any,
        value: Any,
        key: Any = None,
        attention_mask: Any = None,
        use_causal_mask: bool = False,
    ) -> dict[str, np.ndarray]:
        """Every stage as float64 NumPy arrays (eager): query/key/value ``[B, T, H, d]``, scores and
        probabilities ``[B, H, Tq, Tv]``, context ``[B, Tq, H*value_dim]``, output ``[B, Tq, out_dim]``."""
        query = tf.convert_to_tensor(query)
        value = tf.convert_to_tensor(value)
        key = value if key is None else tf.convert_to_tensor(key)
        if not self._built_from_signature:
            self._build_from_signature(query, value, key)
        mask = self._compute_attention_mask(query, value, key, attention_mask, use_causal_mask)
        return {k: v.numpy() for k, v in self._forward(query, value, key, mask).items()}

    # -- Keras plumbing -------------------------------------------------------------------------------
    def compute_output_shape(
        self, query_shape: Any, value_shape: Any, key_shape: Any = None
    ) -> tf.TensorShape:
        query_shape = tf.TensorShape(query_shape)
        return query_shape[:-1].concatenate([self.output_dim or query_shape[-1]])

    def get_config(self) -> dict[str, Any]:
        def as_list(s: tf.TensorShape | None) -> list | None:
            return None if s is None else s.as_list()

        config = {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "use_bias": self.use_bias,
            "output_shape": self.output_dim,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            **self._quantizer_items(),
            "query_shape": as_list(self._query_shape),
            "key_shape": as_list(self._key_shape),
            "value_shape": as_list(self._value_shape),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> QMultiHeadAttention:
        config = dict(config)
        shapes = [config.pop(k, None) for k in ("query_shape", "value_shape", "key_shape")]
        layer = cls(**config)
        if None not in shapes:
            layer._build_from_signature(*shapes)
        return layer
