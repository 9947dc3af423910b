"""Keras 2 layers that users train and hlsgen converts: QMultiHeadAttention, GroupedQueryAttention,
MultiHeadLatentAttention and RotaryEmbedding.

Importing this package registers the layers with Keras (package "hlsgen"), so ``.keras`` and ``.h5``
files holding them load without ``custom_objects``; :func:`custom_objects` also returns QKeras's.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from .attention import ATTENTION_SCALE_TYPE, QMultiHeadAttention, attention_scale
from .gqa import GroupedQueryAttention
from .hardware import hardware_softmax_fn, softmax_reference, use_hardware_softmax
from .mla import MultiHeadLatentAttention
from .rope import RotaryEmbedding

__all__ = [
    "ATTENTION_SCALE_TYPE",
    "GroupedQueryAttention",
    "MultiHeadLatentAttention",
    "QMultiHeadAttention",
    "RotaryEmbedding",
    "attention_scale",
    "custom_objects",
    "hardware_softmax_fn",
    "softmax_reference",
    "use_hardware_softmax",
]

#: Every hlsgen layer class.
LAYERS: tuple[type[tf.keras.layers.Layer], ...] = (
    QMultiHeadAttention,
    GroupedQueryAttention,
    MultiHeadLatentAttention,
    RotaryEmbedding,
)


def custom_objects() -> dict[str, Any]:
    """Every hlsgen layer plus QKeras's quantized layers and quantizers, for ``load_model``."""
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict[str, Any] = {}
    _add_supported_quantized_objects(objects)
    for cls in LAYERS:
        objects[cls.__name__] = cls
        objects[tf.keras.utils.get_registered_name(cls)] = cls
    return objects
