"""The AXI4-Stream packing of tokens, defined once and shared by the HLS stream top (hlsgen_stream.h
implements the same in C++) and the RTL top.

- A tensor of shape ``(..., D)`` moves as its rows, the *tokens*, in row-major order: ``size / D``
  beats of ``D`` elements each. A 1-D tensor (a classifier's scores) is one token, one beat.
- Element ``d`` of a token occupies TDATA bits ``[o_d + w_d - 1 : o_d]`` with ``o_d = w_0 + ... + w_{d-1}``
  (element 0 in the least significant bits), ``w_d`` its type's width. The bits are the type's raw
  integer (value * 2^F) in two's complement, truncated to ``w_d`` bits.
- TDATA is the sum of the widths rounded up to whole bytes; the bits above the elements are 0.
- TKEEP and TSTRB are all ones; TLAST is 1 on the last token of a sample (sequence) and 0 elsewhere.
  The streaming HLS top reads a fixed number of tokens per sample and does not check the input TLAST.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..fixed import FixedType


def token_layout(shape: Sequence[int]) -> tuple[int, int]:
    """(number of tokens, elements per token) of a tensor of per-sample ``shape``: its rows."""
    shape = tuple(int(s) for s in shape)
    if not shape:
        return 1, 1
    d = shape[-1]
    n = int(np.prod(shape, dtype=np.int64))
    return (n // d if d else 0), d


def _types(types: FixedType | Sequence[FixedType], n_elem: int) -> list[FixedType]:
    if isinstance(types, FixedType):
        return [types] * n_elem
    ts = [FixedType.parse(t) if isinstance(t, str) else t for t in types]
    if len(ts) != n_elem:
        raise ValueError(f"{len(ts)} element types for tokens of {n_elem} elements")
    return ts


def word_width(types: FixedType | Sequence[FixedType], n_elem: int | None = None) -> int:
    """TDATA bits of a token: the elements' widths summed, rounded up to whole bytes.

    ``types`` is one type per element, or one type for all ``n_elem`` elements.
    """
    if isinstance(types, FixedType):
        if n_elem is None:
            raise ValueError("word_width: n_elem is needed with a single type")
        bits = types.width * n_elem
    else:
        bits = sum(t.width for t in _types(types, len(types)))
    return -(-bits // 8) * 8


def pack_tokens(raw: Any, types: FixedType | Sequence[FixedType]) -> np.ndarray:
    """TDATA words of tokens: ``raw[..., D]`` raw integers (value * 2^F) -> words ``[...]``.

    Element ``d`` of each token goes to bits ``[o_d + w_d - 1 : o_d]``, element 0 in the least
    significant bits (see the module docstring for the whole layout). ``types`` is one
    :class:`FixedType` for every element or a sequence of ``D`` types. For a sample ``[T, D]`` the
    result is ``T`` words, the last carrying TLAST; a batch ``[B, T, D]`` gives ``[B, T]``.

    Returns:
        An object array of Python ints (TDATA may be wider than 64 bits).

    Raises:
        ValueError: a raw value is outside its type's range (element and type named).
    """
    a = np.asarray(raw)
    if a.ndim == 0:
        raise ValueError("pack_tokens: raw needs a token axis (the last)")
    ts = _types(types, a.shape[-1])
    flat = a.reshape(-1, a.shape[-1])
    words = np.empty(flat.shape[0], dtype=object)
    for k, row in enumerate(flat):
        word, off = 0, 0
        for d, (v, t) in enumerate(zip(row, ts, strict=True)):
            v = int(v)
            if not t.raw_min <= v <= t.raw_max:
                raise ValueError(
                    f"pack_tokens: element {d} of token {k} is {v}, outside the raw range of {t}"
                )
            word |= (v & ((1 << t.width) - 1)) << off
            off += t.width
        words[k] = word
    return words.reshape(a.shape[:-1])


def unpack_tokens(
    words: Any, types: FixedType | Sequence[FixedType], n_elem: int | None = None
) -> np.ndarray:
    """Raw integers of the tokens that TDATA ``words[...]`` hold -> ``[..., D]`` (int64; the inverse of
    :func:`pack_tokens`). Signed elements are sign-extended; bits above the elements are ignored.

    ``n_elem`` (D) is needed when ``types`` is a single type.
    """
    w = np.asarray(words, dtype=object)
    if isinstance(types, FixedType):
        if n_elem is None:
            raise ValueError("unpack_tokens: n_elem is needed with a single type")
        ts = [types] * n_elem
    else:
        ts = _types(types, len(types))
    flat = w.reshape(-1)
    out = np.empty((flat.size, len(ts)), dtype=object)
    for k, word in enumerate(flat):
        word, off = int(word), 0
        for d, t in enumerate(ts):
            v = (word >> off) & ((1 << t.width) - 1)
            if t.signed and v >> (t.width - 1):
                v -= 1 << t.width
            out[k, d] = v
            off += t.width
    if all(t.width <= 64 for t in ts):
        out = out.astype(np.int64)
    return out.reshape(*w.shape, len(ts))


__all__ = ["pack_tokens", "token_layout", "unpack_tokens", "word_width"]
