"""Train and evaluate with the hardware's own softmax.

``use_hardware_softmax(model)`` makes every :class:`QMultiHeadAttention` of a model compute its
probabilities with hlsgen's fixed-point softmax (the same tables and integer arithmetic as the generated
firmware, run through the NumPy reference), with the float softmax's gradient (straight-through). The
layer's forward pass then equals hlsgen's emulation of it bit for bit, and quantization-aware training
sees the softmax the FPGA computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from ..fixed import FixedType, from_raw, to_raw
from .attention import QMultiHeadAttention

_MASK_TYPE = FixedType.parse("ap_uint<1>")


def softmax_reference(
    score_type: FixedType | str, prob_type: FixedType | str, config: Any = None
) -> Callable[[np.ndarray, np.ndarray | None], np.ndarray]:
    """A NumPy function ``(scores, mask) -> probabilities`` that is hlsgen's softmax op.

    ``scores`` is ``[B, ..., Tq, Tk]`` on the grid of ``score_type``; ``mask`` is None or broadcastable to
    ``[B, 1, Tq, Tk]`` (nonzero = attend). ``config``: the conversion config (dict or Config) whose
    softmax settings the firmware will use.
    """
    from ..config import Config
    from ..ir.graph import Graph
    from ..ir.ops.softmax import Softmax
    from ..quant.resolver import TypeResolver

    ts, tp = FixedType.parse(score_type), FixedType.parse(prob_type)
    cfg = Config.from_dict(config)
    ops: dict[tuple[tuple[int, ...], bool], Softmax] = {}

    def op_for(shape: tuple[int, ...], masked: bool) -> Softmax:
        key = (shape, masked)
        if key not in ops:
            g = Graph("softmax")
            x = g.add_tensor("x", shape)
            y = g.add_tensor("y", shape)
            ins = [x]
            g.tensors[x].type = ts
            if masked:
                m = g.add_tensor("mask", shape[-2:])
                g.tensors[m].type = _MASK_TYPE
                ins.append(m)
            op = Softmax("softmax", ins, [y], qtypes={"probability": tp})
            op.assign_types(g, TypeResolver(cfg))
            ops[key] = op
        return ops[key]

    def run(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        raw = to_raw(s, ts)
        if np.any(from_raw(raw, ts) != s):
            raise ValueError(f"scores are not on the grid of {ts}: is the score quantizer the same type?")
        op = op_for(tuple(s.shape[1:]), mask is not None)
        if mask is None:
            return from_raw(op.execute(raw)[0], tp)
        m = np.asarray(mask) != 0
        m = m.reshape(m.shape[0], *m.shape[-2:]) if m.ndim == 4 else m
        return from_raw(op.execute(raw, m.astype(np.int64))[0], tp)

    return run


def hardware_softmax_fn(
    score_type: FixedType | str, prob_type: FixedType | str, config: Any = None
) -> Callable[[tf.Tensor, tf.Tensor | None], tf.Tensor]:
    """A ``softmax_fn`` for :class:`QMultiHeadAttention`: hardware values forward, float gradient back."""
    ref = softmax_reference(score_type, prob_type, config)

    def fn(scores: tf.Tensor, mask: tf.Tensor | None) -> tf.Tensor:
        f64 = tf.float64
        scores = tf.cast(scores, f64)
        if mask is None:
            hw = tf.numpy_function(lambda s: ref(s), [scores], f64)
            soft = tf.nn.softmax(scores, axis=-1)
        else:
            m = tf.cast(mask, f64)
            hw = tf.numpy_function(lambda s, k: ref(s, k), [scores, m], f64)
            soft = tf.nn.softmax(tf.where(m > 0, scores, tf.constant(-1e300, f64)), axis=-1) * m
        hw.set_shape(scores.shape)
        return soft + tf.stop_gradient(hw - soft)

    return fn


def use_hardware_softmax(model: tf.keras.Model, config: Any = None) -> list[str]:
    """Give every QMultiHeadAttention of ``model`` the firmware's softmax; returns their names.

    Raises:
        ValueError: a layer without score or probability quantizer (the softmax's types), named.
    """
    from ..quant.qkeras import quantizer_to_type

    done = []
    for layer in model.layers:
        if not isinstance(layer, QMultiHeadAttention):
            continue
        qs = layer.quantizers
        missing = [s for s in ("score", "probability") if qs.get(s) is None]
        if missing:
            raise ValueError(
                f"layer {layer.name}: the hardware softmax needs a {' and a '.join(missing)} quantizer "
                "(they fix its input and output types)"
            )
        ts = quantizer_to_type(qs["score"]).type
        tp = quantizer_to_type(qs["probability"]).type
        layer.softmax_fn = hardware_softmax_fn(ts, tp, config)
        done.append(layer.name)
    return done
