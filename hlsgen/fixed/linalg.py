"""Exact integer linear algebra on raw fixed-point integers.

Integer matrix products are exact in float64 BLAS while every partial sum stays below 2^53; that is the
fast path. Wider products fall back to int64 (exact below 2^63) and then to Python integers.
"""

from __future__ import annotations

import numpy as np


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


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact ``a @ b`` (NumPy broadcasting rules) on raw integers; int64 result or Python ints."""
    n = a.shape[-1]
    bits = bound_bits(a, b, n)
    small = b.ndim > 2 and n * b.shape[-1] <= 1024  # a stack of small products (attention)
    if bits <= 53 and a.dtype != object and b.dtype != object and not small:
        # float64 BLAS is exact here and fastest for large products; stacks of small matrices are
        # faster in int64 directly (the conversions would cost more than the products)
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
