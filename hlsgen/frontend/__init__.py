"""Front ends: trained models to the float IR. Each reader (``keras``, ...) is a peer behind one small
interface, a function ``model -> Graph``; :func:`read_model` is the one entry point above them."""

from __future__ import annotations

from typing import Any

from ..ir.graph import Graph
from .keras import UnsupportedModelError, load_model, read_keras


def read_model(model: Any) -> Graph:
    """The float IR graph of a trained model (object or file), read by the reader of its framework."""
    return read_keras(model)


__all__ = ["UnsupportedModelError", "load_model", "read_keras", "read_model"]
