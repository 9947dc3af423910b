"""The values the PyTorch reader follows through a program: element ids (:class:`Sym`), and the partial
results of the patterns it recognises before they become IR ops (a product with a constant that may be
half of a rotary embedding, an attention mask read from a model input, the heads of a projection,
attention scores before their softmax, a Brevitas quantizer's round and clamp).

An element id names one element of one IR tensor for one sample, packed into an int64 as
``tensor << T_SHIFT | sample << B_SHIFT | flat index within the sample``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...fixed import FixedType

#: element id = tensor << T_SHIFT | sample << B_SHIFT | flat index within the sample
T_SHIFT = 44
B_SHIFT = 28
MASK_B = (1 << (T_SHIFT - B_SHIFT)) - 1
MASK_F = (1 << B_SHIFT) - 1


@dataclass
class Sym:
    """A value that depends on the model inputs: element ids (int64 tensor), times a float scale."""

    ids: Any
    scale: float = 1.0


@dataclass
class ConstMul:
    """``x * c`` for a constant tensor ``c``, kept until it is known whether it is half of a rotary
    embedding (``x * cos + rotate_half(x) * sin``) or a Binary multiplication."""

    x: Sym
    c: Any


@dataclass
class MaskSym(Sym):
    """An attention mask read from a model input (``key_padding_mask``, a bool ``attn_mask``): element ids
    of the input; ``blocked`` when a nonzero element hides a key (torch's padding masks), else attends."""

    blocked: bool = True


@dataclass(frozen=True)
class Heads:
    """Rows of ``d`` columns of a 2-D IR tensor ``[T, H*d]`` read per leading position of a torch value:
    the leading positions' sample ``b`` and head ``h`` (arrays of the leading shape)."""

    tensor: str
    d: int
    n_heads: int
    rows: int
    b: np.ndarray
    h: np.ndarray


@dataclass
class PendingScores:
    """``q @ k^T`` of hand-written attention before its softmax: scale and mask still to come."""

    q: Heads
    k: Heads
    scale: float
    attend: np.ndarray | None  #: bool, broadcast to [..., Tq, Tk]; None = attend everywhere
    lead: tuple[int, ...]
    qtype: FixedType | None = None  #: the scores' type when a quantizer casts them (QONNX Quant)


@dataclass
class Rounded:
    """``round(x / scale)`` of a Brevitas integer quantizer, clamped to ``[lo, hi]`` so far."""

    x: Sym
    inv_scale: float
    lo: float | None = None
    hi: float | None = None


@dataclass
class Compared:
    """``r > value`` or ``r < value`` of a quantizer's clamp, before its ``where``."""

    r: Rounded
    op: str
    value: float
