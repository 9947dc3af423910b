"""The handler table: each ATen overload the reader computes -> its handler (:mod:`.compute`,
:mod:`.attention`, :mod:`.masks`, :mod:`.quant`), and the set of shape ops run on ids (:mod:`.shapes`).
Both are filled on first use (:func:`tables`), so that importing the reader does not import torch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .attention import baddbmm, matmul, sdpa, softmax
from .common import aten
from .compute import act, add, div, embedding, layer_norm, linear, mean, mul, neg, sub
from .masks import logical_not, masked_fill, zeros_like
from .quant import compare, round_op, type_as, where_op
from .shapes import shape_ops


def build_handlers() -> dict[Any, Callable[..., Any]]:
    table = {
        "linear.default": linear,
        "layer_norm.default": layer_norm,
        "gelu.default": act("gelu"),
        "relu.default": act("relu"),
        "silu.default": act("swish"),
        "tanh.default": act("tanh"),
        "sigmoid.default": act("sigmoid"),
        "add.Tensor": add,
        "mul.Tensor": mul,
        "mul.Scalar": mul,
        "div.Tensor": div,
        "div.Scalar": div,
        "matmul.default": matmul,
        "mm.default": matmul,
        "bmm.default": matmul,
        "baddbmm.default": baddbmm,
        "masked_fill.Scalar": masked_fill,
        "masked_fill_.Scalar": masked_fill,
        "zeros_like.default": zeros_like,
        "logical_not.default": logical_not,
        "bitwise_not.default": logical_not,
        "softmax.int": softmax,
        "_softmax.default": softmax,
        "scaled_dot_product_attention.default": sdpa,
        "mean.dim": mean,
        "round.default": round_op,
        "gt.Tensor": compare("gt"),
        "gt.Scalar": compare("gt"),
        "lt.Tensor": compare("lt"),
        "lt.Scalar": compare("lt"),
        "where.self": where_op,
        "type_as.default": type_as,
        "sub.Tensor": sub,
        "embedding.default": embedding,
        "neg.default": neg,
    }
    out = {}
    for nm, fn in table.items():
        try:
            out[aten(nm)] = fn
        except AttributeError:
            pass
    return out


SHAPE_OPS: set[Any] = set()
HANDLERS: dict[Any, Callable[..., Any]] = {}


def tables() -> None:
    if not HANDLERS:
        SHAPE_OPS.update(shape_ops())
        HANDLERS.update(build_handlers())
