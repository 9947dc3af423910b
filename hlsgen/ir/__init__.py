"""The IR: a graph of attention primitives with a fixed-point type on every tensor."""

from .graph import Graph, Tensor, c_identifier

__all__ = ["Graph", "Tensor", "c_identifier"]
