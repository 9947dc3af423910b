"""How tensors travel on the AXI4-Stream ports of the RTL top: the packing of the streaming HLS top,
defined once in :mod:`hlsgen.backends.hls.stream` (``pack_tokens`` / ``unpack_tokens``), which these
helpers call.

* One beat per token: a token is a row along the tensor's last axis; a ``[T, D]`` tensor is T beats of
  D elements, a ``[N]`` tensor one beat, an ``[H, Tq, Tk]`` tensor H*Tq beats of Tk elements, rows in
  row-major order. TLAST is set on the last beat of each sequence (sample).
* Element j of a token sits at ``TDATA[j*w +: w]`` (element 0 in the LSBs), where w is the width of the
  tensor's fixed-point type and the bits are its raw two's complement integer (value * 2^F).
* TDATA is the packed token rounded up to whole bytes: ``8 * ceil(n * w / 8)`` bits; padding bits are
  zero on outputs and ignored on inputs. hlsgen's RTL top has no TKEEP / TSTRB (the HLS top's are all
  ones): every beat is a full token.

Example (pinned by tests/test_rtl.py and, on the ports of a simulated top, by tests/test_cosim.py): a
token of three ``ap_fixed<6,2>`` values 1.5, -0.25, 0.75 has raw integers 24, -4, 12, i.e. 6-bit
patterns 0x18, 0x3c, 0x0c; TDATA has 24 bits and holds ``0x0c << 12 | 0x3c << 6 | 0x18 = 0x00cf18``.
"""

from __future__ import annotations

import numpy as np

from ...fixed import FixedType
from ..axis import pack_tokens, unpack_tokens, word_width


def tdata_width(n: int, width: int) -> int:
    """TDATA bits of a token of ``n`` elements of ``width`` bits."""
    return word_width(FixedType(width, width), n)


def pack_token(raw: np.ndarray, t: FixedType) -> int:
    """One token (raw integers of type ``t``) as the TDATA integer."""
    return int(pack_tokens(np.asarray(raw).reshape(1, -1), t)[0])


def unpack_token(word: int, n: int, t: FixedType) -> np.ndarray:
    """The raw integers of one token from its TDATA integer (padding bits ignored)."""
    return unpack_tokens(np.array([int(word)], dtype=object), t, n)[0]


def sample_to_tokens(raw: np.ndarray, t: FixedType) -> list[int]:
    """One sample of a tensor (raw integers, any shape) as its beats' TDATA integers."""
    a = np.asarray(raw)
    n = a.shape[-1] if a.ndim else 1
    return [int(w) for w in pack_tokens(a.reshape(-1, n), t)]


def tokens_to_sample(words: list[int], shape: tuple[int, ...], t: FixedType) -> np.ndarray:
    """The raw integers of one sample from its beats (``shape`` per sample)."""
    n = shape[-1] if shape else 1
    if not words:
        return np.zeros(shape, dtype=np.int64)
    return unpack_tokens(np.array([int(w) for w in words], dtype=object), t, n).reshape(shape)


__all__ = ["pack_token", "sample_to_tokens", "tdata_width", "tokens_to_sample", "unpack_token"]
