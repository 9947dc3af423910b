"""Keras 2 / QKeras models to the IR.

The reader follows the Keras graph from the model's outputs back to its inputs through the nodes Keras
recorded (``KerasTensor._keras_history``), lowering each layer call once, in dependency order:

- layers it knows become IR primitives (attention becomes projections, scores, mask, softmax, context
  and the output projection; Conv1D with kernel 1 a Linear; BatchNormalization after a linear op is
  folded into it);
- TensorFlow ops written with operators (TFOpLambda: ``x + y``, ``x * 0.5``, ``tf.concat``, ``x[:, 0]``,
  ``tf.reshape``, ``tf.transpose``, ...) become element-wise or layout ops; their constant operands
  (a position table, a learned weight, ``tf.range``) are folded into typed constants;
- a nested ``Sequential`` or functional ``Model`` is inlined;
- a subclassed layer is traced: its ``call`` runs once on symbolic Keras inputs, so that the layers and
  TF ops it uses become nodes, which are lowered like the model's own.

A call whose every input is a constant is computed by Keras itself (constant folding). Problems are
collected over the whole model and reported in one error, each naming the layer (and the traced layer it
sits in) and what would make it convertible.

Modules: ``load`` (files and objects), ``reader`` (the graph walk, tracing, folding, the BatchNorm fold),
``layers`` (one handler per layer class and its checks), ``tfops`` (TensorFlow ops), ``attention``
(MultiHeadAttention), ``common`` (shared helpers); :mod:`hlsgen.frontend.keras_base` holds what handlers
outside this package (hlsgen's decoder layers) use too.
"""

from __future__ import annotations

from typing import Any

from ...ir.graph import Graph
from ..keras_base import Call, UnsupportedModelError
from .load import load_model
from .reader import KerasReader, fold_batchnorm


def read_keras(model: Any) -> Graph:
    """The float IR graph of a Keras model (object or file)."""
    return KerasReader(load_model(model)).read()


__all__ = ["Call", "KerasReader", "UnsupportedModelError", "fold_batchnorm", "load_model", "read_keras"]
