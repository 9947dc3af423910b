"""GroupedQueryAttention: causal self-attention with fewer key/value heads than query heads.

Per query head ``h`` (key/value head ``g = h // (num_heads // num_kv_heads)``)::

    Q = query_output_q(x @ query_kernel_q(Wq) + query_bias_q(bq))     # [B, T, H*head_dim]
    K = key_output_q(x @ key_kernel_q(Wk) + key_bias_q(bk))           # [B, T, Hkv*head_dim]
    V = value_output_q(x @ value_kernel_q(Wv) + value_bias_q(bv))     # [B, T, Hkv*value_dim]
    Q, K = query_output_q(rope(Q)), key_output_q(rope(K))             # when rope_dim > 0
    S = score_q((Q_h . K_g^T) * attention_scale(head_dim))            # [B, H, T, T]
    P = probability_q(causal_softmax(S))                              # future keys exactly 0
    C = context_q(concat_h(P_h . V_g))                                # [B, T, H*value_dim]
    out = output_q(C @ Wo + bo)

``num_kv_heads == 1`` is multi-query attention, ``num_kv_heads == num_heads`` multi-head attention.
Kernels are 2-D with head-major columns (column ``h*head_dim + j``), the layout of hlsgen's IR. RoPE
(``rope_dim > 0``) rotates the first ``rope_dim`` dimensions of every query and key head; its result is
cast back to the projection's type (the projection's output quantizer again), as the hardware does.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from hlsgen.ir.ops.attention import kv_head_index

from ._decoder import (
    ATTENTION_SLOTS,
    ROPE_TABLE_SLOT,
    CausalSelfAttention,
    apply_rope,
    check_positive,
    check_rope_dim,
    initializer,
    input_features,
    projection_slots,
    score_scale,
    split_heads,
)

__all__ = ["GroupedQueryAttention"]

_SLOTS: tuple[tuple[str, str, str | None], ...] = (
    *projection_slots("query"),
    *projection_slots("key"),
    *projection_slots("value"),
    *ATTENTION_SLOTS,
    ROPE_TABLE_SLOT,
)


@tf.keras.utils.register_keras_serializable(package="hlsgen")
class GroupedQueryAttention(CausalSelfAttention, tf.keras.layers.Layer):
    """Causal grouped-query self-attention with QKeras quantizers on every projection.

    Args:
        num_heads: query heads H.
        num_kv_heads: key/value heads (H must be a multiple; 1 = multi-query attention).
        head_dim: size of each query/key head.
        value_dim: size of each value head (default ``head_dim``).
        use_bias: whether the four projections have biases.
        output_dim: size of the output's last axis (default: the input's).
        rope_dim: 0 for no rotary embedding, else the rotated dimensions of each query/key head (even).
        rope_base: RoPE angle base.
        kernel_quantizer, bias_quantizer: used for every kernel / bias whose own quantizer is None.
        query_kernel_quantizer ... output_quantizer: QKeras quantizers or their strings; None = float.
        rope_table_quantizer: type of the RoPE cos/sin tables (None: float tables; hlsgen then uses the
            config's ``decode.rope_table_type``).

    Call: ``layer(x)`` with ``x [B, T, D]``; returns ``[B, T, output_dim]``. Always causal.
    Attribute ``softmax_fn`` (not serialised): None or ``(scores, mask) -> probs`` on float64 tensors.
    """

    _SLOTS = _SLOTS
    _WEIGHT_SLOTS = tuple(s for s, _, _ in _SLOTS if s.endswith(("_kernel", "_bias")))

    def __init__(
        self,
        num_heads: int,
        num_kv_heads: int,
        head_dim: int,
        value_dim: int | None = None,
        use_bias: bool = True,
        output_dim: int | None = None,
        rope_dim: int = 0,
        rope_base: float = 10000.0,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        quant = {k: kwargs.pop(k, None) for k in self.quantizer_args()}
        super().__init__(**kwargs)
        self._autocast = False
        check_positive(self.name, num_heads=num_heads, num_kv_heads=num_kv_heads, head_dim=head_dim)
        if num_heads % num_kv_heads:
            raise ValueError(
                f"{self.name}: num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads})"
            )
        if value_dim is not None:
            check_positive(self.name, value_dim=value_dim)
        if output_dim is not None:
            check_positive(self.name, output_dim=output_dim)
        self.num_heads = int(num_heads)
        self.num_kv_heads = int(num_kv_heads)
        self.head_dim = int(head_dim)
        self.value_dim = int(value_dim) if value_dim else self.head_dim
        self.use_bias = bool(use_bias)
        self.output_dim = int(output_dim) if output_dim else None
        self.rope_dim = check_rope_dim(self.name, rope_dim, self.head_dim)
        self.rope_base = float(rope_base)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.scale = score_scale(self.head_dim)
        self.softmax_fn = None
        self._init_quantizers(quant, self.name)

    def build(self, input_shape: Any) -> None:
        _, d = input_features(self.name, input_shape)
        H, G, hd, vd = self.num_heads, self.num_kv_heads, self.head_dim, self.value_dim
        out = self.output_dim or d
        for name, n_in, n_out in (
            ("query", d, H * hd),
            ("key", d, G * hd),
            ("value", d, G * vd),
            ("output", H * vd, out),
        ):
            k = self.add_weight(
                name=f"{name}_kernel", shape=(n_in, n_out), initializer=initializer(self.kernel_initializer)
            )
            setattr(self, f"{name}_kernel", k)
            b = None
            if self.use_bias:
                b = self.add_weight(
                    name=f"{name}_bias", shape=(n_out,), initializer=initializer(self.bias_initializer)
                )
            setattr(self, f"{name}_bias", b)
        super().build(input_shape)

    def _forward(self, x: Any) -> dict[str, tf.Tensor]:
        x = tf.cast(x, tf.float64)
        H, G, hd, vd = self.num_heads, self.num_kv_heads, self.head_dim, self.value_dim
        q = self._project("query", x)
        k = self._project("key", x)
        v = self._project("value", x)
        q4, k4, v4 = split_heads(q, H, hd), split_heads(k, G, hd), split_heads(v, G, vd)
        if self.rope_dim:
            cos, sin = self.rope_constants(x.shape[1], self.rope_dim, self.rope_base)
            q4 = self._quant("query_output", apply_rope(q4, self.rope_dim, cos, sin))
            k4 = self._quant("key_output", apply_rope(k4, self.rope_dim, cos, sin))
        idx = kv_head_index(H, G)
        kg, vg = tf.gather(k4, idx, axis=2), tf.gather(v4, idx, axis=2)
        scores = tf.einsum("bqhd,bkhd->bhqk", q4, kg) * tf.constant(self.scale, tf.float64)
        scores = self._quant("score", scores)
        probs, ctx, out = self._attend(scores, vg)
        return {
            "query": q4,
            "key": k4,
            "value": v4,
            "scores": scores,
            "probabilities": probs,
            "context": ctx,
            "output": out,
        }

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "num_kv_heads": self.num_kv_heads,
            "head_dim": self.head_dim,
            "value_dim": self.value_dim,
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "rope_dim": self.rope_dim,
            "rope_base": self.rope_base,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            **self._quantizer_items(),
        }
