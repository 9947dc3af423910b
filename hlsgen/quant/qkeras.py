"""QKeras quantizers mapped exactly to hlsgen fixed-point types.

Every mapping below is derived from the source of QKeras 0.9.0 (``qkeras/quantizers.py``; the line
numbers in the comments refer to that file) and checked value for value against QKeras's own output in
``tests/test_quant_qkeras.py``.

``quantized_bits(bits, integer, symmetric, keep_negative, alpha)`` (``__call__``, lines 553-651)::

    unsigned_bits = bits - keep_negative                                    # l.561
    m = 2**unsigned_bits; m_i = 2**integer                                  # l.562-563
    p = x * m / m_i                                                         # l.632
    xq = m_i * clip(round(p), keep_negative * (-m + symmetric), m - 1) / m  # l.633-635, tf.round: half to even
    xq = alpha * xq                                                         # l.628, l.643

so the raw integer is ``round_half_even(x / lsb)`` with ``lsb = 2**(integer - unsigned_bits)``, clipped to
``[-2**(bits-1) (+1 if symmetric), 2**(bits-1) - 1]`` (signed) or ``[0, 2**bits - 1]`` (unsigned):

* keep_negative, not symmetric: ``ap_fixed<bits, integer+1, AP_RND_CONV, AP_SAT>``
* keep_negative, symmetric:     ``ap_fixed<bits, integer+1, AP_RND_CONV, AP_SAT_SYM>``
* keep_negative=False:          ``ap_ufixed<bits, integer, AP_RND_CONV, AP_SAT>`` (symmetric has no effect,
  the lower clip bound is ``0 * (...)``; negative inputs give 0)

A constant power-of-two ``alpha`` multiplies *after* rounding (l.643): ``apply`` gives
``quantize(x, type) * 2**shift``. ``alpha="auto_po2"`` (l.566-623) divides by a per-channel power of two
``scale`` first and rounds with ``floor(|x| / scale + 0.5)`` (l.592), i.e. half *away from zero*, clipped
to ``levels / 2 = 2**(bits-1) - 1`` on both sides (l.583, l.593-594), whatever ``keep_negative`` says:
``ap_fixed<bits, integer + keep_negative, AP_RND_INF, AP_SAT_SYM>`` applied to ``x / 2**shift`` with
``2**shift = quantizer.scale`` (the scale QKeras stores, l.607 and l.618, already multiplied by ``m``).

``quantized_relu(bits, integer)`` (``__call__``, lines 1470-1528)::

    m = 2**bits; m_i = 2**integer                                           # l.1474-1477
    p = x * m / m_i                                                         # l.1508
    xq = m_i * clip(round(p) / m, 0, 1 - 1/m)                               # l.1509-1511

so ``ap_ufixed<bits, integer, AP_RND_CONV, AP_SAT>``: half to even, negative inputs give 0, saturation at
``2**integer - 2**(integer-bits)``.

What QKeras returns is ``x + stop_gradient(-x + xq)`` in float32 (l.646, l.1525). That equals ``xq``
exactly when ``xq`` has at most 24 significant bits (``bits <= 24``) and ``xq - x`` is exact in float32,
which holds for every float32 input inside the quantizer's range (and for every input of
``quantized_relu`` with its default ``is_quantized_clip``, whose ``x_u`` is clipped first). Beyond the
range it holds while ``xq - x`` fits in 24 significant bits (about ``2**(24 - bits)`` times the range);
further out QKeras's float32 arithmetic returns a rounding of the saturated value, while hlsgen returns
the saturated value, as the hardware does.

Not supported (``ValueError`` naming the quantizer): stochastic rounding, ``qnoise_factor != 1``,
``alpha="auto"`` and any alpha that is not a positive power of two, ``integer < 0`` (QKeras 0.9.0 itself
fails in ``K.pow(2, integer)`` on int32), 1-bit signed ``quantized_bits`` (it is ``sign(x)`` with
0 -> +1, no ap_fixed holds {-1, +1}), ``quantized_relu`` with ``use_sigmoid``, ``negative_slope`` or a
``relu_upper_bound`` below the type's maximum, and every other quantizer class (``quantized_po2``,
``quantized_relu_po2``, ``binary``, ``ternary``, ``stochastic_*``, ``bernoulli``, ``quantized_ulaw``,
``quantized_tanh``, ``quantized_sigmoid``, ``quantized_hswish``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hlsgen.fixed import FixedType, Overflow, Rounding, quantize

__all__ = ["QuantSpec", "apply", "quantizer_to_type", "resolve_quantizer"]

_QKERAS_MODULE = "qkeras.quantizers"
_SUPPORTED = ("quantized_bits", "quantized_relu")


@dataclass(frozen=True, eq=False)
class QuantSpec:
    """What a QKeras quantizer does, in hlsgen terms.

    The quantized value of ``x`` is ``raw * 2**(shift - F)`` where ``raw`` is a raw integer of ``type``
    (``F = type.frac``): the hardware stores raw integers of ``type`` and applies ``shift`` per channel.

    Attributes:
        type: the fixed-point type (rounding and overflow modes included) QKeras's grid corresponds to.
        shift: per-channel power-of-two exponents, an integer array broadcastable against the quantized
            tensor (QKeras keeps the reduced axes as size 1), or None for no scaling.
        shift_input: True when the input is divided by ``2**shift`` before it is quantized
            (``alpha="auto_po2"``); False when the quantized value is multiplied by ``2**shift``
            afterwards (a constant power-of-two ``alpha``).
        source: the QKeras spelling of the quantizer, for messages.
    """

    type: FixedType
    shift: np.ndarray | None = None
    shift_input: bool = False
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", FixedType.parse(self.type))
        if self.shift is not None:
            s = np.array(self.shift, dtype=np.int64)
            s.setflags(write=False)
            object.__setattr__(self, "shift", s)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantSpec):
            return NotImplemented
        if self.type != other.type or self.shift_input != other.shift_input:
            return False
        if self.shift is None or other.shift is None:
            return self.shift is None and other.shift is None
        return self.shift.shape == other.shift.shape and bool(np.all(self.shift == other.shift))

    __hash__ = None  # type: ignore[assignment]  # holds an array

    def __repr__(self) -> str:
        shift = None if self.shift is None else self.shift.tolist()
        return (
            f"QuantSpec({self.type}, shift={shift}, shift_input={self.shift_input}, source={self.source!r})"
        )


def apply(spec: QuantSpec, x: np.ndarray | float) -> np.ndarray:
    """The float64 values ``spec``'s quantizer gives for the doubles ``x`` (hlsgen.fixed.quantize + shift)."""
    x = np.asarray(x, dtype=np.float64)
    if spec.shift is None:
        return quantize(x, spec.type)
    y = np.ldexp(x, -spec.shift) if spec.shift_input else x
    return np.ldexp(quantize(y, spec.type), spec.shift)


# ---------------------------------------------------------------------------------------------------
# reading quantizer objects
# ---------------------------------------------------------------------------------------------------
def resolve_quantizer(q: Any) -> Any:
    """A QKeras quantizer object from an object, its string spelling or its serialised dict."""
    if q is None:
        raise ValueError("None is not a quantizer (a float tensor is typed from config or calibration)")
    if isinstance(q, str | dict):
        from qkeras.quantizers import get_quantizer

        try:
            obj = get_quantizer(q)
        except Exception as e:  # noqa: BLE001 - safe_eval / deserialisation errors of any kind
            raise ValueError(f"cannot read QKeras quantizer {q!r}: {e}") from None
        if obj is None or isinstance(obj, str):
            raise ValueError(f"cannot read QKeras quantizer {q!r}")
        return obj
    return q


def _spelling(q: Any) -> str:
    try:
        return str(q) if type(q).__module__ == _QKERAS_MODULE else repr(q)
    except Exception:  # noqa: BLE001 - __str__ of a half-configured quantizer
        return type(q).__name__


def _scalar(v: Any) -> Any:
    """A Python scalar from a plain value, a NumPy scalar / 0-d array or a tf.Variable / tensor."""
    if hasattr(v, "numpy"):
        v = v.numpy()
    a = np.asarray(v)
    if a.ndim:
        raise TypeError("not a scalar")
    return a.item()


def _int_attr(q: Any, name: str) -> int:
    try:
        v = _scalar(getattr(q, name))
    except TypeError:
        raise ValueError(f"{_spelling(q)}: a per-channel {name} is not supported") from None
    if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v):
        raise ValueError(f"{_spelling(q)}: {name}={v!r} must be an integer")
    return int(v)


def _check_common(q: Any) -> None:
    if getattr(q, "use_stochastic_rounding", False):
        raise ValueError(f"{_spelling(q)}: stochastic rounding is not supported (it has no fixed-point type)")
    try:
        noise = _scalar(getattr(q, "qnoise_factor", 1.0))
    except TypeError:
        noise = None
    if noise != 1.0:
        raise ValueError(
            f"{_spelling(q)}: qnoise_factor={noise} is not supported: the output mixes unquantized values in"
        )


def quantizer_to_type(q: Any, weights: np.ndarray | Any | None = None) -> QuantSpec:
    """Map a QKeras quantizer (object, string or serialised dict) to its exact :class:`QuantSpec`.

    Args:
        q: e.g. ``quantized_bits(8, 0, alpha=1)`` or ``"quantized_relu(6,2)"``.
        weights: for ``alpha="auto_po2"`` only: the tensor the quantizer quantizes. The quantizer is called
            on it to obtain its per-channel ``scale``, and the result is checked to equal
            ``apply(spec, weights)``. Without it the quantizer's ``scale`` from its last call is used.

    Raises:
        ValueError: naming the quantizer and what hlsgen cannot represent exactly.
    """
    q = resolve_quantizer(q)
    cls = type(q)
    name = cls.__name__
    if cls.__module__ != _QKERAS_MODULE:
        raise ValueError(f"{_spelling(q)}: not a QKeras quantizer (hlsgen maps {', '.join(_SUPPORTED)})")
    if name == "quantized_bits":
        return _quantized_bits(q, weights)
    if name == "quantized_relu":
        return _quantized_relu(q)
    raise ValueError(
        f"{_spelling(q)}: QKeras quantizer {name} is not supported by hlsgen (supported: {', '.join(_SUPPORTED)})"
    )


def _quantized_bits(q: Any, weights: Any) -> QuantSpec:
    src = _spelling(q)
    _check_common(q)
    bits = _int_attr(q, "bits")
    integer = _int_attr(q, "integer")
    keep_negative = bool(_scalar(q.keep_negative))
    symmetric = _scalar(q.symmetric)
    if integer < 0:
        raise ValueError(f"{src}: integer={integer} < 0 is not supported (QKeras 0.9.0 cannot evaluate it)")
    if symmetric not in (0, 1):
        raise ValueError(f"{src}: symmetric={symmetric!r} must be 0 or 1")
    unsigned_bits = bits - keep_negative
    if unsigned_bits <= 0:
        raise ValueError(
            f"{src}: {bits} bit(s) with keep_negative={keep_negative} is QKeras's binary sign(x) (0 -> +1), "
            "which no ap_fixed type holds"
        )
    alpha = q.alpha
    if isinstance(alpha, str):
        if alpha != "auto_po2":
            raise ValueError(
                f"{src}: alpha={alpha!r} is not supported (only None, a power of two or 'auto_po2')"
            )
        if not symmetric:
            raise ValueError(f"{src}: alpha='auto_po2' needs symmetric=1 (QKeras asserts it)")
        t = FixedType(bits, integer + int(keep_negative), True, Rounding.RND_INF, Overflow.SAT_SYM)
        return _auto_po2(q, t, weights, src)
    if keep_negative:
        t = FixedType(
            bits, integer + 1, True, Rounding.RND_CONV, Overflow.SAT_SYM if symmetric else Overflow.SAT
        )
    else:
        t = FixedType(bits, integer, False, Rounding.RND_CONV, Overflow.SAT)
    return QuantSpec(t, _po2_shift(alpha, src), False, src)


def _po2_shift(alpha: Any, src: str) -> np.ndarray | None:
    """Exponents of a constant power-of-two alpha; None for alpha None or 1."""
    if alpha is None:
        return None
    if hasattr(alpha, "numpy"):
        alpha = alpha.numpy()
    try:
        a = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{src}: alpha={alpha!r} is not supported (only None, a power of two or 'auto_po2')"
        ) from None
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"{src}: alpha must be positive powers of two, got {alpha!r}")
    e = np.log2(a)
    if not np.all(e == np.round(e)) or not np.array_equal(np.ldexp(1.0, np.round(e).astype(np.int64)), a):
        raise ValueError(
            f"{src}: alpha={alpha!r} is not a power of two: hlsgen maps only power-of-two alphas"
        )
    shift = np.round(e).astype(np.int64)
    if not np.any(shift):
        return None
    return shift


def _auto_po2(q: Any, t: FixedType, weights: Any, src: str) -> QuantSpec:
    if weights is not None:
        import tensorflow as tf

        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights)
        out = q(tf.constant(w, dtype=tf.float32))
        expected = np.asarray(out.numpy(), dtype=np.float64)
    scale = getattr(q, "scale", None)
    if scale is None:
        raise ValueError(
            f"{src}: alpha='auto_po2' has no scale yet: pass weights= or call the quantizer first"
        )
    s = np.asarray(scale.numpy() if hasattr(scale, "numpy") else scale, dtype=np.float64)
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"{src}: scale {s} is not a set of positive powers of two")
    e = np.log2(s)
    if not np.all(e == np.round(e)):
        raise ValueError(f"{src}: scale {s} is not a set of powers of two")
    spec = QuantSpec(t, np.round(e).astype(np.int64), True, src)
    if weights is not None:
        got = apply(spec, np.asarray(w, dtype=np.float32).astype(np.float64))
        if not np.array_equal(got, expected):
            bad = int(np.sum(got != expected))
            raise ValueError(
                f"{src}: QKeras's auto_po2 output differs from {t} scaled by its scale in {bad} value(s): "
                "its 5 scale iterations did not converge, or bits > 24 (float32)"
            )
    return spec


def _quantized_relu(q: Any) -> QuantSpec:
    src = _spelling(q)
    _check_common(q)
    bits = _int_attr(q, "bits")
    integer = _int_attr(q, "integer")
    if integer < 0:
        raise ValueError(f"{src}: integer={integer} < 0 is not supported (QKeras 0.9.0 cannot evaluate it)")
    if bits < 1:
        raise ValueError(f"{src}: bits={bits} must be at least 1")
    if getattr(q, "use_sigmoid", 0):
        raise ValueError(f"{src}: use_sigmoid is not supported (it is not a fixed-point grid of x)")
    if _scalar(getattr(q, "negative_slope", 0.0)) != 0.0:
        raise ValueError(f"{src}: negative_slope != 0 (leaky relu) is not supported")
    t = FixedType(bits, integer, False, Rounding.RND_CONV, Overflow.SAT)
    ub = getattr(q, "relu_upper_bound", None)
    if ub and not getattr(q, "is_quantized_clip", True) and float(ub) < t.max:
        raise ValueError(f"{src}: relu_upper_bound={ub} below the type's maximum {t.max} is not supported")
    return QuantSpec(t, None, False, src)
