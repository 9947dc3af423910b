"""The ap_fixed semantics, implemented once: types, quantization, conversions and exact arithmetic."""

from __future__ import annotations

from .arith import add, add_type, convert, from_raw, mul, mul_type, quantize, sub, sub_type, to_raw
from .ranges import calibrated_type, integer_bits_for
from .types import MAX_WIDTH, FixedType, Overflow, Rounding

__all__ = [
    "MAX_WIDTH",
    "FixedType",
    "Overflow",
    "Rounding",
    "add",
    "add_type",
    "calibrated_type",
    "convert",
    "from_raw",
    "integer_bits_for",
    "mul",
    "mul_type",
    "quantize",
    "sub",
    "sub_type",
    "to_raw",
]
