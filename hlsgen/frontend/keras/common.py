"""Helpers the Keras reader's modules share: activation names, Keras tensors and shapes."""

from __future__ import annotations

from typing import Any

ACT_NAMES = {
    "linear": "linear",
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "gelu": "gelu",
    "swish": "swish",
    "silu": "swish",
    "elu": "elu",
    "softplus": "softplus",
    "exponential": "exponential",
}


def act_name(act: Any) -> str:
    if act is None:
        return "linear"
    if isinstance(act, str):
        return act
    return getattr(act, "__name__", None) or act.__class__.__name__


def is_keras_tensor(x: Any) -> bool:
    return hasattr(x, "_keras_history") and hasattr(x, "shape")


def flatten(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in flatten(v)]
    if isinstance(x, dict):
        return [y for v in x.values() for y in flatten(v)]
    return [x]


def per_sample(shape: Any) -> tuple[int | None, ...]:
    dims = list(shape)
    return tuple(None if d is None else int(d) for d in dims[1:])


def is_custom(layer: Any) -> bool:
    """A layer class defined outside Keras and TensorFlow (a user's subclassed layer)."""
    root = (type(layer).__module__ or "").split(".")[0]
    return root not in ("keras", "tensorflow", "tf_keras")
