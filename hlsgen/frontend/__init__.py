"""Front ends: trained models to the float IR. Each reader (:mod:`.keras`, :mod:`.torch`, :mod:`.onnx`) is
a peer behind one small interface, a function ``model -> Graph``; :func:`read_model` is the one entry point
above them and picks the reader from the model's type or file suffix."""

from __future__ import annotations

from typing import Any

from ..ir.graph import Graph
from .errors import UnsupportedModelError
from .keras import load_model, read_keras


def read_model(model: Any, example_input: Any = None, batch_dim: int = 0) -> Graph:
    """The float IR graph of a trained model (object or file), read by the reader of its framework.

    ``example_input`` (a PyTorch module's trace input) and ``batch_dim`` (the batch axis of a PyTorch or
    ONNX model's inputs and outputs) are for the PyTorch and ONNX readers; torch and onnx are imported only
    for their models.
    """
    from .torch import is_onnx_model, is_torch_model

    if is_onnx_model(model):
        from .onnx import read_onnx

        return read_onnx(model, batch_dim=batch_dim)
    if is_torch_model(model):
        from .torch import read_torch

        return read_torch(model, example_input=example_input, batch_dim=batch_dim)
    return read_keras(model)


__all__ = ["UnsupportedModelError", "load_model", "read_keras", "read_model"]
