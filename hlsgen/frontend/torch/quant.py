"""Brevitas integer quantizers read exactly: ``round(x / s)``, its clamp (``gt`` / ``lt`` and ``where``)
and the ``* s`` that ends it, as a cast to the fixed-point type they are; :func:`exact_type`, the
narrowest type that holds a quantizer's values (weights) exactly."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ...fixed import FixedType
from ...fixed.types import Overflow, Rounding
from ...ir.ops import Activation
from ..errors import UnsupportedModelError
from .common import is_scalar, scalar
from .values import Compared, Rounded, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


def exact_type(values: np.ndarray, what: str, max_frac: int = 32) -> FixedType:
    """The narrowest signed type holding every value exactly (weights a quantizer made); refused when a
    value needs more than ``max_frac`` fractional bits (a scale that is no power of two)."""
    v = np.asarray(values, dtype=np.float64)
    for frac in range(-8, max_frac + 1):
        raw = np.ldexp(v, frac)
        if np.all(raw == np.round(raw)):
            top = int(np.abs(raw).max(initial=0))
            width = max(top.bit_length() + 1, 2)
            return FixedType(width, width - frac, True)
    raise UnsupportedModelError(
        f"{what}: the values have no exact fixed-point form (a scale that is not a power of two); use a "
        "power-of-two quantizer such as Int8WeightPerTensorFixedPoint"
    )


def round_op(r: TorchReader, x: Any) -> Rounded:
    if not isinstance(x, Sym):
        raise r.fail("round of a value that is not a quantizer's input")
    return Rounded(Sym(x.ids), x.scale)


def compare(op: str) -> Callable[..., Any]:
    def handler(r: TorchReader, a: Any, b: Any) -> Compared:
        if not isinstance(a, Rounded) or not is_scalar(b):
            raise r.fail(f"comparison ({op}) other than a quantizer's clamp")
        return Compared(a, op, scalar(b))

    return handler


def where_op(r: TorchReader, cond: Any, a: Any, b: Any) -> Rounded:
    if not (isinstance(cond, Compared) and cond.r is b and is_scalar(a) and scalar(a) == cond.value):
        raise r.fail("where other than a quantizer's clamp")
    return replace(b, hi=cond.value) if cond.op == "gt" else replace(b, lo=cond.value)


def type_as(r: TorchReader, a: Any, b: Any) -> Any:
    return a


def dequantize(r: TorchReader, q: Rounded, scale: float) -> Sym:
    """``clamp(round(x / s)) * s``: a cast to the fixed-point type it is, or refused naming the quantizer."""
    where = f"{r.where}: quantizer"
    if not math.isclose(q.inv_scale * scale, 1.0, rel_tol=1e-9):
        raise r.fail("a quantizer that rescales by another scale than it divided by")
    m, e = math.frexp(scale)
    if m != 0.5:
        raise UnsupportedModelError(
            f"{where}: scale {scale!r} is not a power of two, so its values have no exact fixed-point form; use "
            "a power-of-two quantizer such as Int8ActPerTensorFixedPoint"
        )
    frac = 1 - e
    lo, hi = q.lo, q.hi
    if lo is None or hi is None:
        raise UnsupportedModelError(f"{where}: an integer quantizer without both clamp bounds")
    if lo < 0:
        w = int(round(math.log2(hi + 1))) + 1
        ok = hi == 2 ** (w - 1) - 1 and lo in (-(2 ** (w - 1)), -(2 ** (w - 1)) + 1)
        ovf = Overflow.SAT if lo == -(2 ** (w - 1)) else Overflow.SAT_SYM
        signed = True
    else:
        w = int(round(math.log2(hi + 1)))
        ok, ovf, signed = lo == 0 and hi == 2**w - 1, Overflow.SAT, False
    if not ok:
        raise UnsupportedModelError(
            f"{where}: clamp bounds [{lo:g}, {hi:g}] are not those of an integer type"
        )
    t = FixedType(w, w - frac, signed, Rounding.RND_CONV, ovf)  # torch.round: half to even

    def make(name: str, src: str, y: str) -> Any:
        op = Activation(name, [src], [y], origin=r.origin(), function="linear")
        op.qtypes["result"] = t
        return op

    return r.unary(q.x, make, "quant")
