"""Exact integer linear algebra on raw fixed-point integers.

Integer matrix products are exact in float64 BLAS while every partial sum stays below 2^53; that is the
fast path. Wider products fall back to int64 (exact below 2^63) and then to Python integers. The ops'
own fast paths take :func:`matmul_float`, which keeps the exact product in float64 (below 2^52) for
:func:`~hlsgen.fixed.arith.convert_float` to round there.
"""

from __future__ import annotations

import numpy as np

from .arith import FLOAT_EXACT_BITS


def _maxabs(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    if a.dtype == object:
        return max(abs(int(v)) for v in a.flat)
    return int(max(abs(int(a.max())), abs(int(a.min()))))


def bound_bits(a: np.ndarray, b: np.ndarray, n: int) -> int:
    """Bits needed for |sum of n products| of elements of a and b (a safe upper bound)."""
    m = _maxabs(a) * _maxabs(b) * max(n, 1)
    return m.bit_length()


def matmul_float(
    a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None
) -> tuple[np.ndarray, int] | None:
    """Exact ``a @ b`` on raw integers computed in float64, and a bound: ``(product, bits)`` with every
    ``|product| < 2**bits``; None (nothing computed) where a partial sum could reach 2^52
    (:data:`~hlsgen.fixed.arith.FLOAT_EXACT_BITS`; the caller then takes :func:`matmul`).

    Below that bound every product and partial sum is an integer that float64 holds exactly, whatever
    order BLAS sums in, and :func:`~hlsgen.fixed.arith.convert_float` can round the result in float64.
    ``out`` (float64, the result's shape, any strides) receives the product: a transposed view there
    saves the copy of a later transpose.
    """
    if a.dtype == object or b.dtype == object:
        return None
    bits = bound_bits(a, b, a.shape[-1])
    if bits > FLOAT_EXACT_BITS:
        return None
    a, b = a.astype(np.float64, copy=False), b.astype(np.float64, copy=False)
    if a.ndim > 2 and b.ndim == 2 and out is None and a.flags.c_contiguous:
        # one GEMM over all rows: NumPy would call BLAS once per leading index of ``a``
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[-1]), bits
    return np.matmul(a, b, out=out), bits


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` (NumPy broadcasting rules) on raw integers; int64 result or Python ints."""
    n = a.shape[-1]
    bits = bound_bits(a, b, n)
    if bits <= 53 and a.dtype != object and b.dtype != object:
        # float64 BLAS is exact here; it beats NumPy's int64 loops even on stacks of 16 x 8 matrices
        # (attention), conversions included
        if a.ndim > 2 and b.ndim == 2 and a.flags.c_contiguous:  # one GEMM, not one per leading index
            c = np.matmul(a.reshape(-1, n).astype(np.float64), b.astype(np.float64))
            return c.reshape(*a.shape[:-1], b.shape[-1]).astype(np.int64)
        return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)
    if bits <= 62 and a.dtype != object and b.dtype != object:
        return np.matmul(a.astype(np.int64), b.astype(np.int64))
    return np.matmul(a.astype(object), b.astype(object))


def einsum(spec: str, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Exact two-operand einsum on raw integers; ``n`` is the length of the contracted axis."""
    bits = bound_bits(a, b, n)
    if bits <= 53 and a.dtype != object and b.dtype != object:
        return np.einsum(spec, a.astype(np.float64), b.astype(np.float64), optimize=True).astype(np.int64)
    if bits <= 62 and a.dtype != object and b.dtype != object:
        return np.einsum(spec, a.astype(np.int64), b.astype(np.int64))
    return np.einsum(spec, a.astype(object), b.astype(object))


def shift_left(a: np.ndarray, k: int) -> np.ndarray:
    """``a * 2^k`` exactly (k >= 0), promoting to Python ints when int64 could overflow."""
    if k == 0:
        return a
    if a.dtype != object and (_maxabs(a).bit_length() + k) <= 62:
        return a.astype(np.int64) << k
    return a.astype(object) * (1 << k)
