"""Attention masks: additive float and bool masks read as attend patterns, ``masked_fill`` on attention
scores, and the ops that turn a model input into a mask (``logical_not``, a float mask built on
``zeros_like``)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .common import f64, scalar
from .values import MaskSym, PendingScores, Sym

if TYPE_CHECKING:
    from .reader import TorchReader


#: a finite additive mask entry at or below this blocks a key (exp underflows to 0 in float32)
BLOCKED = -1e9


def additive(r: TorchReader, m: Any) -> np.ndarray:
    """Bool attend pattern of an additive float mask (0 = attend, -inf or <= -1e9 = blocked)."""
    a = f64(m)
    attend = a == 0
    blocked = a <= BLOCKED
    if not np.all(attend | blocked):
        raise r.fail("an additive attention mask with values other than 0 and -inf (a bias) is not supported")
    return attend


def bool_or_additive(r: TorchReader, m: Any) -> np.ndarray:
    import torch

    if isinstance(m, Sym):
        raise r.fail(
            "an attention mask that depends on the model inputs is not supported yet (constant or causal)"
        )
    return m.detach().cpu().numpy().astype(bool) if m.dtype == torch.bool else additive(r, m)


def attend_and(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
    return b if a is None else np.logical_and(a, b)


def zeros_like(r: TorchReader, x: Any, *_: Any, **kwargs: Any) -> Any:
    import torch

    return torch.zeros(tuple(x.ids.shape), dtype=kwargs.get("dtype") or torch.float32)


def logical_not(r: TorchReader, x: Any) -> MaskSym:
    if not isinstance(x, Sym):
        raise r.fail("logical_not of a constant")
    blocked = x.blocked if isinstance(x, MaskSym) else False
    return MaskSym(x.ids, blocked=not blocked)


def masked_fill(r: TorchReader, s: Any, m: Any, value: Any) -> Any:
    if isinstance(m, Sym) and not isinstance(s, (Sym, PendingScores)) and not np.any(f64(s)):
        if not (math.isinf(scalar(value)) and scalar(value) < 0):
            raise r.fail(f"a mask input filled with {scalar(value)} (only -inf blocks a key exactly)")
        return MaskSym(m.ids, blocked=not (isinstance(m, MaskSym) and not m.blocked))  # torch's float masks
    if not isinstance(s, PendingScores) or isinstance(m, Sym):
        raise r.fail("masked_fill other than a constant mask on attention scores")
    if not (math.isinf(scalar(value)) and scalar(value) < 0) and scalar(value) > BLOCKED:
        raise r.fail(f"masked_fill with {scalar(value)} (only -inf blocks a key exactly)")
    return replace(s, attend=attend_and(s.attend, ~m.detach().cpu().numpy().astype(bool)))
