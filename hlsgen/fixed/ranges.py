"""Types from observed ranges: the integer bits a magnitude needs (calibration builds on these)."""

from __future__ import annotations

import math

from .types import FixedType


def integer_bits_for(maxabs: float, signed: bool = True) -> int:
    """Integer bits (sign included) so that values up to ``maxabs`` in magnitude do not overflow."""

    if maxabs <= 0:
        return 1 if signed else 0
    i = math.floor(math.log2(maxabs)) + 1  # 2^(i-1) <= maxabs < 2^i
    return i + (1 if signed else 0)


def calibrated_type(maxabs: float, default: FixedType, margin: int = 0, overflow: str = "") -> FixedType:
    """The default width with the integer bits that the observed range needs, and the ``overflow`` mode
    ("" = the default's)."""
    i = integer_bits_for(maxabs, default.signed) + margin
    return FixedType(default.width, i, default.signed, default.rounding, overflow or default.overflow)


__all__ = ["calibrated_type", "integer_bits_for"]
