"""MultiHeadLatentAttention: DeepSeek-V2's attention with a compressed key/value cache.

The input is projected down to a latent ``c`` of ``kv_latent_dim`` values per token, shared by all heads
(what decode caches), and a small RoPE key ``k_r`` of ``rope_dim`` values per token, also shared.
Keys and values are up-projections of the latent::

    c   = kv_latent_output_q(x @ Wdkv + b)                                     # [B, T, kv_latent_dim]
    k_r = key_rope_output_q(rope(key_rope_output_q(x @ Wkr + b)))              # [B, T, rope_dim]
    s   = q_latent_output_q(x @ Wdq + b)   if q_latent_dim else x              # query source
    q   = query_output_q(s @ Wuq + b)                                          # [B, T, H*head_dim]
    q_r = query_rope_output_q(rope(query_rope_output_q(s @ Wqr + b)))          # [B, T, H*rope_dim]
    k   = c @ key_kernel_q(Wuk)            (exact: no bias, no quantizer)      # [B, T, H*head_dim]
    v   = c @ value_kernel_q(Wuv)          (exact)                             # [B, T, H*value_dim]
    S   = score_q((q_h . k_h + q_r,h . k_r) * attention_scale(head_dim + rope_dim))
    P   = probability_q(causal_softmax(S)); C = context_q(concat_h(P_h . v_h))
    out = output_q(C @ Wo + bo)

Keys and values are kept exact (no rounding between the latent and the scores or the context): that is
what lets decode absorb the up-projections (``q_h . (c W_UK,h) = (q_h W_UK,h^T) . c`` and
``P_h (c W_UV,h) = (P_h c) W_UV,h`` hold exactly in integers), so that the absorbed and the recompute
forms of the hardware both equal prefill bit for bit. DeepSeek-V2's RMS norms of the latents are not
part of the layer (add a LayerNormalization before it if needed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

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

__all__ = ["MultiHeadLatentAttention"]


_SLOTS: tuple[tuple[str, str, str | None], ...] = (
    *projection_slots("kv_latent"),
    *projection_slots("key_rope"),
    *projection_slots("q_latent"),
    *projection_slots("query"),
    *projection_slots("query_rope"),
    ("key_kernel", "key_kernel_quantizer", "kernel_quantizer"),
    ("value_kernel", "value_kernel_quantizer", "kernel_quantizer"),
    *ATTENTION_SLOTS,
    ROPE_TABLE_SLOT,
)


@tf.keras.utils.register_keras_serializable(package="hlsgen")
class MultiHeadLatentAttention(CausalSelfAttention, tf.keras.layers.Layer):
    """Causal multi-head latent attention (DeepSeek-V2) with QKeras quantizers on every projection.

    Args:
        num_heads: heads H.
        head_dim: size of each head's query/key part without RoPE.
        kv_latent_dim: size of the shared key/value latent (the cache holds it; >= 1).
        value_dim: size of each value head (default ``head_dim``).
        q_latent_dim: 0 for queries straight from the input, else the size of a query latent.
        rope_dim: 0 for no RoPE, else the size (even) of the decoupled RoPE query per head and of the
            RoPE key shared by the heads.
        rope_base: RoPE angle base.
        use_bias: biases on the down-projections, the query projections and the output projection
            (never on the key/value up-projections).
        output_dim: size of the output's last axis (default: the input's).
        kernel_quantizer, bias_quantizer: shortcuts for every kernel / bias quantizer left None.
        kv_latent_*_quantizer, key_rope_*, q_latent_*, query_*, query_rope_* (kernel, bias, output),
        key_kernel_quantizer (W_UK), value_kernel_quantizer (W_UV), score_quantizer,
        probability_quantizer, context_quantizer, output_kernel/bias/output quantizers,
        rope_table_quantizer: QKeras quantizers or their strings; None = float.

    Call: ``layer(x)`` with ``x [B, T, D]``; returns ``[B, T, output_dim]``. Always causal.
    """

    _SLOTS = _SLOTS
    _WEIGHT_SLOTS = tuple(s for s, _, _ in _SLOTS if s.endswith(("_kernel", "_bias")))

    def __init__(
        self,
        num_heads: int,
        head_dim: int,
        kv_latent_dim: int,
        value_dim: int | None = None,
        q_latent_dim: int = 0,
        rope_dim: int = 0,
        rope_base: float = 10000.0,
        use_bias: bool = False,
        output_dim: int | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        quant = {k: kwargs.pop(k, None) for k in self.quantizer_args()}
        super().__init__(**kwargs)
        self._autocast = False
        if kv_latent_dim is not None and not isinstance(kv_latent_dim, bool) and kv_latent_dim == 0:
            raise ValueError(
                f"{self.name}: kv_latent_dim must be >= 1 (a zero latent holds no keys or values)"
            )
        check_positive(self.name, num_heads=num_heads, head_dim=head_dim, kv_latent_dim=kv_latent_dim)
        if value_dim is not None:
            check_positive(self.name, value_dim=value_dim)
        if output_dim is not None:
            check_positive(self.name, output_dim=output_dim)
        if q_latent_dim is None:
            q_latent_dim = 0
        if (
            isinstance(q_latent_dim, bool)
            or not isinstance(q_latent_dim, int | np.integer)
            or q_latent_dim < 0
        ):
            raise ValueError(
                f"{self.name}: q_latent_dim must be 0 (no query latent) or positive, got {q_latent_dim!r}"
            )
        self.num_heads = int(num_heads)
        self.head_dim = int(head_dim)
        self.kv_latent_dim = int(kv_latent_dim)
        self.value_dim = int(value_dim) if value_dim else self.head_dim
        self.q_latent_dim = int(q_latent_dim)
        self.rope_dim = check_rope_dim(self.name, rope_dim)
        self.rope_base = float(rope_base)
        self.use_bias = bool(use_bias)
        self.output_dim = int(output_dim) if output_dim else None
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.scale = score_scale(self.head_dim + self.rope_dim)
        self.softmax_fn = None
        self._init_quantizers(quant, self.name)

    # -- sizes ----------------------------------------------------------------------------------------
    def cache_values_per_token(self) -> int:
        """Values decode caches per token: the latent and the RoPE key."""
        return self.kv_latent_dim + self.rope_dim

    def mha_cache_values_per_token(self) -> int:
        """Values per token that multi-head attention with the same heads would cache: keys and values of
        ``head_dim`` / ``value_dim`` per head (the issue's comparison; RoPE dimensions not counted)."""
        return self.num_heads * (self.head_dim + self.value_dim)

    def build(self, input_shape: Any) -> None:
        _, d = input_features(self.name, input_shape)
        H, hd, vd, dc, dr, dq = (
            self.num_heads,
            self.head_dim,
            self.value_dim,
            self.kv_latent_dim,
            self.rope_dim,
            self.q_latent_dim,
        )
        q_src = dq or d
        shapes = [("kv_latent", d, dc, True)]
        if dr:
            shapes.append(("key_rope", d, dr, True))
        if dq:
            shapes.append(("q_latent", d, dq, True))
        shapes.append(("query", q_src, H * hd, True))
        if dr:
            shapes.append(("query_rope", q_src, H * dr, True))
        shapes += [
            ("key", dc, H * hd, False),
            ("value", dc, H * vd, False),
            ("output", H * vd, self.output_dim or d, True),
        ]
        for name in ("kv_latent", "key_rope", "q_latent", "query", "query_rope", "key", "value", "output"):
            setattr(self, f"{name}_kernel", None)
            setattr(self, f"{name}_bias", None)
        for name, n_in, n_out, biased in shapes:
            k = self.add_weight(
                name=f"{name}_kernel", shape=(n_in, n_out), initializer=initializer(self.kernel_initializer)
            )
            setattr(self, f"{name}_kernel", k)
            if biased and self.use_bias:
                b = self.add_weight(
                    name=f"{name}_bias", shape=(n_out,), initializer=initializer(self.bias_initializer)
                )
                setattr(self, f"{name}_bias", b)
        super().build(input_shape)

    # -- the computation ------------------------------------------------------------------------------
    def _forward(self, x: Any) -> dict[str, tf.Tensor]:
        x = tf.cast(x, tf.float64)
        H, hd, vd, dr = self.num_heads, self.head_dim, self.value_dim, self.rope_dim
        c = self._project("kv_latent", x)
        src = self._project("q_latent", x) if self.q_latent_dim else x
        q = split_heads(self._project("query", src), H, hd)
        k = split_heads(tf.einsum("btc,co->bto", c, self._weight("key_kernel")), H, hd)
        v = split_heads(tf.einsum("btc,co->bto", c, self._weight("value_kernel")), H, vd)
        scores = tf.einsum("bqhd,bkhd->bhqk", q, k)
        out: dict[str, tf.Tensor] = {"latent": c, "query": q, "key": k, "value": v}
        if dr:
            cos, sin = self.rope_constants(x.shape[1], dr, self.rope_base)
            kr = split_heads(self._project("key_rope", x), 1, dr)
            kr = self._quant("key_rope_output", apply_rope(kr, dr, cos, sin))
            qr = split_heads(self._project("query_rope", src), H, dr)
            qr = self._quant("query_rope_output", apply_rope(qr, dr, cos, sin))
            scores = scores + tf.einsum("bqhd,bkd->bhqk", qr, kr[:, :, 0, :])
            out.update(key_rope=kr[:, :, 0, :], query_rope=qr)
        scores = self._quant("score", scores * tf.constant(self.scale, tf.float64))
        probs, ctx, y = self._attend(scores, v)
        out.update(scores=scores, probabilities=probs, context=ctx, output=y)
        return out

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "head_dim": self.head_dim,
            "kv_latent_dim": self.kv_latent_dim,
            "value_dim": self.value_dim,
            "q_latent_dim": self.q_latent_dim,
            "rope_dim": self.rope_dim,
            "rope_base": self.rope_base,
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            **self._quantizer_items(),
        }
