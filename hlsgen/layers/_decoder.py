"""What the attention layers share: quantizer slots, exact float64 steps, heads, RoPE, masked softmax.

:class:`QuantizerSlots` serves every layer (:class:`~hlsgen.layers.QMultiHeadAttention` included);
:class:`CausalSelfAttention` holds the forward pieces the decoder layers (grouped-query and latent
attention) have in common. Every step runs in float64 as in :class:`~hlsgen.layers.QMultiHeadAttention`: a quantizer hlsgen maps
gives the exact value of its type (:func:`~hlsgen.layers._quantize.quantize_with`), products and sums of
quantized values are exact while they stay below 2**53, so the layer computes the numbers the
fixed-point hardware computes, up to the softmax (float).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.autograph.impl.api import autograph_artifact

from hlsgen.fixed import quantize
from hlsgen.ir.ops.attention import attention_scale as _ir_attention_scale
from hlsgen.ir.ops.rope import rope_tables

from ._quantize import deserialize_quantizer, quantize_with, serialize_quantizer, static_spec

#: Logit of masked (future) positions before the softmax; their probability is then zeroed as well.
_MASKED_LOGIT = -1e300

#: Table rows used when the sequence length is not known when the layer is traced.
DEFAULT_ROPE_POSITIONS = 4096


def check_positive(layer: str, **sizes: Any) -> None:
    """Raise naming ``layer`` when a size is not a positive integer."""
    for k, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{layer}: {k} must be a positive integer, got {v!r}")


def check_rope_dim(layer: str, rope_dim: Any, limit: int | None = None, what: str = "head_dim") -> int:
    """``rope_dim`` as an int: 0 (no RoPE) or even and positive (and <= ``limit``)."""
    if (
        isinstance(rope_dim, bool)
        or not isinstance(rope_dim, int | np.integer)
        or rope_dim < 0
        or rope_dim % 2
    ):
        raise ValueError(
            f"{layer}: rope_dim must be 0 (no RoPE) or a positive even integer, got {rope_dim!r}"
        )
    if limit is not None and rope_dim > limit:
        raise ValueError(f"{layer}: rope_dim ({rope_dim}) must not exceed {what} ({limit})")
    return int(rope_dim)


def score_scale(dim: int) -> float:
    """1/sqrt(dim) as the hardware uses it (exact for powers of 4, else 18 fractional bits)."""
    return _ir_attention_scale(int(dim))[0]


def projection_slots(name: str) -> tuple[tuple[str, str, str | None], ...]:
    """The quantizer slots of projection ``name``: kernel, bias (shortcuts kernel/bias_quantizer), output."""
    return (
        (f"{name}_kernel", f"{name}_kernel_quantizer", "kernel_quantizer"),
        (f"{name}_bias", f"{name}_bias_quantizer", "bias_quantizer"),
        (f"{name}_output", f"{name}_output_quantizer", None),
    )


#: The quantizer slots after the query/key/value projections: scores to output projection.
ATTENTION_SLOTS: tuple[tuple[str, str, str | None], ...] = (
    ("score", "score_quantizer", None),
    ("probability", "probability_quantizer", None),
    ("context", "context_quantizer", None),
    ("output_kernel", "output_kernel_quantizer", "kernel_quantizer"),
    ("output_bias", "output_bias_quantizer", "bias_quantizer"),
    ("output", "output_quantizer", None),
)

#: The quantizer slot of the RoPE cos/sin tables.
ROPE_TABLE_SLOT: tuple[str, str, str | None] = ("rope_table", "rope_table_quantizer", None)


class QuantizerSlots:
    """Quantizer bookkeeping of a layer: ``_SLOTS`` lists ``(slot, constructor argument, shortcut)``; a
    slot whose own argument is None takes its shortcut's quantizer (``kernel_quantizer`` ...)."""

    _SLOTS: tuple[tuple[str, str, str | None], ...] = ()
    _SHORTCUTS: tuple[str, ...] = ("kernel_quantizer", "bias_quantizer")
    _WEIGHT_SLOTS: tuple[str, ...] = ()

    @classmethod
    def quantizer_args(cls) -> tuple[str, ...]:
        return cls._SHORTCUTS + tuple(arg for _, arg, _ in cls._SLOTS)

    def _init_quantizers(self, given: dict[str, Any], name: str) -> None:
        self._quantizer_config = {k: serialize_quantizer(given.get(k)) for k in self.quantizer_args()}
        quantizers: dict[str, Any] = {}
        specs: dict[str, Any] = {}
        for slot, arg, shortcut in self._SLOTS:
            ident = self._quantizer_config[arg]
            if ident is None and shortcut is not None:
                ident = self._quantizer_config[shortcut]
            q = deserialize_quantizer(ident)
            quantizers[slot] = q
            specs[slot] = static_spec(q, f"{name}.{slot}")
            if (
                q is not None
                and slot not in self._WEIGHT_SLOTS
                and isinstance(getattr(q, "alpha", None), str)
            ):
                warnings.warn(
                    f"{name}.{slot}: alpha={q.alpha!r} on an activation has a data-dependent scale; "
                    "hlsgen cannot convert it",
                    stacklevel=3,
                )
        # kept out of Keras's attribute tracking: quantizers hold no weights
        object.__setattr__(self, "_q", quantizers)
        object.__setattr__(self, "_specs", specs)

    @property
    def quantizers(self) -> dict[str, Any]:
        """The quantizer object of each slot (None = float), shortcuts resolved."""
        return dict(self._q)

    def _quant(self, slot: str, x: tf.Tensor) -> tf.Tensor:
        return quantize_with(self._q[slot], self._specs[slot], x)

    def _weight(self, slot: str) -> tf.Tensor | None:
        w = getattr(self, slot, None)
        if w is None:
            return None
        return self._quant(slot, tf.cast(w, tf.float64))

    def _quantizer_items(self) -> dict[str, Any]:
        return {k: self._quantizer_config[k] for k in self.quantizer_args()}

    def _has_weights(self) -> bool:
        """Whether the layer's weights exist (Keras's ``built``, unless the layer builds otherwise)."""
        return self.built

    def quantized_weights(self) -> dict[str, np.ndarray]:
        """The quantized weights as float64 arrays (what the hardware stores), keyed by slot."""
        if not self._has_weights():
            raise ValueError(f"{self.name}: the layer has no weights yet (call it or build it first)")
        out = {}
        for slot in self._WEIGHT_SLOTS:
            w = self._weight(slot)
            if w is not None:
                out[slot] = np.asarray(w.numpy(), dtype=np.float64)
        return out

    # -- RoPE -----------------------------------------------------------------------------------------
    def rope_constants(self, n: int | None, rope_dim: int, base: float) -> tuple[tf.Tensor, tf.Tensor]:
        """cos/sin ``[n, rope_dim/2]`` as float64 constants, quantized with ``rope_table`` when set."""
        rows = n if n is not None else DEFAULT_ROPE_POSITIONS
        cos, sin = rope_tables(rows, rope_dim, base)
        spec = self._specs.get("rope_table")
        if self._q.get("rope_table") is not None:
            if spec is None or spec.shift is not None:
                raise ValueError(
                    f"{self.name}: rope_table_quantizer must be a quantized_bits without a data-dependent alpha"
                )
            cos, sin = quantize(cos, spec.type), quantize(sin, spec.type)
        return tf.constant(cos, tf.float64), tf.constant(sin, tf.float64)


def apply_rope(x: tf.Tensor, rope_dim: int, cos: tf.Tensor, sin: tf.Tensor) -> tf.Tensor:
    """Rotate ``x [B, T, heads, head_dim]`` (float64): pairs ``(i, i + rope_dim/2)``, ``i < rope_dim/2``.

    ``cos``/``sin`` have at least T rows; row t is used for token t. Dimensions from ``rope_dim`` on pass
    through. Products and sums are exact in float64 for quantized inputs (the hardware's one cast is
    the caller's quantizer).
    """
    t = tf.shape(x)[1]
    r = rope_dim // 2
    c = cos[:t][tf.newaxis, :, tf.newaxis, :]
    s = sin[:t][tf.newaxis, :, tf.newaxis, :]
    a, b, rest = x[..., :r], x[..., r : 2 * r], x[..., 2 * r :]
    return tf.concat([a * c - b * s, b * c + a * s, rest], axis=-1)


def masked_probabilities(scores: tf.Tensor, mask: tf.Tensor | None, softmax_fn: Any = None) -> tf.Tensor:
    """Softmax of ``scores`` (float64) over the last axis where ``mask`` (float64 0/1 broadcastable to
    the scores; None = no mask) is 1: masked entries get exactly 0. ``softmax_fn(scores, mask)``, when
    given, replaces the float softmax."""
    if softmax_fn is not None:
        probs = tf.cast(softmax_fn(scores, mask), tf.float64)
    elif mask is None:
        probs = tf.nn.softmax(scores, axis=-1)
    else:
        probs = tf.nn.softmax(tf.where(mask > 0, scores, tf.constant(_MASKED_LOGIT, tf.float64)), axis=-1)
    return probs if mask is None else probs * mask


def causal_probabilities(scores: tf.Tensor, softmax_fn: Any = None) -> tf.Tensor:
    """Softmax of ``scores [B, H, T, T]`` over the keys with the causal mask: future keys get exactly 0."""
    t = tf.shape(scores)[-1]
    mask = tf.cast(tf.linalg.band_part(tf.ones((t, t), tf.float64), -1, 0), tf.float64)[
        tf.newaxis, tf.newaxis
    ]
    return masked_probabilities(scores, mask, softmax_fn)


def split_heads(x: tf.Tensor, heads: int, dim: int) -> tf.Tensor:
    """``[B, T, heads*dim]`` (head-major) as ``[B, T, heads, dim]``."""
    s = tf.shape(x)
    return tf.reshape(x, tf.concat([s[:2], [heads, dim]], 0))


def merge_heads(x: tf.Tensor, width: int) -> tf.Tensor:
    """``[B, T, heads, dim]`` as ``[B, T, width]`` (``width = heads*dim``, head-major)."""
    s = tf.shape(x)
    return tf.reshape(x, tf.concat([s[:2], [width]], 0))


def input_features(layer: str, shape: Any) -> tuple[int | None, int]:
    """(T, D) of an input ``[batch, T, D]`` with known D; raises naming the layer."""
    s = tf.TensorShape(shape)
    if s.rank != 3 or s[-1] is None:
        raise ValueError(f"{layer}: the input must be [batch, time, features] with known features, got {s}")
    return (None if s[1] is None else int(s[1])), int(s[-1])


def initializer(i: Any) -> Any:
    """A fresh initializer per weight (as Keras MHA does)."""
    return i.__class__.from_config(i.get_config())


class CausalSelfAttention(QuantizerSlots):
    """Forward pieces of the causal self-attention layers with 2-D kernels (:class:`GroupedQueryAttention`,
    :class:`MultiHeadLatentAttention`): projections, the attention after the scores, and the Keras calls.

    Subclasses set ``num_heads``, ``value_dim``, ``output_dim`` and ``softmax_fn``, and implement
    ``_forward(x) -> {stage: tensor}`` with an ``"output"`` entry.
    """

    def _dense(self, name: str, x: tf.Tensor) -> tf.Tensor:
        """``x @ name_kernel (+ name_bias)`` with the quantized weights, exact in float64."""
        y = tf.einsum("btd,do->bto", x, self._weight(f"{name}_kernel"))
        b = self._weight(f"{name}_bias")
        if b is not None:
            y = y + b
        return y

    def _project(self, name: str, x: tf.Tensor) -> tf.Tensor:
        """:meth:`_dense` cast by the ``name_output`` quantizer."""
        return self._quant(f"{name}_output", self._dense(name, x))

    def _attend(self, scores: tf.Tensor, v: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Probabilities, context and output from the quantized ``scores [B, H, T, T]`` and the values
        ``v [B, T, H, value_dim]`` (one value head per query head)."""
        probs = self._quant("probability", causal_probabilities(scores, self.softmax_fn))
        ctx = tf.einsum("bhqk,bkhd->bqhd", probs, v)
        ctx = self._quant("context", merge_heads(ctx, self.num_heads * self.value_dim))
        out = self._quant("output", self._dense("output", ctx))
        return probs, ctx, out

    def _forward(self, x: Any) -> dict[str, tf.Tensor]:
        raise NotImplementedError

    @autograph_artifact
    def call(self, x: Any, training: Any = None) -> tf.Tensor:
        return tf.cast(self._forward(x)["output"], self.compute_dtype)

    def intermediates(self, x: Any) -> dict[str, np.ndarray]:
        """Every stage as float64 NumPy arrays (eager)."""
        x = tf.convert_to_tensor(x)
        if not self.built:
            self.build(x.shape)
        return {k: v.numpy() for k, v in self._forward(x).items()}

    def compute_output_shape(self, input_shape: Any) -> tf.TensorShape:
        s = tf.TensorShape(input_shape)
        return s[:-1].concatenate([self.output_dim or s[-1]])
