"""Bit-exact ap_fixed conversions and arithmetic on raw integers.

A fixed-point array is held as its *raw* integers ``value * 2**F``. Raw arrays are ``int64`` while every
integer involved fits in 62 bits and Python-int ``object`` arrays beyond that, so that any width up to
1024 bits stays exact. Every conversion follows ``ap_fixed_base::operator=`` of the Xilinx headers:
the dropped fractional bits decide an increment (rounding mode), then the integer that results is
brought into range (overflow mode). AP_WRAP with saturation bits and AP_WRAP_SM follow the headers'
bit manipulation, including which source bit they read.
"""

from __future__ import annotations

import numpy as np

from .types import FixedType, Overflow, Rounding

#: Largest magnitude, in bits, that the int64 paths handle (headroom for +1 and shifts).
_INT64_BITS = 61


def _is_obj(a: np.ndarray) -> bool:
    return a.dtype == object


def _as_obj(a: np.ndarray) -> np.ndarray:
    if _is_obj(a):
        return a
    out = np.empty(a.shape, dtype=object)
    out[...] = a.tolist() if a.ndim else int(a)
    return out


def _as_raw_array(raw: np.ndarray | int, width: int) -> np.ndarray:
    """Raw integers as int64 when ``width`` bits fit, else as Python-int object array."""
    a = np.asarray(raw)
    if a.dtype == object:
        return a if width > _INT64_BITS else a.astype(np.int64)
    if a.dtype.kind not in "iu":
        if a.dtype.kind == "f" and np.all(np.floor(a) == a):
            a = a.astype(np.int64)
        else:
            raise ValueError(f"raw values must be integers, got dtype {a.dtype}")
    if width > _INT64_BITS:
        return _as_obj(a.astype(np.int64))
    return a.astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------------------
# the core: from (floor, dropped bits) to a value of the destination type
# ---------------------------------------------------------------------------------------------------
def _increment(
    yf: np.ndarray, qb: np.ndarray, r: np.ndarray, neg: np.ndarray, mode: Rounding, src_signed: bool
) -> np.ndarray:
    """The 0/1 increment that ``quantization_adjust`` adds to the floor ``yf``."""
    if mode is Rounding.TRN:
        return np.zeros(yf.shape, dtype=bool)
    if mode is Rounding.RND:
        return qb
    if mode is Rounding.RND_ZERO:
        return qb & (neg | r)
    if mode is Rounding.RND_MIN_INF:
        return qb & r
    if mode is Rounding.RND_INF:
        return qb & (~neg | r)
    if mode is Rounding.RND_CONV:
        lsb = (yf & 1).astype(bool) if not _is_obj(yf) else np.array([bool(v & 1) for v in yf.flat]).reshape(yf.shape)
        return qb & (lsb | r)
    if mode is Rounding.TRN_ZERO:
        if not src_signed:
            return np.zeros(yf.shape, dtype=bool)
        return neg & (qb | r)
    raise AssertionError(mode)


def _bit(a: np.ndarray, k: int) -> np.ndarray:
    """Bit k of two's complement integers (any sign), as bool."""
    if _is_obj(a):
        return np.array([bool((int(v) >> k) & 1) for v in a.flat], dtype=bool).reshape(a.shape)
    if k >= 63:
        return a < 0
    return ((a >> k) & 1).astype(bool)


def _finish(
    yf: np.ndarray,
    qb: np.ndarray,
    r: np.ndarray,
    neg: np.ndarray,
    ld_valid: np.ndarray,
    dst: FixedType,
    src_signed: bool,
) -> np.ndarray:
    """Apply rounding and overflow of ``dst`` to the floor ``yf`` (raw units of ``dst``)."""
    W = dst.width
    inc = _increment(yf, qb, r, neg, dst.rounding, src_signed)
    y = yf + inc.astype(np.int64)
    lo, hi = dst.raw_min, dst.raw_max
    o = dst.overflow
    if o is Overflow.SAT_SYM and dst.signed:
        lo = -hi
    over = y > hi
    under = y < lo
    mod = 1 << W
    if o in (Overflow.SAT, Overflow.SAT_SYM):
        out = np.where(over, hi, np.where(under, lo, y))
    elif o is Overflow.SAT_ZERO:
        out = np.where(over | under, 0, y)
    else:
        # wrapped bit pattern V (unsigned, W bits), then the header's adjustments
        v = y % mod if _is_obj(y) else np.mod(y, mod)
        if o is Overflow.WRAP and dst.sat_bits == 0:
            out = v
        else:
            out = _wrap_adjust(v, over, under, yf, ld_valid, dst)
        if dst.signed:
            out = np.where(out >= (1 << (W - 1)), out - mod, out)
    out = np.asarray(out)
    return out.astype(np.int64) if W <= _INT64_BITS else _as_obj(out)


def _wrap_adjust(
    v: np.ndarray, over: np.ndarray, under: np.ndarray, yf: np.ndarray, ld_valid: np.ndarray, dst: FixedType
) -> np.ndarray:
    """``overflow_adjust`` of the headers for AP_WRAP with N > 0 and AP_WRAP_SM, on unsigned patterns."""
    W, N = dst.width, dst.sat_bits
    ones = (1 << W) - 1
    hit = over | under
    sign = under  # neg_src: true exactly for underflow when either flag is set
    v = _as_obj(v) if W > _INT64_BITS else v.astype(np.int64)
    out = v.copy()
    msb = 1 << (W - 1)

    def set_bit(a: np.ndarray, k: int, b: np.ndarray) -> np.ndarray:
        m = 1 << k
        return np.where(b, a | m, a & (ones ^ m))

    def set_range(a: np.ndarray, lo: int, hi: int, fill_ones: np.ndarray) -> np.ndarray:
        if hi < lo:
            return a
        m = ((1 << (hi - lo + 1)) - 1) << lo
        return np.where(fill_ones, a | m, a & (ones ^ m))

    if dst.overflow is Overflow.WRAP:
        if dst.signed:
            adj = set_bit(v, W - 1, sign)
            if N > 1:
                adj = set_range(adj, W - N, W - 2, ~sign)
        else:
            adj = set_range(v, W - N, W - 1, np.ones(v.shape, dtype=bool))
        return np.where(hit, adj, out)
    # AP_WRAP_SM (signed only)
    ro = (v & msb) != 0 if not _is_obj(v) else np.array([bool(x & msb) for x in v.flat]).reshape(v.shape)
    if N == 0:
        ld = ld_valid & _bit(yf, W)
        flip = ld != ro
        adj = np.where(flip, ones ^ v, v)
        adj = set_bit(adj, W - 1, ld)
        # only when lD != Ro does the header touch the value
        adj = np.where(flip, adj, v)
    else:
        if N == 1:
            adj = np.where(sign != ro, ones ^ v, v)
        else:
            lno = _bit(v, W - N)
            adj = np.where(lno == sign, ones ^ v, v)
            adj = set_range(adj, W - N, W - 2, ~sign)
        adj = set_bit(adj, W - 1, sign)
    return np.where(hit, adj, out)


# ---------------------------------------------------------------------------------------------------
# public conversions
# ---------------------------------------------------------------------------------------------------
def convert(raw: np.ndarray, src: FixedType, dst: FixedType) -> np.ndarray:
    """Raw integers of ``src`` converted as C++ ``dst v = src_value;`` does; returns raw integers of ``dst``."""
    src, dst = FixedType.parse(src), FixedType.parse(dst)
    sh = src.frac - dst.frac
    need = max(src.width + max(-sh, 0), dst.width) + 2
    a = _as_raw_array(raw, need)
    if need > _INT64_BITS and not _is_obj(a):
        a = _as_obj(a)
    neg = a < 0
    if sh <= 0:
        yf = a * (1 << -sh) if _is_obj(a) else a << -sh
        qb = np.zeros(a.shape, dtype=bool)
        r = qb
    elif _is_obj(a):
        yf = a >> sh
        rem = a - (yf << sh)
        qb = np.array([bool((int(x) >> (sh - 1)) & 1) for x in rem.flat], dtype=bool).reshape(a.shape)
        r = np.array([(int(x) & ((1 << (sh - 1)) - 1)) != 0 for x in rem.flat], dtype=bool).reshape(a.shape)
    else:
        s = min(sh, 62)
        yf = a >> s
        if sh <= 62:
            rem = a & ((1 << sh) - 1)
            qb = ((rem >> (sh - 1)) & 1).astype(bool)
            r = (rem & ((1 << (sh - 1)) - 1)) != 0
        else:  # shifted past every bit: the dropped bits are the sign extension
            qb = neg.copy()
            r = a != 0
    ld_valid = np.full(a.shape, sh + dst.width < src.width, dtype=bool)
    return _finish(yf, qb, r, neg, ld_valid, dst, src.signed)


def to_raw(x: np.ndarray | float, t: FixedType | str) -> np.ndarray:
    """Raw integers of ``t v = x;`` for doubles ``x`` (any shape)."""
    t = FixedType.parse(t)
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"cannot quantize NaN or infinity to {t}")
    F, W = t.frac, t.width
    scaled = np.ldexp(x, F)
    fast = (
        W <= _INT64_BITS
        and np.all(np.abs(scaled) < 2.0**_INT64_BITS)
        and np.array_equal(np.ldexp(scaled, -F), x)  # no bits lost to subnormals
    )
    # the double as ap_fixed<54, exp+2> (the headers' view): only AP_WRAP_SM reads its width
    _, e = np.frexp(x)
    ld_valid = (e >= t.integer) & (x != 0)
    neg = x < 0
    if fast:
        fl = np.floor(scaled)
        frac = scaled - fl
        qb = frac >= 0.5
        r = (frac != 0) & (frac != 0.5)
        yf = fl.astype(np.int64)
        return _finish(yf, qb, r, neg, ld_valid, t, True)
    # exact path through Python integers
    m, e = np.frexp(x)
    man = (m * 2.0**53).astype(np.int64)
    sh = (53 - e) - F  # bits dropped below the destination LSB
    yf = np.empty(x.shape, dtype=object)
    qb = np.zeros(x.shape, dtype=bool)
    r = np.zeros(x.shape, dtype=bool)
    for idx in np.ndindex(x.shape):
        mi, s = int(man[idx]), int(sh[idx])
        if s <= 0:
            yf[idx] = mi << -s
        else:
            f = mi >> s
            rem = mi - (f << s)
            yf[idx] = f
            qb[idx] = bool((rem >> (s - 1)) & 1)
            r[idx] = (rem & ((1 << (s - 1)) - 1)) != 0
    out = _finish(yf, qb, r, neg, ld_valid, t, True)
    return out if W > _INT64_BITS else out.astype(np.int64)


def from_raw(raw: np.ndarray, t: FixedType | str) -> np.ndarray:
    """Float64 values of raw integers of ``t`` (exact while the value has at most 53 significant bits)."""
    t = FixedType.parse(t)
    a = np.asarray(raw)
    if a.dtype == object:
        return np.array([np.ldexp(float(v), -t.frac) for v in a.flat], dtype=np.float64).reshape(a.shape)
    return np.ldexp(a.astype(np.float64), -t.frac)


def quantize(x: np.ndarray | float, t: FixedType | str) -> np.ndarray:
    """The float64 values that ``t v = x;`` holds in C++ for each double in ``x``."""
    t = FixedType.parse(t)
    return from_raw(to_raw(x, t), t)


# ---------------------------------------------------------------------------------------------------
# result types and exact arithmetic
# ---------------------------------------------------------------------------------------------------
def _int_part(t: FixedType, other: FixedType) -> int:
    return t.integer + (1 if other.signed and not t.signed else 0)


def add_type(a: FixedType, b: FixedType) -> FixedType:
    """Type of ``a + b`` (the headers' ``plus`` RType): exact, one carry bit more."""
    i = max(_int_part(a, b), _int_part(b, a)) + 1
    f = max(a.frac, b.frac)
    return FixedType(i + f, i, a.signed or b.signed)


def sub_type(a: FixedType, b: FixedType) -> FixedType:
    """Type of ``a - b`` (the headers' ``minus`` RType): always signed."""
    i = max(_int_part(a, b), _int_part(b, a)) + 1
    f = max(a.frac, b.frac)
    return FixedType(i + f, i, True)


def mul_type(a: FixedType, b: FixedType) -> FixedType:
    """Type of ``a * b``: W1+W2 bits, I1+I2 integer bits."""
    return FixedType(a.width + b.width, a.integer + b.integer, a.signed or b.signed)


def _align(raw: np.ndarray, t: FixedType, frac: int, width: int) -> np.ndarray:
    a = _as_raw_array(raw, width + 2)
    sh = frac - t.frac
    if sh == 0:
        return a
    return a * (1 << sh) if _is_obj(a) else a << sh


def add(a: np.ndarray, ta: FixedType, b: np.ndarray, tb: FixedType) -> tuple[np.ndarray, FixedType]:
    """Exact ``a + b``: raw result and its type."""
    rt = add_type(ta, tb)
    return _align(a, ta, rt.frac, rt.width) + _align(b, tb, rt.frac, rt.width), rt


def sub(a: np.ndarray, ta: FixedType, b: np.ndarray, tb: FixedType) -> tuple[np.ndarray, FixedType]:
    """Exact ``a - b``: raw result and its type."""
    rt = sub_type(ta, tb)
    return _align(a, ta, rt.frac, rt.width) - _align(b, tb, rt.frac, rt.width), rt


def mul(a: np.ndarray, ta: FixedType, b: np.ndarray, tb: FixedType) -> tuple[np.ndarray, FixedType]:
    """Exact ``a * b``: raw result and its type."""
    rt = mul_type(ta, tb)
    return _as_raw_array(a, rt.width + 2) * _as_raw_array(b, rt.width + 2), rt
